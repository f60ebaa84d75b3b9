"""Fabricated traces: random runs of the oracle, optionally with a planted bug.

Used to test the checkers themselves (``check_trace`` and ``tlc_validate``): a run of the
correct oracle must be accepted by both, and a run of a deliberately wrong variant
(:data:`MUTANTS`, each one override of a spec action, the same bugs as
``spec/ChannelsMutant.tla``) must be rejected by both at the same event.  The events have
exactly the runtime's format (``docs/CONTRACT.md``): task and channel ids are ints,
values are the spec's message ids ``[t, s, i]`` as JSON lists, case indices 0-based.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from typing import Any

from .. import model as M

__all__ = ["MUTANTS", "example_trace", "random_config", "simulate", "step_event"]

Impl = Mapping[str, Callable[..., "M.State | None"]]


def _json(v: Any) -> Any:
    if v is M.NOVAL:
        return None
    if isinstance(v, tuple):
        return [_json(x) for x in v]
    return v


def step_event(seq: int, op: M.Op | None, step: M.Step, proc: int = 0) -> dict[str, Any]:
    """The trace event the runtime records for ``step`` (``op``: the task's operation)."""
    ev: dict[str, Any] = {"seq": seq, "action": step.action, "task": step.task, "proc": proc}
    if step.action in ("KillBlocked", "KillPending", "Killed"):
        ev["by"] = None
        return ev
    if isinstance(op, M.CloseOp):
        ev["chan"] = op.ch
        if step.action == "Close":
            ev["woken"] = [[u, j] for u, j in sorted(step.woken.items(), key=repr)]
        return ev
    assert isinstance(op, M.AltOp)
    ev["ops"] = [[k.dir, k.ch] for k in op.cases]
    ev["vals"] = [_json(k.val) if k.dir == M.SEND else None for k in op.cases]
    ev["block"] = op.block
    ev["index"] = step.index
    ev["value"] = _json(step.result.val) if step.result is not None else None
    if step.action in ("AltRendezvous", "AltHandover"):
        ev["partner"] = step.partner
        ev["pindex"] = step.pindex
    return ev


def random_config(
    rng: random.Random,
    *,
    tasks: int = 4,
    chans: int = 3,
    steps: int = 4,
    max_cap: int = 2,
    kill: float = 0.5,
    p_close: float = 0.07,
    p_nil: float = 0.08,
) -> M.Config:
    """A random bounded program: sends, recvs, their non-blocking forms, alts with nil
    cases (probability ``p_nil`` per case), closes (``p_close`` per operation); each task
    killable with probability ``kill``.  Channels are ``1..chans``."""
    cs = list(range(1, chans + 1))

    def case() -> M.Case:
        ch = rng.choice(cs) if rng.random() >= p_nil else None
        return M.Case(rng.choice((M.SEND, M.RECV)), ch)

    def op() -> M.Op:
        r = rng.random()
        if r < p_close:
            return M.CloseOp(rng.choice(cs))
        n = 1 if r < 0.6 else rng.randint(2, 3)
        return M.AltOp(tuple(case() for _ in range(n)), rng.random() > 0.25)

    ts = tuple(range(1, tasks + 1))
    return M.Config(
        tasks=ts,
        chans=tuple(cs),
        caps={c: rng.randint(0, max_cap) for c in cs},
        prog={t: M.spec_program(t, [op() for _ in range(steps)]) for t in ts},
        killable_set=frozenset(t for t in ts if rng.random() < kill),
    )


def simulate(
    cfg: M.Config,
    rng: random.Random,
    *,
    impl: Impl | None = None,
    kill_weight: float = 0.15,
    max_events: int = 10_000,
) -> list[dict[str, Any]]:
    """One random run of ``cfg`` (under the action overrides ``impl``), as trace events:
    ``ChanCreate`` for every channel, then one event per step until nothing but ``Done``
    (or a kill) is enabled."""
    events: list[dict[str, Any]] = [
        {"seq": k, "action": "ChanCreate", "task": None, "proc": 0, "chan": c, "cap": cfg.cap(c)}
        for k, c in enumerate(cfg.chans)
    ]
    s = cfg.initial()
    seq = len(events)
    while len(events) < max_events:
        succ = [x for x in M.successors(cfg, s, impl) if x[0] != "Done"]
        task = [x for x in succ if x[0] not in M.ENV_ACTIONS]
        kills = [x for x in succ if x[0] in M.ENV_ACTIONS]
        if not task and not kills:
            break
        pool = kills if kills and (not task or rng.random() < kill_weight) else task
        name, params, n = rng.choice(pool)
        t = params[0]
        op = cfg.op(t, s.pc[t])
        step = M.describe_step(s, name, params, n)
        events.append(step_event(seq, op, step))
        seq += 1
        s = n
    return events


# --------------------------------------------------------------------------- mutants
# Deliberately wrong action implementations (the bugs of spec/ChannelsMutant.tla).  They
# call the correct actions captured here, so a test may install one in place of
# libtask9.model's own (monkeypatch) without recursing into itself.
_AltBuffer = M.AltBuffer
_AltRendezvous = M.AltRendezvous
_AltHandover = M.AltHandover
_AltNone = M.AltNone


def _lifo_buffer(ctx: M.Ctx, s: M.State, t: M.Task, i: int, op: M.Op | None) -> M.State | None:
    n = _AltBuffer(ctx, s, t, i, op)
    if n is None or not isinstance(op, M.AltOp) or op.cases[i].dir != M.RECV:
        return n
    c = op.cases[i].ch
    v = s.buf[c][-1]  # the newest value instead of the head
    res = n.res.set(t, (*n.res[t][:-1], M.Result("ok", i, v)))
    return dataclasses.replace(
        n, buf=n.buf.set(c, s.buf[c][:-1]), rlog=n.rlog.set(c, (*s.rlog[c], v)), res=res
    )


def _handover_drop(ctx: M.Ctx, s: M.State, t: M.Task, i: int, op: M.Op | None) -> M.State | None:
    n = _AltHandover(ctx, s, t, i, op)
    if n is None or not isinstance(op, M.AltOp):
        return n
    c = op.cases[i].ch
    return dataclasses.replace(n, buf=n.buf.set(c, n.buf[c][:-1]))  # the sender's value is lost


def _lifo_waiter(ctx: M.Ctx, s: M.State, t: M.Task, i: int, op: M.Op | None) -> M.State | None:
    if not isinstance(op, M.AltOp) or not 0 <= i < len(op.cases) or op.cases[i].ch is None:
        return _AltRendezvous(ctx, s, t, i, op)
    c = op.cases[i].ch
    sending = op.cases[i].dir == M.SEND
    q = s.recvq if sending else s.sendq
    if len(q[c]) < 2:
        return _AltRendezvous(ctx, s, t, i, op)

    def flip(st: M.State) -> M.State:
        # reverse the opposite queue on c (serve the LAST waiter, then restore the order)
        if sending:
            return dataclasses.replace(st, recvq=st.recvq.set(c, st.recvq[c][::-1]))
        return dataclasses.replace(st, sendq=st.sendq.set(c, st.sendq[c][::-1]))

    n = _AltRendezvous(ctx, flip(s), t, i, op)
    return None if n is None else flip(n)


def _no_withdraw(ctx: M.Ctx, s: M.State, t: M.Task, i: int, op: M.Op | None) -> M.State | None:
    n = _AltRendezvous(ctx, s, t, i, op)
    if n is None or not isinstance(op, M.AltOp):
        return n
    c = op.cases[i].ch
    q = s.recvq if op.cases[i].dir == M.SEND else s.sendq
    u, j = q[c][0]
    # only the matched entry leaves; u's other entries stay queued
    keep_s = s.sendq.update({d: tuple(e for e in es if e != (u, j)) for d, es in s.sendq.items()})
    keep_r = s.recvq.update({d: tuple(e for e in es if e != (u, j)) for d, es in s.recvq.items()})
    return dataclasses.replace(n, sendq=keep_s, recvq=keep_r)


def _nb_spurious(ctx: M.Ctx, s: M.State, t: M.Task, op: M.Op | None) -> M.State | None:
    n = _AltNone(ctx, s, t, op)
    if n is not None:
        return n
    if M.can_step(s, t, op) and isinstance(op, M.AltOp) and not op.block:
        return dataclasses.replace(
            s, res=s.res.set(t, (*s.res[t], M.NONE_R)), pc=s.pc.set(t, s.pc[t] + 1)
        )
    return None


#: Wrong variants: name -> action overrides for ``simulate(impl=...)``.
MUTANTS: dict[str, dict[str, Callable[..., M.State | None]]] = {
    "lifo_buffer": {"AltBuffer": _lifo_buffer},
    "handover_drop": {"AltHandover": _handover_drop},
    "lifo_waiter": {"AltRendezvous": _lifo_waiter},
    "no_withdraw": {"AltRendezvous": _no_withdraw},
    "nb_spurious": {"AltNone": _nb_spurious},
}


def example_trace() -> list[dict[str, Any]]:
    """A short hand-written trace in which every action of the spec but ``Done`` occurs
    (channel 1: capacity 0, channel 2: capacity 1); ``spec/TraceExample.tla`` is its TLA+
    export."""
    events: list[dict[str, Any]] = []

    def add(action: str, task: int | None, **fields: Any) -> None:
        events.append({"seq": len(events), "action": action, "task": task, "proc": 0, **fields})

    def alt(
        action: str,
        task: int,
        ops: list[list[Any]],
        vals: list[Any],
        block: bool = True,
        index: int = -1,
        value: Any = None,
        **more: Any,
    ) -> None:
        add(action, task, ops=ops, vals=vals, block=block, index=index, value=value, **more)

    add("ChanCreate", None, chan=1, cap=0)
    add("ChanCreate", None, chan=2, cap=1)
    alt("AltBlock", 1, [["recv", 1], ["recv", 2]], [None, None])
    alt("AltBlock", 2, [["recv", 1]], [None])
    alt("AltRendezvous", 3, [["send", 1]], ["x"], index=0, partner=1, pindex=0)
    alt("AltBuffer", 3, [["send", 2]], [["y", 1]], index=0)
    alt("AltBlock", 3, [["send", 2], ["send", None]], ["z", "nil!"])
    alt("AltHandover", 1, [["recv", 2]], [None], index=0, value=["y", 1], partner=3, pindex=0)
    alt("AltNone", 1, [["recv", 1]], [None], block=False)
    add("KillPending", 1, by=None)
    add("Killed", 1, by=None)
    add("Close", 4, chan=1, woken=[[2, 0]])
    add("CloseClosed", 4, chan=1)
    alt("AltBuffer", 4, [["recv", 2], ["send", 1]], [None, "w"], index=0, value="z")
    alt("AltClosed", 4, [["recv", 2], ["send", 1]], [None, "v"], index=1)
    alt("AltBlock", 5, [["send", None]], ["forever"])
    add("KillBlocked", 5, by=4)
    return events
