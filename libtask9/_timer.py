"""Timers that deliver on channels: ``after``, ``sleep``, ``Timer``, ``Ticker``, ``tick``.

Each proc keeps a heap of absolute deadlines (``time.monotonic``) for the timers its tasks
arm, and fires them from its own scheduler: between task switches when it is busy, and by
sleeping on its parker until the earliest deadline when it is idle (asyncio's
design: no second thread and no extra GIL hand-off on the way).  Timers armed outside a
running proc, and those still live when their proc ends, go to one fallback timer
thread.  So timers have the resolution of the OS's timed wait, not the 100 ms wheel of the
original Python 2 libtask9, which could fire ~25.7 s late.  No C extension and no signals
are involved.

A timer holds its channel through a weak reference: a timer whose channel nobody holds
any more (an ``after()`` in an ``alt`` that another case won) is dropped, as Go 1.23 does,
and does not count as pending for deadlock detection.  ``sleep`` needs no channel: its
heap entry holds the sleeping task's alt record and resumes it directly.

Delivery is a non-blocking send on a 1-slot buffered channel: a ``Ticker`` whose reader
falls behind drops ticks instead of queueing them (Go's ``time.Ticker``).  The value
delivered is the ``time.monotonic()`` reading at which the timer fired.

Units: milliseconds, as in the original libtask9 (``Millisecond = 1``, ``Second = 1000``).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import weakref

from ._chan import (
    Channel,
    _task_for,
    _wait,
    _Waiter,
    block_sleep_locked,
    deliver_locked,
    wake_sleeper_locked,
)
from ._sched import (
    Proc,
    chanlock,
    current_proc_or_none,
    killed_locked,
    world,
    yield_,
)

__all__ = [
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


def _ms(ms: float, what: str) -> float:
    if isinstance(ms, bool) or not isinstance(ms, (int, float)):
        raise TypeError(f"{what} takes a duration in milliseconds (int or float), got {ms!r}")
    if ms != ms:  # NaN
        raise ValueError(f"{what}: duration is NaN")
    return max(0.0, float(ms))


class _TimerChannel(Channel[float]):
    """The channel of a Timer or Ticker: weakly referenced by its heap entry.  A plain
    Python subclass (no ``__slots__``), so it has a weak-reference slot even when
    ``Channel`` is compiled (see ``Channel``'s ``mypyc_attr``)."""


class _Entry:
    """One armed timer in the heap: it delivers on the weakly held ``chan`` or resumes the
    ``sleeper``.  ``armed`` is cleared by stop(); guarded by chanlock."""

    __slots__ = ("armed", "chan", "deadline", "period", "seq", "sleeper")

    def __init__(self, deadline: float, chan: weakref.ref[_TimerChannel] | None,
                 period: float, sleeper: _Waiter | None = None) -> None:
        self.deadline = deadline
        self.seq = next(_entry_seq)  # FIFO among equal deadlines
        self.chan = chan
        self.sleeper = sleeper
        self.period = period  # seconds; 0 for a one-shot timer
        self.armed = True

    def live(self) -> bool:
        """May still fire and wake somebody (deadlock detection)."""
        if not self.armed:
            return False
        if self.sleeper is not None:
            return self.sleeper.outcome is None  # (a killed sleeper is gone)
        return self.chan is not None and self.chan() is not None

    def __lt__(self, other: _Entry) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)


def fire_due_locked(heap: list[_Entry], now: float) -> None:
    """Fire every timer in ``heap`` whose deadline has passed (caller holds chanlock).

    Used by each proc's scheduler for the timers its tasks armed, and by the fallback
    timer thread for the others.  A one-shot entry is disarmed; a periodic one is pushed
    back with its next deadline (missed ticks are skipped, not queued).
    """
    while heap and heap[0].deadline <= now:
        e = heapq.heappop(heap)
        if e.sleeper is not None:
            wake_sleeper_locked(e.sleeper, now)
            e.armed = False
            continue
        ch = e.chan() if e.armed and e.chan is not None else None
        if ch is None:
            e.armed = False
            continue
        deliver_locked(ch, now)
        if e.period > 0:
            e.deadline += e.period
            if e.deadline <= now:  # fell behind: skip the missed ticks
                e.deadline = now + e.period
            heapq.heappush(heap, e)
        else:
            e.armed = False


def _live(heap: list[_Entry]) -> bool:
    return any(e.live() for e in heap)


class _TimerThread:
    """The fallback heap and the thread that fires it, for timers armed outside a running
    proc (a Stepper, a plain thread) and those a proc still had when it ended.  Every field
    is guarded by chanlock."""

    def __init__(self) -> None:
        self.heap: list[_Entry] = []
        self.cond = threading.Condition(chanlock)
        self.thread: threading.Thread | None = None

    def add_locked(self, entry: _Entry) -> None:
        heapq.heappush(self.heap, entry)
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="libtask9-timers",
                                           daemon=True)
            self.thread.start()
        elif self.heap[0] is entry:
            self.cond.notify()

    def adopt_locked(self, entries: list[_Entry]) -> None:
        """Take over the live timers of a proc that is ending."""
        for e in entries:
            if e.live():
                self.add_locked(e)

    def pending_locked(self) -> bool:
        """A live timer may still fire, here or in a proc (for deadlock detection)."""
        return _live(self.heap) or any(_live(p.timers) for p in world.procs)

    def _run(self) -> None:
        heap = self.heap
        with chanlock:
            while True:
                fire_due_locked(heap, time.monotonic())
                world.check_deadlock_locked()  # that may have been the last live timer
                self.cond.wait(heap[0].deadline - time.monotonic() if heap else None)


_entry_seq = itertools.count()
_timers = _TimerThread()
world.timers_pending = _timers.pending_locked
world.fire_timers_locked = fire_due_locked
world.adopt_timers_locked = _timers.adopt_locked


class Timer:
    """A one-shot timer: ``c`` receives the firing time once, ``ms`` milliseconds from now.

    ``stop()`` cancels it (True if it had not fired yet); ``reset(ms)`` re-arms it.
    """

    def __init__(self, ms: float, *, _period: float = 0.0) -> None:
        delay = _ms(ms, type(self).__name__)
        self.c: Channel[float] = _TimerChannel._internal(1, f"{type(self).__name__}({ms})")
        self._entry: _Entry | None = None
        self._period = _period
        self._arm(delay)

    def _arm(self, delay_ms: float) -> None:
        p = current_proc_or_none()
        c = self.c
        assert isinstance(c, _TimerChannel)
        with chanlock:
            if self._entry is not None:
                self._entry.armed = False
            e = _Entry(time.monotonic() + delay_ms / 1000.0, weakref.ref(c), self._period)
            self._entry = e
            _arm_locked(p, e)

    def stop(self) -> bool:
        """Cancel the timer; True if it was still armed."""
        with chanlock:
            e = self._entry
            was = e is not None and e.armed
            if e is not None:
                e.armed = False
                world.check_deadlock_locked()
            return was

    def reset(self, ms: float) -> None:
        """Re-arm the timer to fire ``ms`` milliseconds from now (a stale value still in
        ``c`` is discarded first, so no old firing is received after a reset)."""
        delay = _ms(ms, "reset()")
        with chanlock:
            self.c._buf.clear()
        self._arm(delay)


class Ticker(Timer):
    """Delivers the time on ``c`` every ``ms`` milliseconds until ``stop()``; ticks that
    the reader is not ready for are dropped."""

    def __init__(self, ms: float) -> None:
        period = _ms(ms, "Ticker")
        if period <= 0:
            raise ValueError(f"Ticker period must be > 0 ms, got {ms!r}")
        super().__init__(ms, _period=period / 1000.0)


def after(ms: float) -> Channel[float]:
    """A channel that receives the current time once, ``ms`` milliseconds from now (at
    least ``ms``).  Use it as a timeout case: ``alt(alt_recv(c), alt_recv(after(500)))``."""
    return Timer(ms).c


def tick(ms: float) -> Channel[float]:
    """A channel that receives the time every ``ms`` milliseconds (Go's ``time.Tick``); the
    ticker stops when the channel is no longer referenced."""
    return Ticker(ms).c


def _arm_locked(p: Proc | None, e: _Entry) -> None:
    if p is not None and p in world.procs:
        # The calling proc fires it from its own scheduler (no thread hop); it is
        # running this code, so it is not idle and will see the new deadline.
        heapq.heappush(p.timers, e)
    else:
        _timers.add_locked(e)


def sleep(ms: float) -> None:
    """Block the calling task (not its proc) for ``ms`` milliseconds; ``sleep(0)`` yields.

    A switch point like ``recv``: a pending kill is delivered here, and a kill while
    asleep resumes the task with TaskKilled at once."""
    delay = _ms(ms, "sleep()")
    if delay <= 0:
        yield_()
        return
    t = _task_for("sleep()")
    with chanlock:
        if t._kill_pending:
            raise killed_locked(t)
        a = block_sleep_locked(t)
        _arm_locked(t.proc, _Entry(time.monotonic() + delay / 1000.0, None, 0.0, a))
    _wait(t, a)


def init_timers() -> None:
    """Kept for compatibility with the original Python 2 libtask9; timers need no setup."""
