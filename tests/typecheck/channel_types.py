# Checked by tests/test_typing.py with mypy --strict; the lines marked "E:" must be errors.
from libtask9 import Channel, alt, alt_recv, alt_send, run


def main() -> None:
    c: Channel[int] = Channel(1)
    c.send(1)
    n: int = c.recv()
    ok, v = c.nbrecv()
    if ok and v is not None:
        n = v + 1
    idx, value = alt(alt_recv(c), alt_send(c, 2))
    for item in c:
        n += item
    c.send("one")  # E: wrong element type
    s: str = c.recv()  # E: wrong element type
    print(n, idx, value, s)


result: int = run(lambda: 3)
wrong: str = run(lambda: 3)  # E: run() returns main's type
