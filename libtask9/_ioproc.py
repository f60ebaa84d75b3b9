"""IOProc: run blocking calls on a helper thread while the caller's proc keeps running.

plan9port's ioproc(3): "It is an error to execute more than one call at a time in an
I/O proc."  Here calls from several tasks are instead served one at a time in FIFO order.
The caller's task blocks on a private one-slot reply channel, so only that task waits:
the other tasks of its proc keep running, a kill withdraws the waiting task at once (the
call itself still runs to completion on the helper thread and its result is dropped, as
in plan9port where "the call may outlive the caller's interest"), and ``Deadlock`` is
never declared while a call is queued or running (the run's ``iocalls``: IoStart and
IoDone of spec/Procs.tla).

An IOProc started inside a run belongs to that run: when the run ends it is stopped and
its thread joined (``run()`` leaves no thread behind).  The helper thread's request queue
and state are guarded by ``chanlock``; the call itself runs without any lock held.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import deque
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from . import _trace
from ._chan import Channel, deliver_locked
from ._sched import (
    check_deadlock_locked,
    current_proc_or_none,
    delay_seconds,
    killed_locked,
    task_for,
)
from ._world import Parker, World, chanlock
from .errors import IOProcClosed

__all__ = ["IOProc"]

R = TypeVar("R")


class _Request:
    """One queued iocall: the call, where its reply goes, and whose it is."""

    __slots__ = ("args", "fn", "kwargs", "reply", "task", "world")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 reply: Channel[Any], world: World, task: int) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.reply = reply
        self.world = world
        self.task = task


class IOProc:
    """A helper OS thread for blocking calls (plan9port ``ioproc()``).

    >>> io = IOProc("net").start()          # doctest: +SKIP
    >>> data = io.iocall(sock.recv, 4096)   # doctest: +SKIP
    >>> io.stop()                           # doctest: +SKIP

    Also a context manager (``with IOProc("io") as io:`` starts and stops it).  Started
    inside a run, it is stopped when that run ends.
    """

    def __init__(self, name: str = "ioproc") -> None:
        self.name = name
        self._queue: deque[_Request] = deque()
        self._parker = Parker()  # where the idle helper thread sleeps (chanlock)
        self._state = "new"  # new -> running -> stopping -> stopped
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()  # set by stop(): ends an IOProc.sleep early

    def __repr__(self) -> str:
        return f"<IOProc {self.name!r} {self._state}>"

    def start(self) -> IOProc:
        """Start the helper thread; returns self."""
        with chanlock:
            if self._state != "new":
                raise IOProcClosed(f"{self!r} was already started")
            self._state = "running"
        self._thread = threading.Thread(target=self._serve, name=f"libtask9-io-{self.name}",
                                        daemon=True)
        self._thread.start()
        p = current_proc_or_none()
        if p is not None:  # the run stops it when it ends
            with chanlock:
                p.world.closers.append(self._close_at_run_end)
        return self

    def _close_at_run_end(self, grace: float) -> str | None:
        self.stop()
        if self.join(grace):
            return None
        return f"{self!r} (a call still running)"

    def stop(self) -> None:
        """Stop accepting calls.  Calls queued but not started fail with IOProcClosed in
        their callers; the call in progress (if any) completes and is delivered (an
        ``IOProc.sleep`` in progress ends at once).  Does not block; ``join()`` waits for
        the helper thread from a plain thread."""
        with chanlock:
            if self._state in ("stopping", "stopped"):
                return
            self._state = "stopping" if self._thread is not None else "stopped"
            worlds = set()
            while self._queue:
                r = self._queue.popleft()
                r.world.iocalls -= 1
                worlds.add(r.world)
                deliver_locked(r.reply, (False, IOProcClosed(f"{self!r} was stopped")))
            self._stopped.set()
            self._parker.wake_locked()
            for w in worlds:  # a killed caller's call was the last waker
                check_deadlock_locked(w)

    def join(self, timeout: float | None = None) -> bool:
        """Wait (blocking the OS thread) for the helper thread to end after ``stop()``."""
        th = self._thread
        if th is None:
            return True
        th.join(timeout)
        return not th.is_alive()

    def __enter__(self) -> IOProc:
        if self._state == "new":
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def iocall(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``fn(*args, **kwargs)`` on the helper thread; block only the calling task.

        Returns its result, or re-raises its exception (with the helper-side traceback).
        """
        if not callable(fn):
            raise TypeError(f"iocall() needs a callable, got {fn!r}")
        t = task_for("IOProc.iocall()")
        w = t.proc.world
        reply: Channel[tuple[bool, Any]] = Channel._internal(1, f"{self.name}.reply")
        with chanlock:  # IoStart
            if t._kill_pending:  # (a switch point: a pending kill lands before the call)
                raise killed_locked(t)
            if self._state != "running":
                raise IOProcClosed(f"iocall on {self!r}: start() it first"
                                   if self._state == "new" else f"iocall on stopped {self!r}")
            self._queue.append(_Request(fn, args, kwargs, reply, w, t.id))
            w.iocalls += 1
            if _trace.tracer is not None:
                _trace.io_start(w.id, t.proc.id, t.id, self.name)
            self._parker.wake_locked()
        ok, value = reply.recv()
        if ok:
            result: R = value
            return result
        raise value

    def _serve(self) -> None:
        while True:
            with chanlock:
                while not self._queue and self._state == "running":
                    self._parker.wait_locked(None)
                if not self._queue:
                    self._state = "stopped"
                    return
                r = self._queue.popleft()
            try:
                outcome: tuple[bool, Any] = (True, r.fn(*r.args, **r.kwargs))
            except BaseException as e:  # (SystemExit, KeyboardInterrupt too: the caller's)
                outcome = (False, e)
            with chanlock:  # IoDone: the count and the delivery in one critical section
                w = r.world
                w.iocalls -= 1
                delivered = deliver_locked(r.reply, outcome)
                # (its caller may have been killed: then this was the run's last waker)
                if _trace.tracer is None:
                    check_deadlock_locked(w)
                else:
                    check_deadlock_locked(w, partial(_trace.io_done, w.id, r.task,
                                                     self.name, delivered))
            del r, outcome

    # -- ioproc(3) helpers ---------------------------------------------------------------

    def read(self, f: Any, n: int) -> bytes:
        """ioread: one read of at most ``n`` bytes from a socket or file descriptor."""
        if hasattr(f, "recv"):
            return self.iocall(f.recv, n)  # type: ignore[no-any-return]
        return self.iocall(os.read, _fd(f), n)

    def readn(self, f: Any, n: int) -> bytes:
        """ioreadn: read until ``n`` bytes or end of file."""
        chunks: list[bytes] = []
        got = 0
        while got < n:
            b = self.read(f, n - got)
            if not b:
                break
            chunks.append(b)
            got += len(b)
        return b"".join(chunks)

    def write(self, f: Any, data: bytes) -> int:
        """iowrite: write all of ``data``; returns its length."""
        if hasattr(f, "sendall"):
            self.iocall(f.sendall, data)
            return len(data)
        fd = _fd(f)
        view = memoryview(data)
        while view:
            n = self.iocall(os.write, fd, view)
            view = view[n:]
        return len(data)

    def close(self, f: Any) -> None:
        """ioclose."""
        if hasattr(f, "close"):
            self.iocall(f.close)
        else:
            self.iocall(os.close, _fd(f))

    def dial(self, address: tuple[str, int], timeout: float | None = None) -> socket.socket:
        """iodial: a connected TCP socket."""
        return self.iocall(socket.create_connection, address, timeout)

    def accept(self, sock: socket.socket) -> tuple[socket.socket, Any]:
        """Accept one connection on a listening socket: ``(conn, address)``."""
        return self.iocall(sock.accept)

    def sleep(self, ms: float) -> None:
        """iosleep: sleep on the helper thread (the task waits, its proc runs on).  Ends
        early when the IOProc is stopped; ``inf`` sleeps until then."""
        secs = delay_seconds(ms, "IOProc.sleep()", 0.001)
        self.iocall(self._stopped.wait, secs)


def _fd(f: Any) -> int:
    return f if isinstance(f, int) else int(f.fileno())
