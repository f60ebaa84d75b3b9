"""VirtualClock: the time a run's timers read, moved by the test instead of the world
(trio's ``MockClock``, Go's ``testing/synctest`` bubble).

``Runner(clock=VirtualClock(autojump=True)).run(main)``: every timer of the run (``after``,
``sleep``, ``Timer``, ``Ticker``, ``Proc.join``/``Task.join`` with a timeout from a task,
``timeout``/``move_on_after``) reads this clock.  With ``autojump``, whenever every proc
of the run is idle, no iocall is in flight and a timer is pending, the clock jumps to the
next deadline at once: a program that waits an hour on timers runs in milliseconds,
firing exactly the same timers in the same order.  Without it, the clock moves only when
``advance(ms)`` is called (from a task, or from a plain thread).

Only *when* timers fire changes, never the channel rules: the run's deadlock decision
reads "a pending timer is a waker; with autojump it fires now" (``spec/Procs.tla``).  An
iocall runs in real time, so no jump happens while one is in flight.  A clock serves one
run at a time.
"""

from __future__ import annotations

from ._sched import delay_seconds, wake_due_locked
from ._world import World, chanlock

__all__ = ["VirtualClock"]


class VirtualClock:
    """A clock for one run, moved by :meth:`advance` or, with ``autojump``, by the run
    itself when nothing else can happen.  ``start`` is its first reading, in seconds."""

    def __init__(self, autojump: bool = False, start: float = 0.0) -> None:
        if not isinstance(autojump, bool):
            raise TypeError(f"autojump must be True or False, got {autojump!r}")
        self.autojump = autojump
        self._now = float(start)
        self._world: World | None = None

    def __repr__(self) -> str:
        return f"<VirtualClock {self._now:.6f} s{' autojump' if self.autojump else ''}>"

    def now(self) -> float:
        """The clock's reading, in seconds."""
        return self._now

    def advance(self, ms: float) -> None:
        """Move the clock ``ms`` milliseconds forward; the timers now due fire."""
        delay = delay_seconds(ms, "VirtualClock.advance()", 0.001)
        if delay is None:
            raise ValueError("VirtualClock.advance(): cannot advance by an infinite time")
        with chanlock:
            self._now += delay
            w = self._world
            if w is not None:
                wake_due_locked(w)

    def _jump_locked(self, deadline: float) -> None:
        """Autojump: every proc of the run is idle and a timer is pending."""
        if deadline > self._now:
            self._now = deadline
        w = self._world
        if w is not None:
            wake_due_locked(w)

    def _attach(self, w: World) -> None:
        """Make ``w`` (a run being started) read this clock."""
        with chanlock:
            if self._world is not None and self._world.phase != "ended":
                raise RuntimeError(f"{self!r} already serves a run that has not ended")
            self._world = w
            w.clock = self.now
            w.virtual = True
            w.autojump = self._jump_locked if self.autojump else None
