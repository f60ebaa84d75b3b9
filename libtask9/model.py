"""The oracle: an executable copy of ``spec/Channels.tla``, action by action.

This module is the Python mirror of the TLA+ specification of channels and alt
(``docs/CONTRACT.md`` states the rules in prose).  It has

* the spec's state variables (:class:`State`: ``buf``, ``closed``, ``sendq``, ``recvq``,
  ``pc``, ``st``, ``killreq``, ``res`` and the history variables ``slog``, ``rlog``);
* one function per spec action, with the spec's name and the same enabling condition and
  effect: :func:`AltBuffer`, :func:`AltRendezvous`, :func:`AltHandover`,
  :func:`AltClosed`, :func:`AltBlock`, :func:`AltNone`, :func:`Close`,
  :func:`CloseClosed`, :func:`KillBlocked`, :func:`KillPending`, :func:`Killed`,
  :func:`Done`.  Each returns the next state, or ``None`` when it is not enabled;
* :func:`successors`, the spec's ``Next`` over a bounded :class:`Config` (the MC modules'
  constants), yielding ``(action, params, next_state)`` exactly as TLC's successor
  generation does (``Done`` stutters included), and :func:`explore`, a breadth-first
  search of the reachable graph (``tests/test_model_vs_tlc.py`` shows it equal to TLC's);
* the spec's invariants, under the spec's names (:data:`INVARIANTS`);
* :class:`Model`, the same actions driven one operation at a time, for lockstep testing
  of a runtime and for trace checking (``libtask9.testing.check_trace``): a program is
  revealed operation by operation, the caller asks which choices are enabled
  (:meth:`Model.enabled`) and applies the one the runtime took (:meth:`Model.apply`).

Conventions (Python side; :func:`to_tla` converts a state to the spec's values):

* Indices are 0-based, as in the runtime and in traces: ``pc[t]`` is the number of
  operations ``t`` has completed (the spec's ``pc[t] - 1``), case indices in waiter entries
  and results are 0-based (the spec's ``i - 1``); ``-1`` stays ``-1``.
* The nil channel is ``None`` (the spec's model value ``Nil``); "no value" is
  :data:`NOVAL` (the spec's ``NoVal``, ``<<>>``).
* Values are whatever the program sends: each send :class:`Case` carries its value.  The
  spec's value of case ``i`` (1-based) of step ``s`` (1-based) of task ``t`` is
  ``<<t, s, i>>``; :func:`spec_program` builds programs whose values are exactly those, so
  that BFS states convert to TLC's states.  In trace mode values are the runtime's
  (opaque, need not be unique); the invariants then count values as multisets.
* States are immutable and hashable (:class:`FMap` is a frozen mapping).
"""

from __future__ import annotations

import dataclasses
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

__all__ = [
    "ACTIONS",
    "BLOCKED",
    "DEAD",
    "ENV_ACTIONS",
    "INVARIANTS",
    "NOVAL",
    "READY",
    "RECV",
    "SEND",
    "TASK_ACTIONS",
    "AltBlock",
    "AltBuffer",
    "AltClosed",
    "AltHandover",
    "AltNone",
    "AltOp",
    "AltRendezvous",
    "Case",
    "Close",
    "CloseClosed",
    "CloseOp",
    "Config",
    "Ctx",
    "Done",
    "Exploration",
    "FMap",
    "KillBlocked",
    "KillPending",
    "Killed",
    "Model",
    "NotEnabled",
    "Op",
    "Result",
    "State",
    "Step",
    "StepOK",
    "action_table",
    "alt",
    "close",
    "describe_step",
    "explore",
    "nbrecv",
    "nbsend",
    "recv",
    "send",
    "spec_program",
    "successors",
    "task_steps",
    "to_tla",
    "violated_invariants",
]

Task = Hashable
Chan = Hashable

SEND = "send"
RECV = "recv"

READY = "ready"
BLOCKED = "blocked"
DEAD = "dead"

#: The spec's action names, in CONTRACT.md order.
TASK_ACTIONS = (
    "AltBuffer",
    "AltRendezvous",
    "AltHandover",
    "AltClosed",
    "AltBlock",
    "AltNone",
    "Close",
    "CloseClosed",
    "Killed",
)
ENV_ACTIONS = ("KillBlocked", "KillPending")
ACTIONS = (*TASK_ACTIONS[:8], "KillBlocked", "KillPending", "Killed", "Done")

#: Actions parameterized by a case index ``i`` (``AltBuffer(t, i)`` ...).
CASE_ACTIONS = ("AltBuffer", "AltRendezvous", "AltHandover", "AltClosed")


class _NoVal:
    """The spec's ``NoVal``: the value of a send's result, of ``none`` and of ``killed``."""

    _instance: _NoVal | None = None

    def __new__(cls) -> _NoVal:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOVAL"


NOVAL: Any = _NoVal()

# --------------------------------------------------------------------------- operations


@dataclasses.dataclass(frozen=True)
class Case:
    """One case of an alt: ``dir`` is ``"send"``/``"recv"``, ``ch`` a channel or ``None``
    (nil, never ready, never queued); ``val`` is the value a send case sends."""

    dir: str
    ch: Chan | None
    val: Hashable = None

    def __post_init__(self) -> None:
        if self.dir not in (SEND, RECV):
            raise ValueError(f"case direction must be 'send' or 'recv', not {self.dir!r}")


@dataclasses.dataclass(frozen=True)
class AltOp:
    """``alt(cases, block)``; send/recv/nbsend/nbrecv are one-case alts."""

    cases: tuple[Case, ...]
    block: bool = True


@dataclasses.dataclass(frozen=True)
class CloseOp:
    """``close(ch)``."""

    ch: Chan


Op = AltOp | CloseOp


def send(c: Chan | None, v: Hashable) -> AltOp:
    return AltOp((Case(SEND, c, v),), True)


def recv(c: Chan | None) -> AltOp:
    return AltOp((Case(RECV, c),), True)


def nbsend(c: Chan | None, v: Hashable) -> AltOp:
    return AltOp((Case(SEND, c, v),), False)


def nbrecv(c: Chan | None) -> AltOp:
    return AltOp((Case(RECV, c),), False)


def alt(*cases: Case, block: bool = True) -> AltOp:
    return AltOp(tuple(cases), block)


def close(c: Chan) -> CloseOp:
    return CloseOp(c)


@dataclasses.dataclass(frozen=True)
class Result:
    """A result record ``[kind, idx, val]``: kind ``ok``/``closed``/``none``/``killed``,
    ``idx`` the 0-based case index (``-1`` for none, killed, close), ``val`` the received
    value or :data:`NOVAL`."""

    kind: str
    idx: int
    val: Any = NOVAL


def Ok(i: int, v: Any) -> Result:
    return Result("ok", i, v)


def ClosedR(i: int) -> Result:
    return Result("closed", i, NOVAL)


NONE_R = Result("none", -1, NOVAL)
KILLED_R = Result("killed", -1, NOVAL)

# --------------------------------------------------------------------------- state

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class FMap(Mapping[K, V], Generic[K, V]):
    """An immutable, hashable mapping (a TLA+ function).  ``set`` returns a new map."""

    __slots__ = ("_d", "_h")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._d: dict[K, V] = dict(items)
        self._h: int | None = None

    def __getitem__(self, k: K) -> V:
        return self._d[k]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(frozenset(self._d.items()))
        return self._h

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FMap):
            return self._d == other._d
        return NotImplemented

    def __repr__(self) -> str:
        return f"FMap({self._d!r})"

    def set(self, k: K, v: V) -> FMap[K, V]:
        d = dict(self._d)
        d[k] = v
        return FMap(d)

    def update(self, changes: Mapping[K, V]) -> FMap[K, V]:
        if not changes:
            return self
        d = dict(self._d)
        d.update(changes)
        return FMap(d)


Entry = tuple[Task, int]
Queues = FMap[Chan, tuple[Entry, ...]]


@dataclasses.dataclass(frozen=True)
class State:
    """The spec's variables (0-based ``pc`` and case indices, see the module docstring)."""

    buf: FMap[Chan, tuple[Any, ...]]
    closed: FMap[Chan, bool]
    sendq: Queues
    recvq: Queues
    pc: FMap[Task, int]
    st: FMap[Task, str]
    killreq: FMap[Task, bool]
    res: FMap[Task, tuple[Result, ...]]
    slog: FMap[Chan, tuple[Any, ...]]
    rlog: FMap[Chan, tuple[Any, ...]]

    @classmethod
    def initial(cls, tasks: Iterable[Task], chans: Iterable[Chan]) -> State:
        """The spec's ``Init``."""
        ts = list(tasks)
        cs = list(chans)
        empty_c: FMap[Chan, tuple[Any, ...]] = FMap((c, ()) for c in cs)
        return cls(
            buf=empty_c,
            closed=FMap((c, False) for c in cs),
            sendq=FMap((c, ()) for c in cs),
            recvq=FMap((c, ()) for c in cs),
            pc=FMap((t, 0) for t in ts),
            st=FMap((t, READY) for t in ts),
            killreq=FMap((t, False) for t in ts),
            res=FMap((t, ()) for t in ts),
            slog=empty_c,
            rlog=empty_c,
        )

    def with_chan(self, c: Chan) -> State:
        """Add channel ``c`` in its initial state (trace mode: ``ChanCreate``)."""
        if c in self.buf:
            raise ValueError(f"channel {c!r} already exists")
        return dataclasses.replace(
            self,
            buf=self.buf.set(c, ()),
            closed=self.closed.set(c, False),
            sendq=self.sendq.set(c, ()),
            recvq=self.recvq.set(c, ()),
            slog=self.slog.set(c, ()),
            rlog=self.rlog.set(c, ()),
        )

    def with_task(self, t: Task) -> State:
        """Add task ``t`` in its initial state (trace / lockstep mode)."""
        if t in self.pc:
            raise ValueError(f"task {t!r} already exists")
        return dataclasses.replace(
            self,
            pc=self.pc.set(t, 0),
            st=self.st.set(t, READY),
            killreq=self.killreq.set(t, False),
            res=self.res.set(t, ()),
        )

    @property
    def tasks(self) -> list[Task]:
        return list(self.pc)

    @property
    def chans(self) -> list[Chan]:
        return list(self.buf)

    def describe(self) -> str:
        """A readable multi-line rendering (for error messages)."""
        lines = []
        for c in self.buf:
            lines.append(
                f"  chan {c!r}: buf={list(self.buf[c])} closed={self.closed[c]} "
                f"sendq={list(self.sendq[c])} recvq={list(self.recvq[c])}"
            )
        for t in self.pc:
            last = self.res[t][-1] if self.res[t] else None
            lines.append(
                f"  task {t!r}: st={self.st[t]} pc={self.pc[t]} killreq={self.killreq[t]} "
                f"results={len(self.res[t])} last={last}"
            )
        return "\n".join(lines)


class Ctx(Protocol):
    """The constants an action reads: capacities, programs, the killable set."""

    def cap(self, c: Chan) -> int:
        """``Cap[c]``."""
        ...

    def op(self, t: Task, k: int) -> Op | None:
        """Operation ``k`` (0-based) of task ``t``'s program, or ``None`` past its end."""
        ...

    def killable(self, t: Task) -> bool:
        """``t \\in Killable``."""
        ...


# --------------------------------------------------------------------------- helpers


def _withdraw(q: Queues, us: frozenset[Task] | set[Task]) -> Queues:
    """The spec's ``Withdraw(q, U)``: remove every entry of the tasks in ``us``."""
    changes = {}
    for c, entries in q.items():
        kept = tuple(e for e in entries if e[0] not in us)
        if len(kept) != len(entries):
            changes[c] = kept
    return q.update(changes)


def _append(m: FMap[Any, tuple[Any, ...]], k: Any, *xs: Any) -> FMap[Any, tuple[Any, ...]]:
    return m.set(k, m[k] + xs)


def can_step(s: State, t: Task, op: Op | None) -> bool:
    """``CanStep(t)``: ready, has an operation, no pending kill."""
    return s.st[t] == READY and op is not None and not s.killreq[t]


def _alt_case(s: State, t: Task, i: int, op: Op | None) -> Case | None:
    """``IsAlt(t, i)`` and ``Case(t, i)``, with the nil check all four case actions make."""
    if not can_step(s, t, op) or not isinstance(op, AltOp):
        return None
    if not 0 <= i < len(op.cases):
        return None
    k = op.cases[i]
    return k if k.ch is not None else None


def send_ready(ctx: Ctx, s: State, c: Chan) -> bool:
    """``SendReady(c)``."""
    return s.closed[c] or bool(s.recvq[c]) or len(s.buf[c]) < ctx.cap(c)


def recv_ready(s: State, c: Chan) -> bool:
    """``RecvReady(c)``."""
    return bool(s.buf[c]) or bool(s.sendq[c]) or s.closed[c]


def ready(ctx: Ctx, s: State, k: Case) -> bool:
    """``Ready(t, i)`` for case ``k``."""
    if k.ch is None:
        return False
    return send_ready(ctx, s, k.ch) if k.dir == SEND else recv_ready(s, k.ch)


def _partner_val(ctx: Ctx, s: State, u: Task, j: int) -> Any:
    """The value blocked sender ``u`` offers with case ``j`` (the spec's ``<<u, pc[u], j>>``)."""
    op = ctx.op(u, s.pc[u])
    if not isinstance(op, AltOp) or not 0 <= j < len(op.cases):
        raise AssertionError(f"waiter {u!r} case {j} does not name a case of its operation {op}")
    return op.cases[j].val


def _complete_self(s: State, t: Task, r: Result, **changes: Any) -> State:
    """``CompleteSelf(t, r)`` plus the given variable changes."""
    return dataclasses.replace(
        s,
        res=_append(s.res, t, r),
        pc=s.pc.set(t, s.pc[t] + 1),
        **changes,
    )


def _complete_both(s: State, t: Task, rt: Result, u: Task, ru: Result, **changes: Any) -> State:
    """``CompleteBoth(t, rt, u, ru)`` plus the given variable changes."""
    res = s.res.update({t: s.res[t] + (rt,)})
    res = res.set(u, res[u] + (ru,))
    pc = s.pc.set(t, s.pc[t] + 1)
    pc = pc.set(u, pc[u] + 1)
    return dataclasses.replace(
        s,
        res=res,
        pc=pc,
        st=s.st.set(u, READY),
        sendq=_withdraw(s.sendq, {u}),
        recvq=_withdraw(s.recvq, {u}),
        **changes,
    )


# --------------------------------------------------------------------------- task actions
# Each action: (ctx, state, t[, i], op) -> next state, or None if not enabled.  ``op`` is
# t's current operation, Prog[t][pc[t]] (None when t has none: HasOp(t) is false).


def AltBuffer(ctx: Ctx, s: State, t: Task, i: int, op: Op | None) -> State | None:
    """1. A send appends to a buffer with room and no waiting receiver; a recv takes the
    head of a non-empty buffer with no waiting sender."""
    k = _alt_case(s, t, i, op)
    if k is None:
        return None
    c = k.ch
    if k.dir == SEND:
        if s.closed[c] or s.recvq[c] or len(s.buf[c]) >= ctx.cap(c):
            return None
        return _complete_self(
            s, t, Ok(i, NOVAL), buf=_append(s.buf, c, k.val), slog=_append(s.slog, c, k.val)
        )
    if not s.buf[c] or s.sendq[c]:
        return None
    v = s.buf[c][0]
    return _complete_self(
        s, t, Ok(i, v), buf=s.buf.set(c, s.buf[c][1:]), rlog=_append(s.rlog, c, v)
    )


def AltRendezvous(ctx: Ctx, s: State, t: Task, i: int, op: Op | None) -> State | None:
    """2. Meet the FIRST waiter of the opposite queue; complete and withdraw it."""
    k = _alt_case(s, t, i, op)
    if k is None:
        return None
    c = k.ch
    if k.dir == SEND:
        if s.closed[c] or not s.recvq[c]:
            return None
        u, j = s.recvq[c][0]
        v = k.val
        return _complete_both(
            s, t, Ok(i, NOVAL), u, Ok(j, v), slog=_append(s.slog, c, v), rlog=_append(s.rlog, c, v)
        )
    if s.buf[c] or not s.sendq[c]:
        return None
    u, j = s.sendq[c][0]
    v = _partner_val(ctx, s, u, j)
    return _complete_both(
        s, t, Ok(i, v), u, Ok(j, NOVAL), slog=_append(s.slog, c, v), rlog=_append(s.rlog, c, v)
    )


def AltHandover(ctx: Ctx, s: State, t: Task, i: int, op: Op | None) -> State | None:
    """3. Recv on a buffer with blocked senders: take the head, append the first sender's
    value at the tail, complete and withdraw that sender."""
    k = _alt_case(s, t, i, op)
    if k is None or k.dir != RECV:
        return None
    c = k.ch
    if not s.buf[c] or not s.sendq[c]:
        return None
    u, j = s.sendq[c][0]
    vu = _partner_val(ctx, s, u, j)
    head = s.buf[c][0]
    return _complete_both(
        s,
        t,
        Ok(i, head),
        u,
        Ok(j, NOVAL),
        buf=s.buf.set(c, (*s.buf[c][1:], vu)),
        slog=_append(s.slog, c, vu),
        rlog=_append(s.rlog, c, head),
    )


def AltClosed(ctx: Ctx, s: State, t: Task, i: int, op: Op | None) -> State | None:
    """4. A case on a closed channel: a send, or a recv with an empty buffer."""
    k = _alt_case(s, t, i, op)
    if k is None:
        return None
    c = k.ch
    if not s.closed[c] or not (k.dir == SEND or not s.buf[c]):
        return None
    return _complete_self(s, t, ClosedR(i))


def _none_ready(ctx: Ctx, s: State, op: AltOp) -> bool:
    return not any(ready(ctx, s, k) for k in op.cases)


def AltBlock(ctx: Ctx, s: State, t: Task, op: Op | None) -> State | None:
    """5. Blocking alt with no ready case: one entry per non-nil case, in case order."""
    if not can_step(s, t, op) or not isinstance(op, AltOp) or not op.block:
        return None
    if not _none_ready(ctx, s, op):
        return None
    sq: dict[Chan, tuple[Entry, ...]] = {}
    rq: dict[Chan, tuple[Entry, ...]] = {}
    for i, k in enumerate(op.cases):
        if k.ch is None:
            continue
        q, src = (sq, s.sendq) if k.dir == SEND else (rq, s.recvq)
        q[k.ch] = (*q.get(k.ch, src[k.ch]), (t, i))
    return dataclasses.replace(
        s, sendq=s.sendq.update(sq), recvq=s.recvq.update(rq), st=s.st.set(t, BLOCKED)
    )


def AltNone(ctx: Ctx, s: State, t: Task, op: Op | None) -> State | None:
    """6. Non-blocking alt with no ready case: result none."""
    if not can_step(s, t, op) or not isinstance(op, AltOp) or op.block:
        return None
    if not _none_ready(ctx, s, op):
        return None
    return _complete_self(s, t, NONE_R)


def close_woken(s: State, c: Chan) -> dict[Task, int]:
    """The tasks with an entry on ``c`` and their smallest case index there (``MinIdx``)."""
    woken: dict[Task, int] = {}
    for u, j in s.sendq[c] + s.recvq[c]:
        woken[u] = min(j, woken.get(u, j))
    return woken


def Close(ctx: Ctx, s: State, t: Task, op: Op | None) -> State | None:
    """7. close(c) on an open channel: every waiter on c completes with ``closed``."""
    if not can_step(s, t, op) or not isinstance(op, CloseOp):
        return None
    c = op.ch
    if s.closed[c]:
        return None
    woken = close_woken(s, c)
    res = s.res.set(t, s.res[t] + (Ok(-1, NOVAL),))
    pc = s.pc.set(t, s.pc[t] + 1)
    for u, j in woken.items():
        res = res.set(u, res[u] + (ClosedR(j),))
        pc = pc.set(u, pc[u] + 1)
    ws = set(woken)
    return dataclasses.replace(
        s,
        closed=s.closed.set(c, True),
        res=res,
        pc=pc,
        st=s.st.update({u: READY for u in woken}),
        sendq=_withdraw(s.sendq, ws),
        recvq=_withdraw(s.recvq, ws),
    )


def CloseClosed(ctx: Ctx, s: State, t: Task, op: Op | None) -> State | None:
    """8. close(c) on a closed channel: result closed, nothing else changes."""
    if not can_step(s, t, op) or not isinstance(op, CloseOp) or not s.closed[op.ch]:
        return None
    return _complete_self(s, t, ClosedR(-1))


def Killed(ctx: Ctx, s: State, t: Task, op: Op | None) -> State | None:
    """11. A pending kill takes effect at t's next operation, which is not performed."""
    if not s.killreq[t] or s.st[t] != READY or op is None:
        return None
    return dataclasses.replace(s, st=s.st.set(t, DEAD), res=_append(s.res, t, KILLED_R))


# --------------------------------------------------------------------------- environment


def KillBlocked(ctx: Ctx, s: State, t: Task) -> State | None:
    """9. Kill a blocked task: withdraw all its entries; it is dead."""
    if not ctx.killable(t) or s.st[t] != BLOCKED:
        return None
    return dataclasses.replace(
        s,
        st=s.st.set(t, DEAD),
        res=_append(s.res, t, KILLED_R),
        sendq=_withdraw(s.sendq, {t}),
        recvq=_withdraw(s.recvq, {t}),
    )


def KillPending(ctx: Ctx, s: State, t: Task, op: Op | None) -> State | None:
    """10. Kill a task that is not blocked, not dead, not finished: record a request.
    ``op`` is t's current operation (only ``op is not None``, HasOp(t), matters)."""
    if not ctx.killable(t) or s.st[t] != READY or op is None or s.killreq[t]:
        return None
    return dataclasses.replace(s, killreq=s.killreq.set(t, True))


def terminated(ctx: Ctx, s: State) -> bool:
    """``Terminated``: every task finished or dead."""
    return all((s.st[t] == READY and ctx.op(t, s.pc[t]) is None) or s.st[t] == DEAD for t in s.pc)


def Done(ctx: Ctx, s: State) -> State | None:
    """12. Every task finished or dead: stutter."""
    return s if terminated(ctx, s) else None


# --------------------------------------------------------------------------- Next

Params = tuple[Any, ...]


def action_table() -> dict[str, Callable[..., State | None]]:
    """The action functions by name (looked up at call time, so a test may replace one)."""
    g = globals()
    return {name: g[name] for name in ACTIONS}


def task_steps(
    ctx: Ctx,
    s: State,
    t: Task,
    op: Op | None,
    impl: Mapping[str, Callable[..., State | None]] | None = None,
) -> Iterator[tuple[str, Params, State]]:
    """``Step(t)`` with t's operation given explicitly: ``(action, params, next)`` for every
    enabled disjunct.  ``params`` is ``(t,)`` or ``(t, i)`` with ``i`` 0-based.  ``impl``
    overrides action functions by name (to build deliberately wrong variants)."""
    a = action_table()
    if impl:
        a.update(impl)
    if isinstance(op, AltOp):
        for i in range(len(op.cases)):
            for name in CASE_ACTIONS:
                n = a[name](ctx, s, t, i, op)
                if n is not None:
                    yield name, (t, i), n
    for name in ("AltBlock", "AltNone", "Close", "CloseClosed", "Killed"):
        n = a[name](ctx, s, t, op)
        if n is not None:
            yield name, (t,), n


def successors(
    ctx: Ctx, s: State, impl: Mapping[str, Callable[..., State | None]] | None = None
) -> Iterator[tuple[str, Params, State]]:
    """The spec's ``Next``: every enabled ``(action, params, next_state)``, ``Done``'s
    stutter included.  TLC generates one successor per item (and a second copy of an
    ``AltClosed`` step when both disjuncts of its enabling condition hold)."""
    a = action_table()
    if impl:
        a.update(impl)
    for t in s.pc:
        yield from task_steps(ctx, s, t, ctx.op(t, s.pc[t]), impl)
    for t in s.pc:
        n = a["KillBlocked"](ctx, s, t)
        if n is not None:
            yield "KillBlocked", (t,), n
        n = a["KillPending"](ctx, s, t, ctx.op(t, s.pc[t]))
        if n is not None:
            yield "KillPending", (t,), n
    n = a["Done"](ctx, s)
    if n is not None:
        yield "Done", (), n


# --------------------------------------------------------------------------- configs


@dataclasses.dataclass(frozen=True)
class Config:
    """A bounded model (the constants of an MC module): ``prog[t]`` is a tuple of ops."""

    tasks: tuple[Any, ...]
    chans: tuple[Any, ...]
    caps: Mapping[Any, int]
    prog: Mapping[Any, tuple[Op, ...]]
    killable_set: frozenset[Any] = frozenset()

    def cap(self, c: Chan) -> int:
        return self.caps[c]

    def op(self, t: Task, k: int) -> Op | None:
        p = self.prog[t]
        return p[k] if 0 <= k < len(p) else None

    def killable(self, t: Task) -> bool:
        return t in self.killable_set

    def initial(self) -> State:
        return State.initial(self.tasks, self.chans)


def spec_program(t: int, ops: Sequence[Op]) -> tuple[Op, ...]:
    """``ops`` with every send case's value replaced by the spec's message id
    ``(t, s, i)`` (1-based step and case), so that states convert to TLC's exactly."""
    out: list[Op] = []
    for s, op in enumerate(ops, start=1):
        if isinstance(op, AltOp):
            op = AltOp(
                tuple(
                    Case(k.dir, k.ch, (t, s, i) if k.dir == SEND else None)
                    for i, k in enumerate(op.cases, start=1)
                ),
                op.block,
            )
        out.append(op)
    return tuple(out)


S = TypeVar("S", bound=Hashable)


@dataclasses.dataclass
class Exploration(Generic[S]):
    """The reachable graph of a config: ``states`` (BFS order), ``edges`` as
    ``(src_index, dst_index, action, params)`` (one per generated successor), and the
    depth as TLC counts it (the initial state is depth 1).  Shared by this oracle and the
    lifecycle oracle (:mod:`libtask9.procmodel`)."""

    states: list[S]
    edges: list[tuple[int, int, str, Params]]
    depth: int

    def action_counts(self) -> Counter[str]:
        return Counter(a for _, _, a, _ in self.edges)


def bfs(
    init: S,
    successors_of: Callable[[S], Iterable[tuple[str, Params, S]]],
    *,
    max_states: int = 2_000_000,
    check: Callable[[S], None] | None = None,
) -> Exploration[S]:
    """Breadth-first search from ``init`` over ``successors_of`` (``check`` is called on
    every new state, e.g. to assert invariants); more than ``max_states`` states is a
    RuntimeError."""
    index: dict[S, int] = {init: 0}
    states = [init]
    edges: list[tuple[int, int, str, Params]] = []
    frontier: deque[tuple[int, int]] = deque([(0, 1)])
    depth = 1
    if check is not None:
        check(init)
    while frontier:
        si, d = frontier.popleft()
        depth = max(depth, d)
        for name, params, n in successors_of(states[si]):
            ni = index.get(n)
            if ni is None:
                ni = len(states)
                if ni >= max_states:
                    raise RuntimeError(f"more than {max_states} states")
                index[n] = ni
                states.append(n)
                frontier.append((ni, d + 1))
                if check is not None:
                    check(n)
            edges.append((si, ni, name, params))
    return Exploration(states, edges, depth)


def explore(
    ctx: Ctx,
    init: State,
    *,
    max_states: int = 2_000_000,
    check: Callable[[State], None] | None = None,
    impl: Mapping[str, Callable[..., State | None]] | None = None,
) -> Exploration[State]:
    """Breadth-first search from ``init`` over :func:`successors` (``check`` is called on
    every new state, e.g. to assert invariants; ``impl`` overrides actions by name)."""
    return bfs(init, lambda s: successors(ctx, s, impl), max_states=max_states, check=check)


# --------------------------------------------------------------------------- to TLA+


def _tla() -> Any:
    # imported lazily: libtask9.testing imports this module
    from .testing import tla

    return tla


def _tla_val(v: Any) -> Any:
    tv = type(v)
    if tv is int or tv is str or tv is bool:
        return v
    if tv is tuple:
        return tuple([_tla_val(x) for x in v])
    if v is NOVAL:
        return ()
    if v is None:
        return _tla().ModelValue("Nil")
    if isinstance(v, FMap):
        return _tla_fn({_tla_val(k): _tla_val(x) for k, x in v.items()})
    if isinstance(v, bool):  # subclasses (IntEnum, NamedTuple ...) as their base values
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, tuple):
        return tuple([_tla_val(x) for x in v])
    raise TypeError(f"no TLA+ form for {v!r}")


def _tla_fn(d: dict[Any, Any]) -> Any:
    """``tla.fn(d)``, with fast paths for the two domains of the spec's variables
    (Tasks = 1..n, Chans = strings or ints)."""
    tla = _tla()
    keys = list(d)
    n = len(keys)
    if n and all(type(k) is int for k in keys):
        if sorted(keys) == list(range(1, n + 1)):
            return tuple([d[i] for i in range(1, n + 1)])
        return tla.Fn(tuple(sorted(d.items(), key=lambda kv: kv[0])))
    if n and all(type(k) is str for k in keys):
        return tla.Fn(tuple(sorted(d.items(), key=lambda kv: kv[0])))
    return tla.fn(d)


def _tla_idx(i: int) -> int:
    return -1 if i == -1 else i + 1


def _tla_result(r: Result) -> Any:
    # a record [idx, kind, val] (fields in sort order)
    return _tla().Fn((("idx", _tla_idx(r.idx)), ("kind", r.kind), ("val", _tla_val(r.val))))


def to_tla(s: State) -> dict[str, Any]:
    """The state as the spec's canonical TLA+ values (:mod:`libtask9.testing.tla`):
    1-based ``pc`` and case indices, ``Nil`` a model value, ``NoVal`` = ``<<>>``."""

    def fmap(m: Mapping[Any, Any], f: Callable[[Any], Any]) -> Any:
        return _tla_fn({_tla_val(k): f(v) for k, v in m.items()})

    def seq(xs: tuple[Any, ...]) -> Any:
        return tuple([_tla_val(x) for x in xs])

    def q(es: tuple[Entry, ...]) -> Any:
        return tuple([(_tla_val(u), j + 1) for u, j in es])

    def rs(xs: tuple[Result, ...]) -> Any:
        return tuple([_tla_result(r) for r in xs])

    return {
        "buf": fmap(s.buf, seq),
        "closed": fmap(s.closed, bool),
        "sendq": fmap(s.sendq, q),
        "recvq": fmap(s.recvq, q),
        "pc": fmap(s.pc, lambda p: p + 1),
        "st": fmap(s.st, str),
        "killreq": fmap(s.killreq, bool),
        "res": fmap(s.res, rs),
        "slog": fmap(s.slog, seq),
        "rlog": fmap(s.rlog, seq),
    }


# --------------------------------------------------------------------------- invariants


def _queued(s: State, u: Task) -> bool:
    return any(e[0] == u for q in (s.sendq, s.recvq) for es in q.values() for e in es)


def _commits(ctx: Ctx, s: State, c: Chan, d: str) -> list[tuple[Task, int, Result, Case]]:
    """``Commits(c, d)``: the completed steps whose ``ok`` result commits a d-case on c."""
    out = []
    for u, rs in s.res.items():
        for k, r in enumerate(rs):
            op = ctx.op(u, k)
            if r.kind != "ok" or not isinstance(op, AltOp) or not 0 <= r.idx < len(op.cases):
                continue
            case = op.cases[r.idx]
            if case.dir == d and case.ch == c:
                out.append((u, k, r, case))
    return out


def TypeOK(ctx: Ctx, s: State) -> bool:
    return all(s.st[t] in (READY, BLOCKED, DEAD) for t in s.pc) and all(
        s.pc[t] >= 0 and (ctx.op(t, s.pc[t] - 1) is not None or s.pc[t] == 0) for t in s.pc
    )


def Conservation(ctx: Ctx, s: State) -> bool:
    """C1 ``slog = rlog \\o buf``; C2-C5 with values counted as multisets."""
    for c in s.buf:
        if s.slog[c] != s.rlog[c] + s.buf[c]:
            return False
        sent = Counter(case.val for _, _, _, case in _commits(ctx, s, c, SEND))
        rcvd = _commits(ctx, s, c, RECV)
        if Counter(s.slog[c]) != sent:
            return False
        if Counter(s.rlog[c]) != Counter(r.val for _, _, r, _ in rcvd):
            return False
    return True


def BufBound(ctx: Ctx, s: State) -> bool:
    return all(len(s.buf[c]) <= ctx.cap(c) for c in s.buf)


def ValueOK(ctx: Ctx, s: State) -> bool:
    """Every received value was sent on that channel by a committed send case."""
    for c in s.buf:
        sent = {case.val for _, _, _, case in _commits(ctx, s, c, SEND)}
        if any(r.val not in sent for _, _, r, _ in _commits(ctx, s, c, RECV)):
            return False
    return True


def _result_fits(ctx: Ctx, s: State, t: Task, k: int) -> bool:
    r = s.res[t][k]
    op = ctx.op(t, k)
    if op is None:
        return False
    if r.kind == "ok":
        if isinstance(op, AltOp):
            return (
                0 <= r.idx < len(op.cases)
                and op.cases[r.idx].ch is not None
                and ((r.val is NOVAL) == (op.cases[r.idx].dir == SEND))
            )
        return r.idx == -1 and r.val is NOVAL
    if r.kind == "closed":
        if isinstance(op, AltOp):
            ch = op.cases[r.idx].ch if 0 <= r.idx < len(op.cases) else None
            return ch is not None and s.closed[ch]
        return r.idx == -1 and s.closed[op.ch]
    if r.kind == "none":
        return isinstance(op, AltOp) and not op.block and r.idx == -1
    if r.kind == "killed":
        return k == len(s.res[t]) - 1 and s.st[t] == DEAD and r.idx == -1
    return False


def AtMostOneCommit(ctx: Ctx, s: State) -> bool:
    for t in s.pc:
        if len(s.res[t]) != s.pc[t] + (1 if s.st[t] == DEAD else 0):
            return False
        if not all(_result_fits(ctx, s, t, k) for k in range(len(s.res[t]))):
            return False
        if s.st[t] != BLOCKED and _queued(s, t):
            return False
    return True


def QueueExact(ctx: Ctx, s: State) -> bool:
    for t in s.pc:
        op = ctx.op(t, s.pc[t])
        if s.st[t] == BLOCKED:
            if not (isinstance(op, AltOp) and op.block and not s.killreq[t]):
                return False
            for d, q in ((SEND, s.sendq), (RECV, s.recvq)):
                for c in s.buf:
                    mine = [j for u, j in q[c] if u == t]
                    want = [i for i, k in enumerate(op.cases) if k.dir == d and k.ch == c]
                    if mine != want:
                        return False
        elif _queued(s, t):
            return False
    return True


def NoMissedRendezvous(ctx: Ctx, s: State) -> bool:
    for c in s.buf:
        if any(e1[0] != e2[0] for e1 in s.sendq[c] for e2 in s.recvq[c]):
            return False
        if s.recvq[c] and (s.buf[c] or s.closed[c]):
            return False
        if s.sendq[c] and (len(s.buf[c]) != ctx.cap(c) or s.closed[c]):
            return False
    return True


def CloseKillLoseNothing(ctx: Ctx, s: State) -> bool:
    for c in s.buf:
        if s.closed[c] and (s.sendq[c] or s.recvq[c]):
            return False
    for t in s.pc:
        if s.st[t] != DEAD:
            continue
        op = ctx.op(t, s.pc[t])
        if isinstance(op, AltOp):
            mine = Counter(k.val for k in op.cases if k.dir == SEND and k.ch is not None)
            # the interrupted op's values must be in no channel log
            for c in s.buf:
                if any(mine[v] for v in s.slog[c]):
                    return False
    return True


def task_enabled(ctx: Ctx, s: State) -> bool:
    """``TaskEnabled``: some ``Step(t)`` is enabled."""
    return any(next(task_steps(ctx, s, t, ctx.op(t, s.pc[t])), None) is not None for t in s.pc)


def runtime_deadlock(ctx: Ctx, s: State) -> bool:
    """``RuntimeDeadlock``: some task is blocked and no task action is enabled."""
    return any(s.st[t] == BLOCKED for t in s.pc) and not task_enabled(ctx, s)


def DeadlockExact(ctx: Ctx, s: State) -> bool:
    te = task_enabled(ctx, s)
    return ((not te) and not terminated(ctx, s)) == runtime_deadlock(ctx, s)


def ChoiceExact(ctx: Ctx, s: State) -> bool:
    """For a runnable task in an alt: each ready case enables exactly one of the four case
    actions, a case that is not ready enables none, and AltBlock/AltNone are enabled
    exactly when no case is ready."""
    for t in s.pc:
        op = ctx.op(t, s.pc[t])
        if not can_step(s, t, op) or not isinstance(op, AltOp):
            continue
        for i, k in enumerate(op.cases):
            runs = sum(
                f(ctx, s, t, i, op) is not None
                for f in (AltBuffer, AltRendezvous, AltHandover, AltClosed)
            )
            if runs != (1 if ready(ctx, s, k) else 0):
                return False
        blocks = AltBlock(ctx, s, t, op) is not None or AltNone(ctx, s, t, op) is not None
        if blocks != _none_ready(ctx, s, op):
            return False
    return True


#: The spec's invariants (their conjunction is ``Safety``), by name.
INVARIANTS: dict[str, Callable[[Ctx, State], bool]] = {
    "TypeOK": TypeOK,
    "Conservation": Conservation,
    "BufBound": BufBound,
    "AtMostOneCommit": AtMostOneCommit,
    "QueueExact": QueueExact,
    "NoMissedRendezvous": NoMissedRendezvous,
    "CloseKillLoseNothing": CloseKillLoseNothing,
    "ValueOK": ValueOK,
    "DeadlockExact": DeadlockExact,
    "ChoiceExact": ChoiceExact,
}


def StepOK(ctx: Ctx, s: State, n: State) -> bool:
    """The spec's action property ``StepSafety == [][StepOK]_vars`` for the step s -> n:
    results are append-only, at most one per step and task, and a woken task completes
    exactly one operation and leaves every queue."""
    for u in s.pc:
        old, new = s.res[u], n.res[u]
        if new[: len(old)] != old or len(new) > len(old) + 1:
            return False
        if s.st[u] == BLOCKED and n.st[u] == READY:
            if n.pc[u] != s.pc[u] + 1 or len(new) != len(old) + 1:
                return False
            if new[-1].kind not in ("ok", "closed") or _queued(n, u):
                return False
    return True


def violated_invariants(ctx: Ctx, s: State) -> list[str]:
    """The names of the invariants ``s`` violates (empty if none)."""
    return [name for name, inv in INVARIANTS.items() if not inv(ctx, s)]


# --------------------------------------------------------------------------- lockstep


class NotEnabled(Exception):
    """``Model.apply`` was asked for an action that is not enabled in the current state."""

    def __init__(self, message: str, state: State, enabled: list[Step]) -> None:
        super().__init__(message)
        self.state = state
        self.enabled = enabled


@dataclasses.dataclass(frozen=True)
class Step:
    """An enabled action and what it would do.

    ``action`` and ``task``, ``index`` (the chosen case, 0-based; ``-1`` for actions
    without one), ``result`` (the result appended to ``task``'s results, if any),
    ``partner``/``pindex``/``presult`` for AltRendezvous/AltHandover, ``woken`` (task ->
    case index) for Close, and ``next`` the successor state."""

    action: str
    task: Task
    index: int
    next: State
    result: Result | None = None
    partner: Task | None = None
    pindex: int = -1
    presult: Result | None = None
    woken: Mapping[Task, int] = dataclasses.field(default_factory=dict)

    def brief(self) -> str:
        out = f"{self.action}(task={self.task!r}"
        if self.action in CASE_ACTIONS:
            out += f", index={self.index}"
        out += ")"
        if self.result is not None:
            out += f" -> {self.result.kind}"
            if self.result.val is not NOVAL:
                out += f" value={self.result.val!r}"
        if self.partner is not None:
            out += f", partner={self.partner!r} pindex={self.pindex}"
        if self.woken:
            out += f", woken={sorted(self.woken.items(), key=repr)}"
        return out


def describe_step(s: State, name: str, params: Params, n: State) -> Step:
    """What the step ``s --name(params)--> n`` did, as a :class:`Step`."""
    t = params[0] if params else None
    i = params[1] if len(params) > 1 else -1
    # t's own result is the first one appended (a partner may be t itself, in a broken
    # variant that leaves a woken alt's entries queued)
    result = n.res[t][len(s.res[t])] if t is not None and len(n.res[t]) > len(s.res[t]) else None
    partner = None
    presult = None
    pindex = -1
    woken: dict[Task, int] = {}
    if name in ("AltRendezvous", "AltHandover"):
        for u in s.pc:
            if len(n.res[u]) > len(s.res[u]) + (1 if u == t else 0):
                partner = u
                presult = n.res[u][-1]
                pindex = presult.idx
    elif name == "Close":
        woken = {u: n.res[u][-1].idx for u in s.pc if s.st[u] == BLOCKED and n.st[u] == READY}
    return Step(name, t, i, n, result, partner, pindex, presult, woken)


class Model:
    """The oracle driven one operation at a time (lockstep testing, trace checking).

    Channels and tasks are added as they appear (:meth:`add_chan`, :meth:`add_task`).  A
    task's program is revealed operation by operation: :meth:`enabled` lists what task
    ``t`` may do if it now starts (or, blocked, is in) operation ``op``;
    :meth:`apply` performs the step the runtime took (checked against :meth:`enabled`).
    Partners of a rendezvous are served from the operations revealed so far.

    ``killable`` is ``None`` (every task may be killed) or a set of tasks.  A task that
    will never perform another channel operation can be marked with :meth:`finish`;
    until then it counts as having a next operation (``HasOp``) for ``KillPending``.
    """

    def __init__(
        self,
        caps: Mapping[Chan, int] | None = None,
        tasks: Iterable[Task] = (),
        *,
        killable: Iterable[Task] | None = None,
    ) -> None:
        self._caps: dict[Chan, int] = {}
        self._prog: dict[Task, list[Op]] = {}
        self._finished: set[Task] = set()
        self._killable = None if killable is None else frozenset(killable)
        self.state = State.initial((), ())
        for c, n in (caps or {}).items():
            self.add_chan(c, n)
        for t in tasks:
            self.add_task(t)

    # Ctx protocol
    def cap(self, c: Chan) -> int:
        return self._caps[c]

    def op(self, t: Task, k: int) -> Op | None:
        p = self._prog.get(t, [])
        return p[k] if 0 <= k < len(p) else None

    def killable(self, t: Task) -> bool:
        return self._killable is None or t in self._killable

    # setup
    def add_chan(self, c: Chan, cap: int) -> None:
        if cap < 0:
            raise ValueError(f"capacity of {c!r} must be >= 0, not {cap}")
        self.state = self.state.with_chan(c)
        self._caps[c] = cap

    def add_task(self, t: Task) -> None:
        self.state = self.state.with_task(t)
        self._prog[t] = []

    def has_chan(self, c: Chan) -> bool:
        return c in self._caps

    def has_task(self, t: Task) -> bool:
        return t in self._prog

    def finish(self, t: Task) -> None:
        """Declare that ``t`` performs no further operation (``~HasOp(t)``)."""
        self._finished.add(t)

    def runtime_deadlock(self) -> bool:
        """``RuntimeDeadlock``: some task is blocked and no task can act -- every other task
        is blocked, dead, or declared finished (:meth:`finish`).  (A ready task with a next
        operation always has a step: the spec's ``DeadlockExact``.)"""
        s = self.state
        return any(s.st[t] == BLOCKED for t in s.pc) and all(
            s.st[t] != READY or (t in self._finished and self.current_op(t) is None) for t in s.pc
        )

    @property
    def program(self) -> dict[Task, list[Op]]:
        """The operations revealed so far, per task."""
        return {t: list(p) for t, p in self._prog.items()}

    def current_op(self, t: Task) -> Op | None:
        """The operation ``t`` is in (blocked) or last started, if it has not completed."""
        return self.op(t, self.state.pc[t])

    def _ctx_for(self, t: Task, op: Op | None) -> _RevealCtx:
        return _RevealCtx(self, t, op)

    # queries
    def enabled(self, t: Task, op: Op | None = None) -> list[Step]:
        """What task ``t`` may do now: if ``t`` is ready, the steps of starting ``op`` (its
        next operation; ``None`` for "no operation": only ``Killed`` is then possible, with
        an unspecified op); if ``t`` is blocked, nothing (partners and kills act on it)."""
        s = self.state
        if t not in s.pc:
            raise KeyError(f"unknown task {t!r}")
        if s.st[t] != READY:
            return []
        self._check_op(op)
        eff_op: Op | None = op if op is not None else _UNKNOWN_OP
        ctx = self._ctx_for(t, eff_op)
        out = []
        for name, params, n in task_steps(ctx, s, t, eff_op):
            if op is None and name != "Killed":
                continue
            out.append(describe_step(s, name, params, n))
        return out

    def kill_steps(self, t: Task) -> list[Step]:
        """The environment's kill of ``t``, if enabled (KillBlocked or KillPending)."""
        s = self.state
        out = []
        n = KillBlocked(self, s, t)
        if n is not None:
            out.append(describe_step(s, "KillBlocked", (t,), n))
        has_op = t not in self._finished or self.current_op(t) is not None
        n = KillPending(self, s, t, _UNKNOWN_OP if has_op else None)
        if n is not None:
            out.append(describe_step(s, "KillPending", (t,), n))
        return out

    def _check_op(self, op: Op | None) -> None:
        if op is None:
            return
        chans = [k.ch for k in op.cases] if isinstance(op, AltOp) else [op.ch]
        for c in chans:
            if c is not None and c not in self._caps:
                raise KeyError(f"unknown channel {c!r} in {op}")

    def apply(self, action: str, t: Task, index: int = -1, op: Op | None = None) -> Step:
        """Perform ``action`` of task ``t`` (``index``: the chosen case for the case
        actions; ``op``: the operation t starts, for task actions).  Raises
        :class:`NotEnabled` with the enabled alternatives if the spec does not allow it."""
        if action in ENV_ACTIONS:
            choices = self.kill_steps(t)
        elif action in TASK_ACTIONS:
            choices = self.enabled(t, op)
        else:
            raise ValueError(f"unknown action {action!r}")
        for st in choices:
            if st.action == action and (action not in CASE_ACTIONS or st.index == index):
                self._commit(st, op)
                return st
        what = f"{action}(task={t!r}" + (f", index={index}" if action in CASE_ACTIONS else "")
        raise NotEnabled(
            f"{what}) is not enabled; enabled for this task: "
            + (", ".join(c.brief() for c in choices) or "nothing")
            + f" (task state {self.state.st.get(t)!r}, killreq={self.state.killreq.get(t)})",
            self.state,
            choices,
        )

    def _commit(self, st: Step, op: Op | None) -> None:
        t = st.task
        if st.action in TASK_ACTIONS:
            if op is None:  # Killed at an operation the caller did not name
                op = _UNKNOWN_OP
            prog = self._prog[t]
            k = self.state.pc[t]
            if k == len(prog):
                prog.append(op)
            elif prog[k] != op:
                raise AssertionError(f"task {t!r} op {k} was {prog[k]}, now {op}")
        self.state = st.next


_UNKNOWN_OP = AltOp((), False)


class _RevealCtx:
    """A Ctx over the revealed program in which task ``t`` is about to start ``op``."""

    def __init__(self, model: Model, t: Task, op: Op | None) -> None:
        self.m = model
        self.t = t
        self.o = op

    def cap(self, c: Chan) -> int:
        return self.m.cap(c)

    def killable(self, t: Task) -> bool:
        return self.m.killable(t)

    def op(self, t: Task, k: int) -> Op | None:
        if t == self.t and k == self.m.state.pc[t]:
            return self.o
        return self.m.op(t, k)
