"""The checks run on every lifecycle program's outcome.

In the order they are reported (the first failing one is the verdict):

``error``      nothing unexpected was raised: no exception in a task's script, no
               exception kept by a proc, nothing reported through the excepthook, no
               ``RuntimeWarning`` from the runtime (a proc that could not be stopped, a
               task that would not unwind), no ``KeyboardInterrupt`` after ``run()``.
``hang``       ``run()`` returned or raised within the watchdog bound.  The message says
               whether every task that should finish had finished (a **missed
               Deadlock** if the program expects one) and gives the procs' state.
``leftovers``  right after ``run()``: none of its procs' threads and not its IOProc's
               thread is alive, and its world has ended; after every batch, no
               ``libtask9-proc``/``libtask9-io`` thread at all and no live world.
``outcome``    ``run()`` did what the construction says (:func:`expected_outcome`):
               returned main's result, or raised ``Deadlock`` / ``TaskKilled`` /
               ``KeyboardInterrupt``.
``deadlock``   a ``Deadlock`` names exactly the stuck tasks, each of which had reached
               its final block; and (traced runs) it was declared only after every other
               program task had exited (no early Deadlock).
``scripts``    in ``normal`` mode every normal task (and main) finished its whole script,
               each victim was killed (``TaskKilled``), each stuck task reached its block
               if the run deadlocked; in every mode each step that completed returned what
               it must (the timer case of an alt, k increasing ticks, the iocall's own
               token, ``join`` True without timeout and only for a finished target,
               ``kill`` True in normal mode and for the kill of main).
``unwound``    every task that started ran its ``finally`` and every ``Task`` is done
               (interrupt mode: except at most one task of the main proc, where the single
               ``KeyboardInterrupt`` landed); tasks ended only as their role allows.
``values``     every value received on a channel was sent on it by a send step, none twice,
               each receiver got each sender's values in send order; in normal mode what is
               left in each channel is exactly what was sent and not received.
``trace``      (traced runs) the run's lifecycle events hang together: ``RunStart`` first,
               ``RunEnd`` last with the outcome ``run()`` gave, each proc registered
               (``ProcCreate``) before it starts (``ProcStart``), every created proc and
               task exited before ``RunEnd``, no ``IoDone`` without its ``IoStart``, at
               most one deadlock declaration (exactly when ``run()`` raised ``Deadlock``),
               made while no iocall was in flight.

Then the checks of groups, timeout races, conservation over every channel, the oracle
and the virtual clock (:mod:`stress.lc_structured`): ``groups``, ``races``,
``conservation``, ``oracle``, ``clock``.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from typing import Any

from .checks import Failure, Verdict
from .lc_execute import (
    KNOWN_ABANDONED_OWNER,
    KNOWN_ESCAPED_INTERRUPT,
    KNOWN_LATE_THREAD,
    KNOWN_LOST_INTERRUPT,
    KNOWN_MISSED_MEMBER,
    KNOWN_SWALLOWED_INTERRUPT,
    OPEN_BUGS,
    LcOutcome,
)
from .lc_program import (
    MAIN_RESULT,
    LcProgram,
    describe_lc_step,
    expected_outcome,
    timeout_value,
)
from .lc_structured import (
    STRUCTURED_CHECKS,
    check_clock,
    check_conservation_lc,
    check_groups,
    check_oracle,
    check_races,
    group_result_problem,
    race_result_problem,
)

__all__ = ["LC_CHECKS", "abandoned_owners", "check_lc", "known_bugs", "missed_members"]

LC_CHECKS = ("error", "hang", "leftovers", "outcome", "deadlock", "scripts", "unwound",
             "values", "trace", *STRUCTURED_CHECKS)


def known_bugs(prog: LcProgram, out: LcOutcome) -> list[str]:
    """The known runtime bugs (``KNOWN_BUGS`` of :mod:`stress.lc_execute`) whose
    fingerprint ``out`` shows."""
    found = []
    if out.late_threads:
        found.append("late_thread")
    if prog.mode == "interrupt" and out.lost_interrupt:
        found.append("lost_interrupt")
    if (prog.mode == "interrupt" and out.run_name() == "KeyboardInterrupt"
            and any(out.task_states[g] == "running" for g in prog.procs[0])):
        found.append("escaped_interrupt")
    if prog.mode == "interrupt" and out.swallowed:
        found.append("swallowed_interrupt")
    if abandoned_owners(prog, out):
        found.append("abandoned_owner")
    if missed_members(prog, out):
        found.append("missed_member")
    return found


def missed_members(prog: LcProgram, out: LcOutcome) -> list[int]:
    """The fingerprint of KNOWN_MISSED_MEMBER: the members a cancelled group missed (not
    killed, no kill pending), seen as they were added or as they started."""
    return sorted(set(out.missed_members))


_ABANDONED = re.compile(r"abandoned \d+ task\(s\) that ignored")
_TASK_ID = re.compile(r"<Task (\d+) ")


def abandoned_owners(prog: LcProgram, out: LcOutcome) -> set[int]:
    """The fingerprint of KNOWN_ABANDONED_OWNER: the program tasks named by the runtime's
    "abandoned ... task(s)" warnings, if every one of them is the owner of a group with
    members in other procs whose block had not ended, and the run was ended by a kill of
    main or an interrupt (empty otherwise)."""
    if prog.mode == "normal":
        return set()
    g_of = _ids(out)
    named: set[int] = set()
    for e in out.errors:
        if _ABANDONED.search(e):
            for tid in _TASK_ID.findall(e.split("propagate)", 1)[-1]):
                named.add(g_of.get(int(tid), -1))
    owners = {grp["owner"] for grp in prog.groups if grp["procs"]}
    if not named or not named <= owners:
        return set()
    for g in named:
        steps = [s for s, st in enumerate(prog.tasks[g]) if st[0] == "group"
                 and prog.groups[st[1]]["procs"]]
        if not any(s == len(out.res[g]) for s in steps):  # (that step did not complete)
            return set()
    return named


def check_lc(prog: LcProgram, out: LcOutcome, strict: bool = True,
             strict_open: bool = True) -> Verdict:
    """Run every check of the module docstring on ``out``; return all failures.

    The known runtime bugs this stress found (``KNOWN_BUGS``; stress/README.md,
    "Findings") are recognised by their fingerprint (:func:`known_bugs`) and, unless
    ``strict``, only counted: what they explain is not checked (a late proc thread is not
    a ``leftovers`` failure; a lost or swallowed interrupt is not an ``outcome`` failure;
    after an
    escaped interrupt the main proc's tasks are not checked by ``unwound`` and
    ``trace``).  With ``strict`` each is a failure of its check.  The bugs not fixed yet
    (``OPEN_BUGS``) are only counted unless ``strict_open``: an abandoned group owner
    (its warning is then no ``error``; ``unwound`` and ``trace`` skip it), a member a
    cancelled group missed (then only ``error``, ``hang``, ``leftovers``, ``values``,
    ``races``, ``conservation`` and ``oracle`` are checked)."""
    t0 = time.perf_counter()
    fails: list[Failure] = []
    known = set() if strict else set(known_bugs(prog, out))
    if not strict_open:
        known |= set(known_bugs(prog, out)) & set(OPEN_BUGS)
    abandoned = abandoned_owners(prog, out) if "abandoned_owner" in known else set()
    missed = "missed_member" in known
    # (a missed member blocked for ever: the run may deadlock, and its unwinding then
    # abandon the owner waiting for it)
    errors = [e for e in out.errors if not ((abandoned or missed) and _ABANDONED.search(e))]
    if out.late_interrupt:
        errors.append("a KeyboardInterrupt surfaced after run() had returned or raised")
    if prog.mode != "interrupt" and (out.lost_interrupt or out.swallowed):
        errors.append("an interrupt without an interrupt step: "
                      f"{out.swallowed or 'pending on the main proc'}")
    if errors:
        if "abandoned_owner" in known_bugs(prog, out):
            errors.append(f"(known runtime bug, not fixed yet: {KNOWN_ABANDONED_OWNER})")
        fails.append(Failure("error", "unexpected:\n" + "\n".join(errors)))
    if out.hang:
        fails.append(Failure("hang", _hang_message(prog, out)))
        return Verdict(fails, len(out.events), time.perf_counter() - t0, None)
    left = list(out.leftovers)
    if out.late_threads and "late_thread" not in known:
        left.append(f"threads {out.late_threads} were alive after run() returned: "
                    f"{KNOWN_LATE_THREAD}")
    if left:
        fails.append(Failure("leftovers", "the run left something behind:\n"
                             + "\n".join(left)))
    skip = set(prog.procs[0]) if "escaped_interrupt" in known else set()
    checks: list[tuple[str, Any]] = [
        ("outcome", check_outcome_lc), ("deadlock", check_deadlock_lc),
        ("scripts", check_scripts),
        ("unwound", lambda p, o: check_unwound(p, o, skip | abandoned)),
        ("values", check_values),
        ("trace", lambda p, o: check_trace_lc(p, o, skip, abandoned)),
        ("groups", check_groups), ("races", check_races),
        ("conservation", check_conservation_lc), ("oracle", check_oracle),
        ("clock", check_clock)]
    for name, fn in checks:
        if name == "outcome" and known & {"lost_interrupt", "swallowed_interrupt"}:
            continue
        if missed and name in ("outcome", "deadlock", "scripts", "unwound", "groups",
                               "trace", "clock"):
            continue  # (what a member that is never killed changes)
        msgs = fn(prog, out)
        if msgs and name == "outcome" and out.lost_interrupt:
            msgs.append(f"(known runtime bug: {KNOWN_LOST_INTERRUPT})")
        if msgs and name == "outcome" and out.swallowed:
            msgs.append(f"(known runtime bug: {KNOWN_SWALLOWED_INTERRUPT}: {out.swallowed})")
        if msgs and name == "unwound" and "escaped_interrupt" in known_bugs(prog, out):
            msgs.append(f"(known runtime bug: {KNOWN_ESCAPED_INTERRUPT})")
        if msgs and name in ("error", "unwound", "trace") \
                and "abandoned_owner" in known_bugs(prog, out):
            msgs.append(f"(known runtime bug, not fixed yet: {KNOWN_ABANDONED_OWNER})")
        if msgs and missed_members(prog, out):
            msgs.append(f"(known runtime bug, not fixed yet: {KNOWN_MISSED_MEMBER}: "
                        f"{[f't{h}' for h in missed_members(prog, out)]})")
        if msgs:
            fails.append(Failure(name, "\n".join(msgs)))
    return Verdict(fails, len(out.events), time.perf_counter() - t0, None)


def _ids(out: LcOutcome) -> dict[int, int]:
    """Runtime task id -> program task index."""
    return {tid: g for g, tid in enumerate(out.task_ids) if tid is not None}


def _name_ids(out: LcOutcome, ids: list[int]) -> list[str]:
    g_of = _ids(out)
    return [f"t{g_of[i]}" if i in g_of else f"task id {i} (not a program task)" for i in ids]


# --------------------------------------------------------------------------- hang


def _hang_message(prog: LcProgram, out: LcOutcome) -> str:
    want, stuck = expected_outcome(prog)
    unfinished = [g for g, r in enumerate(prog.roles) if r in ("main", "normal")
                  and out.ended[g] != "done"]
    lines = [f"run() did not return within the watchdog bound ({out.seconds:.1f} s; "
             f"expected outcome: {want})."]
    if want == "Deadlock" and not unfinished and all(out.blocked[g] for g in stuck):
        lines.append(f"MISSED DEADLOCK: every task that can finish has finished and the "
                     f"stuck tasks {[f't{g}' for g in stuck]} are blocked for ever, but no "
                     f"Deadlock was declared")
    elif unfinished:
        lines.append(f"tasks that have not finished their scripts: "
                     f"{[f't{g}' for g in unfinished]}")
    lines.append("task states:")
    for g in range(len(prog.tasks)):
        lines.append(f"  t{g} ({prog.roles[g]}, id {out.task_ids[g]}): started="
                     f"{out.started[g]} ended={out.ended[g]} steps done {len(out.res[g])}/"
                     f"{len(prog.tasks[g])} runtime state {out.task_states[g]}")
    if out.hang_info:
        lines.append(out.hang_info)
    return "\n".join(lines)


# --------------------------------------------------------------------------- outcome


def check_outcome_lc(prog: LcProgram, out: LcOutcome) -> list[str]:
    want, _ = expected_outcome(prog)
    got = out.run_name()
    if got != want:
        extra = out.run.get("message") or _name_ids(out, out.run.get("blocked", []))
        return [f"run() {'returned' if got == 'returned' else 'raised ' + got} "
                f"({extra}), the program must end with {want} (mode {prog.mode}, "
                f"stuck tasks {[f't{g}' for g in prog.stuck()]}, main proc "
                f"{[f't{g}' for g in prog.procs[0]]})"]
    if got == "returned" and out.run.get("value") != MAIN_RESULT:
        return [f"run() returned {out.run.get('value')!r}, not main's result"]
    return []


# --------------------------------------------------------------------------- deadlock


def check_deadlock_lc(prog: LcProgram, out: LcOutcome) -> list[str]:
    if out.run_name() != "Deadlock":
        return []
    bad = []
    listed = sorted(out.run.get("blocked", []))
    stuck = prog.stuck()
    want = sorted(tid for g in stuck if (tid := out.task_ids[g]) is not None)
    if listed != want:
        bad.append(f"Deadlock lists {_name_ids(out, listed)}, the tasks blocked for ever are "
                   f"{[f't{g}' for g in stuck]}")
    for g in stuck:
        if not out.blocked[g]:
            bad.append(f"Deadlock declared before stuck task t{g} reached its block (it had "
                       f"done {len(out.res[g])}/{len(prog.tasks[g]) - 1} steps)")
    if out.traced and out.events:
        decl = [ev for ev in out.events if ev.get("declared")]
        if decl:
            seq = decl[0]["seq"]
            exits = {ev["task"]: ev["seq"] for ev in out.events if ev["action"] == "TaskExit"}
            early = [f"t{g}" for g, r in enumerate(prog.roles) if r != "stuck"
                     and (out.task_ids[g] is None or exits.get(out.task_ids[g], math.inf) > seq)]
            if early:
                bad.append(f"EARLY DEADLOCK: declared at event seq {seq} ({decl[0]['action']}) "
                           f"before {early} had exited")
    return bad


# --------------------------------------------------------------------------- scripts


def _step_result_problem(prog: LcProgram, g: int, s: int, res: Any,
                         out: LcOutcome | None = None) -> str | None:
    step = prog.tasks[g][s]
    kind = step[0]
    ok: bool
    if kind in ("group", "race"):  # (the checks groups and races say more)
        why = group_result_problem(prog, step[1], res, out) if kind == "group" else \
            race_result_problem(prog, g, s, res, out is not None and out.vclock is not None)
        return None if why is None else \
            f"t{g} step {s} ({describe_lc_step(step)}) returned {res!r}: {why}"
    if kind in ("sleep", "send", "interrupt", "hold"):
        ok = res == ["ok"]
    elif kind == "alt_after":
        ok = res == ["alt", 1]
    elif kind == "ticker":
        ok = res == ["ticks", step[1], True]
    elif kind == "iocall":
        ok = res == ["io", [g, s]]
    elif kind == "recv":
        ok = isinstance(res, list) and len(res) == 2 and res[0] == "got"
    elif kind in ("join_proc", "join_task"):
        ok = (isinstance(res, list) and len(res) == 3 and res[0] == "joined"
              and isinstance(res[1], bool) and (not res[1] or res[2] is True)
              and (res[1] or timeout_value(step[2]) not in (None, math.inf)))
    elif kind == "kill":
        ok = isinstance(res, list) and len(res) == 2 and res[0] == "kill" and (
            res[1] is True or (prog.mode != "normal" and step[1] != 0 and res[1] is False))
    elif kind == "yield":
        ok = (isinstance(res, list) and len(res) == 2 and res[0] == "yield"
              and isinstance(res[1], int) and res[1] >= 0)
    else:
        ok = False
    if ok:
        return None
    return f"t{g} step {s} ({describe_lc_step(step)}) returned {res!r}"


def check_scripts(prog: LcProgram, out: LcOutcome) -> list[str]:
    bad = []
    for g, steps in enumerate(prog.tasks):
        for s, res in enumerate(out.res[g]):
            if s >= len(steps):
                bad.append(f"t{g} recorded {len(out.res[g])} results for {len(steps)} steps")
                break
            why = _step_result_problem(prog, g, s, res, out)
            if why:
                bad.append(why)
    deadlocked = out.run_name() == "Deadlock"
    for g, role in enumerate(prog.roles):
        done, n, end = len(out.res[g]), len(prog.tasks[g]), out.ended[g]
        if end == "done" and done != n:
            bad.append(f"t{g} ended 'done' after {done} of {n} steps")
        if end == "failed" and (role != "member" or prog.tasks[g][-1] != ["fail"]):
            bad.append(f"t{g} ({role}) ended {end}, but it has no fail step")
        if prog.mode != "normal":
            if end not in ("done", "TaskKilled", "KeyboardInterrupt", "failed", None):
                bad.append(f"t{g} ({role}) ended {end}")
            continue
        if role == "member":  # (how a member ends depends on its group: check groups)
            continue
        if role in ("main", "normal") and (end != "done" or done != n):
            bad.append(f"{role} task t{g} did not finish its script: ended {end} after "
                       f"{done} of {n} steps (next: "
                       f"{describe_lc_step(prog.tasks[g][done]) if done < n else '-'})")
        elif role in ("victim", "stuck") and not (
                end == "TaskKilled" or (not out.started[g] and out.task_excs[g] == "TaskKilled")
                or (role == "stuck" and out.task_ids[g] is None and not deadlocked)):
            # (a stuck task of another proc may never be created: its proc's bootstrap is
            # killed before it starts when the run ends first)
            bad.append(f"{role} task t{g} ended {end} (started {out.started[g]}, runtime "
                       f"exception {out.task_excs[g]}), not killed"
                       + (" (unwound at the end)" if role == "stuck" else ""))
        if role == "stuck" and deadlocked and not out.blocked[g]:
            bad.append(f"stuck task t{g} had not reached its block at the Deadlock")
    return bad


# --------------------------------------------------------------------------- unwound


def check_unwound(prog: LcProgram, out: LcOutcome, skip: set[int] | None = None) -> list[str]:
    bad = []
    skip = skip or set()
    main_proc = prog.main_proc_tasks()
    interrupted = [g for g in range(len(prog.tasks))
                   if "KeyboardInterrupt" in (out.ended[g], out.task_excs[g])]
    if prog.mode != "interrupt" and interrupted:
        bad.append(f"KeyboardInterrupt in {[f't{g}' for g in interrupted]} without an "
                   "interrupt")
    if len(interrupted) > 1:
        bad.append(f"one SIGINT, but KeyboardInterrupt in {[f't{g}' for g in interrupted]}")
    for g in interrupted:
        if g not in main_proc:
            bad.append(f"KeyboardInterrupt in t{g}, which runs in another thread than main's")
    for g in range(len(prog.tasks)):
        if g in skip:
            continue
        if out.task_ids[g] is not None and out.task_states[g] != "done":
            bad.append(f"t{g} is {out.task_states[g]} after run(), not done")
        if out.started[g] and not out.fin[g] and g not in interrupted:
            bad.append(f"t{g} started but its finally did not run (ended {out.ended[g]}, "
                       f"runtime exception {out.task_excs[g]})")
        if out.started[g] and out.ended[g] is None and g not in interrupted:
            bad.append(f"t{g} started but never ended (runtime exception "
                       f"{out.task_excs[g]})")
    return bad


# --------------------------------------------------------------------------- values


def check_values(prog: LcProgram, out: LcOutcome) -> list[str]:
    bad = []
    nch = len(prog.caps)
    sent_done = [0] * nch
    for g, steps in enumerate(prog.tasks):
        for s, res in enumerate(out.res[g]):
            if s < len(steps) and steps[s][0] == "send" and res == ["ok"]:
                sent_done[steps[s][1]] += 1
    seen: Counter[tuple[int, int]] = Counter()
    recv_done = [0] * nch
    last: dict[tuple[int, int, int], int] = defaultdict(lambda: -1)  # (recv, c, sender)
    for g, steps in enumerate(prog.tasks):
        for s, res in enumerate(out.res[g]):
            if s >= len(steps) or steps[s][0] != "recv":
                continue
            c = steps[s][1]
            recv_done[c] += 1
            v = res[1] if isinstance(res, list) and len(res) == 2 else None
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)
                    and 0 <= v[0] < len(prog.tasks) and 0 <= v[1] < len(prog.tasks[v[0]])
                    and prog.tasks[v[0]][v[1]] == ["send", c]):
                bad.append(f"t{g} step {s} received {v!r} on c{c}: no send step of c{c} "
                           "sends that")
                continue
            h, k = v
            seen[(h, k)] += 1
            if seen[(h, k)] == 2:
                bad.append(f"value {v} (t{h} step {k}) received twice")
            if k <= last[(g, c, h)]:
                bad.append(f"t{g} received t{h}'s values on c{c} out of send order: step {k} "
                           f"after step {last[(g, c, h)]}")
            last[(g, c, h)] = max(last[(g, c, h)], k)
            if prog.mode == "normal" and len(out.res[h]) <= k:
                bad.append(f"t{g} received {v} before t{h} finished that send")
    if prog.mode == "normal":
        for c in range(min(nch, len(out.chan_lens))):
            if out.chan_lens[c] != sent_done[c] - recv_done[c]:
                bad.append(f"c{c} holds {out.chan_lens[c]} values after the run; "
                           f"{sent_done[c]} sent - {recv_done[c]} received = "
                           f"{sent_done[c] - recv_done[c]}")
    return bad


# --------------------------------------------------------------------------- trace


def check_trace_lc(prog: LcProgram, out: LcOutcome, skip: set[int] | None = None,
                   abandoned: set[int] | None = None) -> list[str]:
    if not out.traced:
        return []
    evs = sorted(out.events, key=lambda ev: ev["seq"])
    if not evs:
        return ["no event of the run was recorded"]
    bad = []
    if evs[0]["action"] != "RunStart":
        bad.append(f"the run's first event is {evs[0]['action']}, not RunStart")
    if evs[-1]["action"] != "RunEnd":
        bad.append(f"the run's last event is {evs[-1]['action']}, not RunEnd "
                   f"(events after the run ended?)")
    ends = [ev for ev in evs if ev["action"] == "RunEnd"]
    if len(ends) == 1 and ends[0].get("outcome") != out.run_name():
        bad.append(f"RunEnd says {ends[0].get('outcome')!r}, run() gave {out.run_name()!r}")
    first: dict[tuple[str, int], int] = {}
    for ev in evs:
        first.setdefault((ev["action"], ev["proc"]), ev["seq"])
    for (a, q), seq in sorted(first.items(), key=lambda kv: kv[1]):
        if a == "ProcStart" and not (first.get(("ProcCreate", q), math.inf) < seq
                                     or first.get(("RunStart", q), math.inf) < seq):
            bad.append(f"proc {q} started (seq {seq}) before it was created/registered "
                       f"(ProcCreate seq {first.get(('ProcCreate', q))})")
    created = {ev["proc"] for ev in evs if ev["action"] in ("ProcCreate", "RunStart")}
    exited = {ev["proc"] for ev in evs if ev["action"] == "ProcExit"}
    if created - exited:
        bad.append(f"procs {sorted(created - exited)} never exited")
    skipped = {out.task_ids[g] for g in (skip or set()) | (abandoned or set())}
    main_proc = out.proc_ids[0] if out.proc_ids else None
    tasks = {ev["task"] for ev in evs if ev["action"] == "TaskCreate"
             and not (skip and ev["proc"] == main_proc)} - skipped
    texit = {ev["task"] for ev in evs if ev["action"] == "TaskExit"}
    if tasks - texit:
        bad.append(f"tasks {_name_ids(out, sorted(tasks - texit))} never exited")
    inflight = 0
    decls = []
    for ev in evs:
        a = ev["action"]
        if a == "IoStart":
            inflight += 1
        elif a == "IoDone":
            inflight -= 1
            if inflight < 0:
                bad.append(f"IoDone (seq {ev['seq']}) without an IoStart")
                inflight = 0
        if ev.get("declared"):
            decls.append(ev)
            if inflight:
                bad.append(f"Deadlock declared ({a}, seq {ev['seq']}) with {inflight} "
                           "iocall(s) in flight")
    # (IoStarts left without IoDone are calls that IOProc.stop() cancelled while queued:
    # the runtime records no event for that; see stress/README.md, "Findings".)
    if len(decls) > 1:
        bad.append(f"{len(decls)} deadlock declarations")
    if bool(decls) != (out.run_name() == "Deadlock"):
        bad.append(f"{len(decls)} deadlock declaration(s) in the trace, run() gave "
                   f"{out.run_name()}")
    return bad
