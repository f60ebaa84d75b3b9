"""The lifecycle oracle (libtask9.procmodel) on its own: the bounded models of
spec/MCProcs.tla reach exactly the state counts and depths TLC reports (spec/models.json),
every state satisfies the spec's invariants, and the rules of spec/Procs.tla hold step by
step on hand-made scenarios."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from libtask9 import procmodel as P
from libtask9.testing import equiv

SPEC = Path(__file__).resolve().parents[1] / "spec"

#: MC model (procmodel.MC_CONFIGS) -> the models.json entries that use its constants.
MODELS = {"Duo": "procs_duo", "Io": "procs_io", "Live": "procs_live", "Teeth": "procs_teeth",
          "Seq": "procs_seq", "Two": "procs_two", "LiveBig": "procs_live_big",
          "TwoBig": "procs_two_big", "Safety": "procs_safety", "Full": "procs_full",
          "SafetyBig": "procs_safety_big"}
BIG = {"TwoBig", "Safety", "Full", "SafetyBig"}


def _expected() -> dict[str, dict[str, Any]]:
    data = json.loads((SPEC / "models.json").read_text())
    return {m["name"]: m["expect"] for m in data["models"]}


def _params() -> list[Any]:
    slow = pytest.mark.skipif(not os.environ.get("LIBTASK9_SLOW"),
                              reason="a large model: set LIBTASK9_SLOW=1")
    return [pytest.param(n, marks=[pytest.mark.slow, slow] if n in BIG else [])
            for n in MODELS]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", _params())
def test_models_have_tlcs_state_counts_and_invariants(name: str) -> None:
    cfg = P.MC_CONFIGS[name]
    bad: list[tuple[str, int]] = []

    def check(s: P.State) -> None:
        for inv in P.violated_invariants(cfg, s):
            bad.append((inv, len(bad)))

    ex = P.explore(cfg, check=check)
    want = _expected()[MODELS[name]]
    assert (len(ex.states), ex.depth) == (want["states"], want["depth"])
    assert not bad, f"{name}: invariants violated: {bad[:5]}"


def test_every_action_fires_in_the_equivalence_model() -> None:
    ex = P.explore(equiv.EQUIV_PROCS_CONFIG)
    assert set(ex.action_counts()) == set(P.ACTIONS)
    assert sorted(P.ACTIONS) == sorted(set(P.TRACED_ACTIONS) | set(P.HIDDEN_ACTIONS))


# --------------------------------------------------------------------------- scenarios

CFG = equiv.EQUIV_PROCS_CONFIG  # M (m1 main, m2), Q (q1)


def run(cfg: P.Config, *steps: tuple[str, tuple[Any, ...]], pick: int = 0) -> P.State:
    s = cfg.initial()
    for name, params in steps:
        s = P.apply(cfg, s, name, *params)[pick]
    return s


def names(cfg: P.Config, s: P.State) -> set[str]:
    return {a for a, _, _ in P.successors(cfg, s)}


def test_apply_raises_for_a_step_that_is_not_enabled() -> None:
    s = CFG.initial()
    with pytest.raises(P.NotEnabled):
        P.apply(CFG, s, "Dispatch", "m1")
    with pytest.raises(ValueError):
        P.apply(CFG, s, "NoSuchAction")
    assert names(CFG, s) == {"RunStart"}


START = (("RunStart", ("A",)), ("Dispatch", ("m1",)))


def test_a_proc_is_registered_before_its_thread_starts() -> None:
    s = run(CFG, *START, ("ProcCreate", ("m1", "Q")))
    assert s.get(CFG, "wprocs")["A"] == {"M", "Q"}
    assert s.get(CFG, "pc")["Q"] == "created"
    # main yields and goes idle: the created proc keeps the run from being declared
    s = P.apply(CFG, s, "Yield", "m1")[0]
    assert P.Dispatch(CFG, s, "m1")


def test_the_last_proc_to_go_idle_declares_and_wakes_every_parker() -> None:
    cfg = P.MC_CONFIGS["Live"]  # m1: newproc, block; q1: ready, block, after
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("ProcCreate", ("m1", "Q")),
            ("ChanBlock", ("m1",)), ("ProcIdle", ("M",)))
    assert s.get(cfg, "idle")["M"] and s.get(cfg, "parker")["M"] == "armed"
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("ProcCreate", ("m1", "Q")),
            ("ChanBlock", ("m1",)), ("ProcIdle", ("M",)), ("ProcStart", ("Q",)),
            ("Dispatch", ("q1",)), ("ChanBlock", ("q1",)), ("ProcIdle", ("Q",)))
    assert s.get(cfg, "deadlock")["A"] == (frozenset({"m1", "q1"}),)
    assert s.get(cfg, "phase")["A"] == "ending"
    assert s.get(cfg, "parker")["M"] == "sig"  # main's sleep returns: it acts on it
    assert not s.get(cfg, "idle")["Q"]  # the declaring proc un-idles itself
    assert P.NoFalseDeadlock(cfg, s)
    assert P.RunEnding(cfg, s, "M") == []  # main must wake first
    s = P.apply(cfg, s, "ProcWake", "M")[0]
    s = P.apply(cfg, s, "RunEnding", "M")[0]
    assert s.get(cfg, "cause")["A"] == "deadlock"
    assert s.get(cfg, "kill")["q1"] == "dying" and s.get(cfg, "remote")["Q"] == {"q1"}


def test_a_wake_before_the_sleep_is_kept_by_the_parker() -> None:
    cfg = P.MC_CONFIGS["Live"]
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("ProcCreate", ("m1", "Q")),
            ("ChanBlock", ("m1",)), ("ProcIdle", ("M",)), ("ProcStart", ("Q",)),
            ("Dispatch", ("q1",)), ("ChanReady", ("q1", "m1")))
    # readied before main entered the semaphore: un-idled, the parker released
    assert s.get(cfg, "pc")["M"] == "parking" and s.get(cfg, "parker")["M"] == "sig"
    assert not s.get(cfg, "idle")["M"] and s.get(cfg, "remote")["M"] == {"m1"}
    s = P.apply(cfg, s, "Park", "M")[0]
    s = P.apply(cfg, s, "Unpark", "M")[0]
    s = P.apply(cfg, s, "TakeRemote", "M")[0]
    assert P.Dispatch(cfg, s, "m1")


def test_a_timer_channel_fire_readies_a_chan_blocked_task_or_nobody() -> None:
    cfg = P.MC_CONFIGS["Live"]
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("ProcCreate", ("m1", "Q")),
            ("ChanBlock", ("m1",)), ("ProcIdle", ("M",)), ("ProcStart", ("Q",)),
            ("Dispatch", ("q1",)), ("TimerArm", ("q1", "after")))
    assert s.get(cfg, "ntimers")["A"] == 1 and s.get(cfg, "tc")["q1"] == "Q"
    s = P.apply(cfg, s, "TaskExit", "q1", False)[0]
    # Q exits while the run runs: its timer goes to main, whose parker is woken
    s = P.apply(cfg, s, "ProcExit", "Q")[0]
    assert s.get(cfg, "tc")["q1"] == "M" and s.get(cfg, "parker")["M"] == "sig"
    s = P.apply(cfg, s, "ProcWake", "M")[0]
    outs = P.TimerFire(cfg, s, "M", "q1", "chan")
    assert [o.get(cfg, "ts")["m1"] for o in outs] == ["blocked", "runnable"]
    assert all(o.get(cfg, "ntimers")["A"] == 0 for o in outs)


def test_interrupt_in_the_idle_wait_restores_idle_only_if_still_idle() -> None:
    cfg = P.MC_CONFIGS["Teeth"]  # M (m1), Q (q1); interrupts
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("ProcCreate", ("m1", "Q")),
            ("ChanBlock", ("m1",)), ("ProcIdle", ("M",)))
    i = P.apply(cfg, s, "Interrupt", "A")[0]
    assert i.get(cfg, "nidle")["A"] == 0 and i.get(cfg, "pc")["M"] == "loop"
    assert P.end_due(cfg, i, "M") == "interrupt"
    # a waker un-idled main first: the interrupt does not decrement again
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("ProcCreate", ("m1", "Q")),
            ("ChanBlock", ("m1",)), ("ProcIdle", ("M",)), ("ProcStart", ("Q",)),
            ("Dispatch", ("q1",)), ("ChanReady", ("q1", "m1")), ("Interrupt", ("A",)))
    assert s.get(cfg, "nidle")["A"] == 0 and P.IdleExact(cfg, s)


def test_main_killed_ends_the_run_while_its_proc_has_tasks() -> None:
    cfg = P.MC_CONFIGS["Io"]  # M (m1 main, m2); m1 and m2 killable
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("TaskCreate", ("m1", "m2")),
            ("ChanBlock", ("m1",)), ("Dispatch", ("m2",)), ("IoStart", ("m2",)),
            ("KillBlocked", ("m1",)), ("TakeRemote", ("M",)), ("Dispatch", ("m1",)))
    assert P.main_killed(cfg, s, "m1")
    s = P.apply(cfg, s, "TaskExit", "m1", False)[0]
    assert s.get(cfg, "fatalp")["A"] == "M" and P.has_live(cfg, s, "M")  # m2 lives
    assert P.end_due(cfg, s, "M") == "fatal"
    assert P.ProcIdle(cfg, s, "M") == []  # main's proc does not go on: the run ends
    s = P.apply(cfg, s, "RunEnding", "M")[0]
    assert s.get(cfg, "cause")["A"] == "fatal" and s.get(cfg, "kill")["m2"] == "dying"
    # killed during the run's own ending: no cause of its own (the run already ends)
    s = run(cfg, ("RunStart", ("A",)), ("Dispatch", ("m1",)), ("TaskCreate", ("m1", "m2")),
            ("ChanBlock", ("m1",)), ("Dispatch", ("m2",)), ("TaskExit", ("m2", False)),
            ("ProcIdle", ("M",)), ("RunEnding", ("M",)),
            ("Dispatch", ("m1",)))
    assert s.get(cfg, "cause")["A"] == "deadlock" and not P.main_killed(cfg, s, "m1")
    s = P.apply(cfg, s, "TaskExit", "m1", False)[0]
    assert s.get(cfg, "fatalp")["A"] == P.NONE


def test_to_tla_prints_functions_keyed_by_ids() -> None:
    from libtask9.testing import tla

    st = P.to_tla(CFG, CFG.initial())
    assert tla.format_value(st["pc"]) == '[M |-> "none", Q |-> "none"]'
    assert tla.format_value(st["deadlock"]) == "[A |-> <<>>]"
    assert set(st) == set(P.VARIABLES)
