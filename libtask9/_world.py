"""The global channel lock, the parker idle procs sleep on, and the state of one run.

``chanlock`` (one ``threading.Lock`` for the whole process, as plan9port's ``channel.c``)
guards every channel, every parked task's wait record, every proc's remote queue and idle
flag, every timer heap and every :class:`World`.  One critical section of ``chanlock`` is
one action of ``spec/Channels.tla`` or ``spec/Procs.tla``.  Nothing blocks or switches
greenlets while holding it, except :meth:`Parker.wait_locked`, which releases it.

A :class:`World` is the state of one run (trio's ``Runner``): the procs registered in
it, how many of them are idle, its iocalls in flight, its live timers, its phase and the
outcome of its deadlock decision.  Every ``run()`` makes its own; ``new_proc`` puts the
new proc in its creator's world; nothing of one world is visible to another, so two runs
on two threads decide their deadlocks independently (``Isolation`` in spec/Procs.tla).
The decision itself is made by the scheduler (``_sched.check_deadlock_locked``), which
knows procs and tasks; this module only keeps the counts it reads.

Invariants kept by the scheduler and asserted by ``World.check_locked``:

* W1 ``nidle`` = the number of procs in ``procs`` whose ``_idle`` flag is set; a proc
  whose remote queue is non-empty is never idle (``ready_locked`` clears the flag in the
  critical section in which it hands the proc a task).
* W2 ``ntimers`` = the number of armed timer entries of this run (``_timerheap``).
* W3 ``iocalls`` = the number of iocalls of this run queued or running.
* W4 ``phase`` only moves forward: running -> ending -> ended; a deadlock is declared
  only while running, and declaring it moves the run to ending.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from ._signals import run_pending_handlers
from ._timerheap import Counter
from .errors import Deadlock, InternalError

__all__ = ["ENDED", "ENDING", "RUNNING", "Parker", "World", "chanlock", "live_worlds",
           "live_worlds_locked"]

# Final: a compiled core reads these as C statics, not dict lookups.
chanlock: Final = threading.Lock()

RUNNING: Final = "running"  # its tasks run; deadlock detection is on
ENDING: Final = "ending"  # main finished, main failed, deadlock, interrupt: unwinding
ENDED: Final = "ended"  # run() has returned or raised: nothing of it is left

_TIMEOUT_MAX: Final = threading.TIMEOUT_MAX
_world_ids = itertools.count(1)

#: Worlds not yet ended (for tests and diagnostics); guarded by chanlock.
_live: set[World] = set()


class Parker:
    """Where an idle proc's thread sleeps: a binary semaphore whose state is guarded by
    chanlock (Go's ``note``).

    ``wait_locked`` is called with chanlock held, releases it while asleep and returns
    with it held again; a ``wake_locked`` made after ``wait_locked`` released the lock is
    never lost (the semaphore keeps it), and at most one is pending at a time.

    Interrupts: ``parking`` is true exactly while the thread may be asleep in the
    semaphore, where a ``KeyboardInterrupt`` raised by a signal handler is safe (the
    lock is re-taken, the wait state restored, and the exception propagates to the
    scheduler, which unwinds the run).  A handler that must not raise (the thread is
    inside the runtime) sets ``interrupt`` instead, and a parker with an interrupt
    pending does not sleep.
    """

    __slots__ = ("_sem", "_sleeping", "interrupt", "parking")

    def __init__(self) -> None:
        self._sem = threading.Lock()
        self._sem.acquire()  # held = no wake-up pending
        self._sleeping = False
        self.parking = False
        self.interrupt: BaseException | None = None

    def wait_locked(self, timeout: float | None) -> None:
        self._sleeping = True
        chanlock.release()
        try:
            self.parking = True
            run_pending_handlers()  # (a SIGINT that arrived in compiled code: see _signals)
            if self.interrupt is None:
                if timeout is None:
                    self._sem.acquire()
                else:
                    self._sem.acquire(True, min(max(timeout, 0.0), _TIMEOUT_MAX))
        finally:
            self.parking = False
            chanlock.acquire()
            if self._sleeping:  # timed out, interrupted, or not slept: nobody woke us
                self._sleeping = False
            else:  # a waker released the semaphore: take its wake-up unless we did (an
                # interrupt can land just after a successful acquire, so do not trust a
                # return value: a non-blocking acquire takes it exactly when it is there)
                self._sem.acquire(False)

    def keep_interrupt(self, exc: BaseException) -> None:
        """Record ``exc`` as the pending interrupt unless one is already pending (the
        first interrupt is the one that ends the run).

        A method, not an inline ``if pk.interrupt is None`` in the caller: a caller that
        has just tested ``pk.interrupt is not None`` has it narrowed to ``None`` by the
        type checker, and the compiled core then reads the field as ``None`` -- but a
        signal handler may have set it since (a ``TypeError`` in the compiled build)."""
        if self.interrupt is None:
            self.interrupt = exc

    def wake_locked(self) -> None:
        if self._sleeping:
            self._sleeping = False
            self._sem.release()


class World(Counter):
    """The state of one run.  Every field is guarded by chanlock.

    ``ntimers`` (inherited from ``Counter``) counts the run's live timers: each timer
    entry armed by the run's tasks points at its world as its counter.
    """

    __slots__ = ("all_procs", "autojump", "clock", "closers", "deadlock", "fatal", "id",
                 "iocalls", "main", "nidle", "phase", "procs", "reason", "virtual")

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.id: int = next(_world_ids)
        self.phase: str = RUNNING
        self.procs: set[Any] = set()  # registered Procs (created, started, not exited)
        #: Every proc ever created in the run: run() waits for all their threads, also
        #: those that have exited (ProcExit) but whose thread has not quite ended.
        self.all_procs: list[Any] = []
        self.main: Any = None  # the run's main Proc (the thread that called run())
        self.nidle = 0  # W1
        self.iocalls = 0  # W3
        self.deadlock: Deadlock | None = None
        self.fatal: BaseException | None = None  # a BaseException that ends the run
        self.reason: str | None = None  # why the run is ending (trace, diagnostics)
        #: Called (without chanlock) when the run ends, newest first: stops the run's
        #: IOProcs.  Each returns a description of what it could not stop, or None.
        self.closers: list[Callable[[float], str | None]] = []
        #: What the run's timers read (seconds).  A virtual clock (``virtual``) does not
        #: move by itself: idle procs then never sleep on a deadline, they wait to be
        #: woken; with ``autojump`` the deadlock check moves it to the next deadline
        #: when every proc of the run is idle and no iocall is in flight.
        self.clock: Callable[[], float] = clock if clock is not None else time.monotonic
        self.virtual = False
        self.autojump: Callable[[float], None] | None = None
        with chanlock:
            _live.add(self)

    def __repr__(self) -> str:
        return f"<World {self.id} {self.phase} procs={len(self.procs)} idle={self.nidle}>"

    def ended_locked(self) -> None:
        """The run is over (W4): nothing of it stays registered."""
        if self.procs:
            raise InternalError(f"RunEndsClean violated: {self!r} ended with procs "
                                f"{sorted(p.id for p in self.procs)}")
        self.phase = ENDED
        _live.discard(self)

    def check_locked(self) -> None:
        """Raise InternalError naming the first violated world invariant (W1-W4)."""
        idle = sum(1 for p in self.procs if p._idle)
        if idle != self.nidle:
            raise InternalError(f"W1 violated on {self!r}: {idle} procs are idle")
        if any(p._idle and p._remote for p in self.procs):
            raise InternalError(f"W1 violated on {self!r}: an idle proc has work")
        if self.ntimers < 0 or self.iocalls < 0:
            raise InternalError(f"W2/W3 violated on {self!r}: negative count")


def live_worlds() -> list[World]:
    """The runs that have not ended (a finished ``run()`` leaves none behind)."""
    with chanlock:
        return live_worlds_locked()


def live_worlds_locked() -> list[World]:
    return sorted(_live, key=lambda w: w.id)
