"""The lifecycle stress's TaskGroup blocks, timeout races and virtual-clock runs (issues 11
and 12; ``stress/lc_structured.py``).

* the generator's invariants for groups and races, and the invariant checker rejecting
  programs that break them;
* programs with each kind of group and race end as constructed, on the real clock and
  on a ``VirtualClock(autojump=True)`` (where the end time is the critical path);
* the checks catch wrong observations: a duplicated value, a lost value, a value whose
  send a timeout withdrew, an ExceptionGroup with the wrong members, a race with both
  outcomes, a trace without its timeout interruption, a wrong virtual end time;
* the oracle sees the lifecycle traces through ``oracle_view`` and renames a task after
  each timeout interruption (``incarnations``).
"""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from libtask9.testing import check_trace
from libtask9.testing.tracecheck import incarnations

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from stress.lc_checks import check_lc  # noqa: E402
from stress.lc_execute import LcOutcome, execute_lc  # noqa: E402
from stress.lc_program import (  # noqa: E402
    GROUP_KINDS,
    MODES,
    PLANTED,
    RACE_PARTNERS,
    LcProgram,
    expected_outcome,
    generate_lc,
    invariant_violations,
)
from stress.lc_replay import LcReplay, replay_lc, save_lc  # noqa: E402
from stress.lc_runner import LcOptions, run_lifecycle  # noqa: E402
from stress.lc_structured import (  # noqa: E402
    oracle_view,
    timeout_interruptions,
    virtual_end,
)
from stress.replay import load  # noqa: E402


def _programs(n: int = 600) -> list[LcProgram]:
    return [generate_lc(random.Random(seed), MODES[seed % 3]) for seed in range(n)]


def _find(pred: Any, mode: str = "normal", limit: int = 4000) -> tuple[int, LcProgram]:
    for seed in range(limit):
        prog = generate_lc(random.Random(seed), mode)
        if pred(prog):
            return seed, prog
    raise AssertionError("no such program")


def _run_ok(pred: Any, virtual: bool = False) -> tuple[LcProgram, LcOutcome]:
    seed, prog = _find(pred)
    out = execute_lc(prog, seed, virtual=virtual)
    v = check_lc(prog, out)
    assert v.ok, v.failures[0].message
    return prog, out


def _checks(prog: LcProgram, out: LcOutcome) -> dict[str, str]:
    return {f.check: f.message for f in check_lc(prog, out).failures}


def _races(prog: LcProgram) -> list[tuple[int, int, list[Any]]]:
    return [(g, s, st) for g, steps in enumerate(prog.tasks) for s, st in enumerate(steps)
            if st[0] == "race"]


# --------------------------------------------------------------------------- generator


@pytest.mark.timeout(60)
def test_generated_groups_and_races_keep_their_construction() -> None:
    seen: set[Any] = set()
    for prog in _programs():
        assert invariant_violations(prog) == [], prog
        rank, role = prog.ranks, prog.roles
        in_procs = {g for gs in prog.procs for g in gs}
        chan_group = {c: k for k, grp in enumerate(prog.groups) for c in grp["chans"]}
        for k, grp in enumerate(prog.groups):
            owner, members = grp["owner"], grp["members"]
            seen.add(("group", grp["kind"]))
            assert role[owner] in ("main", "normal")
            assert [g for g, steps in enumerate(prog.tasks) if ["group", k] in steps] == [owner]
            assert set(grp["procs"]) <= set(members)
            seen.update(("member proc", grp["kind"]) for _ in grp["procs"])
            for h in members:
                assert role[h] == "member" and h not in in_procs
                assert rank[h] < rank[owner]  # the owner waits for its members
                for step in prog.tasks[h]:
                    assert step[0] in ("sleep", "alt_after", "ticker", "yield", "send",
                                       "recv", "race", "block", "fail")
                    if step[0] in ("send", "recv"):
                        assert chan_group.get(step[1]) == k  # only its group's channels
                    if step[0] == "recv":  # members wait only on lower-ranked members
                        for h2 in members:
                            if ["send", step[1]] in prog.tasks[h2]:
                                assert rank[h2] < rank[h]
                    if step[0] == "block":
                        assert grp["kind"] != "ok" and step == prog.tasks[h][-1]
                        seen.add(("blocking member", grp["kind"]))
            failing = [h for h in members if prog.tasks[h][-1:] == [["fail"]]]
            assert len(failing) == (grp["kind"] == "fail")
            for h in failing:  # the failing member waits on nothing
                assert not any(st[0] in ("send", "recv", "block") for st in prog.tasks[h])
            for c in grp["chans"]:
                nsend = sum(st == ["send", c] for h in members for st in prog.tasks[h])
                nrecv = sum(st == ["recv", c] for h in members for st in prog.tasks[h])
                if grp["kind"] == "ok":
                    assert nrecv <= nsend <= prog.caps[c]
                elif nsend > prog.caps[c] or nrecv > nsend:
                    seen.add(("may block", grp["kind"]))
        for g, steps in enumerate(prog.tasks):
            for step in steps:
                if step[0] in ("send", "recv") and role[g] != "member":
                    assert step[1] not in chan_group  # group channels stay in the group
        for g, _, step in _races(prog):
            _, how, d, partner, where, deadline, p, hold, yld = step
            assert role[g] in ("main", "normal", "member")
            assert partner in RACE_PARTNERS[d] and 1 <= deadline <= 3
            if hold:
                assert where == "task" and p == deadline + 2  # past the deadline
            else:
                assert p in (deadline - 1, deadline, deadline + 1)
            seen.update({("race", how, d, partner, where), ("hold", hold), ("yield", yld)})
        assert LcProgram.from_json(json.loads(json.dumps(prog.to_json()))) == prog
    assert {("group", k) for k in GROUP_KINDS} <= seen
    assert {("blocking member", "fail"), ("blocking member", "cancel"), ("may block", "fail"),
            ("may block", "cancel"), ("member proc", "ok"), ("member proc", "fail"),
            ("hold", True), ("yield", True)} <= seen
    assert {("race", how, d, partner, where) for how in ("move_on", "timeout")
            for d, ps in RACE_PARTNERS.items() for partner in ps
            for where in ("task", "proc")} <= seen


@pytest.mark.timeout(60)
def test_the_invariant_checker_rejects_broken_groups_and_races() -> None:
    _, prog = _find(lambda p: any(
        grp["kind"] == "fail" and grp["chans"] and len(grp["members"]) >= 2
        for grp in p.groups) and bool(_races(p)) and bool(p.victims()))
    assert invariant_violations(prog) == []
    k = next(k for k, grp in enumerate(prog.groups) if grp["kind"] == "fail" and grp["chans"])
    grp = prog.groups[k]
    failing = prog.failing(k)
    assert failing is not None
    other = next(h for h in grp["members"] if h != failing)
    c = grp["chans"][0]

    def broken(edit: Any) -> list[str]:
        p = copy.deepcopy(prog)
        edit(p)
        return invariant_violations(p)

    def rank_above_owner(p: LcProgram) -> None:
        top = max(p.ranks)
        p.ranks[other] = top + 1
        p.ranks[0] = top + 2
    assert any(f"member t{other} ranked" in m for m in broken(rank_above_owner))
    assert any("0 failing members" in m
               for m in broken(lambda p: p.tasks[failing].pop()))
    assert any("only a member of a fail group fails" in m or "2 failing members" in m
               for m in broken(lambda p: p.tasks[other].append(["fail"])))
    assert any(f"the failing member t{failing} may wait" in m
               for m in broken(lambda p: p.tasks[failing].insert(0, ["recv", c])))
    assert any("used outside its group" in m
               for m in broken(lambda p: p.tasks[0].insert(0, ["send", c])))
    assert any("not once by its owner" in m
               for m in broken(lambda p: p.tasks[other].insert(0, ["group", k])))
    assert any("a victim task does not race" in m for m in broken(
        lambda p: p.tasks[p.victims()[0]].insert(0, _races(prog)[0][2])))
    ok_prog = _find(lambda p: any(g["kind"] == "ok" for g in p.groups))[1]
    h = next(grp["members"][0] for grp in ok_prog.groups if grp["kind"] == "ok")
    p2 = copy.deepcopy(ok_prog)
    p2.tasks[h].append(["block", "chan"])
    assert any("only victims, stuck tasks and members of fail or cancel groups block" in m
               for m in invariant_violations(p2))


# --------------------------------------------------------------------------- runs


@pytest.mark.timeout(120)
@pytest.mark.parametrize("virtual", [False, True], ids=["real clock", "virtual clock"])
def test_each_kind_of_group_and_race_ends_as_constructed(virtual: bool) -> None:
    for kind in GROUP_KINDS:
        prog, out = _run_ok(lambda p, kind=kind: any(
            g["kind"] == kind and g["procs"] for g in p.groups), virtual)
        for g, steps in enumerate(prog.tasks):
            for s, step in enumerate(steps):
                if step[0] == "group" and prog.groups[step[1]]["kind"] == kind:
                    res = out.res[g][s]
                    f = prog.failing(step[1])
                    assert res[1:3] == (["raised", [["PlantedFailure", PLANTED.format(f)]]]
                                        if kind == "fail" else ["ok", []])
                    assert all(res[3])
    prog, out = _run_ok(lambda p: len(_races(p)) >= 3, virtual)
    assert out.run_name() == expected_outcome(prog)[0]
    if virtual:
        assert out.vclock is not None
        prog, out = _run_ok(lambda p: virtual_end(p) is not None and bool(p.groups)
                            and bool(_races(p)) and (virtual_end(p) or 0) > 3, virtual)
        assert out.vclock * 1000 == pytest.approx(virtual_end(prog))


@pytest.mark.timeout(90)
def test_a_short_run_with_groups_races_and_virtual_clocks_passes(tmp_path: Path) -> None:
    opts = LcOptions(duration=4.0, seed=11, failures_dir=tmp_path, quiet=True, interrupts=0.0,
                     virtual=0.5)
    s = run_lifecycle(opts)
    assert s.failures == [] and s.aborted is None, s.report()
    assert {"ok ok", "fail raised", "cancel ok"} <= set(s.groups)
    assert s.members_killed > 0 and s.timeouts_raised > 0 and s.timeout_events > 0
    assert {"completed", "expired"} <= set(s.races)
    assert s.virtual > 0 and s.virtual_exact > 0 and s.values > 0
    assert "timeout races" in s.report() and "open bugs" in s.report()


# --------------------------------------------------------------------------- checks


def _expired_send_race(p: LcProgram) -> bool:
    """A race of a send against nbrecv whose partner comes after the deadline (so on a
    virtual clock it expires), and some program channel traffic."""
    return (p.mode == "normal" and any(st[2] == "send" and st[6] > st[5] and not st[7]
                                       for _, _, st in _races(p))
            and any(st[0] == "recv" for steps in p.tasks for st in steps))


@pytest.mark.timeout(60)
def test_conservation_catches_a_duplicated_a_lost_and_a_withdrawn_value() -> None:
    prog, out = _run_ok(_expired_send_race, virtual=True)
    g, s, _step = next((g, s, st) for g, s, st in _races(prog)
                      if st[2] == "send" and st[6] > st[5] and not st[7])
    assert out.res[g][s][1] is False  # expired: the send was withdrawn
    recv = next(o for o in out.obs if o[1] == "recv" and o[2].startswith("c"))
    dup = copy.deepcopy(out)
    dup.obs.append(list(recv))
    msgs = _checks(prog, dup)
    assert "is there 2 times" in msgs["conservation"]
    assert "the tasks received" in msgs["oracle"]  # (the trace delivered it once)
    lost = copy.deepcopy(out)
    lost.obs.remove(recv)
    assert "was lost: neither received nor buffered" in _checks(prog, lost)["conservation"]
    ghost = copy.deepcopy(out)
    ghost.obs.append([f"p{g}.{s}", "recv", f"r{g}.{s}", [g, s]])
    assert "the timeout withdrew the send" in _checks(prog, ghost)["conservation"]
    buffered = copy.deepcopy(out)
    buffered.chans[recv[2]]["buf"].append(recv[3])  # received and still buffered
    assert "is there 2 times" in _checks(prog, buffered)["conservation"]


@pytest.mark.timeout(60)
def test_the_groups_check_catches_a_wrong_exception_group() -> None:
    prog, out = _run_ok(lambda p: any(g["kind"] == "fail" and len(g["members"]) >= 2
                                      for g in p.groups))
    k = next(k for k, g in enumerate(prog.groups) if g["kind"] == "fail"
             and len(g["members"]) >= 2)
    owner = prog.groups[k]["owner"]
    s = prog.tasks[owner].index(["group", k])
    failing = prog.failing(k)
    other = next(h for h in prog.groups[k]["members"] if h != failing)
    for edit, what in [
        (lambda r: r[2].append(["ValueError", "another"]), "exactly"),
        (lambda r: r[2].__setitem__(0, ["PlantedFailure", PLANTED.format(other)]), "exactly"),
        (lambda r: (r.__setitem__(1, "ok"), r[2].clear()), "must raise an ExceptionGroup"),
        (lambda r: r[3].__setitem__(0, False), "had not finished when the block ended"),
    ]:
        wrong = copy.deepcopy(out)
        edit(wrong.res[owner][s])
        assert what in _checks(prog, wrong)["groups"]
    # a member that blocks for ever but was not killed; the failing member not failing
    blocker = next((h for h in prog.groups[k]["members"]
                    if prog.tasks[h][-1:] == [["block", "chan"]]), None)
    if blocker is not None:
        wrong = copy.deepcopy(out)
        wrong.ended[blocker] = "done"
        assert "neither finished nor killed" in _checks(prog, wrong)["groups"]
    wrong = copy.deepcopy(out)
    wrong.ended[failing] = "TaskKilled"
    assert "(the failing one) ended TaskKilled" in _checks(prog, wrong)["groups"]
    # a member of an ok group killed by its group (a kill event in the trace)
    prog2, out2 = _run_ok(lambda p: any(g["kind"] == "ok" for g in p.groups))
    h = next(g["members"][0] for g in prog2.groups if g["kind"] == "ok")
    wrong = copy.deepcopy(out2)
    wrong.events.append({"action": "KillPending", "run": out2.world, "task": out2.task_ids[h],
                         "proc": None, "by": None, "reason": "group", "seq": 10**9})
    assert "was killed by its group" in _checks(prog2, wrong)["groups"]


@pytest.mark.timeout(60)
def test_the_races_check_catches_an_inconsistent_outcome() -> None:
    prog, out = _run_ok(lambda p: p.mode == "normal" and any(
        st[2] == "recv" and st[3] == "nbsend" and st[6] < st[5] and st[6] >= 1
        for _, _, st in _races(p)), virtual=True)
    g, s, _ = next((g, s, st) for g, s, st in _races(prog) if st[2] == "recv"
                   and st[3] == "nbsend" and 1 <= st[6] < st[5])
    res = out.res[g][s]
    assert res[1] is True and res[6] == ["nbsend", True]  # the partner came in time
    for edit, what in [
        (lambda r: r.__setitem__(6, ["nbsend", False]), "the partner"),
        (lambda r: r.__setitem__(5, None), "but got None"),
        (lambda r: r.__setitem__(4, True), "Timeout"),
        (lambda r: (r.__setitem__(1, False), r.__setitem__(2, True),
                    r.__setitem__(3, True), r.__setitem__(4, r[4] or False),
                    r.__setitem__(5, None), r.__setitem__(6, ["nbsend", False])),
         "virtual clock: the partner commits at"),
    ]:
        wrong = copy.deepcopy(out)
        edit(wrong.res[g][s])
        if prog.tasks[g][s][1] == "timeout" and wrong.res[g][s][2]:
            wrong.res[g][s][4] = True
        assert what in _checks(prog, wrong)["races"]


def _expired_then_more(p: LcProgram) -> bool:
    """An expiring send race followed, in the same task, by more channel operations."""
    return _expired_send_race(p) and any(
        st[2] == "send" and st[6] > st[5] and not st[7]
        and any(x[0] in ("send", "recv", "race") for x in p.tasks[g][s + 1:])
        for g, s, st in _races(p))


@pytest.mark.timeout(60)
def test_the_oracle_sees_timeout_interruptions_as_new_incarnations() -> None:
    prog, out = _run_ok(_expired_then_more, virtual=True)
    g, _s, _ = next((g, s, st) for g, s, st in _races(prog)
                   if st[2] == "send" and st[6] > st[5] and not st[7]
                   and any(x[0] in ("send", "recv", "race") for x in prog.tasks[g][s + 1:]))
    tid = out.task_ids[g]
    assert tid is not None and timeout_interruptions(out.events)[tid] == out.tmo[g] >= 1
    view = oracle_view(out.events)
    assert check_trace(view).ok
    renamed = {ev.get("task") for ev in incarnations(view)} - {ev.get("task") for ev in view}
    assert renamed  # after its timeout, the task is a new task for the spec
    # without its KillBlocked(reason="timeout"), the trace is wrong
    cut = copy.deepcopy(out)
    cut.events = [ev for ev in out.events if not (ev.get("reason") == "timeout"
                                                  and ev["task"] == tid)]
    assert "oracle" in _checks(prog, cut)
    # the raw lifecycle trace (alts against after(), kills of sleepers) needs the view
    _prog2, out2 = _run_ok(lambda p: p.mode == "normal" and any(
        st[0] == "alt_after" for steps in p.tasks for st in steps))
    assert not check_trace(out2.events).ok and check_trace(oracle_view(out2.events)).ok


@pytest.mark.timeout(60)
def test_the_clock_check_catches_a_wrong_virtual_end_time(tmp_path: Path) -> None:
    prog, out = _run_ok(lambda p: (virtual_end(p) or 0) >= 4 and bool(p.groups),
                        virtual=True)
    want = virtual_end(prog)
    assert want is not None and out.vclock is not None
    assert out.vclock * 1000 == pytest.approx(want)
    for now, what in [(want + 1, "critical path"), (0.0, "a task completed timed steps"),
                      (10**7, "more than the")]:
        wrong = copy.deepcopy(out)
        wrong.vclock = now / 1000
        assert what in _checks(prog, wrong)["clock"]
    # a replay file keeps the groups, the observations and the clock
    wrong = copy.deepcopy(out)
    wrong.vclock = (want + 1) / 1000
    from stress.lc_checks import check_lc as check

    path = save_lc(tmp_path, run_seed=1, seed=2, prog=prog, out=wrong, verdict=check(prog, wrong))
    rp = load(path)
    assert isinstance(rp, LcReplay) and rp.program == prog and rp.check == "clock"
    assert rp.outcome.obs == out.obs and rp.outcome.vclock == wrong.vclock
    res = replay_lc(rp)  # the re-run is on a virtual clock too, and ends on time
    assert not res.saved.ok and [v.ok for v in res.reruns] == [True]


def test_the_oracle_view_keeps_a_kill_of_a_task_blocked_in_sleep_forever() -> None:
    """``sleep(math.inf)`` is traced as an AltBlock with no case (the spec's block for
    ever): its later KillBlocked is the oracle's KillBlocked, not a KillPending of a task
    between two operations (CI's lifecycle stress hit this right after sleep(inf) became
    traced)."""
    ev = [{"action": "TaskCreate", "run": 1, "proc": 1, "task": 2, "by": None, "seq": 1,
           "t": 0.0, "name": "t"},
          {"action": "AltBlock", "run": 1, "task": 2, "proc": 1, "ops": [], "vals": [],
           "block": True, "index": -1, "value": None, "sleep": True, "seq": 2, "t": 0.0},
          {"action": "KillBlocked", "run": 1, "task": 2, "proc": 1, "by": 3, "seq": 3,
           "t": 0.0}]
    assert [e["action"] for e in oracle_view(ev)] == ["AltBlock", "KillBlocked"]
