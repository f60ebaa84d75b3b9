"""Task: one greenlet bound to the proc that created it.

A task holds no scheduling logic of its own (that is ``_sched``); it is the record the
scheduler and the channel core share.  Fields written by other OS threads are only
written under the global channel lock (``_sched.chanlock``); they are marked below.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import greenlet

if TYPE_CHECKING:
    from ._chan import _Waiter
    from ._sched import Proc

__all__ = ["Task"]

# Task states.  Only the owning proc's thread moves a task out of RUNNABLE; other threads
# move it BLOCKED -> RUNNABLE, under the channel lock, through _sched.ready_locked().
# (Final: a compiled core reads them as constants, not as module globals.)
NEW: Final = "new"  # created, never run (it is in its proc's run queue)
RUNNABLE: Final = "runnable"  # in its proc's run queue (or remote queue)
RUNNING: Final = "running"  # the current task of its proc
BLOCKED: Final = "blocked"  # parked in an alt (``_alt`` is set)
HELD: Final = "held"  # parked by a test Stepper outside any channel operation
DONE: Final = "done"  # its function returned or raised

_task_ids = itertools.count(1)  # task ids are never reused (thread(3))


class Task:
    """A cooperatively scheduled task (libthread's *thread*).

    Create tasks with :func:`libtask9.new_task`.  ``id`` is unique for the life of the
    process and never reused; ``name`` is free-form.  A task runs only in the OS thread of
    the proc that created it and loses the processor only at a switch point: ``send``,
    ``recv``, blocking ``alt``, ``yield_``, ``sleep``, ``iocall``, and its own exit.
    """

    __slots__ = (
        "_alt",
        "_args",
        "_exc",
        "_fn",
        "_glet",
        "_kill_pending",
        "_killed",
        "_kwargs",
        "_result",
        "_state",
        "id",
        "name",
        "proc",
    )

    def __init__(
        self,
        proc: Proc,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        name: str | None,
    ) -> None:
        self.id: int = next(_task_ids)
        self.name: str = name if name is not None else getattr(fn, "__name__", "task")
        self.proc: Proc = proc
        self._fn = fn
        self._args = args
        self._kwargs = kwargs or None  # (an empty dict per task is 64 bytes)
        self._glet: greenlet.greenlet | None = None
        self._state: str = NEW
        # Written under chanlock (other procs may kill or wake this task):
        self._alt: _Waiter | None = None  # the head of the pending alt while BLOCKED
        self._kill_pending: bool = False  # KillPending happened, Killed has not
        self._killed: bool = False  # TaskKilled was delivered
        self._result: Any = None
        self._exc: BaseException | None = None

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name!r} proc={self.proc.id} {self._state}>"

    @property
    def state(self) -> str:
        """``new``, ``runnable``, ``running``, ``blocked``, ``held`` or ``done``."""
        return self._state

    @property
    def done(self) -> bool:
        """True once the task's function has returned or raised."""
        return self._state == DONE

    @property
    def killed(self) -> bool:
        """True once ``TaskKilled`` has been delivered to the task."""
        return self._killed

    def kill(self) -> bool:
        """Kill the task: it receives :class:`TaskKilled` at its current or next switch point.

        If the task is blocked in ``send``/``recv``/``alt`` it is withdrawn from every
        channel atomically (nothing it offered is delivered, nothing is lost) and resumed
        with ``TaskKilled``.  If a partner already completed its operation, that operation
        stands and the kill takes effect at the next switch point.  Callable from any task
        of any proc.  Returns False if the task had already finished or been killed.
        """
        from ._chan import kill_task

        return kill_task(self)

    def result(self) -> Any:
        """The return value of a finished task (re-raises its exception)."""
        if self._state != DONE:
            raise RuntimeError(f"{self!r} has not finished; wait for it with a channel")
        if self._exc is not None:
            raise self._exc
        return self._result
