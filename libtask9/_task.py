"""Task: one greenlet bound to the proc that created it.

A task holds no scheduling logic of its own (that is ``_sched``); it is the record the
scheduler and the channel core share.  Fields written by other OS threads are only
written under the global channel lock (``_world.chanlock``); they are marked below.
The methods that act on a task (``kill``, ``join``) ask its proc, which knows the
scheduler: this module imports nothing of the layers above it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import greenlet

if TYPE_CHECKING:  # annotations only: the scheduler layer sits above this one
    from ._sched import Blocker, Proc, TaskOwner

__all__ = ["Task", "TaskScopes"]

# Task states.  Only the owning proc's thread moves a task out of RUNNABLE; other threads
# move it BLOCKED -> RUNNABLE, under the channel lock, through _sched.ready_locked().
# (Final: a compiled core reads them as constants, not as module globals.)
NEW: Final = "new"  # created, never run (it is in its proc's run queue)
RUNNABLE: Final = "runnable"  # in its proc's run queue (or remote queue)
RUNNING: Final = "running"  # the current task of its proc
BLOCKED: Final = "blocked"  # parked in a wait record (``_blocker`` is set)
DONE: Final = "done"  # its function returned or raised, or it was killed

_task_ids = itertools.count(1)  # task ids are never reused (thread(3))


class TaskScopes:
    """The timeout scopes of one task and their interruptions (``_scope``).

    A record apart from :class:`Task` because few tasks ever enter a scope: every field a
    ``Task`` carries costs every task (a ``Task`` of 16 slots is a 160-byte block, of 19 a
    192-byte one; a woken task's exit measurably slows with the size).  Its fields are
    written under chanlock.
    """

    __slots__ = ("interrupted", "pending", "stack")

    def __init__(self) -> None:
        #: The scopes the task is inside, innermost last.
        self.stack: list[Any] = []
        #: The expired scope whose interruption is pending (always with the task's
        #: ``_kill_pending``: it lands at the next switch point, or is withdrawn
        #: unrecorded if the scope is left first).
        self.pending: Any = None
        #: The expired scope whose interruption withdrew the task's wait (KillBlocked):
        #: raised when the task resumes from that wait.
        self.interrupted: Any = None


class Task:
    """A cooperatively scheduled task (libthread's *thread*).

    Create tasks with :func:`libtask9.new_task`.  ``id`` is unique for the life of the
    process and never reused; ``name`` is free-form.  A task runs only in the OS thread of
    the proc that created it and loses the processor only at a switch point: ``send``,
    ``recv``, blocking ``alt``, ``yield_``, ``sleep``, ``iocall``, ``join``, and its own
    exit.
    """

    __slots__ = (
        "_args",
        "_blocker",
        "_exc",
        "_fn",
        "_glet",
        "_joiners",
        "_kill_pending",
        "_kill_silent",
        "_killed",
        "_owner",
        "_result",
        "_scopes",
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
        # The call to make; both are let go when the task ends.  (Keyword arguments are
        # rare: they ride in a partial rather than in a field every task pays for.)
        self._fn: Callable[..., Any] | None = functools.partial(fn, **kwargs) if kwargs else fn
        self._args: tuple[Any, ...] = args
        self._glet: greenlet.greenlet | None = None
        self._state: str = NEW
        # Written under chanlock (other procs may kill or wake this task):
        self._blocker: Blocker | None = None  # what it waits in while BLOCKED
        self._kill_pending: bool = False  # KillPending happened, Killed has not
        self._kill_silent: bool = False  # that pending kill is the scheduler's: unrecorded
        self._killed: bool = False  # TaskKilled was delivered
        #: JoinWaits of tasks, Events of plain threads, in join() on this task (chanlock)
        self._joiners: list[Any] | None = None
        #: The TaskGroup the task belongs to (it takes the task's exception; chanlock).
        self._owner: TaskOwner | None = None
        #: Its timeout scopes and their interruptions, made when it first enters one.
        self._scopes: TaskScopes | None = None
        self._result: Any = None
        self._exc: BaseException | None = None

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name!r} proc={self.proc.id} {self._state}>"

    @property
    def state(self) -> str:
        """``new``, ``runnable``, ``running``, ``blocked`` or ``done``."""
        return self._state

    @property
    def done(self) -> bool:
        """True once the task's function has returned or raised (or it was killed)."""
        return self._state == DONE

    @property
    def killed(self) -> bool:
        """True once ``TaskKilled`` has been delivered to the task."""
        return self._killed

    def kill(self) -> bool:
        """Kill the task: it receives :class:`TaskKilled` at its current or next switch point.

        If the task is blocked in ``send``/``recv``/``alt`` (or ``sleep``, ``join``,
        ``iocall``) it is withdrawn from everything it waits in atomically (nothing it
        offered is delivered, nothing is lost) and resumed with ``TaskKilled``.  If a
        partner already completed its operation, that operation stands and the kill takes
        effect at the next switch point.  Callable from any task of any proc and from plain
        threads.  Returns False if the task had already finished or been killed.
        """
        return self.proc.kill_task(self)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the task has finished; True if it has (False: ``timeout`` seconds
        passed first).

        From a task this blocks only the calling task (a switch point); from a plain
        thread it blocks the thread.  ``timeout`` is in seconds, like ``Proc.join``;
        ``None`` or ``inf`` waits for ever.  A task cannot join itself (``WrongProc``).
        """
        return self.proc.join_task(self, timeout)

    def result(self) -> Any:
        """The return value of a finished task; re-raises its exception (``TaskKilled``
        if it was killed)."""
        if self._state != DONE:
            raise RuntimeError(f"{self!r} has not finished; wait for it with join()")
        if self._exc is not None:
            raise self._exc
        return self._result
