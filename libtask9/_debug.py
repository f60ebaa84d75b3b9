"""Seeing a live program: ``dump_tasks()`` and ``enable_dump_on_signal()``.

plan9port's ``threadinfo`` and Go's SIGQUIT dump: every run's procs and tasks, with each
task's state, what it waits on and its stack.  Callable from any thread, at any time:
the snapshot is taken under the channel lock (so it is consistent), and the lines are
formatted after the lock is released.  If the lock cannot be had within half a second
(the dump was called from a tracer, or by a signal handler that interrupted a critical
section of the same thread), the snapshot is taken without it and says so.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from types import FrameType
from typing import IO, Any

from ._sched import frames_summary, task_stack
from ._task import RUNNING
from ._world import chanlock, live_worlds_locked

__all__ = ["dump_tasks", "enable_dump_on_signal"]

_LOCK_WAIT = 0.5


def _snapshot() -> tuple[list[Any], bool]:
    """Per run: (run line, [(proc line, [(task line, stack)])]); and whether it was
    taken under the lock."""
    locked = chanlock.acquire(True, _LOCK_WAIT)
    try:
        running = sys._current_frames()
        runs = []
        for w in live_worlds_locked():
            procs = []
            for p in sorted(w.procs, key=lambda q: q.id):
                th = p.thread
                where = th.name if th is not None else "the thread that called run()"
                state = "idle" if p._idle else "running"
                tasks = []
                for t in sorted(p._tasks, key=lambda u: u.id):
                    b = t._blocker
                    what = b.describe() if b is not None else t._state
                    if t._state is RUNNING and p._ident is not None:
                        stack = frames_summary(running.get(p._ident))
                    else:
                        stack = task_stack(t)
                    tasks.append((f"task {t.id} {t.name!r}: {what}", stack))
                procs.append((f"proc {p.id} {p.name!r} ({where}, {state}, "
                              f"{len(p.timers)} timers)", tasks))
            runs.append((f"run {w.id} ({w.phase}): {len(w.procs)} procs, {w.nidle} idle, "
                         f"{w.ntimers} live timers, {w.iocalls} iocalls in flight"
                         + (", deadlock declared" if w.deadlock is not None else ""), procs))
        return runs, locked
    finally:
        if locked:
            chanlock.release()


def dump_tasks(file: IO[str] | None = None) -> None:
    """Print every run's procs and tasks (state, what each waits on, its stack) to
    ``file`` (default: ``sys.stderr``).  Safe from any thread, while tasks run."""
    out = sys.stderr if file is None else file
    runs, locked = _snapshot()
    lines = [f"libtask9: {len(runs)} run(s)"
             + ("" if locked else " (taken without the channel lock: may be inconsistent)")]
    for run_line, procs in runs:
        lines.append(run_line)
        for proc_line, tasks in procs:
            lines.append(f"  {proc_line}")
            for task_line, stack in tasks:
                lines.append(f"    {task_line}")
                for f in stack:
                    lines.append(f'      File "{f.filename}", line {f.lineno}, in {f.name}')
                    src = (f.line or "").strip()
                    if src:
                        lines.append(f"        {src}")
    out.write("\n".join(lines) + "\n")
    out.flush()


def enable_dump_on_signal(signum: int = getattr(signal, "SIGQUIT", signal.SIGTERM),
                          file: IO[str] | None = None) -> None:
    """Call :func:`dump_tasks` whenever the process receives ``signum`` (default SIGQUIT,
    Go's choice: Ctrl-\\\\ in a terminal).  POSIX; call it from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("enable_dump_on_signal() must be called from the main thread")

    def handler(signum: int, frame: FrameType | None) -> None:
        try:
            dump_tasks(file)
        except Exception:  # a dump must never take the program down
            traceback.print_exc()

    signal.signal(signum, handler)
