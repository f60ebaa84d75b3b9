"""IOProc: blocking calls on a helper thread while the proc's other tasks run."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import traceback

import pytest

from libtask9 import (
    Channel,
    IOProc,
    IOProcClosed,
    NotInTask,
    TaskKilled,
    curtask,
    new_task,
    run,
    tracing,
    yield_,
)


def test_iocall_returns_and_other_tasks_keep_running() -> None:
    def main() -> tuple[str, int]:
        ticks = [0]
        stop = [False]

        def ticker() -> None:
            while not stop[0]:
                ticks[0] += 1
                yield_()

        new_task(ticker)
        with IOProc("io") as io:
            r = io.iocall(lambda: (time.sleep(0.05), "done")[1])
        stop[0] = True
        return r, ticks[0]

    r, ticks = run(main)
    assert r == "done" and ticks > 1  # the ticker ran while main waited


def test_iocall_reraises_with_helper_traceback() -> None:
    def failing() -> None:
        raise OSError("disk on fire")

    def main() -> None:
        with IOProc("io") as io, pytest.raises(OSError, match="disk on fire") as ei:
            io.iocall(failing)
        frames = [f.name for f in traceback.extract_tb(ei.value.__traceback__)]
        assert "failing" in frames

    run(main)


def test_loopback_socket_echo_with_helpers() -> None:
    def main() -> bytes:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        addr = srv.getsockname()
        with IOProc("acceptor") as io_a, IOProc("client") as io_c:
            got: Channel[bytes] = Channel(1)

            def server() -> None:
                conn, _ = io_a.accept(srv)
                data = io_a.readn(conn, 5)
                io_a.write(conn, data.upper())
                io_a.close(conn)
                got.send(data)

            new_task(server)
            s = io_c.dial(addr, 5)
            io_c.write(s, b"hello")
            reply = io_c.readn(s, 5)
            io_c.close(s)
            assert got.recv() == b"hello"
        srv.close()
        return reply

    assert run(main) == b"HELLO"


def test_fd_read_write_and_sleep() -> None:
    def main() -> bytes:
        r, w = os.pipe()
        with IOProc("io") as io:
            io.write(w, b"abc")
            io.close(w)
            io.sleep(1)
            data = io.readn(r, 10)  # stops at end of file
            io.close(r)
        return data

    assert run(main) == b"abc"


def test_calls_are_serialised_fifo() -> None:
    order: list[int] = []
    lock = threading.Lock()

    def call(i: int) -> int:
        with lock:
            order.append(i)
        time.sleep(0.002)
        return i

    def main() -> list[int]:
        res: Channel[int] = Channel(5)
        with IOProc("io") as io:
            for i in range(5):
                new_task(lambda i=i: res.send(io.iocall(call, i)))
            return sorted(res.recv() for _ in range(5))

    assert run(main) == [0, 1, 2, 3, 4]
    assert order == [0, 1, 2, 3, 4]


def test_kill_task_waiting_in_iocall() -> None:
    gate = threading.Event()

    def main() -> None:
        with IOProc("io") as io:
            log: list[str] = []

            def caller() -> None:
                try:
                    io.iocall(gate.wait, 10)
                except TaskKilled:
                    log.append("killed")

            t = new_task(caller)
            yield_()
            t.kill()
            yield_()
            assert log == ["killed"]
            gate.set()  # the abandoned call still completes; its result is dropped
            assert io.iocall(lambda: 5) == 5

    run(main)


def test_misuse() -> None:
    io = IOProc("io")
    with pytest.raises(NotInTask):
        io.iocall(print)

    def main() -> None:
        with pytest.raises(IOProcClosed, match="start"):
            io.iocall(print)
        io.start()
        with pytest.raises(IOProcClosed):
            io.start()
        with pytest.raises(TypeError):
            io.iocall(3)  # type: ignore[arg-type]
        io.stop()
        with pytest.raises(IOProcClosed, match="stopped"):
            io.iocall(print)
        io.stop()  # idempotent

    run(main)
    assert io.join(5)


def test_an_iocall_raising_a_base_exception_reaches_its_caller_and_the_helper_lives() -> None:
    """SystemExit / KeyboardInterrupt raised by the call are the caller's (re-raised in
    the calling task); the helper thread survives and serves the next call."""

    def main() -> list[str]:
        seen = []
        with IOProc("io") as io:
            for exc in (SystemExit(3), KeyboardInterrupt()):
                def boom(e: BaseException = exc) -> None:
                    raise e

                try:
                    io.iocall(boom)
                except (SystemExit, KeyboardInterrupt) as e:
                    seen.append(type(e).__name__)
            seen.append(str(io.iocall(lambda: "alive")))
        return seen

    assert run(main) == ["SystemExit", "KeyboardInterrupt", "alive"]


def test_an_uncaught_base_exception_from_an_iocall_ends_the_run() -> None:
    def main() -> None:
        with IOProc("io") as io:
            io.iocall(sys.exit, 4)

    with pytest.raises(SystemExit) as ei:
        run(main)
    assert ei.value.code == 4


def test_an_iocall_with_a_kill_pending_delivers_the_kill_and_runs_nothing() -> None:
    """iocall blocks the task, so it is a switch point: a pending kill lands there, before
    the call is queued (spec IoStart needs no pending kill; the lifecycle trace checker
    found IoStart recorded for a task already killed)."""
    ran: list[str] = []
    got: list[str] = []

    def main() -> None:
        with IOProc("k") as io:
            def victim() -> None:
                curtask().kill()  # pending: it lands at the next switch point
                try:
                    io.iocall(ran.append, "the call ran")
                except TaskKilled:
                    got.append("TaskKilled")
                    raise

            new_task(victim).join()
            io.iocall(ran.append, "a later call")  # (the IOProc is fine)

    with tracing(lambda e: None):
        run(main)
    assert got == ["TaskKilled"] and ran == ["a later call"]
