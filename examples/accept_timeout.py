"""The original libtask9 README example, ported to Python 3 and libtask9.

bind() a socket and wait at most 10 seconds for a client to connect, while a ticker
task keeps printing.  The accept runs on an IOProc, so the proc's other tasks (the
ticker, the alt waiting for a client or the timeout) keep running.

    python examples/accept_timeout.py [port] [timeout_ms]

Differences from the Python 2 original: no ``new_task(None).switchtask()`` adoption or
``init_timers()`` call is needed (``run(main)`` makes the thread a proc and main a task),
and the ticker is killed at the end because ``run`` waits for every task of its proc.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from libtask9 import (
    Channel,
    IOProc,
    Second,
    after,
    alt,
    alt_recv,
    curtask,
    new_task,
    run,
    sleep,
)


def ticker(period_ms: int) -> None:
    while True:
        print(f"tick from {curtask()!r}", flush=True)
        sleep(period_ms)


def accept_task(s: socket.socket, io: IOProc, reply: Channel[Any]) -> None:
    try:
        client, addr = io.accept(s)
    except OSError as e:
        print(f"accept failed: {e!r}", flush=True)
        reply.send((None, None))
        return
    print(f"got a connection from: {addr}", flush=True)
    reply.send((client, addr))


def iotest(port: int, timeout_ms: int, tick_ms: int = 2 * Second) -> str:
    io = IOProc("io1")
    io.start()
    tick_task = new_task(ticker, tick_ms)

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)

    print(f"waiting {timeout_ms / 1000:g} seconds for io to complete", flush=True)
    client_ch: Channel[Any] = Channel(1)
    new_task(accept_task, s, io, client_ch)

    idx, result = alt(alt_recv(client_ch), alt_recv(after(timeout_ms)))
    if idx == 0:
        client, _ = result
        io.iocall(client.send, b"hello!\n")
        io.close(client)
        outcome = "connected"
    else:
        print("timeout, forcing close on listener", flush=True)
        s.shutdown(socket.SHUT_RDWR)
        s.close()
        # let the iocall complete before stopping the IOProc
        client_ch.recv()
        outcome = "timeout"
    io.stop()
    tick_task.kill()
    return outcome


def main(argv: list[str]) -> str:
    port = int(argv[1]) if len(argv) > 1 else 8080
    timeout_ms = int(argv[2]) if len(argv) > 2 else 10 * Second
    outcome = run(iotest, port, timeout_ms)
    print("exiting", flush=True)
    return outcome


if __name__ == "__main__":
    main(sys.argv)
