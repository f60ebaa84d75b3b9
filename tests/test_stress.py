"""The stress runner (``stress/``): a short bounded run, determinism, replay files.

* a bounded multi-proc run passes every check;
* in one proc, a seed reproduces the schedule exactly;
* each check of ``stress.checks`` fires on a planted fault;
* a failure's replay file round-trips: re-checking the saved outcome finds the same
  failure, re-running the program (on the correct runtime) passes with the same schedule;
* truncated or malformed replay files give errors that name the line or the field;
* planted trace bugs are rejected by the Python checker (and TLC, if java is present) at
  the planted event;
* regression tests for the runtime problems the stress run found (all fixed).
"""

from __future__ import annotations

import copy
import json
import pickle
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import libtask9
from libtask9 import Channel, Deadlock, TraceRecorder, after, alt, alt_recv, new_proc, run
from libtask9.testing import check_trace

# stress/ lives at the repository root, beside tests/ ("python -m pytest" has it on the
# path already; a bare "pytest" does not).  Appended, so a PYTHONPATH copy of libtask9 wins.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from stress.__main__ import main as stress_main  # noqa: E402
from stress.checks import check_outcome  # noqa: E402
from stress.execute import Outcome, execute  # noqa: E402
from stress.program import Config, FormatError, Program, generate  # noqa: E402
from stress.replay import load, normalize_trace, replay, save  # noqa: E402
from stress.runner import RunOptions  # noqa: E402
from stress.runner import run as stress_run  # noqa: E402
from stress.tlccheck import plant_spurious_none, plant_swap  # noqa: E402

SMALL = Config(procs=2, tasks=2, channels=2, ops=10)


def _program(seed: int, config: Config = SMALL) -> Program:
    return generate(random.Random(seed), config)


def _good_outcome(config: Config, want: int = 30) -> tuple[int, Program, Outcome]:
    """A program (and its outcome) that passes every check, has >= want events and at
    least one receive served from a buffer."""
    for seed in range(1, 500):
        prog = _program(seed, config)
        out = execute(prog, seed)
        buffered = any(ev["action"] == "AltBuffer" and ev["ops"][ev["index"]][0] == "recv"
                       for ev in out.events)
        if len(out.events) >= want and buffered and check_outcome(prog, out).ok:
            return seed, prog, out
    raise AssertionError("no suitable program found")


@pytest.mark.timeout(60)
def test_short_bounded_run_passes(tmp_path: Path) -> None:
    opts = RunOptions(duration=3.0, seed=1234, config=SMALL, quiet=True,
                      failures_dir=tmp_path)
    s = stress_run(opts)
    assert s.failures == [] and s.aborted is None, s.report()
    assert s.programs > 10 and s.events > 100
    assert 0 < s.untraced < s.programs
    assert not list(tmp_path.iterdir())


@pytest.mark.timeout(60)
def test_cli_run_reports_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = stress_main(["run", "--duration", "1", "--seed", "7", "--procs", "2", "--tasks", "2",
                      "--failures-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "programs run" in out and "events checked" in out and "failures        0" in out


@pytest.mark.timeout(60)
def test_one_proc_seed_reproduces_the_schedule() -> None:
    config = Config(procs=1, tasks=4, channels=2, ops=12)
    for seed in (3, 4, 5):
        prog = _program(seed, config)
        a = execute(prog, seed)
        b = execute(prog, seed)
        assert normalize_trace(a.events, a.task_ids, a.chan_ids) == normalize_trace(
            b.events, b.task_ids, b.chan_ids)
        assert a.obs == b.obs
        assert check_outcome(prog, a).ok


@pytest.mark.timeout(60)
def test_each_check_fires_on_a_planted_fault() -> None:
    _, prog, out = _good_outcome(SMALL)
    # results: a task "observes" a second result the trace does not have (resumed twice)
    g = next(g for g, obs in enumerate(out.obs) if any(o["res"][0] == "ok" for o in obs))
    o = next(o for o in out.obs[g] if o["res"][0] == "ok")
    twice = copy.deepcopy(out)
    twice.obs[g].insert(twice.obs[g].index(o), copy.deepcopy(o))
    assert "results" in {f.check for f in check_outcome(prog, twice).failures}
    # conservation: a value vanishes from a channel's final buffer or from a receiver
    lost = copy.deepcopy(out)
    lost.buffers = [[] for _ in lost.buffers]
    for obs in lost.obs:
        obs[:] = [x for x in obs if not (x["res"][0] == "ok" and isinstance(x["res"][2], list))]
    assert "conservation" in {f.check for f in check_outcome(prog, lost).failures}
    # trace: an event the oracle does not allow (a receive of a value nobody sent)
    bad = copy.deepcopy(out)
    k = next(k for k, ev in enumerate(bad.events)
             if ev["action"] == "AltBuffer" and ev["ops"][ev["index"]][0] == "recv")
    bad.events[k]["value"] = [99, 99, 99]
    v = check_outcome(prog, bad)
    assert v.failures[0].check == "trace" and v.failures[0].index == k
    # hang and error are reported first
    hung = copy.deepcopy(out)
    hung.hang = True
    hung.errors = ["boom"]
    assert [f.check for f in check_outcome(prog, hung).failures][:2] == ["error", "hang"]


@pytest.mark.timeout(60)
def test_deadlock_verdict_is_checked_against_the_oracle() -> None:
    prog = Program(caps=[0], procs=[[0], [1]], tasks=[[["recv", 0]], [["yield"]]])
    out = execute(prog, 1)
    assert out.deadlock == [out.task_ids[0]]
    assert check_outcome(prog, out).ok
    wrong = copy.deepcopy(out)
    wrong.deadlock = None  # the runtime "finished" with a task blocked
    assert "deadlock" in {f.check for f in check_outcome(prog, wrong).failures}


def _saved_failure(tmp_path: Path) -> tuple[Path, int, Program]:
    """A replay file for a planted 'results' failure (the trace itself is intact)."""
    config = Config(procs=1, tasks=3, channels=2, ops=12)
    seed, prog, out = _good_outcome(config)
    for obs in out.obs:
        for o in obs:
            if o["res"][0] == "ok" and isinstance(o["res"][2], list):
                o["res"][2] = [99, 99, 99]
                break
        else:
            continue
        break
    verdict = check_outcome(prog, out)
    assert not verdict.ok
    path = save(tmp_path, run_seed=None, seed=seed, config=config, prog=prog, out=out,
                verdict=verdict)
    return path, seed, prog


@pytest.mark.timeout(60)
def test_replay_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, seed, prog = _saved_failure(tmp_path)
    rp = load(path)
    assert rp.seed == seed and rp.program == prog and rp.check == "results"
    res = replay(rp, runs=2)
    assert not res.saved.ok and res.saved.failures[0].check == "results"
    assert all(v.ok for v in res.reruns)  # the runtime itself is fine
    assert res.same_schedule == [True, True]  # one proc: the seed gives the same schedule
    assert stress_main(["replay", str(path)]) == 1
    out = capsys.readouterr().out
    assert "saved trace re-checked: FAILED: check 'results'" in out
    assert "schedule reproduced exactly" in out


def _rewrite(path: Path, edit: Any) -> Path:
    obj = json.loads(path.read_text())
    edit(obj)
    bad = path.with_name("bad.json")
    bad.write_text(json.dumps(obj, indent=1))
    return bad


@pytest.mark.timeout(60)
def test_malformed_replay_files_name_the_line_or_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _, _ = _saved_failure(tmp_path)
    text = path.read_text()
    trunc = tmp_path / "trunc.json"
    trunc.write_text(text[: len(text) * 2 // 3])
    with pytest.raises(FormatError, match=r"line \d+ column \d+: malformed JSON.*truncated"):
        load(trunc)
    cases: list[tuple[Any, str]] = [
        (lambda o: o.update(seed="x"), "field 'seed' must be an integer"),
        (lambda o: o.update(version=99), "field 'version': unsupported version 99"),
        (lambda o: o.update(format="pickle"), "field 'format'"),
        (lambda o: o["config"].pop("ops"), r"config\.ops is missing"),
        (lambda o: o["program"]["tasks"][0].__setitem__(0, ["sned", 0]),
         r"program\.tasks\[0\]\[0\]: not a step"),
        (lambda o: o["trace"][3].__setitem__("action", "Bogus"),
         r"field trace\[3\]: unknown action 'Bogus'"),
        (lambda o: o.pop("outcome"), "field 'outcome' is missing"),
    ]
    for edit, pattern in cases:
        with pytest.raises(FormatError, match=pattern):
            load(_rewrite(path, edit))
    lines = text.splitlines()
    row = "  " + json.dumps(json.loads(text)["trace"][3], separators=(",", ":")) + ","
    line_of_event = lines.index(row) + 1
    lines[line_of_event - 1] = row.replace('"action":"', '"action":"X')
    bad = tmp_path / "bad_event.json"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=rf"trace\[3\] \(line {line_of_event}\)"):
        load(bad)
    pick = tmp_path / "evil.json"
    pick.write_bytes(pickle.dumps({"not": "json"}))
    with pytest.raises(FormatError, match=r"never pickle|malformed JSON"):
        load(pick)
    assert stress_main(["replay", str(trunc)]) == 2
    assert "truncated" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_planted_trace_bugs_are_rejected_at_the_planted_event() -> None:
    found = 0
    for seed in range(1, 200):
        out = execute(_program(seed, Config(2, 3, 2, 20)), seed)
        for plant in (plant_swap, plant_spurious_none):
            planted = plant(out.events)
            if planted is not None:
                bad, k = planted
                rep = check_trace(bad)
                assert not rep.ok and rep.index == k, str(rep)
                found += 1
        if found >= 6:
            break
    assert found >= 6


@pytest.mark.tlc
@pytest.mark.timeout(180)
def test_tlc_rejects_a_planted_bug_at_the_same_event() -> None:
    from libtask9.testing import tlc_validate
    from libtask9.testing.tla import java_available
    from stress.tlccheck import SPEC_DIR

    if not java_available():
        pytest.skip("java / tla2tools.jar not available")
    for seed in range(1, 100):
        events = execute(_program(seed, Config(2, 3, 2, 20)), seed).events
        planted = plant_spurious_none(events) if len(events) <= 150 else None
        if planted is not None:
            break
    assert planted is not None
    bad, k = planted
    res = tlc_validate(bad, spec_dir=SPEC_DIR)
    assert not res.accepted and res.first_bad_index == k == check_trace(bad).index


# --------------------------------------------------------------------------- findings


def _unblock(ch: Channel[Any]) -> None:
    """Close ``ch`` from a plain thread, so that a hung proc can finish (test cleanup)."""
    with libtask9._world.chanlock:
        libtask9._chan.close_internal_locked(ch)


@pytest.mark.timeout(30)
# Regression: found by the stress run; fixed by the deadlock check on proc exit (ProcExit).
def test_deadlock_is_declared_when_the_last_busy_proc_exits() -> None:
    c: Channel[int] = Channel(0)
    box: dict[str, BaseException] = {}

    def main() -> None:
        new_proc(c.recv)  # blocks forever: nobody sends
        new_proc(time.sleep, 0.2)  # busy until the others are idle, then exits
        c.recv()

    def go() -> None:
        try:
            run(main)
        except BaseException as e:  # Deadlock; or ChannelClosed after the cleanup below
            box["e"] = e

    th = threading.Thread(target=go, daemon=True)
    th.start()
    th.join(10)
    hung = th.is_alive()
    if hung:
        _unblock(c)
        th.join(5.0)
    assert not hung and isinstance(box.get("e"), Deadlock)


@pytest.mark.timeout(30)
# Regression: found by the stress run; fixed by a deadlock re-check after timers fire.
def test_deadlock_is_declared_after_the_last_timer_fires() -> None:
    c: Channel[int] = Channel(0)
    box: dict[str, BaseException] = {}

    def main() -> None:
        t = after(50)  # noqa: F841 - a pending timer, nobody reads its channel
        c.recv()

    def go() -> None:
        try:
            run(main)
        except BaseException as e:  # Deadlock; or ChannelClosed after the cleanup below
            box["e"] = e

    th = threading.Thread(target=go, daemon=True)
    th.start()
    th.join(2.0)
    hung = th.is_alive()
    if hung:
        _unblock(c)
        th.join(5.0)
    assert not hung and isinstance(box.get("e"), Deadlock)


@pytest.mark.timeout(30)
# Regression: found by the stress run; an all-nil alt is now traced.
def test_all_nil_alt_is_traced() -> None:
    rec = TraceRecorder()
    ch: Channel[int] = Channel(0)

    def victim() -> None:
        alt(alt_recv(None))

    def main() -> None:
        v = libtask9.new_task(victim)
        libtask9.yield_()
        v.kill()
        ch.nbsend(1)

    with libtask9.tracing(rec):
        Channel(0)
        run(main)
    assert check_trace(rec.events).ok, str(check_trace(rec.events))


def test_every_planted_bug_still_applies_to_the_runtime() -> None:
    """Each mutant's edits match the runtime's current source exactly once (a refactoring
    that moves the code under a mutant must move the mutant too, or the harness reports
    "edit does not apply" only when CI runs it)."""
    from pathlib import Path

    from stress.mutants import MUTANTS

    pkg = Path(libtask9.__file__).resolve().parent
    bad = [(m.name, e.file) for m in MUTANTS for e in m.edits
           if (pkg / e.file).read_text().count(e.search) != 1]
    assert bad == []
