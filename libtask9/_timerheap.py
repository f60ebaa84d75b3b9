"""Timer heaps: absolute deadlines, what fires at each, and how many are still live.

A :class:`TimerHeap` is a binary heap of :class:`TimerEntry` ordered by deadline (FIFO
among equal deadlines).  What an entry does when it fires is its subclass's business
(``_sched`` wakes a sleeping or joining task, ``_timer`` delivers on a channel); this
layer knows nothing of tasks or channels.  Every method that mutates a heap or an entry
is called with the global channel lock held (``*_locked``).

Liveness is counted, never searched for: each entry is counted in its :class:`Counter`
(the run's ``World.ntimers``) from ``arm`` until the critical section in which it fires
(one-shot), is stopped, or is dropped, so "is a timer pending?" is an O(1) question for
deadlock detection (spec/Procs.tla: a live timer is a waker).  Disarmed entries are left
in the heap and skipped when they come up; a heap whose disarmed entries outnumber its
live ones is compacted, so abandoned timers cost neither memory nor time under the lock.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import Final

from mypy_extensions import mypyc_attr

__all__ = ["MAX_DELAY", "Counter", "TimerEntry", "TimerHeap", "disarm_collected_locked",
           "note_collected"]

#: Delays beyond this many seconds (about 31,700 years) are treated like ``inf``: never.
#: (Every finite deadline below it is representable and fits a timed lock wait.)
MAX_DELAY: Final = 1e12

_COMPACT_MIN: Final = 64  # compact only heaps with at least this many disarmed entries

_entry_seq = itertools.count()


class Counter:
    """A count of live timers (the run's ``ntimers``), guarded by the channel lock."""

    __slots__ = ("ntimers",)

    def __init__(self) -> None:
        self.ntimers = 0


# allow_interpreted_subclasses: the channel timers of _timer (not compiled) subclass it.
@mypyc_attr(allow_interpreted_subclasses=True)
class TimerEntry:
    """One armed timer: a deadline, a period (0: one-shot) and what it does on firing.

    ``armed`` is true from :meth:`TimerHeap.push_locked` until the entry fires (one-shot),
    is stopped or is dropped; exactly while it is armed it is counted in ``counter``.
    """

    __slots__ = ("armed", "counter", "deadline", "heap", "id", "period", "seq")

    def __init__(self, deadline: float, period: float, counter: Counter | None) -> None:
        self.deadline = deadline
        self.period = period  # seconds; 0.0 for a one-shot timer
        self.counter = counter  # the run's live-timer count, None outside a run
        self.seq = next(_entry_seq)  # FIFO among equal deadlines
        self.id = self.seq  # the timer's id in trace events
        self.armed = False
        self.heap: TimerHeap | None = None

    def __lt__(self, other: TimerEntry) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)

    def fire_locked(self, now: float, by: int | None) -> None:
        """The deadline has passed (subclasses act; the heap has already disarmed a
        one-shot entry or re-armed a periodic one).  ``by``: the firing proc's id (None:
        the fallback timer thread)."""
        raise NotImplementedError

    def gone(self) -> bool:
        """True if nobody can ever observe the firing (e.g. its channel was collected):
        the heap then drops the entry instead of firing it."""
        return False

    def disarm_locked(self) -> bool:
        """Stop the entry if it is armed; True if it was.  The heap forgets it lazily."""
        if not self.armed:
            return False
        self.armed = False
        c = self.counter
        if c is not None:
            c.ntimers -= 1
        h = self.heap
        if h is not None:
            h.note_disarmed_locked()
        return True


class TimerHeap:
    """The deadlines of the timers one proc (or the fallback timer thread) fires."""

    __slots__ = ("entries", "ndead", "owner")

    def __init__(self, owner: int | None = None) -> None:
        self.entries: list[TimerEntry] = []
        self.ndead = 0  # disarmed entries still in ``entries``
        self.owner = owner  # the id of the proc that fires it (None: the fallback thread)

    def __len__(self) -> int:
        return len(self.entries) - self.ndead

    def push_locked(self, e: TimerEntry) -> None:
        """Arm ``e`` here (count it live)."""
        if e.armed:
            raise ValueError("timer entry armed twice")
        e.armed = True
        e.heap = self
        c = e.counter
        if c is not None:
            c.ntimers += 1
        heapq.heappush(self.entries, e)

    def next_deadline(self) -> float | None:
        """The earliest deadline of an entry still in the heap (it may be disarmed: then
        the caller wakes early, finds nothing due and asks again)."""
        entries = self.entries
        return entries[0].deadline if entries else None

    def first_armed_locked(self) -> TimerEntry | None:
        """The armed entry with the earliest deadline (disarmed ones above it are
        dropped on the way)."""
        entries = self.entries
        while entries and not entries[0].armed:
            heapq.heappop(entries)
            self.ndead -= 1
        return entries[0] if entries else None

    def due(self, now: float) -> bool:
        """An entry's deadline has passed (a peek; callable without the lock by the
        heap's own proc, which is the only thread that pushes or pops it)."""
        entries = self.entries
        return bool(entries) and entries[0].deadline <= now

    def fire_due_locked(self, now: float) -> None:
        """Fire every armed entry whose deadline is ``<= now``, earliest first.

        A one-shot entry is disarmed, then fired.  A periodic entry is pushed back with
        its next deadline strictly after ``now`` (missed ticks are skipped, never
        queued), so this loop ends: every entry it pops is either dropped or re-pushed
        with a deadline it will not pop again.
        """
        entries = self.entries
        while entries and entries[0].deadline <= now:
            e = heapq.heappop(entries)
            if not e.armed:
                self.ndead -= 1
                continue
            if e.gone():
                e.armed = False
                c = e.counter
                if c is not None:
                    c.ntimers -= 1
                continue
            if e.period > 0.0:
                nxt = e.deadline + e.period
                if nxt <= now:  # fell behind: skip the missed ticks
                    nxt = now + e.period
                    if nxt <= now:  # the period vanishes next to now: never loop
                        nxt = math.nextafter(now, math.inf)
                e.deadline = nxt
                e.seq = next(_entry_seq)
                heapq.heappush(entries, e)
            else:
                e.armed = False
                e.heap = None
                c = e.counter
                if c is not None:
                    c.ntimers -= 1
            e.fire_locked(now, self.owner)

    def note_disarmed_locked(self) -> None:
        """An entry of this heap was disarmed: compact when most entries are dead."""
        self.ndead += 1
        if self.ndead >= _COMPACT_MIN and 2 * self.ndead > len(self.entries):
            self.entries[:] = [e for e in self.entries if e.armed]
            heapq.heapify(self.entries)
            self.ndead = 0


    def take_all_locked(self) -> list[TimerEntry]:
        """Remove and return the armed entries (still armed and counted), emptying the
        heap: for handing them to another heap (:meth:`adopt_locked`)."""
        live = [e for e in self.entries if e.armed]
        for e in live:
            e.armed = False  # re-armed by adopt_locked, counted once throughout
            e.heap = None
            if e.counter is not None:
                e.counter.ntimers -= 1
        self.entries.clear()
        self.ndead = 0
        return live

    def adopt_locked(self, entries: list[TimerEntry]) -> None:
        for e in entries:
            self.push_locked(e)

    def disarm_all_locked(self) -> None:
        """Stop every entry (the heap's owner is ending and nobody will fire them)."""
        for e in self.entries:
            if e.armed:
                e.armed = False
                if e.counter is not None:
                    e.counter.ntimers -= 1
            e.heap = None
        self.entries.clear()
        self.ndead = 0


# Entries whose observer was garbage collected (a timer channel nobody holds, Go 1.23),
# reported by a weak-reference callback.  Such a callback runs in whatever thread drops
# the last reference, perhaps while it holds the channel lock, so it must not take the
# lock: it only appends here (atomic), and the next deadlock check disarms them.
_collected: list[TimerEntry] = []


def note_collected(e: TimerEntry) -> None:
    """Report, from any thread and without the lock, that ``e`` can no longer be observed."""
    _collected.append(e)


def disarm_collected_locked() -> None:
    """Disarm the entries reported by :func:`note_collected` (caller holds the lock)."""
    while _collected:
        _collected.pop().disarm_locked()
