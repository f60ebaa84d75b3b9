"""A proc driven by hand, for deterministic and exhaustive tests of code that uses
libtask9.

The calling thread becomes a proc whose scheduler is the test itself:

* ``Stepper(seed=0, choose_case=None)`` -- make the calling thread the stepper's proc
  (use it as a context manager, or call :meth:`Stepper.close`);
* ``spawn(fn, *args)`` -- create a task (it does not run yet);
* ``runnable()`` -- the tasks that can run now, in FIFO order;
* ``step(task)`` -- run that task until its next switch point (it blocks, yields, or
  ends); ``run_until_blocked()`` -- step the first runnable task until none is left;
* ``choose_case(ready)`` -- called whenever an ``alt`` has more than one ready case,
  with their indices: return the one to take (default: uniform, seeded);
* ``Stepper.hold()`` -- called by a task: park outside any channel operation until the
  test calls ``release(task)``.

The stepper is a run of its own that never declares a deadlock (the test decides what
happens next) and never moves a timer by itself.  ``examples/every_interleaving.py``
enumerates every schedule of a 3-task program with it.  (Test machinery: the runtime
does not import this module.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._sched import Proc, curtask, killed_locked, park, ready_locked
from .._task import BLOCKED, Task
from .._world import ENDING, RUNNING, World, chanlock
from ..errors import InternalError

__all__ = ["Stepper"]


class Stepper:
    """A proc driven by hand (see the module docstring).  Use as a context manager, or
    call :meth:`close` to unwind the remaining tasks and unbind the thread."""

    def __init__(self, seed: int = 0,
                 choose_case: Callable[[Sequence[int]], int] | None = None) -> None:
        self.world = World()
        self.proc = Proc(self.world, "stepper", seed=seed)
        self.proc.switch_direct = False  # every park returns to the test
        if choose_case is not None:
            self.proc.choose_case = choose_case
        self.proc._bind()

    def spawn(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Create a task (it runs when the test steps it)."""
        return self.proc._spawn(fn, args, kwargs)

    def runnable(self) -> list[Task]:
        """The runnable tasks, in FIFO order."""
        p = self.proc
        with chanlock:
            p.runq.extend(p._remote)
            p._remote.clear()
        return list(p.runq)

    def step(self, t: Task) -> None:
        """Run the runnable task ``t`` until it parks, yields or ends."""
        p = self.proc
        self.runnable()
        try:
            p.runq.remove(t)
        except ValueError:
            raise InternalError(f"{t!r} is not runnable") from None
        p._dispatch(t)
        if p._fatal is not None:
            raise p._fatal

    def run_until_blocked(self, limit: int = 100000) -> int:
        """Step the first runnable task until none is left (every task blocked or done;
        at most ``limit`` steps); returns how many steps ran."""
        n = 0
        while self.runnable() and n < limit:
            self.step(self.proc.runq[0])
            n += 1
        return n

    run_until_idle = run_until_blocked  # (its former name)

    @staticmethod
    def hold() -> None:
        """Park the calling task until ``release`` (no channel involved).  A held task is
        between operations: a kill of it is pending and lands when it is released."""
        t = curtask()
        with chanlock:
            if t._kill_pending and t.proc.world.phase is not RUNNING:  # (closing)
                raise killed_locked(t)
            t._state = BLOCKED  # (no wait record: kill() leaves it pending)
        park(t)
        if t._kill_pending:
            with chanlock:
                if t._kill_pending:
                    raise killed_locked(t)

    def release(self, t: Task) -> None:
        """Make a held task runnable again."""
        with chanlock:
            ready_locked(t)

    @staticmethod
    def is_held(t: Task) -> bool:
        """True while ``t`` is parked in :meth:`hold` (blocked, but in no operation)."""
        return t._state is BLOCKED and t._blocker is None

    def close(self) -> None:
        """Unwind the remaining tasks (held ones are released into their kill) and unbind
        the thread."""
        try:
            with chanlock:
                self.world.phase = ENDING  # a task that holds again now takes its kill
                for t in sorted(self.proc._tasks, key=lambda u: u.id):
                    if self.is_held(t):
                        t._kill_pending = True  # (untraced: the test is over)
                        ready_locked(t)
            self.proc._unwind()
        finally:
            self.proc._unbind()
            with chanlock:
                self.world.ended_locked()

    def __enter__(self) -> Stepper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
