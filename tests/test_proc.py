"""Procs: OS threads with their own schedulers, channels across them, join."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest

from libtask9 import (
    Channel,
    Deadlock,
    Proc,
    WrongProc,
    alt,
    alt_recv,
    alt_send,
    curproc,
    new_proc,
    new_task,
    run,
)


@pytest.mark.parametrize("cap", [0, 1, 16])
def test_cross_proc_streams_no_loss_no_dup_per_sender_order(cap: int) -> None:
    """Three producer procs feed one consumer; every value arrives exactly once and each
    producer's values arrive in the order it sent them."""
    nprod, n = 3, 2000

    def main() -> dict[int, list[int]]:
        c: Channel[tuple[int, int]] = Channel(cap)
        done: Channel[int] = Channel()

        def producer(p: int) -> None:
            for i in range(n):
                c.send((p, i))
            done.send(p)

        procs = [new_proc(producer, p) for p in range(nprod)]
        got: dict[int, list[int]] = defaultdict(list)
        finished = 0
        while finished < nprod:
            idx, v = alt(alt_recv(c), alt_recv(done))
            if idx == 0:
                got[v[0]].append(v[1])
            else:
                finished += 1
        while True:
            ok, v = c.nbrecv()
            if not ok:
                break
            got[v[0]].append(v[1])  # type: ignore[index]
        for p in procs:
            assert p.join(timeout=10)
        return got

    got = run(main)
    assert sorted(got) == list(range(nprod))
    for p in range(nprod):
        assert got[p] == list(range(n)), f"producer {p}: lost, duplicated or reordered"


def test_cross_proc_alt_both_directions() -> None:
    """Two procs exchange values through alts that offer both a send and a receive."""
    n = 1000

    def side(me: int, out: Channel[int], inp: Channel[int], res: Channel[Any]) -> None:
        sent = recvd = 0
        got: list[int] = []
        while sent < n or recvd < n:
            ops = [alt_send(out if sent < n else None, me * 100000 + sent),
                   alt_recv(inp if recvd < n else None)]
            i, v = alt(*ops)
            if i == 0:
                sent += 1
            else:
                recvd += 1
                got.append(v)
        res.send(got)

    def main() -> None:
        ab: Channel[int] = Channel()
        ba: Channel[int] = Channel(2)
        res: Channel[Any] = Channel(2)
        pa = new_proc(side, 1, ab, ba, res)
        pb = new_proc(side, 2, ba, ab, res)
        results = sorted([res.recv(), res.recv()])
        assert results[0] == [100000 + i for i in range(n)]  # what side 2 received
        assert results[1] == [200000 + i for i in range(n)]  # what side 1 received
        assert pa.join(10) and pb.join(10)

    run(main)


def test_independent_runs_in_plain_threads() -> None:
    results: dict[int, Any] = {}

    def body(k: int) -> None:
        def main() -> int:
            c: Channel[int] = Channel()
            new_task(lambda: [c.send(i) for i in range(100)])
            return sum(c.recv() for _ in range(100)) + k

        results[k] = run(main)

    threads = [threading.Thread(target=body, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert results == {k: 4950 + k for k in range(4)}


def test_new_proc_result_exception_and_join_from_task() -> None:
    def main() -> None:
        p = new_proc(lambda: curproc().id)
        assert p.join() is True  # from a task: only this task waits
        assert p.finished and p.result == p.id and isinstance(p, Proc)
        with pytest.raises(WrongProc):
            curproc().join()

    run(main)


def test_new_proc_exception_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    def bad() -> None:
        raise ValueError("in proc")

    def main() -> None:
        p = new_proc(bad)
        p.join()
        assert isinstance(p.exception, ValueError)

    run(main)
    assert "ValueError: in proc" in capsys.readouterr().err


def test_join_from_plain_thread_with_timeout() -> None:
    gate = threading.Event()

    def main() -> None:
        p = new_proc(lambda: None)
        assert p.join(5)

    run(main)
    gate.set()


def test_deadlock_across_procs_names_every_task_and_leaves_no_thread() -> None:
    def main() -> None:
        a: Channel[int] = Channel()
        b: Channel[int] = Channel()
        new_proc(lambda: b.send(a.recv()))  # waits on a
        new_proc(lambda: a.send(b.recv()))  # waits on b
        Channel().recv()

    with pytest.raises(Deadlock) as ei:
        run(main)
    text = str(ei.value)
    assert "all tasks are asleep" in text
    assert len(ei.value.blocked) == 3
    assert text.count("blocked in recv") == 3


def test_join_from_a_task_racing_the_proc_exit_never_hangs() -> None:
    """join() decides between "already finished" and "wait for the close" in the same
    critical section in which the ending proc closes its done channel."""

    def main() -> int:
        n = 0
        for _ in range(200):
            p = new_proc(lambda: None)
            assert p.join() is True  # no timeout: a lost close would hang (test timeout)
            n += 1
        return n

    assert run(main) == 200


def test_join_timeout_from_a_task_is_in_seconds() -> None:
    """join(timeout) from a task: never returns False before ``timeout`` seconds, and
    returns True for a proc that ends well within it (a wrong unit -- ms for s, or the
    reverse -- fails one of the two)."""
    import time

    def main() -> tuple[bool, float, bool]:
        gate: Channel[None] = Channel()
        p = new_proc(gate.recv)
        t0 = time.monotonic()
        early = p.join(timeout=0.1)
        waited = time.monotonic() - t0
        q = new_proc(time.sleep, 0.2)  # ends after 0.2 s, well within 5 s
        late = q.join(timeout=5)
        gate.send(None)
        assert p.join()
        return early, waited, late

    early, waited, late = run(main)
    assert early is False and waited >= 0.1 - 1e-3 and late is True
