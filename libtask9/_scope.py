"""Timeout scopes: ``timeout(ms)`` and ``move_on_after(ms)`` (trio's ``fail_after`` and
``move_on_after``, asyncio's ``timeout``, Go's ``context.WithTimeout``).

Inside the block, when the deadline passes, the task is interrupted at its current or
next switch point exactly as a kill is (``_sched.interrupt_locked``: spec actions
KillBlocked, or KillPending and Killed, with ``reason`` "timeout"): a blocked operation is
withdrawn atomically, an operation a partner already completed stands (its result is
returned and the interruption lands at the next switch point).  The task receives
:class:`~libtask9.Cancelled`, the scope catches it, and the task lives on: ``timeout``
raises :class:`~libtask9.Timeout` out of the block, ``move_on_after`` swallows it and
sets ``expired``.

Nesting: each task keeps its active scopes innermost last.  When a scope expires while an
inner one has already expired, the inner one's interruption is the one delivered; after
a scope catches its own, the next expired scope outside it is delivered at the next
switch point.  Leaving a scope disarms its timer and withdraws an interruption of it not
yet delivered.  ``inf`` means never.  Scopes work in every proc: the timer is on the
heap of the task's own proc, so a deadline is noticed when that proc schedules: a task
that computes, or whose operations complete without blocking, is interrupted at its
first switch point after the deadline (as at trio's checkpoints).  A scope costs nothing
while unused: channel operations never look at scopes.
"""

from __future__ import annotations

from types import TracebackType
from typing import Final

from . import _trace
from ._sched import arm_locked, delay_seconds, interrupt_locked, task_for
from ._task import Task, TaskScopes
from ._timerheap import TimerEntry
from ._world import chanlock
from .errors import Cancelled, Timeout

__all__ = ["move_on_after", "timeout"]

_ACTIVE: Final = "active"
_LEFT: Final = "left"


class _ScopeEntry(TimerEntry):
    """The timer of a scope: when it fires, the scope has expired."""

    __slots__ = ("scope",)

    def __init__(self, deadline: float, scope: _Scope) -> None:
        super().__init__(deadline, 0.0, scope.task.proc.world)
        self.scope = scope

    def fire_locked(self, now: float, by: int | None) -> None:
        s = self.scope
        s._entry = None
        t = s.task
        if _trace.tracer is not None:
            _trace.timer_fire(t.proc.world.id, by, self.id, t.id)
        s._expire_locked()


def _interrupt_innermost_locked(t: Task) -> None:
    """Interrupt ``t`` for the innermost expired scope it is in, unless that scope's
    interruption (or a deeper one's) is already on its way."""
    sc = t._scopes
    if sc is None:
        return
    scopes = sc.stack
    for s in reversed(scopes):
        if s.expired:
            pending = sc.pending
            if pending is not None and pending in scopes and \
                    scopes.index(pending) >= scopes.index(s):
                return
            interrupt_locked(t, s)
            return


class _Scope:
    """A timeout scope of one task (see the module docstring)."""

    def __init__(self, ms: float, what: str) -> None:
        self._delay = delay_seconds(ms, what, 0.001)
        self._ms = ms
        self._what = what
        self._state = "new"
        self._entry: _ScopeEntry | None = None
        self.task: Task
        #: True once the deadline passed while the block was running.
        self.expired = False

    def __repr__(self) -> str:
        return f"<{self._what} {self._ms!r} ms {self._state}{' expired' if self.expired else ''}>"

    def _expire_locked(self) -> None:
        """The deadline has passed (its timer fired): interrupt the task."""
        if self._state is not _ACTIVE:
            return
        self.expired = True
        _interrupt_innermost_locked(self.task)

    def exception(self) -> Cancelled:
        """What the interrupted task receives."""
        return Cancelled(self, f"{self._what} of {self._ms!r} ms expired")

    def __enter__(self) -> _Scope:
        if self._state != "new":
            raise RuntimeError(f"{self!r} was already entered; make a new one")
        t = task_for(f"{self._what}()")
        self.task = t
        with chanlock:
            self._state = _ACTIVE
            sc = t._scopes
            if sc is None:
                sc = t._scopes = TaskScopes()
            sc.stack.append(self)
            if self._delay is not None:
                w = t.proc.world
                e = _ScopeEntry(w.clock() + self._delay, self)
                self._entry = e
                arm_locked(t.proc, e)
                if _trace.tracer is not None:
                    _trace.timer_arm(w.id, t.proc.id, e.id, t.id, self._what, e.deadline)
        return self

    def _leave(self) -> None:
        """Leave the scope: disarm it, withdraw its undelivered interruption, and pass an
        expired outer scope's on."""
        t = self.task
        with chanlock:
            self._state = _LEFT
            e = self._entry
            if e is not None:
                self._entry = None
                e.disarm_locked()
            sc = t._scopes
            assert sc is not None  # (made by __enter__)
            if self in sc.stack:
                sc.stack.remove(self)
            if sc.pending is self:  # expired, but its interruption had not landed yet
                sc.pending = None
                t._kill_pending = False
            # An outer scope that expired meanwhile is delivered at the next switch point.
            _interrupt_innermost_locked(t)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        self._leave()
        return isinstance(exc, Cancelled) and exc.scope is self and self._caught(exc)

    def _caught(self, exc: Cancelled) -> bool:
        raise NotImplementedError


class timeout(_Scope):  # (lower case: used like a function, as asyncio's and trio's)
    """``with timeout(ms):`` — raise :class:`~libtask9.Timeout` out of the block if it is
    still running ``ms`` milliseconds after it started (the task is interrupted at its
    current or next switch point, exactly as a kill is).  ``inf`` never expires."""

    def __init__(self, ms: float) -> None:
        super().__init__(ms, "timeout")

    def _caught(self, exc: Cancelled) -> bool:
        raise Timeout(f"the block did not finish within {self._ms!r} ms") from None


class move_on_after(_Scope):  # (lower case, as trio's)
    """``with move_on_after(ms) as scope:`` — stop the block if it is still running
    ``ms`` milliseconds after it started and go on after it; ``scope.expired`` tells
    whether that happened."""

    def __init__(self, ms: float) -> None:
        super().__init__(ms, "move_on_after")

    def _caught(self, exc: Cancelled) -> bool:
        return True
