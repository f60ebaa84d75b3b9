"""TaskGroup: structured concurrency on the verified kill (Go's errgroup, trio's nursery,
asyncio's ``TaskGroup``).

``with TaskGroup() as g:`` — ``g.new_task(fn, ...)`` and ``g.new_proc(fn, ...)`` start
members (for a proc, its first task is the member and the group waits for the proc).
Leaving the block waits for every member.  If a member raises an ``Exception``, the
others are killed (``Task.kill``: spec actions KillBlocked / KillPending with ``reason``
"group" — atomic, and never losing a committed message) and leaving the block raises an
``ExceptionGroup`` of the failures, as asyncio's TaskGroup does; an exception of the
body itself kills the members too and is raised with theirs.  ``g.cancel()`` kills every
member and the group ends cleanly.  Members' exceptions do not also go to the
excepthook.  If the task waiting in the block is killed, the members are killed, waited
for, and the kill goes on.  Groups nest.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

from ._sched import (
    Proc,
    TaskOwner,
    current_proc_or_none,
    join_wait,
    kill_task_locked,
    killed_locked,
    spawn_proc,
    task_for,
)
from ._task import Task
from ._world import chanlock
from .errors import NotInTask, TaskKilled

if sys.version_info >= (3, 11):
    from builtins import ExceptionGroup
else:  # pragma: no cover - the backport on 3.10
    from exceptiongroup import ExceptionGroup

__all__ = ["TaskGroup"]


class TaskGroup(TaskOwner):
    """A group of tasks whose block ends only when all of them have (see the module
    docstring).  Use it in a task: ``with TaskGroup() as g: g.new_task(work, x)``."""

    def __init__(self) -> None:
        self._state = "new"  # new -> open -> closed
        self._parent: Task | None = None
        self._tasks: list[Task] = []  # member tasks (chanlock)
        self._procs: list[Proc] = []  # member procs (their first task is a member)
        self._failures: list[Exception] = []  # members' exceptions, in order (chanlock)
        self.cancelled = False  # (TaskOwner: members spawned now start killed)

    def __repr__(self) -> str:
        return (f"<TaskGroup {self._state} tasks={len(self._tasks)} procs={len(self._procs)}"
                f"{' cancelled' if self.cancelled else ''}>")

    # -- members -------------------------------------------------------------------------

    def new_task(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Start ``fn(*args, **kwargs)`` as a member task in the calling task's proc."""
        self._check_open("new_task")
        p = current_proc_or_none()
        if p is None:
            raise NotInTask("TaskGroup.new_task()")
        return p._spawn(fn, args, kwargs, owner=self)  # (listed by member_added_locked)

    def new_proc(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Proc:
        """Start a proc whose first task, ``fn(*args, **kwargs)``, is a member."""
        self._check_open("new_proc")
        return spawn_proc(fn, args, kwargs, self)  # (listed by member_proc_added_locked)

    def cancel(self) -> None:
        """Kill every member (present and future); the group then ends cleanly."""
        with chanlock:
            self._cancel_locked()

    def _cancel_locked(self) -> None:
        # Member procs' first tasks are in _tasks too (listed as they are created); a
        # proc whose first task does not exist yet creates it killed (member_added).
        self.cancelled = True
        for t in list(self._tasks):
            kill_task_locked(t, traced=True, force=False, reason="group")

    def member_added_locked(self, t: Task) -> None:
        self._tasks.append(t)
        if self.cancelled:  # a cancelled group's new member starts killed
            kill_task_locked(t, traced=True, force=False, reason="group")

    def member_proc_added_locked(self, q: Proc) -> None:
        self._procs.append(q)

    def task_exited_locked(self, t: Task) -> None:
        """TaskExit of a member: a failure is kept and cancels the others."""
        e = t._exc
        if isinstance(e, Exception):
            self._failures.append(e)
            if not self.cancelled:
                self._cancel_locked()

    def _check_open(self, what: str) -> None:
        if self._state != "open":
            raise RuntimeError(f"TaskGroup.{what}() on a group that is {self._state}: "
                               "start members inside its `with` block")

    # -- the block -----------------------------------------------------------------------

    def __enter__(self) -> TaskGroup:
        if self._state != "new":
            raise RuntimeError(f"{self!r} was already entered; make a new TaskGroup")
        self._parent = task_for("TaskGroup")
        self._state = "open"
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        killed: BaseException | None = exc if isinstance(exc, TaskKilled) else None
        if exc is not None:
            self.cancel()  # the body failed, or the waiting task was killed
        while True:
            try:
                self._wait_members()
                break
            except TaskKilled as k:  # killed while waiting: the members go too
                killed = killed or k
                self.cancel()
        self._state = "closed"
        if killed is not None:
            if killed is exc:
                return False
            raise killed
        with chanlock:
            failures = list(self._failures)
        if isinstance(exc, Exception):
            failures.insert(0, exc)
        elif exc is not None:  # KeyboardInterrupt, SystemExit: it goes on as it is
            return False
        if failures:
            raise ExceptionGroup(f"{len(failures)} failure(s) in a TaskGroup", failures)
        return False

    def _wait_members(self) -> None:
        """Join every member until none is left (members may add members meanwhile).

        If the run is ending, the members are being unwound with it and ``run()`` waits
        for every proc's thread: the block then waits only for members of its own proc
        (the unwinding runs them), not for other procs, whose unwinding the ending proc's
        bounded kill rounds could not wait for.  Then the block has not seen every member
        finish: the owner's pending kill (the run's) is delivered here, as at a switch
        point, and leaving the block raises it."""
        me = task_for("TaskGroup")
        while True:
            ending = me.proc.world.phase != "running"
            with chanlock:
                tasks = [t for t in self._tasks if t._state != "done"
                         and (not ending or t.proc is me.proc)]
                procs = [] if ending else [q for q in self._procs if not q._exited]
                if not tasks and not procs and ending and me._kill_pending:
                    raise killed_locked(me)
            if not tasks and not procs:
                return
            for t in tasks:  # (a Deadlock report names the member waited for)
                join_wait(me, t.proc.world, f"TaskGroup member task {t.id} {t.name!r}", t,
                          None)
            for q in procs:
                join_wait(me, q.world, f"TaskGroup member proc {q.id} {q.name!r}", q, None)
