"""Recipe: a TCP echo server on IOProcs, with its loopback clients in the same program.

Run it: ``python examples/echo_server.py [nclients]``.

A blocking system call (``accept``, ``recv``, ``connect``) would block the whole proc:
every task in it would stop.  An :class:`~libtask9.IOProc` runs such calls on a helper
thread instead, and only the calling task waits.  An IOProc runs one call at a time, so
the recipe gives each party that blocks independently its own IOProc: the acceptor, each
connection's handler, each client (plan9port's ioproc(3) advice: one per blocking
activity).  ``with IOProc(name) as io:`` starts it and stops it.

The server listens on 127.0.0.1 on a port the OS picks.  The acceptor task loops on
``io.accept`` and starts a handler task per connection; a handler echoes what it reads
until the client closes its side.  The clients dial the server, send a line, read the
echo and hang up.

Stopping a blocking call: a call running on an IOProc cannot be interrupted (killing
the waiting task abandons the call, which still runs to completion), so to stop the
acceptor we make its ``accept`` return -- the server closes a ``stopping`` channel and
connects once to itself; the acceptor sees the channel closed and leaves its loop.
(``examples/accept_timeout.py`` shows the other way: ``shutdown`` the listening socket.)
"""

from __future__ import annotations

import socket
import sys

from libtask9 import Channel, IOProc, Task, new_task, run

Address = tuple[str, int]


def handle(conn: socket.socket, done: Channel[int]) -> None:
    """Echo everything ``conn`` sends until it closes its side; report the byte count."""
    echoed = 0
    with IOProc("conn") as io:
        try:
            while True:
                data = io.read(conn, 4096)  # one recv, on the helper thread
                if not data:  # the client closed its side
                    break
                echoed += io.write(conn, data)
        finally:
            io.close(conn)
            done.send(echoed)


def acceptor(listener: socket.socket, stopping: Channel[None],
             done: Channel[int], counts: Channel[int]) -> None:
    """Accept connections until ``stopping`` is closed; start a handler for each."""
    handlers: list[Task] = []
    with IOProc("accept") as io:
        while True:
            conn, _ = io.accept(listener)
            if stopping.closed:  # the wake-up connection of stop_server()
                conn.close()
                break
            handlers.append(new_task(handle, conn, done))
    listener.close()
    counts.send(len(handlers))


def start_server() -> tuple[Address, Channel[None], Channel[int], Channel[int]]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))  # port 0: the OS picks a free one
    listener.listen(16)
    address: Address = listener.getsockname()
    stopping: Channel[None] = Channel()
    done: Channel[int] = Channel()  # one message per finished connection
    counts: Channel[int] = Channel(1)  # the acceptor's final count
    new_task(acceptor, listener, stopping, done, counts)
    return address, stopping, done, counts


def stop_server(address: Address, stopping: Channel[None], counts: Channel[int]) -> int:
    stopping.close()
    with IOProc("waker") as io:
        io.close(io.dial(address))  # makes the acceptor's accept() return
    return counts.recv()


def client(address: Address, n: int, results: Channel[str]) -> None:
    message = f"hello from client {n}".encode()
    with IOProc(f"client{n}") as io:
        sock = io.dial(address, 5.0)
        try:
            io.write(sock, message)
            echo = io.readn(sock, len(message))  # until that many bytes arrived
            io.iocall(sock.shutdown, socket.SHUT_WR)  # we are done sending
            rest = io.read(sock, 100)  # b"": the server closed its side too
        finally:
            io.close(sock)
    results.send(f"client {n}: echoed {echo.decode()!r}, then EOF: {rest == b''}")


def echo_demo(nclients: int) -> list[str]:
    address, stopping, done, counts = start_server()
    results: Channel[str] = Channel()
    for n in range(nclients):
        new_task(client, address, n, results)
    lines = [results.recv() for _ in range(nclients)]
    echoed = [done.recv() for _ in range(nclients)]  # every handler has finished
    accepted = stop_server(address, stopping, counts)
    lines.append(f"server: {accepted} connections, {sum(echoed)} bytes echoed")
    return lines


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    nclients = int(args[0]) if args else 3
    lines = run(echo_demo, nclients)
    for line in sorted(lines[:-1]):  # clients finish in any order
        print(line)
    print(lines[-1])


if __name__ == "__main__":
    main()
