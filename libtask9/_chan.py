"""Channels and alt: the core every channel operation funnels through.

This is plan9port's ``channel.c`` algorithm (one global lock, "the task that completes
an operation does all the bookkeeping") with Go's close semantics and FIFO waiters.  The
rules are written once, formally, in ``spec/Channels.tla``; each function below names the
spec action it performs, and with a tracer installed it records that action as one event
while ``chanlock`` is held (the linearization point).

Invariants (names as in ``spec/Channels.tla``; ``Channel.check_invariants`` asserts them):

* BufBound     ``len(_buf) <= _cap``; an unbuffered channel never buffers.
* QueueExact   a task is queued iff it is blocked in an alt, with exactly one ``_Waiter``
               per non-nil case of that alt, in the queue of that case's channel and
               direction; a woken, killed or closed-out alt is queued nowhere.
* NoMissedRendezvous
               a blocked receiver never waits on a non-empty buffer or a closed channel; a
               blocked sender never waits on a non-full buffer or a closed channel; on an
               unbuffered channel, senders and receivers queued at the same time all belong
               to one task (an alt offering both directions of one channel).
  So for ``_cap > 0``: ``_recvq`` non-empty => ``_buf`` empty, and ``_sendq`` non-empty
  => ``_buf`` full (Go ``chan.go`` header), which is why readiness only looks at the
  buffer and the queues (plan9port ``altcanexec``).
* AtMostOneCommit  an alt completes once: the completer sets its head waiter's ``outcome``
               under the lock and withdraws every other waiter of that alt in the same
               critical section.
* Conservation every value handed to ``send`` is, at every moment, in exactly one place:
               the buffer, the result of a ``recv``, or its blocked sender's waiter.
* F1 (not a spec rule: what lets send/recv take their inline fast path)
               ``_recv_fast`` is ``_world`` if the channel is untraced, else None;
               ``_send_fast`` is ``_recv_fast`` while the channel is open, else None.

Waiter order is FIFO (Go, trio, Stackless), not plan9port's random pick; the choice among
*ready cases* of an alt is uniform (plan9port ``rand() % ncan``, Go's select).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

from mypy_extensions import mypyc_attr

from . import _trace
from ._sched import (
    CLOSED,
    KILLED,
    OK,
    Blocker,
    Proc,
    _tls,
    killed_error,
    killed_locked,
    park,
    ready_locked,
    task_for,
)
from ._task import BLOCKED, Task
from ._world import ENDED, World, chanlock
from .errors import ChannelClosed, InternalError, NotInTask, WrongRun

__all__ = [
    "Channel",
    "ChannelStatistics",
    "Op",
    "alt",
    "alt_recv",
    "alt_send",
]

T = TypeVar("T")

SEND: Final = "send"
RECV: Final = "recv"

_chan_ids = itertools.count(1)


class Op(Generic[T]):
    """One case of an :func:`alt`: made by :func:`alt_send` or :func:`alt_recv`.

    An op on channel ``None`` is never ready and never queued (plan9's CHANNOP, Go's nil
    channel).  Ops are plain descriptions and may be reused across alts.
    """

    __slots__ = ("chan", "dir", "value")

    def __init__(self, chan: Channel[T] | None, dir: str, value: Any) -> None:
        if chan is not None and not isinstance(chan, Channel):
            raise TypeError(f"alt_{dir}() needs a Channel or None, got {chan!r}")
        self.chan = chan
        self.dir = dir
        self.value = value

    def __repr__(self) -> str:
        if self.dir == SEND:
            return f"alt_send({self.chan!r}, {self.value!r})"
        return f"alt_recv({self.chan!r})"


def alt_send(chan: Channel[T] | None, value: T) -> Op[T]:
    """An alt case that sends ``value`` on ``chan`` (``None``: never ready)."""
    return Op(chan, SEND, value)


def alt_recv(chan: Channel[T] | None) -> Op[T]:
    """An alt case that receives from ``chan`` (``None``: never ready)."""
    return Op(chan, RECV, None)


class _Waiter(Blocker):
    """One case of a blocked alt, queued on its channel (plan9port: an ``Alt`` entry on
    the channel's ``asend``/``arecv`` array; Go: a ``sudog`` in ``sendq``/``recvq``).

    The waiters of one alt form a chain in case order through ``sib``.  The first one,
    the alt's *head*, is the task's wait record (the scheduler's ``Blocker``): the kind
    of operation and, once the alt is completed, its outcome, the completed case index
    and the received value (or, for CLOSED, the channel that was closed); the others
    point at it through ``head``.  So a blocked ``send``/``recv`` is one object, queued
    once.  An alt with no non-nil case is a head with ``chan = None``, queued nowhere.

    ``prev``/``next`` link the waiter into its channel's queue (``_WaitQ``; withdrawn by
    ``_complete_locked``).  Everything here is guarded by chanlock.
    """

    __slots__ = ("chan", "dir", "head", "index", "next", "prev", "sib", "value")

    def __init__(self, task: Task, chan: Channel[Any] | None, dir: str, value: Any,
                 index: int, kind: str) -> None:
        # (Blocker's fields set inline, not through super().__init__: one call less on
        # every blocking operation.)
        self.task = task
        self.kind = kind  # "send", "recv", "alt": for diagnostics
        self.timer = None
        self.chan = chan
        self.dir = dir
        self.value = value  # the value offered by a send case
        self.index = index  # this case's index in its alt
        self.head: _Waiter | None = None  # None: this waiter is its alt's head
        self.sib: _Waiter | None = None  # the next case of the same alt
        self.prev: _Waiter | None = None
        self.next: _Waiter | None = None
        # The alt's state (head only), set exactly once, by the completer:
        self.outcome = None
        self.result_index = -1
        self.result = None

    def abort_locked(self) -> None:
        """KillBlocked: withdraw every case of the alt (none has fired); nothing was
        delivered, nothing is lost."""
        _complete_locked(self, None, KILLED, -1, None)

    def cases(self) -> Iterator[_Waiter]:
        """The waiters of the alt headed by this waiter, in case order."""
        w: _Waiter | None = self
        while w is not None:
            yield w
            w = w.sib

    def describe(self) -> str:
        if self.kind != "alt":
            on = f" on {self.chan!r}" if self.chan is not None else ""
            return f"blocked in {self.kind}{on}"
        cases = ", ".join(f"{w.dir} {w.chan!r}" for w in self.cases()
                          if w.chan is not None) or "no cases"
        return f"blocked in alt({cases})"


class _WaitQ:
    """A channel's FIFO of waiters in one direction: a doubly linked list through
    ``_Waiter.prev``/``next`` (Go's ``waitq``), so appending, taking the first and
    withdrawing one from the middle (a losing case of a woken alt) are all O(1) and
    allocate nothing.  Guarded by chanlock.

    Invariant: ``first is None`` iff ``last is None``; a waiter is linked iff it is
    ``first`` or has a ``prev``.  Withdrawal from the middle is in ``_complete_locked``.
    """

    __slots__ = ("first", "last")

    def __init__(self) -> None:
        self.first: _Waiter | None = None
        self.last: _Waiter | None = None

    def __bool__(self) -> bool:
        return self.first is not None

    def __iter__(self) -> Iterator[_Waiter]:
        w = self.first
        while w is not None:
            yield w
            w = w.next

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def push(self, w: _Waiter) -> None:
        last = self.last
        w.prev = last
        if last is None:
            self.first = w
        else:
            last.next = w
        self.last = w

    def pop(self) -> _Waiter:
        """Take the first waiter (the caller has checked ``first is not None``)."""
        w = self.first
        assert w is not None
        nxt = w.next
        self.first = nxt
        if nxt is None:
            self.last = None
        else:
            nxt.prev = None
            w.next = None
        return w

    def unpush(self, w: _Waiter) -> None:
        """Take back ``w``, the last waiter pushed (the caller has checked it is last)."""
        prev = w.prev
        self.last = prev
        if prev is None:
            self.first = None
        else:
            prev.next = None
            w.prev = None



@dataclass(frozen=True)
class ChannelStatistics:
    """A consistent snapshot of a channel (taken under the channel lock)."""

    capacity: int
    buffered: int
    senders_waiting: int
    receivers_waiting: int
    closed: bool


# allow_interpreted_subclasses: the timers' channel class (_timer._TimerChannel) is a plain
# Python subclass, which is what gives a compiled Channel a weak-reference slot on every
# CPython (mypyc gives native classes none from 3.12 on).  No effect on the pure build.
@mypyc_attr(allow_interpreted_subclasses=True)
class Channel(Generic[T]):
    """A channel of values of type ``T`` (libthread ``chancreate``).

    ``Channel(0)`` (the default) is an unbuffered rendezvous: a send blocks until a
    receiver takes the value and vice versa.  ``Channel(n)`` buffers up to ``n`` values in
    FIFO order.  Channels may be shared by tasks of any procs.

    Closing follows Go: values buffered before ``close()`` are still received; after that
    ``recv`` raises :class:`ChannelClosed`; ``send`` on a closed channel and a second
    ``close()`` raise :class:`ChannelClosed`; closing wakes every blocked receiver and
    sender with :class:`ChannelClosed`.  Iterating (``for v in ch``) receives until the
    channel is closed and drained.
    """

    # (__weakref__: timers hold their channel weakly, see _timer.py)
    __slots__ = ("__weakref__", "_buf", "_cap", "_closed", "_recv_fast", "_recvq",
                 "_send_fast", "_sendq", "_traced", "_world", "id", "name")

    def __init__(self, bufsize: int = 0, *, name: str | None = None,
                 _traced: bool = True) -> None:
        if isinstance(bufsize, bool) or not isinstance(bufsize, int):
            raise TypeError(f"Channel buffer size must be an int, got {bufsize!r}")
        if bufsize < 0:
            raise ValueError(f"Channel buffer size must be >= 0, got {bufsize}")
        # (_traced=False: a channel of libtask9's own, see _internal)
        self.id: int = next(_chan_ids)
        self.name = name
        self._cap = bufsize
        self._buf: deque[T] = deque()
        self._sendq = _WaitQ()  # blocked send cases, FIFO
        self._recvq = _WaitQ()  # blocked recv cases, FIFO
        self._closed = False
        # The run that uses the channel (None: none yet; see _claim_locked).
        try:
            p: Proc | None = _tls.proc
        except AttributeError:
            p = None
        w = None if p is None else p.world
        self._world: World | None = w
        self._traced = _traced and _trace.tracer is not None
        # The run whose tasks may take the inline fast paths of send and recv, so that
        # each tests one field instead of three (see send).  F1: _recv_fast is _world if
        # the channel is untraced, else None; _send_fast is _recv_fast while the channel
        # is open, else None (kept by _claim_locked and _close_locked).
        self._recv_fast: World | None = None if self._traced else w
        self._send_fast: World | None = self._recv_fast
        if self._traced:
            with chanlock:
                _trace.chan_create(None if w is None else w.id, self.id, bufsize)

    @classmethod
    def _internal(cls, bufsize: int, name: str) -> Channel[Any]:
        """A channel used by libtask9 itself (timers, IOProc replies): never traced."""
        return cls(bufsize, name=name, _traced=False)

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<Channel {self.id}{name} cap={self._cap}{' closed' if self._closed else ''}>"

    # -- introspection -------------------------------------------------------------------

    @property
    def cap(self) -> int:
        """The buffer capacity (0 for a rendezvous channel)."""
        return self._cap

    @property
    def closed(self) -> bool:
        """True once ``close()`` has been called."""
        return self._closed

    def __len__(self) -> int:
        """The number of values buffered now."""
        return len(self._buf)

    def statistics(self) -> ChannelStatistics:
        with chanlock:
            return ChannelStatistics(self._cap, len(self._buf), len(self._sendq),
                                     len(self._recvq), self._closed)

    def snapshot(self) -> tuple[list[T], list[tuple[int, int]], list[tuple[int, int]], bool]:
        """``(buffer, sendq, recvq, closed)`` with queue entries as ``(task id, case
        index)``, in FIFO order: the channel's state in the spec's terms."""
        with chanlock:
            return (list(self._buf),
                    [(w.task.id, w.index) for w in self._sendq],
                    [(w.task.id, w.index) for w in self._recvq],
                    self._closed)

    def check_invariants(self) -> None:
        """Raise InternalError naming the first violated invariant (see module header)."""
        with chanlock:
            _check_locked(self)

    # -- operations ----------------------------------------------------------------------

    # send and recv perform the three commonest actions inline, in one critical section
    # (Go's chansend/chanrecv fast paths): AltRendezvous, AltBuffer and AltBlock, exactly
    # as _exec_locked and _block1_locked do them.  They are taken only when no kill is
    # pending and the channel's _send_fast/_recv_fast is the task's run (F1: the channel
    # belongs to that run, is untraced and, for send, open); everything else (kills, a
    # channel of no run yet or of another run, closed channels, handover, traced
    # channels) goes through _op1.  (Untraced: created while no tracer was installed;
    # _op1 records no event for such a channel either.)

    def send(self, value: T) -> None:
        """Send ``value``, blocking until a receiver or buffer space takes it."""
        # current_task_or_none(), inline here, in recv and in alt: as a call it costs
        # the pure-Python build ~11% of a buffered transfer (measured, 0.62 -> 0.69 µs).
        try:
            p: Proc | None = _tls.proc
        except AttributeError:
            p = None
        if p is None or (t := p.current) is None:
            raise NotInTask("Channel.send()")
        chanlock.acquire()  # (not ``with``: a compiled core's __exit__ call allocates)
        try:
            if t._kill_pending or self._send_fast is not p.world:
                a = None
            elif self._recvq.first is not None:  # AltRendezvous
                w = self._recvq.pop()
                _complete_locked(w.head or w, w, OK, w.index, value)
                return
            elif len(self._buf) < self._cap:  # AltBuffer
                self._buf.append(value)
                return
            else:  # AltBlock
                a = _block1_locked(t, self, SEND, value)
        finally:
            chanlock.release()
        if a is None:
            _op1(t, self, SEND, value, True)
        else:
            _wait(t, a)

    def recv(self) -> T:
        """Receive a value, blocking until one is available."""
        try:  # current_task_or_none(), inline (see send)
            p: Proc | None = _tls.proc
        except AttributeError:
            p = None
        if p is None or (t := p.current) is None:
            raise NotInTask("Channel.recv()")
        chanlock.acquire()  # (as in send)
        try:
            if t._kill_pending or self._recv_fast is not p.world:
                a = None
            elif self._buf:
                if self._sendq.first is None:  # AltBuffer
                    return self._buf.popleft()
                a = None  # AltHandover
            elif self._sendq.first is not None:  # AltRendezvous (the buffer is empty)
                w = self._sendq.pop()
                _complete_locked(w.head or w, w, OK, w.index, None)
                return cast(T, w.value)
            elif self._closed:  # AltClosed
                a = None
            else:  # AltBlock
                a = _block1_locked(t, self, RECV, None)
        finally:
            chanlock.release()
        if a is None:
            return cast(T, _op1(t, self, RECV, None, True)[1])
        return cast(T, _wait(t, a)[1])

    def nbsend(self, value: T) -> bool:
        """Send without blocking: True if sent, False if it would have blocked."""
        return _op1(task_for("Channel.nbsend()"), self, SEND, value, False)[0] >= 0

    def nbrecv(self) -> tuple[bool, T | None]:
        """Receive without blocking: ``(True, value)``, or ``(False, None)`` if it would
        have blocked."""
        idx, value = _op1(task_for("Channel.nbrecv()"), self, RECV, None, False)
        return (idx >= 0, value)

    def close(self) -> None:
        """Close the channel (spec action ``Close``; closing twice is ``CloseClosed`` and
        raises :class:`ChannelClosed`)."""
        t = task_for("Channel.close()")
        with chanlock:
            w = t.proc.world
            if t._kill_pending:
                killed_locked(t)
                outcome = KILLED
            else:
                _claim_locked(self, w)
                if self._closed:
                    outcome = CLOSED
                    if _trace.tracer is not None and self._traced:
                        _trace.close_closed(w.id, t.id, t.proc.id, self.id)
                else:
                    woken = _close_locked(self)
                    if _trace.tracer is not None and self._traced:
                        _trace.close(w.id, t.id, t.proc.id, self.id, woken)
                    return
        if outcome is CLOSED:
            raise ChannelClosed(self, -1, f"close of closed channel {self!r}")
        raise killed_error(t)

    def __iter__(self) -> Iterator[T]:
        """Receive values until the channel is closed and drained."""
        while True:
            try:
                yield self.recv()
            except ChannelClosed as e:
                if e.channel is self:
                    return
                raise


# ---------------------------------------------------------------------------------------
# The core.  Every function named *_locked runs with chanlock held.


def _claim_locked(ch: Channel[Any], w: World) -> None:
    """A task of run ``w`` is about to use ``ch`` (R2: complete an operation on it, or
    wait on it): the channel belongs to the run that uses it until that run ends (so each
    run's deadlock detector sees every waker of its tasks); a task of another run gets
    WrongRun.  Looking at a channel's readiness is not a use: an alt whose completed
    case is on its own run's channel does not claim its other cases' channels."""
    cw = ch._world
    if cw is not w:
        if cw is not None and cw.phase is not ENDED:
            raise WrongRun(
                f"{ch!r} is in use by another run (run {cw.id}, still {cw.phase}); this "
                f"task belongs to run {w.id}.  Each run detects its own deadlocks, so "
                "tasks of concurrent runs cannot share channels: hand values between runs "
                "with a queue.Queue served by an IOProc")
        ch._world = w
        if not ch._traced:  # F1
            ch._recv_fast = w
            if not ch._closed:
                ch._send_fast = w


def _complete_locked(a: _Waiter, fired: _Waiter | None, outcome: str, index: int,
                     value: Any) -> None:
    """Complete the pending alt headed by ``a`` (AtMostOneCommit): withdraw every waiter
    but ``fired`` (already dequeued by the caller), record the outcome, make the task
    runnable.  This is plan9port's altalldequeue + _threadready, done by the completer."""
    if a.outcome is not None:
        raise InternalError(f"AtMostOneCommit violated: alt of {a.task!r} completed twice")
    w: _Waiter | None = a
    while w is not None:  # QueueExact: a completed alt is queued nowhere
        ch = w.chan
        if w is not fired and ch is not None:
            # Unlink w from its queue (_WaitQ's list surgery, inline: this loop runs
            # once per case of every woken alt).
            q = ch._sendq if w.dir is SEND else ch._recvq
            prev, nxt = w.prev, w.next
            if prev is None:
                if q.first is not w:
                    raise InternalError(f"QueueExact violated: {a.task!r} not queued on "
                                        f"{ch!r}")
                q.first = nxt
            else:
                prev.next = nxt
                w.prev = None
            if nxt is None:
                q.last = prev
            else:
                nxt.prev = prev
                w.next = None
        nxt = w.sib
        w.sib = None  # drop the head <-> case links now, not at the next GC
        w = nxt
    a.outcome = outcome
    a.result_index = index
    a.result = value
    t = a.task
    t._blocker = None
    ready_locked(t)


def _exec_locked(t: Task, ch: Channel[Any], d: str, value: Any, index: int,
                 req: _trace.AltRequest | None) -> tuple[str, Any]:
    """Execute the ready case ``index`` of ``t``'s alt.  Returns ``(outcome, value)``.

    Spec actions AltBuffer, AltRendezvous, AltHandover, AltClosed (plan9port altexec +
    altcopy).  ``req`` is what the alt asked for when tracing, else None.
    """
    partner: _Waiter | None = None
    if d is SEND:
        if ch._closed:  # AltClosed
            action = "AltClosed"
            result: tuple[str, Any] = (CLOSED, None)
        elif ch._recvq.first is not None:  # AltRendezvous: straight to the first receiver
            partner = w = ch._recvq.pop()
            _complete_locked(w.head or w, w, OK, w.index, value)
            action = "AltRendezvous"
            result = (OK, None)
        else:  # AltBuffer: room in the buffer (readiness guarantees it)
            ch._buf.append(value)
            action = "AltBuffer"
            result = (OK, None)
    else:
        if ch._buf:
            got = ch._buf.popleft()
            if ch._sendq.first is not None:  # AltHandover: the buffer was full; the
                partner = w = ch._sendq.pop()  # first sender refills the tail
                ch._buf.append(w.value)
                _complete_locked(w.head or w, w, OK, w.index, None)
                action = "AltHandover"
            else:  # AltBuffer
                action = "AltBuffer"
            result = (OK, got)
        elif ch._sendq.first is not None:  # AltRendezvous (the buffer is always empty)
            partner = w = ch._sendq.pop()
            _complete_locked(w.head or w, w, OK, w.index, None)
            action = "AltRendezvous"
            result = (OK, w.value)
        else:  # AltClosed: closed and drained
            action = "AltClosed"
            result = (CLOSED, None)
    if req is not None:
        if partner is None:
            _trace.alt_action(req, action, index, result[1])
        else:
            _trace.alt_action(req, action, index, result[1], partner.task.id, partner.index)
    return result


def _block1_locked(t: Task, ch: Channel[Any], d: str, value: Any) -> _Waiter:
    """Spec action AltBlock for a one-case alt (send, recv): one waiter, its own head."""
    a = _Waiter(t, ch, d, value, 0, d)
    (ch._sendq if d is SEND else ch._recvq).push(a)
    t._blocker = a
    t._state = BLOCKED
    return a


def _block_locked(t: Task, ops: tuple[Op[Any], ...],
                  req: _trace.AltRequest | None) -> _Waiter:
    """Spec action AltBlock: queue one waiter per non-nil case, in case order.  Returns the
    alt's head (a waiter queued nowhere if every case is nil: it waits to be killed).
    Every channel it waits on becomes its run's (R2); if one is another live run's, the
    waiters queued so far are taken back and WrongRun raised: nothing happened."""
    head: _Waiter | None = None
    last: _Waiter | None = None
    world = t.proc.world
    for i, op in enumerate(ops):
        ch = op.chan
        if ch is not None:
            if ch._world is not world:
                try:
                    _claim_locked(ch, world)
                except WrongRun:
                    _unblock_locked(head)
                    raise
            w = _Waiter(t, ch, op.dir, op.value, i, "alt")
            if last is None:
                head = w
            else:
                w.head = head
                last.sib = w
            last = w
            (ch._sendq if op.dir is SEND else ch._recvq).push(w)
    if head is None:
        head = _Waiter(t, None, RECV, None, -1, "alt")
    t._blocker = head
    t._state = BLOCKED
    if req is not None:
        _trace.alt_action(req, "AltBlock")
    return head


def _unblock_locked(head: _Waiter | None) -> None:
    """Take back the waiters ``_block_locked`` has just queued (in this critical section,
    so each is the last of its queue when taken back, latest first)."""
    pushed: list[_Waiter] = []
    w = head
    while w is not None:
        pushed.append(w)
        w = w.sib
    for w in reversed(pushed):
        ch = w.chan
        assert ch is not None
        q = ch._sendq if w.dir is SEND else ch._recvq
        if q.last is not w:
            raise InternalError(f"QueueExact violated: {w.task!r} is not the last waiter "
                                f"on {ch!r}")
        q.unpush(w)
        w.sib = None


def _wait(t: Task, a: _Waiter) -> tuple[int, Any]:
    """Park ``t``, blocked in the alt headed by ``a``, until a partner, a close or a kill
    completes it; return ``(index, value)`` or raise ChannelClosed / TaskKilled."""
    park(t)
    done = a.outcome
    if done is OK:
        return a.result_index, a.result
    if done is CLOSED:
        raise ChannelClosed(a.result, a.result_index)
    if done is None:
        raise InternalError(f"spurious wakeup of {t!r}: its alt has no outcome")
    raise killed_error(t)


def _request(t: Task, ops: list[list[Any]], vals: list[Any],
             block: bool) -> _trace.AltRequest:
    return _trace.AltRequest(t.proc.world.id, t.id, t.proc.id, ops, vals, block)


def _op1(t: Task, ch: Channel[Any], d: str, value: Any, block: bool) -> tuple[int, Any]:
    """send/recv/nbsend/nbrecv: a one-case alt.  Returns ``(index, value)``; -1 = AltNone.

    The same actions as ``alt`` (``_exec_locked``/``_block1_locked``), with the readiness
    test inlined.  This is the general path: traced, kill pending, closed channel, a
    channel not yet used by the task's run.

    Readiness (plan9port altcanexec, plus Go's "a closed channel is always ready"): a
    send is ready iff the channel is closed, a receiver waits, or the buffer has room; a
    recv is ready iff the buffer is non-empty, a sender waits, or the channel is closed.
    """
    with chanlock:
        if t._kill_pending:
            raise killed_locked(t)
        req = (_request(t, [[d, ch.id]], [value if d is SEND else None], block)
               if _trace.tracer is not None and ch._traced else None)
        w = t.proc.world
        if (ch._closed or ch._recvq.first is not None or len(ch._buf) < ch._cap) \
                if d is SEND else (ch._buf or ch._sendq.first is not None or ch._closed):
            if ch._world is not w:  # R2: the channel it completes on becomes its run's
                _claim_locked(ch, w)
            outcome, got = _exec_locked(t, ch, d, value, 0, req)
            if outcome is OK:
                return 0, got
            raise ChannelClosed(ch, 0)
        if not block:
            if req is not None:
                _trace.alt_action(req, "AltNone")
            return -1, None
        if ch._world is not w:  # R2: ... and the channel it waits on
            _claim_locked(ch, w)
        a = _block1_locked(t, ch, d, value)
        if req is not None:
            _trace.alt_action(req, "AltBlock")
    return _wait(t, a)


def alt(*ops: Op[Any], canblock: bool = True) -> tuple[int, Any]:
    """Wait on several operations and complete exactly one (libthread ``alt``).

    ``ops`` are :func:`alt_send`/:func:`alt_recv` cases.  If some cases are ready, one of
    them, chosen uniformly at random, is executed at once.  Otherwise, with ``canblock``
    the task waits on all of them; the first partner to arrive completes exactly one case
    and withdraws the others atomically.  Without ``canblock`` it returns ``(-1, None)``.
    Returns ``(index, value)``: ``value`` is the received value for a receive, ``None``
    for a send.  A case on a closed channel is ready; when it is the one completed, alt
    raises :class:`ChannelClosed` with ``.index`` set to that case.  An alt with no
    non-nil case blocks forever (until killed), like Go's ``select {}``.
    """
    try:  # current_task_or_none(), inline (see Channel.send)
        p: Proc | None = _tls.proc
    except AttributeError:
        p = None
    if p is None or (t := p.current) is None:
        raise NotInTask("alt()")
    if canblock is not True and canblock is not False:
        raise TypeError(f"alt(): canblock must be True or False, got {canblock!r}")
    cases: tuple[object, ...] = ops  # (checked here, not by a compiled core's cast)
    with chanlock:
        ready: list[int] = []
        for i, op in enumerate(cases):  # readiness of every case, and type checks
            if not isinstance(op, Op):
                raise TypeError(f"alt() takes alt_send()/alt_recv() cases, got {op!r}")
            c = op.chan
            if c is not None and (
                    (c._closed or c._recvq.first is not None or len(c._buf) < c._cap)
                    if op.dir is SEND else (c._buf or c._sendq.first is not None
                                            or c._closed)):
                ready.append(i)
        if t._kill_pending:
            raise killed_locked(t)
        req = None
        # Traced if some case is on a traced channel, or if every case is nil (such an
        # alt blocks forever and may later be killed: the checker must see it block).
        if _trace.tracer is not None and (any(op.chan is not None and op.chan._traced
                                              for op in ops)
                                          or all(op.chan is None for op in ops)):
            req = _request(t, [[op.dir, None if op.chan is None else op.chan.id]
                               for op in ops],
                           [op.value if op.dir is SEND else None for op in ops], canblock)
        if ready:
            i = ready[0] if len(ready) == 1 else p.choose_case(ready)
            if i not in ready:
                raise InternalError(f"choose_case returned {i}, not one of {ready}")
            op = ops[i]
            c = op.chan
            assert c is not None
            w = p.world
            if c._world is not w:  # R2: the channel it completes on becomes its run's
                _claim_locked(c, w)
            outcome, got = _exec_locked(t, c, op.dir, op.value, i, req)
            if outcome is OK:
                return i, got
            raise ChannelClosed(c, i)
        if not canblock:
            if req is not None:
                _trace.alt_action(req, "AltNone")
            return -1, None
        a = _block_locked(t, ops, req)
    return _wait(t, a)


def _close_locked(ch: Channel[Any]) -> list[list[int]]:
    """Spec action Close: mark closed; complete every queued alt with ChannelClosed at its
    smallest case index on ``ch``.  The buffer is kept for draining.  Returns the woken
    ``[task id, index]`` pairs in wake order."""
    ch._closed = True
    ch._send_fast = None  # F1
    woken: list[list[int]] = []
    for q in (ch._recvq, ch._sendq):
        while q.first is not None:
            w = q.pop()
            a = w.head or w
            first = a
            while first.chan is not ch:  # the alt's cases are chained in case order
                assert first.sib is not None
                first = first.sib
            _complete_locked(a, w, CLOSED, first.index, ch)
            woken.append([a.task.id, first.index])
    return woken


def close_internal_locked(ch: Channel[Any]) -> None:
    """Close a libtask9-internal channel from any thread (no task, no trace)."""
    if not ch._closed:
        _close_locked(ch)


def deliver_locked(ch: Channel[Any], value: Any) -> bool:
    """A non-blocking send by a libtask9 helper thread (timer, IOProc) on an internal
    channel: to the first receiver, else into free buffer space, else dropped (False)."""
    if ch._closed:
        return False
    if ch._recvq.first is not None:
        w = ch._recvq.pop()
        _complete_locked(w.head or w, w, OK, w.index, value)
        return True
    if len(ch._buf) < ch._cap:
        ch._buf.append(value)
        return True
    return False


def _check_locked(ch: Channel[Any]) -> None:
    def fail(name: str, why: str) -> None:
        raise InternalError(f"{name} violated on {ch!r}: {why}")

    if len(ch._buf) > ch._cap:
        fail("BufBound", f"{len(ch._buf)} values buffered")
    for q, d in ((ch._sendq, SEND), (ch._recvq, RECV)):
        prev = None
        for w in q:
            a = w.head or w
            if w.dir is not d or w.chan is not ch or w.prev is not prev:
                fail("QueueExact", f"waiter {w.dir} on {w.chan!r} in the {d} queue")
            if (a.outcome is not None or a.task._blocker is not a
                    or not any(x is w for x in a.cases())):
                fail("QueueExact", f"stale waiter of {a.task!r}")
            prev = w
        if q.last is not prev:
            fail("QueueExact", f"the {d} queue's tail is not its last waiter")
    if ch._recvq and (ch._buf or ch._closed):
        fail("NoMissedRendezvous", "a receiver waits on a non-empty buffer or closed channel")
    if ch._sendq and ((ch._cap > 0 and len(ch._buf) < ch._cap) or ch._closed):
        fail("NoMissedRendezvous", "a sender waits on a non-full buffer or closed channel")
    if ch._sendq and ch._recvq:
        tasks = {w.task for w in ch._sendq} | {w.task for w in ch._recvq}
        if len(tasks) > 1:
            fail("NoMissedRendezvous", "senders and receivers of different tasks both wait")
    fast = None if ch._traced else ch._world
    if ch._recv_fast is not fast or ch._send_fast is not (None if ch._closed else fast):
        fail("F1", "the fast-path run is not the channel's untraced, open run")
