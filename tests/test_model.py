"""The oracle (libtask9.model), rule by rule against docs/CONTRACT.md, plus its invariants
on every reachable state of small models and the lockstep API."""

from __future__ import annotations

import random
from typing import Any

import pytest

from libtask9 import model as M
from libtask9.model import RECV, SEND, Case
from libtask9.testing import equiv, tla, tracegen


def cfg_of(
    caps: dict[Any, int], progs: dict[int, list[M.Op]], killable: set[int] | None = None
) -> M.Config:
    return M.Config(
        tasks=tuple(progs),
        chans=tuple(caps),
        caps=caps,
        prog={t: M.spec_program(t, p) for t, p in progs.items()},
        killable_set=frozenset(killable or ()),
    )


def S(c: Any) -> Case:
    return Case(SEND, c)


def R(c: Any) -> Case:
    return Case(RECV, c)


def run(cfg: M.Config, *steps: tuple[str, tuple[Any, ...]]) -> M.State:
    """Apply the named steps in order (each must be enabled); return the final state."""
    s = cfg.initial()
    for name, params in steps:
        succ = {(a, p): n for a, p, n in M.successors(cfg, s)}
        assert (name, params) in succ, f"{name}{params} not enabled; enabled: {sorted(succ)}"
        s = succ[(name, params)]
    return s


def enabled(cfg: M.Config, s: M.State) -> set[tuple[str, tuple[Any, ...]]]:
    return {(a, p) for a, p, _ in M.successors(cfg, s)}


# --------------------------------------------------------------------------- rules


def test_buffer_send_then_fifo_recv() -> None:
    cfg = cfg_of({"c": 2}, {1: [M.send("c", 0), M.send("c", 0)], 2: [M.recv("c"), M.recv("c")]})
    s = run(cfg, ("AltBuffer", (1, 0)), ("AltBuffer", (1, 0)))
    assert s.buf["c"] == ((1, 1, 1), (1, 2, 1))
    assert s.res[1] == (M.Result("ok", 0), M.Result("ok", 0))
    assert s.pc[1] == 2
    # the buffer is full: a third send would not be ready; recv takes the HEAD
    s = run(cfg, ("AltBuffer", (1, 0)), ("AltBuffer", (1, 0)), ("AltBuffer", (2, 0)))
    assert s.res[2] == (M.Result("ok", 0, (1, 1, 1)),)
    assert s.buf["c"] == ((1, 2, 1),)
    assert s.slog["c"] == ((1, 1, 1), (1, 2, 1)) and s.rlog["c"] == ((1, 1, 1),)


def test_rendezvous_goes_to_the_first_waiter_and_withdraws_its_alt() -> None:
    cfg = cfg_of(
        {"a": 0, "b": 0},
        {1: [M.alt(R("a"), R("b"))], 2: [M.recv("a")], 3: [M.send("a", 0)]},
    )
    s = run(cfg, ("AltBlock", (1,)), ("AltBlock", (2,)))
    assert s.recvq["a"] == ((1, 0), (2, 0)) and s.recvq["b"] == ((1, 1),)
    assert s.st[1] == s.st[2] == M.BLOCKED
    s = run(cfg, ("AltBlock", (1,)), ("AltBlock", (2,)), ("AltRendezvous", (3, 0)))
    # task 1 was first: it receives <<3, 1, 1>> with its case 0, and leaves EVERY queue
    assert s.res[1] == (M.Result("ok", 0, (3, 1, 1)),)
    assert s.st[1] == M.READY and s.pc[1] == 1
    assert s.recvq["a"] == ((2, 0),) and s.recvq["b"] == ()
    assert s.res[3] == (M.Result("ok", 0),)
    assert s.buf["a"] == ()  # never through the buffer


def test_rendezvous_recv_takes_a_blocked_senders_value() -> None:
    cfg = cfg_of({"a": 0}, {1: [M.alt(S("a"), S(None))], 2: [M.recv("a")]})
    s = run(cfg, ("AltBlock", (1,)))
    assert s.sendq["a"] == ((1, 0),)  # the nil case is never queued
    s = run(cfg, ("AltBlock", (1,)), ("AltRendezvous", (2, 0)))
    assert s.res[2] == (M.Result("ok", 0, (1, 1, 1)),)
    assert s.res[1] == (M.Result("ok", 0),)


def test_rendezvous_to_a_receiver_on_a_buffered_channel() -> None:
    cfg = cfg_of({"b": 1}, {1: [M.recv("b")], 2: [M.send("b", 0)]})
    s = run(cfg, ("AltBlock", (1,)), ("AltRendezvous", (2, 0)))
    assert s.res[1] == (M.Result("ok", 0, (2, 1, 1)),) and s.buf["b"] == ()
    # with a receiver waiting, AltBuffer is not enabled for the send
    s0 = run(cfg, ("AltBlock", (1,)))
    assert ("AltBuffer", (2, 0)) not in enabled(cfg, s0)


def test_handover_keeps_the_buffer_length() -> None:
    cfg = cfg_of({"b": 1}, {1: [M.send("b", 0), M.send("b", 0)], 2: [M.recv("b")]})
    s = run(cfg, ("AltBuffer", (1, 0)), ("AltBlock", (1,)))
    assert s.sendq["b"] == ((1, 0),) and s.buf["b"] == ((1, 1, 1),)
    assert enabled(cfg, s) >= {("AltHandover", (2, 0))}
    s = run(cfg, ("AltBuffer", (1, 0)), ("AltBlock", (1,)), ("AltHandover", (2, 0)))
    assert s.res[2] == (M.Result("ok", 0, (1, 1, 1)),)
    assert s.buf["b"] == ((1, 2, 1),)  # the blocked sender's value, at the tail
    assert s.res[1][-1] == M.Result("ok", 0) and s.st[1] == M.READY and s.sendq["b"] == ()


def test_closed_cases() -> None:
    cfg = cfg_of(
        {"b": 1},
        {1: [M.send("b", 0), M.close("b"), M.recv("b"), M.recv("b"), M.send("b", 0)]},
    )
    s = run(cfg, ("AltBuffer", (1, 0)), ("Close", (1,)))
    assert s.closed["b"] and s.buf["b"] == ((1, 1, 1),)  # close keeps the buffer
    assert s.res[1][-1] == M.Result("ok", -1)
    # a recv on a closed channel drains the buffer first, then fails
    assert enabled(cfg, s) == {("AltBuffer", (1, 0))}
    s = run(
        cfg, ("AltBuffer", (1, 0)), ("Close", (1,)), ("AltBuffer", (1, 0)), ("AltClosed", (1, 0))
    )
    assert s.res[1][-1] == M.Result("closed", 0)
    assert enabled(cfg, s) == {("AltClosed", (1, 0))}  # send on closed


def test_close_wakes_every_waiter_with_its_smallest_index() -> None:
    cfg = cfg_of(
        {"a": 0, "b": 1},
        {
            1: [M.alt(S("b"), R("a"), R("a"))],
            2: [M.recv("a")],
            3: [M.close("a"), M.close("a")],
            4: [M.send("b", 0)],
        },
    )
    s = run(cfg, ("AltBuffer", (4, 0)), ("AltBlock", (1,)), ("AltBlock", (2,)), ("Close", (3,)))
    assert s.res[1] == (M.Result("closed", 1),)  # smallest index of task 1 on a
    assert s.res[2] == (M.Result("closed", 0),)
    assert s.res[3] == (M.Result("ok", -1),)
    assert all(not q for q in (*s.sendq.values(), *s.recvq.values()))  # withdrawn from b too
    assert s.st[1] == s.st[2] == M.READY
    s2 = run(
        cfg,
        ("AltBuffer", (4, 0)),
        ("AltBlock", (1,)),
        ("AltBlock", (2,)),
        ("Close", (3,)),
        ("CloseClosed", (3,)),
    )
    assert s2.res[3][-1] == M.Result("closed", -1)


def test_every_ready_case_is_a_choice() -> None:
    cfg = cfg_of(
        {"a": 1, "b": 1, "c": 0},
        {1: [M.send("a", 0), M.close("c")], 2: [M.alt(R("a"), S("b"), R("c"), S(None))]},
    )
    s = run(cfg, ("AltBuffer", (1, 0)), ("Close", (1,)))
    steps = {(a, p) for a, p in enabled(cfg, s) if p[0] == 2}
    assert steps == {("AltBuffer", (2, 0)), ("AltBuffer", (2, 1)), ("AltClosed", (2, 2))}


def test_block_none_and_select_forever() -> None:
    cfg = cfg_of(
        {"a": 0},
        {1: [M.nbrecv("a"), M.alt(block=False), M.alt(S(None)), M.send("a", 0)]},
        killable={1},
    )
    s = run(cfg, ("AltNone", (1,)), ("AltNone", (1,)), ("AltBlock", (1,)))
    assert s.res[1] == (M.NONE_R, M.NONE_R)
    assert s.st[1] == M.BLOCKED and not any(s.sendq.values()) and not any(s.recvq.values())
    assert enabled(cfg, s) == {("KillBlocked", (1,))}  # select {}: only a kill ends it
    s = run(cfg, ("AltNone", (1,)), ("AltNone", (1,)), ("AltBlock", (1,)), ("KillBlocked", (1,)))
    assert s.st[1] == M.DEAD and s.res[1][-1] == M.KILLED_R
    assert enabled(cfg, s) == {("Done", ())}


def test_kills() -> None:
    cfg = cfg_of({"a": 0}, {1: [M.alt(R("a"), S("a")), M.send("a", 0)], 2: [M.recv("a")]}, {1})
    s0 = cfg.initial()
    assert ("KillPending", (1,)) in enabled(cfg, s0)
    assert ("KillPending", (2,)) not in enabled(cfg, s0)  # not Killable
    s = run(cfg, ("AltBlock", (1,)), ("KillBlocked", (1,)))
    assert s.recvq["a"] == () and s.sendq["a"] == () and s.st[1] == M.DEAD
    assert s.pc[1] == 0  # the interrupted op is not completed
    # a kill racing a partner that already completed the op: the op stands
    s = run(cfg, ("AltBlock", (1,)), ("AltRendezvous", (2, 0)), ("KillPending", (1,)))
    assert s.res[1] == (M.Result("ok", 1),) and s.killreq[1]
    assert {a for a, p in enabled(cfg, s) if p and p[0] == 1} == {"Killed"}
    s = run(
        cfg,
        ("AltBlock", (1,)),
        ("AltRendezvous", (2, 0)),
        ("KillPending", (1,)),
        ("Killed", (1,)),
    )
    assert s.st[1] == M.DEAD and s.res[1] == (M.Result("ok", 1), M.KILLED_R)
    assert s.pc[1] == 1 and s.killreq[1]
    assert enabled(cfg, s) == {("Done", ())}


def test_done_only_when_everything_finished_or_dead() -> None:
    cfg = cfg_of({"a": 1}, {1: [M.send("a", 0)], 2: []})
    assert ("Done", ()) not in enabled(cfg, cfg.initial())
    s = run(cfg, ("AltBuffer", (1, 0)))
    assert enabled(cfg, s) == {("Done", ())}
    assert next(a for a, _, n in M.successors(cfg, s) if n == s) == "Done"


# --------------------------------------------------------------------------- reachable


def _all_configs() -> list[tuple[str, M.Config]]:
    out = [(name, ec.config()) for name, ec in equiv.EQUIV_CONFIGS.items() if not ec.slow]
    rng = random.Random(2024)
    for k in range(12):
        out.append((f"random{k}", tracegen.random_config(rng, tasks=3, chans=2, steps=3)))
    return out


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "cfg"), _all_configs(), ids=[n for n, _ in _all_configs()])
def test_invariants_and_exclusive_case_actions(name: str, cfg: M.Config) -> None:
    """On every reachable state: the spec's invariants hold, and exactly one case action is
    enabled for a ready case (none for a case that is not ready)."""
    ex = M.explore(cfg, cfg.initial())
    for s in ex.states:
        bad = M.violated_invariants(cfg, s)
        assert not bad, f"{name}: {bad} in\n{s.describe()}"
        for t in cfg.tasks:
            op = cfg.op(t, s.pc[t])
            if not isinstance(op, M.AltOp) or not M.can_step(s, t, op):
                continue
            for i, k in enumerate(op.cases):
                fired = [
                    f.__name__
                    for f in (M.AltBuffer, M.AltRendezvous, M.AltHandover, M.AltClosed)
                    if f(cfg, s, t, i, op) is not None
                ]
                # exactly one case action for a ready case, none for a case that is not
                assert len(fired) == (1 if M.ready(cfg, s, k) else 0), (fired, s.describe())


@pytest.mark.timeout(600)
def test_step_safety_on_every_edge() -> None:
    for name, ec in equiv.EQUIV_CONFIGS.items():
        if ec.slow:
            continue
        cfg = ec.config()
        ex = M.explore(cfg, cfg.initial())
        for a, b, act, _ in ex.edges:
            assert M.StepOK(cfg, ex.states[a], ex.states[b]), (name, act)
    # and it has teeth: a partner served twice (no_withdraw) breaks it
    cfg = equiv.EQUIV_CONFIGS["MCEquivB"].config()
    ex = M.explore(cfg, cfg.initial(), impl=tracegen.MUTANTS["no_withdraw"])
    assert any(not M.StepOK(cfg, ex.states[a], ex.states[b]) for a, b, _, _ in ex.edges)


@pytest.mark.timeout(600)
def test_equiv_configs_fire_every_action() -> None:
    for name, ec in equiv.EQUIV_CONFIGS.items():
        if ec.slow:
            continue
        ex = M.explore(ec.config(), ec.config().initial())
        counts = ex.action_counts()
        missing = set(M.ACTIONS) - set(counts)
        assert not missing, f"{name} never fires {missing}"


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("mutant", "invariant"),
    [
        ("lifo_buffer", "Conservation"),
        ("handover_drop", "Conservation"),
        ("no_withdraw", "QueueExact"),
    ],
)
def test_invariants_have_teeth(mutant: str, invariant: str) -> None:
    cfg = equiv.EQUIV_CONFIGS["MCEquivB"].config()
    ex = M.explore(cfg, cfg.initial(), impl=tracegen.MUTANTS[mutant])
    assert any(not M.INVARIANTS[invariant](cfg, s) for s in ex.states)


def test_to_tla_uses_the_specs_conventions() -> None:
    cfg = cfg_of({"a": 0}, {1: [M.recv("a")], 2: [M.alt(S(None), S("a"))]})
    s = run(cfg, ("AltBlock", (1,)), ("AltRendezvous", (2, 1)))
    v = M.to_tla(s)
    assert v["pc"] == (2, 2)
    assert v["res"] == (
        (tla.record(kind="ok", idx=1, val=(2, 1, 2)),),
        (tla.record(kind="ok", idx=2, val=()),),
    )
    assert v["recvq"] == tla.record(a=())
    s = run(cfg, ("AltBlock", (1,)))
    assert M.to_tla(s)["recvq"] == tla.record(a=((1, 1),))
    assert M.to_tla(s)["st"] == ("blocked", "ready")


def test_states_are_hashable_values() -> None:
    cfg = equiv.EQUIV_CONFIGS["MCEquivA"].config()
    a = M.explore(cfg, cfg.initial()).states
    b = M.explore(cfg, cfg.initial()).states
    assert a == b and len(set(a)) == len(a) and hash(a[5]) == hash(b[5])


# --------------------------------------------------------------------------- lockstep


def test_lockstep_model_api() -> None:
    m = M.Model({"a": 0, "b": 1}, [1, 2, 3], killable={3})
    assert m.enabled(1, M.send("b", "x"))[0].brief() == "AltBuffer(task=1, index=0) -> ok"
    m.apply("AltBuffer", 1, 0, M.send("b", "x"))
    choices = m.enabled(2, M.alt(R("a"), R("b")))
    assert [(c.action, c.index, c.result.val if c.result else None) for c in choices] == [
        ("AltBuffer", 1, "x")
    ]
    m.apply("AltBlock", 3, op=M.recv("a"))
    assert m.state.recvq["a"] == ((3, 0),)
    assert m.enabled(3, M.recv("a")) == []  # blocked: partners and kills act on it
    st = m.apply("AltRendezvous", 1, 0, M.send("a", ("any", "value")))
    assert (st.partner, st.pindex) == (3, 0)
    assert m.state.res[3][-1] == M.Result("ok", 0, ("any", "value"))
    with pytest.raises(M.NotEnabled, match=r"AltBlock\(task=2\) is not enabled; enabled for "):
        m.apply("AltBlock", 2, op=M.recv("b"))
    with pytest.raises(M.NotEnabled):
        m.apply("KillPending", 1)  # not killable
    m.apply("KillPending", 3)
    assert [c.action for c in m.enabled(3, M.recv("b"))] == ["Killed"]
    m.apply("Killed", 3, op=M.recv("b"))
    assert m.state.st[3] == M.DEAD
    assert m.program[3] == [M.recv("a"), M.recv("b")]
    for name in ("Conservation", "QueueExact", "AtMostOneCommit", "ValueOK"):
        assert M.INVARIANTS[name](m, m.state), name


def test_lockstep_rejects_unknown_channels_and_tasks() -> None:
    m = M.Model({"a": 0}, [1])
    with pytest.raises(KeyError):
        m.enabled(1, M.recv("zz"))
    with pytest.raises(KeyError):
        m.enabled(2, M.recv("a"))
    with pytest.raises(ValueError):
        m.add_chan("a", 1)
