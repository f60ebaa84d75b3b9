"""Timers that deliver on channels: ``after``, ``Timer``, ``Ticker``, ``tick``; and ``sleep``.

Each proc keeps a heap of absolute deadlines (``_timerheap``) for the timers its tasks
arm, and fires them from its own scheduler: between task switches when it is busy, and by
sleeping on its parker until the earliest deadline when it is idle (asyncio's design: no
second thread and no extra GIL hand-off on the way).  Timers armed where no scheduler
runs (a plain thread, a test stepper) go to one fallback timer thread.  A proc that ends
while its run goes on hands its live timers to the run's main proc.  So timers have the
resolution of the OS's timed wait, not the 100 ms wheel of the original Python 2
libtask9, which could fire ~25.7 s late.  No C extension and no signals are involved.

A timer holds its channel through a weak reference: a timer whose channel nobody holds
any more (an ``after()`` in an ``alt`` that another case won) is dropped, as Go 1.23 does,
and does not count as pending for deadlock detection.  ``sleep`` needs no channel: its
timer completes the sleeping task's wait directly.

Durations are in milliseconds, as in the original libtask9 (``Millisecond = 1``,
``Second = 1000``).  ``inf`` means never: such a timer never fires and is not a waker
(a task that can only be woken by it is deadlocked); NaN is a ``ValueError``.

Delivery is a non-blocking send on a 1-slot buffered channel: a ``Ticker`` whose reader
falls behind drops ticks instead of queueing them (Go's ``time.Ticker``).  The value
delivered is the clock reading (``time.monotonic()``) at which the timer fired.
"""

from __future__ import annotations

import time
import weakref
from typing import Final

from . import _trace
from ._chan import Channel, deliver_locked
from ._sched import (
    KILLED,
    Blocker,
    arm_locked,
    arm_wait_timer_locked,
    check_deadlock_locked,
    current_proc_or_none,
    delay_seconds,
    killed_error,
    killed_locked,
    park,
    task_for,
    yield_,
)
from ._task import BLOCKED
from ._timerheap import TimerEntry, note_collected
from ._world import World, chanlock
from .errors import InternalError

__all__ = [
    "MIN_TICKER_PERIOD",
    "Hour",
    "Millisecond",
    "Minute",
    "Second",
    "Ticker",
    "Timer",
    "after",
    "init_timers",
    "sleep",
    "tick",
]

Millisecond = 1
Second = 1000 * Millisecond
Minute = 60 * Second
Hour = 60 * Minute

#: The shortest ``Ticker`` period, in milliseconds (1 µs): a shorter one is refused
#: rather than spinning the scheduler on ticks nobody can keep up with.
MIN_TICKER_PERIOD: Final = 0.001


class _TimerChannel(Channel[float]):
    """The channel of a Timer or Ticker: weakly referenced by its heap entry.  A plain
    Python subclass (no ``__slots__``), so it has a weak-reference slot even when
    ``Channel`` is compiled (see ``Channel``'s ``mypyc_attr``)."""


class _ChanEntry(TimerEntry):
    """A timer that delivers its firing time on a weakly held channel."""

    __slots__ = ("chan",)

    def __init__(self, deadline: float, period: float, world: World | None) -> None:
        super().__init__(deadline, period, world)
        self.chan: weakref.ref[_TimerChannel] | None = None

    def watch(self, c: _TimerChannel) -> None:
        self.chan = weakref.ref(c, self._collected)

    def _collected(self, ref: object) -> None:  # (any thread, perhaps under chanlock)
        note_collected(self)

    def gone(self) -> bool:
        r = self.chan
        return r is None or r() is None

    def fire_locked(self, now: float, by: int | None) -> None:
        r = self.chan
        ch = None if r is None else r()
        if ch is not None:
            deliver_locked(ch, now)
        if _trace.tracer is not None:
            w = self.counter
            _trace.timer_fire(w.id if isinstance(w, World) else None, by, self.id, None)


class Timer:
    """A one-shot timer: ``c`` receives the firing time once, ``ms`` milliseconds from now.

    ``stop()`` cancels it (True if it had not fired or been stopped yet); ``reset(ms)``
    re-arms it.  ``Timer(math.inf)`` never fires.
    """

    def __init__(self, ms: float, *, _period: float = 0.0) -> None:
        delay = delay_seconds(ms, type(self).__name__, 0.001)
        self.c: Channel[float] = _TimerChannel._internal(1, f"{type(self).__name__}({ms})")
        self._entry: _ChanEntry | None = None
        self._never = False  # armed with an infinite delay, not stopped
        self._period = _period
        with chanlock:
            self._arm_locked(delay)

    def _arm_locked(self, delay: float | None) -> None:
        e = self._entry
        if e is not None:
            if e.disarm_locked() and _trace.tracer is not None:
                w0 = e.counter
                _trace.timer_stop(w0.id if isinstance(w0, World) else None, e.id, "reset")
            self._entry = None
        self._never = delay is None
        if delay is None:
            return
        c = self.c
        if not isinstance(c, _TimerChannel):
            raise InternalError(f"{self!r} lost its timer channel")
        p = current_proc_or_none()
        w = None if p is None else p.world
        now = time.monotonic() if w is None else w.clock()
        e = _ChanEntry(now + delay, self._period, w)
        e.watch(c)
        self._entry = e
        arm_locked(p, e)
        if _trace.tracer is not None:
            t = None if p is None else p.current
            _trace.timer_arm(None if w is None else w.id, None if p is None else p.id, e.id,
                             None if t is None else t.id, type(self).__name__, e.deadline)

    def stop(self) -> bool:
        """Cancel the timer; True if it had neither fired nor been stopped."""
        with chanlock:
            e = self._entry
            was = self._never
            self._never = False
            if e is not None and e.disarm_locked():
                was = True
                w = e.counter
                if isinstance(w, World):
                    if _trace.tracer is not None:
                        _trace.timer_stop(w.id, e.id, "stop")
                    check_deadlock_locked(w)  # it may have been the run's last waker
            return was

    def reset(self, ms: float) -> None:
        """Re-arm the timer to fire ``ms`` milliseconds from now.  A value of an earlier
        firing still in ``c`` is discarded in the same critical section, so nothing fired
        before the reset is received after it."""
        delay = delay_seconds(ms, "reset()", 0.001)
        with chanlock:
            self.c._buf.clear()
            self._arm_locked(delay)


class Ticker(Timer):
    """Delivers the time on ``c`` every ``ms`` milliseconds until ``stop()``; ticks that
    the reader is not ready for are dropped.  ``ms`` must be at least
    :data:`MIN_TICKER_PERIOD`; ``Ticker(math.inf)`` never ticks."""

    def __init__(self, ms: float) -> None:
        period = delay_seconds(ms, "Ticker", 0.001)
        if period is not None and period < MIN_TICKER_PERIOD / 1000.0:
            raise ValueError(f"Ticker period must be >= {MIN_TICKER_PERIOD} ms "
                             f"(MIN_TICKER_PERIOD), got {ms!r}")
        super().__init__(ms, _period=0.0 if period is None else period)


def after(ms: float) -> Channel[float]:
    """A channel that receives the current time once, ``ms`` milliseconds from now (at
    least ``ms``).  Use it as a timeout case: ``alt(alt_recv(c), alt_recv(after(500)))``."""
    return Timer(ms).c


def tick(ms: float) -> Channel[float]:
    """A channel that receives the time every ``ms`` milliseconds (Go's ``time.Tick``); the
    ticker stops when the channel is no longer referenced."""
    return Ticker(ms).c


def sleep(ms: float) -> None:
    """Block the calling task (not its proc) for ``ms`` milliseconds; ``sleep(0)`` yields,
    ``sleep(math.inf)`` blocks until the task is killed.

    A switch point like ``recv``: a pending kill is delivered here, and a kill while
    asleep resumes the task with TaskKilled at once.  Traced: a finite sleep is a
    ``TimerArm`` (kind ``sleep``) in the critical section in which the task blocks; an
    infinite one arms nothing and is the spec's block forever, an ``AltBlock`` with no
    case (``sleep`` true), like ``alt()`` with no case."""
    delay = delay_seconds(ms, "sleep()", 0.001)
    if delay == 0.0:
        yield_()
        return
    t = task_for("sleep()")
    with chanlock:
        if t._kill_pending:
            raise killed_locked(t)
        b = Blocker(t, "sleep")
        t._blocker = b
        t._state = BLOCKED
        if delay is not None:
            arm_wait_timer_locked(t, b, delay, "sleep")
        elif _trace.tracer is not None:
            p = t.proc
            _trace.alt_action(_trace.AltRequest(p.world.id, t.id, p.id, [], [], True),
                              "AltBlock", sleep=True)
    park(t)
    if b.outcome is KILLED:
        raise killed_error(t)
    if b.outcome is None:
        raise InternalError(f"spurious wakeup of {t!r}: its sleep has no outcome")


def init_timers() -> None:
    """Kept for compatibility with the original Python 2 libtask9; timers need no setup."""
