"""The exception hierarchy of libtask9.

Every error a user can provoke has its own class and a message that says what to do.
``TaskKilled`` derives from ``BaseException`` (like ``GreenletExit`` and
``KeyboardInterrupt``) so that a bare ``except Exception`` in a task does not swallow a
kill.  ``InternalError`` is never expected: it means a runtime invariant broke, and its
message names the invariant.
"""

from __future__ import annotations

import traceback
from typing import Any

__all__ = [
    "BlockedTask",
    "Cancelled",
    "ChannelClosed",
    "Deadlock",
    "IOProcClosed",
    "InternalError",
    "Libtask9Error",
    "NotInTask",
    "TaskKilled",
    "Timeout",
    "WrongProc",
    "WrongRun",
]


class Libtask9Error(Exception):
    """Base class of the errors libtask9 raises for misuse or closed resources."""


class ChannelClosed(Libtask9Error):
    """An operation met a closed channel.

    Raised by ``send``/``nbsend`` on a closed channel, by ``recv``/``nbrecv`` once a
    closed channel's buffer is drained, by a second ``close()``, by a task blocked on a
    channel that another task closes, and by ``alt`` when the case it completes is on a
    closed channel.  ``index`` is that case's position in the ``alt`` (0 for the
    single-case operations, -1 for ``close``); ``channel`` is the channel.
    """

    def __init__(self, channel: Any, index: int = 0, message: str | None = None) -> None:
        self.channel = channel
        self.index = index
        super().__init__(message or f"{channel!r} is closed")


class TaskKilled(BaseException):
    """Raised inside a task at its current or next switch point after ``Task.kill()``.

    A task blocked in ``send``/``recv``/``alt`` when it is killed is withdrawn from every
    channel first: its value is never delivered and nothing is lost.  If a partner had
    already completed the task's operation, that operation stands (its result is
    returned) and ``TaskKilled`` is raised at the task's next switch point instead.
    """


class Cancelled(TaskKilled):
    """Raised inside a task when a timeout scope around it expires (``timeout``,
    ``move_on_after``), at its current or next switch point, exactly as a kill is: a
    blocked operation is withdrawn atomically, an operation a partner already completed
    stands.  The scope that expired catches it (``timeout`` turns it into
    :class:`Timeout`); unlike a kill, the task lives on.  ``scope`` is that scope.

    It derives from ``TaskKilled`` so that code written to clean up after a kill cleans
    up after a timeout too; do not swallow it.
    """

    def __init__(self, scope: Any, message: str) -> None:
        self.scope = scope
        super().__init__(message)


class Timeout(Libtask9Error, TimeoutError):
    """The deadline of a ``timeout(ms)`` block passed; raised out of the block."""


class BlockedTask(tuple[Any, str]):
    """One entry of ``Deadlock.blocked``: a ``(task, what)`` pair (what the task waits
    on: its channels and directions, a sleep, a join) that also carries ``stack``, where
    the task is blocked: ``traceback.FrameSummary`` entries, innermost user frame first,
    libtask9's own frames left out.  ``where`` is the innermost one as
    ``file:line in function``."""

    stack: list[traceback.FrameSummary]

    def __new__(cls, task: Any, what: str,
                stack: list[traceback.FrameSummary] | None = None) -> BlockedTask:
        self = super().__new__(cls, (task, what))
        self.stack = stack or []
        return self

    @property
    def task(self) -> Any:
        return self[0]

    @property
    def what(self) -> str:
        return self[1]

    @property
    def where(self) -> str:
        if not self.stack:
            return "(no frame: not started, or no user code on its stack)"
        f = self.stack[0]
        return f"{f.filename}:{f.lineno} in {f.name}"


class Deadlock(Libtask9Error):
    """Every task of every proc of a run is blocked and nothing can wake any of them.

    ``blocked`` lists a :class:`BlockedTask` ``(task, what)`` for each blocked task, with
    its stack, as in Go's "all goroutines are asleep - deadlock!".  The message lists at
    most ``Deadlock.MAX_LISTED`` of them, each with the ``file:line in function`` where it
    waits (then "... and N more"); ``blocked`` keeps all.
    """

    MAX_LISTED = 20

    def __init__(self, blocked: list[BlockedTask]) -> None:
        self.blocked = blocked
        lines = [f"  {b.task!r}: {b.what}\n      at {b.where}"
                 for b in blocked[:self.MAX_LISTED]]
        if len(blocked) > self.MAX_LISTED:
            lines.append(f"  ... and {len(blocked) - self.MAX_LISTED} more "
                         "(Deadlock.blocked lists every one)")
        super().__init__(
            "all tasks are asleep - deadlock! (no timer pending, no iocall in flight)\n"
            + "\n".join(lines)
        )


class NotInTask(Libtask9Error, RuntimeError):
    """A call that must run inside a libtask9 task was made from elsewhere."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} must be called from a libtask9 task; this thread is not running one. "
            "Start the program with libtask9.run(main) (or libtask9.new_proc(fn) for another "
            "OS thread) and call it from main or a task it creates; plain threads can hand "
            "work to tasks with an IOProc."
        )


class WrongProc(Libtask9Error, RuntimeError):
    """A task or proc object was used from an OS thread it does not belong to."""


class WrongRun(Libtask9Error, RuntimeError):
    """A channel, proc or task of one live run was used by a task of another run.

    Every run detects its own deadlocks from its own procs only, so a task of one run
    must not wait for (or be woken by) another run.  A channel belongs to the run that
    uses it until that run ends; after that, any run may use it.  Hand values between
    concurrent runs with a thread-safe queue and an IOProc instead.
    """


class IOProcClosed(Libtask9Error):
    """``iocall`` on an IOProc that was never started or has been stopped."""


class InternalError(RuntimeError):
    """A runtime invariant was violated.  This is a libtask9 bug: please report it."""
