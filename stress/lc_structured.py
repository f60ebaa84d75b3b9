"""The checks of the lifecycle programs' groups, timeout races and virtual clock (issues
11 and 12), and of conservation over every channel of a run.

In the order they are reported, after the checks of :mod:`stress.lc_checks`:

``groups``        every ``TaskGroup`` step that completed ended as its kind says: ``ok``
                  and ``cancel`` blocks end normally, a ``fail`` block raises an
                  ``ExceptionGroup`` holding exactly the failing member's
                  ``PlantedFailure``; every member had finished when the block ended.  In
                  ``normal`` mode: members of ``ok`` groups finish their scripts; in the
                  other groups each member finished its script or was killed
                  (``TaskKilled``, its ``finally`` ran; a member that blocks for ever was
                  killed), the failing member failed after its whole script; traced: only
                  members of ``fail``/``cancel`` groups are killed by their group (``reason``
                  "group"), each killed member exactly once, nobody else.
``races``         every race step that completed is one of the two outcomes: the
                  operation *completed* (the value was delivered exactly once: the
                  partner's value was received, or the partner's non-blocking receive got
                  ours) or *expired* (nothing was delivered: the partner's value is still
                  in the channel or its non-blocking operation failed), never both; an
                  interruption implies the scope expired; without a ``yield`` inside the
                  scope, interrupted exactly when not completed; ``timeout`` raised
                  ``Timeout`` exactly when interrupted.  Virtual clock: the outcome is
                  the one the deadlines say (partner before the deadline: completed;
                  after: expired).
``conservation``  from the tasks' own observations, over every channel of the run
                  (program, group and race channels): every value whose send completed
                  was received exactly once or is still buffered there; none was received
                  twice, none received or buffered whose send did not complete (a timeout
                  that withdrew a send means that value never shows up).
``oracle``        (traced runs) the run's channel events replay through the oracle
                  (:func:`libtask9.testing.check_trace`, which renames a task after each
                  timeout interruption: :func:`~libtask9.testing.tracecheck.incarnations`),
                  seen through :func:`oracle_view`; the trace delivered, on each channel,
                  exactly the values the tasks observed receiving; and each task caught
                  exactly as many timeout interruptions as the trace records for it.
``clock``         (virtual clock) the run's virtual time at the end is at least the
                  longest chain of timed steps a single task completed and at most the sum
                  of every timed step of the program; when :func:`virtual_end` can
                  compute it (``normal`` mode, one receiving task per channel, ...), it is
                  exactly the program's critical path of sleeps.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from libtask9._trace import LIFECYCLE_ACTIONS
from libtask9.testing import check_trace
from libtask9.testing.tracecheck import ALT_ACTIONS

from .lc_execute import LcOutcome
from .lc_program import PLANTED, LcProgram, describe_lc_step, expected_outcome, timeout_value

__all__ = [
    "STRUCTURED_CHECKS",
    "check_clock",
    "check_conservation_lc",
    "check_groups",
    "check_oracle",
    "check_races",
    "oracle_view",
    "virtual_bounds",
    "virtual_end",
]

STRUCTURED_CHECKS = ("groups", "races", "conservation", "oracle", "clock")

_RECV_ACTIONS = ("AltBuffer", "AltRendezvous", "AltHandover")


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def _interrupted_tasks(out: LcOutcome) -> set[int]:
    return {g for g in range(len(out.ended))
            if "KeyboardInterrupt" in (out.ended[g], out.task_excs[g])}


def _steps(prog: LcProgram, out: LcOutcome, kind: str) -> list[tuple[int, int, list[Any],
                                                                        Any]]:
    """(task, step index, step, result) of every completed step of ``kind``."""
    found = []
    for g, steps in enumerate(prog.tasks):
        for s, res in enumerate(out.res[g][:len(steps)]):
            if steps[s][0] == kind:
                found.append((g, s, steps[s], res))
    return found


# --------------------------------------------------------------------------- groups


def group_result_problem(prog: LcProgram, k: int, res: Any,
                         out: LcOutcome | None = None) -> str | None:
    """What is wrong with the result of group k's step (None: it is right).  Outside
    ``normal`` mode the run's end may kill the failing member before it fails (``out``
    says whether it failed): the group then ends normally."""
    grp = prog.groups[k]
    n = len(grp["members"])
    if not (isinstance(res, list) and len(res) == 4 and res[0] == "group"
            and isinstance(res[2], list) and isinstance(res[3], list) and len(res[3]) == n):
        return f"malformed result {res!r}"
    _, status, excs, done = res
    failing = prog.failing(k)
    if grp["kind"] == "fail" and not (prog.mode != "normal" and out is not None
                                      and failing is not None
                                      and out.ended[failing] != "failed"):
        want = [["PlantedFailure", PLANTED.format(failing)]]
        if status != "raised" or excs != want:
            return (f"a fail group must raise an ExceptionGroup of exactly {want}, got "
                    f"{status} {excs}")
    elif status != "ok" or excs:
        return f"a{'n' if grp['kind'] == 'ok' else ''} {grp['kind']} group must end " \
               f"normally, got {status} {excs}"
    late = [f"t{h}" for h, d in zip(grp["members"], done, strict=True) if d is not True]
    if late:
        return f"members {late} had not finished when the block ended"
    return None


def check_groups(prog: LcProgram, out: LcOutcome) -> list[str]:
    bad = []
    for g, s, step, res in _steps(prog, out, "group"):
        why = group_result_problem(prog, step[1], res, out)
        if why:
            bad.append(f"t{g} step {s} (group {step[1]}, "
                       f"{prog.groups[step[1]]['kind']}): {why}")
    tid_of = out.task_ids
    for k, grp in enumerate(prog.groups):
        failing = prog.failing(k)
        for h in grp["members"]:
            end, n, done = out.ended[h], len(prog.tasks[h]), len(out.res[h])
            killed = end == "TaskKilled" or (not out.started[h]
                                             and out.task_excs[h] == "TaskKilled")
            if end == "failed" and h != failing:
                bad.append(f"member t{h} of group {k} failed, but it is not the failing one")
            if prog.mode != "normal":
                continue
            what = f"member t{h} of {grp['kind']} group {k}"
            if grp["kind"] == "ok" and (end != "done" or done != n):
                bad.append(f"{what} ended {end} after {done} of {n} steps")
            elif h == failing and (end != "failed" or done != n - 1):
                bad.append(f"{what} (the failing one) ended {end} after {done} of "
                           f"{n - 1} steps")
            elif grp["kind"] != "ok" and h != failing:
                if not (killed or (end == "done" and done == n)):
                    bad.append(f"{what} ended {end} after {done} of {n} steps, neither "
                               "finished nor killed")
                elif prog.tasks[h] and prog.tasks[h][-1][0] == "block" and not killed:
                    bad.append(f"{what} blocks for ever, but ended {end}, not killed")
    if out.traced and out.events and prog.mode == "normal":
        member_of = {tid_of[h]: (k, h) for k, grp in enumerate(prog.groups)
                     for h in grp["members"] if tid_of[h] is not None}
        kills: Counter[int] = Counter()
        for ev in out.events:
            if ev["action"] in ("KillBlocked", "KillPending") and ev.get("reason") == "group":
                t = ev["task"]
                if t not in member_of:
                    bad.append(f"{ev['action']} seq {ev['seq']}: task {t} killed by a group "
                               "is no group's member")
                    continue
                k, h = member_of[t]
                if prog.groups[k]["kind"] == "ok":
                    bad.append(f"member t{h} of ok group {k} was killed by its group "
                               f"(seq {ev['seq']})")
                kills[h] += 1
        for k, grp in enumerate(prog.groups):
            for h in grp["members"]:
                if kills[h] > 1:
                    bad.append(f"member t{h} of group {k} killed {kills[h]} times by it")
                if out.ended[h] == "TaskKilled" and kills[h] != 1:
                    bad.append(f"member t{h} of group {k} ended TaskKilled, but its group "
                               f"killed it {kills[h]} times")
    return bad


# --------------------------------------------------------------------------- races


def race_result_problem(prog: LcProgram, g: int, s: int, res: Any, virtual: bool
                        ) -> str | None:
    """What is wrong with the result of task g's race step s (None: it is right)."""
    step = prog.tasks[g][s]
    _, how, d, partner, where, deadline, p, hold, yld = step
    if not (isinstance(res, list) and len(res) == 7 and res[0] == "race"
            and all(isinstance(x, bool) for x in res[1:5])):
        return f"malformed result {res!r}"
    _, completed, interrupted, expired, timed_out, got, pres = res
    if interrupted and not expired:
        return "interrupted, but its scope had not expired"
    if not completed and not interrupted:
        return "neither completed nor interrupted"
    if not yld and interrupted == completed:
        return (f"{'completed and interrupted' if completed else 'neither'} without a "
                "switch point after the operation")
    if timed_out != (how == "timeout" and interrupted):
        return (f"{'raised' if timed_out else 'did not raise'} Timeout, but it was "
                f"{'' if interrupted else 'not '}interrupted")
    mine, theirs = [g, s], [g, s, 1]
    if d == "recv":
        want_got = theirs if completed else None
        want_partner: Any = ["sent"] if partner == "send" else ["nbsend", completed]
    else:
        want_got = None
        want_partner = ["nbrecv", completed, mine if completed else None]
    if isinstance(pres, list) and pres[:1] == ["raised"]:
        # The partner died before it could say what it did: killed with its run, or (an
        # interrupt program) the KeyboardInterrupt landed in it.  Its operation may or
        # may not have happened: the value got must still be the one it offered, or
        # none (conservation, checked on its own, accounts for the rest).
        if pres[1:] not in (["TaskKilled"], ["KeyboardInterrupt"]) or (
                pres[1] == "KeyboardInterrupt" and prog.mode != "interrupt"):
            return f"the partner raised {pres[1:]!r}"
        return None if got in (want_got, None) else f"got {got!r}, not {want_got!r}"
    if got != want_got or pres != want_partner:
        return (f"{'completed' if completed else 'expired'}, but got {got!r} (must be "
                f"{want_got!r}) and the partner {pres!r} (must be {want_partner!r})")
    if virtual:
        if hold or (p < deadline and (p >= 1 or where == "task")):
            if not completed or interrupted:
                return (f"virtual clock: the partner commits at {0 if hold else p} ms, before "
                        f"the {deadline} ms deadline, so the operation must complete "
                        f"uninterrupted (completed={completed}, interrupted={interrupted})")
        elif p > deadline and completed:
            return (f"virtual clock: the partner comes at {p} ms, after the {deadline} ms "
                    "deadline, so the operation must expire")
    return None


def check_races(prog: LcProgram, out: LcOutcome) -> list[str]:
    bad = []
    for g, s, step, res in _steps(prog, out, "race"):
        why = race_result_problem(prog, g, s, res, out.vclock is not None)
        if why:
            bad.append(f"t{g} step {s} ({describe_lc_step(step)}): {why}")
    return bad


# --------------------------------------------------------------------------- conservation


def check_conservation_lc(prog: LcProgram, out: LcOutcome) -> list[str]:
    bad = []
    sent: dict[tuple[str, str], str] = {}
    received: Counter[tuple[str, str]] = Counter()
    who_got: dict[tuple[str, str], list[str]] = defaultdict(list)
    for who, kind, chan, v in out.obs:
        k = (chan, _key(v))
        if kind == "sent":
            if k in sent:
                bad.append(f"{who} and {sent[k]} both sent {v} on {chan}")
            sent[k] = who
        else:
            received[k] += 1
            who_got[k].append(who)
    buffered: Counter[tuple[str, str]] = Counter()
    for chan, info in out.chans.items():
        for v in info["buf"]:
            buffered[(chan, _key(v))] += 1
    # an interrupt can land between an operation and its record (interrupt mode only)
    loose = prog.mode == "interrupt" and bool(_interrupted_tasks(out))
    for k, who in sorted(sent.items()):
        n = received[k] + buffered[k]
        if n > 1:
            bad.append(f"{k[1]} sent by {who} on {k[0]} is there {n} times: received by "
                       f"{who_got[k]}, {buffered[k]} time(s) still buffered")
        elif n == 0 and not loose:
            bad.append(f"{k[1]} sent by {who} on {k[0]} was lost: neither received nor "
                       "buffered")
    withdrawn = {(f"r{g}.{s}", _key([g, s])) for g, s, step, res in _steps(prog, out, "race")
                 if step[2] == "send" and isinstance(res, list) and len(res) > 1
                 and res[1] is False}
    for k in sorted(set(received) | set(buffered)):
        if k in sent:
            continue
        where = (f"received by {who_got[k]}" if received[k] else "") + \
            (f"{' and ' if received[k] else ''}{buffered[k]} time(s) buffered"
             if buffered[k] else "")
        if k in withdrawn:
            bad.append(f"the timeout withdrew the send of {k[1]} on {k[0]}, but that value "
                       f"shows up: {where}")
        elif not loose:
            bad.append(f"{k[1]} on {k[0]} was {where}, but no send of it completed")
    return bad


# --------------------------------------------------------------------------- oracle


def oracle_view(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A lifecycle run's events as the channel oracle can check them.

    * the lifecycle events are left out (the oracle ignores them anyway);
    * a channel used in an alt together with an undeclared channel (the private channel
      of an ``alt_after`` step, raced against an ``after`` timer's channel) is made
      undeclared too: the oracle cannot check an alt that mixes them, and a private
      channel has no partner whose view could be wrong;
    * a ``KillBlocked`` of a task that is not blocked in a channel operation (it waits in
      a ``sleep``, a join or an iocall, which the channel spec does not model) becomes the
      ``KillPending`` and ``Killed`` the spec sees: from its point of view that task was
      between two operations (``seq`` numbers are doubled to make room).
    """
    evs = [dict(ev) for ev in sorted(events, key=lambda e: e["seq"])
           if ev["action"] not in LIFECYCLE_ACTIONS]
    while True:
        declared = {ev["chan"] for ev in evs if ev["action"] == "ChanCreate"}
        drop: set[int] = set()
        for ev in evs:
            if ev["action"] in ALT_ACTIONS:
                cs = [c for _, c in ev.get("ops") or [] if c is not None]
                known = [c for c in cs if c in declared]
                if known and len(known) != len(cs):
                    drop.update(known)
        if not drop:
            break
        evs = [ev for ev in evs if not (ev["action"] == "ChanCreate" and ev["chan"] in drop)]
    blocked: set[int] = set()
    out: list[dict[str, Any]] = []
    for ev in evs:
        a = ev["action"]
        ev["seq"] = 2 * ev["seq"]
        if a == "AltBlock":  # (no case at all, or only nil ones: sleep(inf), blocked
            cs = [c for _, c in ev.get("ops") or [] if c is not None]  # for ever too)
            if all(c in declared for c in cs):
                blocked.add(ev["task"])
        elif a in ("AltRendezvous", "AltHandover") and ev.get("partner") is not None:
            blocked.discard(ev["partner"])
        elif a == "Close":
            for w in ev.get("woken") or []:
                blocked.discard(w[0])
        elif a == "KillBlocked":
            if ev["task"] not in blocked:
                out.append(dict(ev, action="KillPending"))
                ev = dict(ev, action="Killed", seq=ev["seq"] + 1)
                ev.pop("by", None)
            blocked.discard(ev["task"])
        out.append(ev)
    return out


def delivered(events: Sequence[Mapping[str, Any]]) -> dict[int, Counter[str]]:
    """Per channel id, the values the trace delivered to receivers (their JSON keys)."""
    got: dict[int, Counter[str]] = defaultdict(Counter)
    blocked: dict[int, Mapping[str, Any]] = {}
    for ev in sorted(events, key=lambda e: e["seq"]):
        a = ev["action"]
        if a == "AltBlock":
            blocked[ev["task"]] = ev
        elif a in _RECV_ACTIONS:
            i = ev["index"]
            d, c = ev["ops"][i]
            if d == "recv":
                got[c][_key(ev["value"])] += 1
            if a != "AltBuffer":
                u, j = ev["partner"], ev["pindex"]
                pev = blocked.pop(u, None)
                if pev is not None and pev["ops"][j][0] == "recv":
                    got[pev["ops"][j][1]][_key(ev["vals"][i])] += 1
        elif a == "KillBlocked":
            blocked.pop(ev["task"], None)
        elif a == "Close":
            for w in ev.get("woken") or []:
                blocked.pop(w[0], None)
    return got


def timeout_interruptions(events: Sequence[Mapping[str, Any]]) -> Counter[int]:
    """Per task id, the timeout-scope interruptions the trace records (KillBlocked, or the
    Killed of KillPending + Killed, with reason "timeout")."""
    return Counter(ev["task"] for ev in events if ev.get("reason") == "timeout"
                   and ev["action"] in ("KillBlocked", "Killed"))


def check_oracle(prog: LcProgram, out: LcOutcome) -> list[str]:
    if not out.traced or not out.events:
        return []
    report = check_trace(oracle_view(out.events))
    if not report.ok:
        return [f"the oracle rejects the run's channel events (oracle_view):\n{report}"]
    bad = []
    loose = prog.mode == "interrupt" and bool(_interrupted_tasks(out))
    observed: dict[str, Counter[str]] = defaultdict(Counter)
    for _, kind, chan, v in out.obs:
        if kind == "recv":
            observed[chan][_key(v)] += 1
    traced = delivered(out.events)
    if not loose:
        for chan, info in sorted(out.chans.items()):
            want, got = observed.get(chan, Counter()), traced.get(info["id"], Counter())
            if want != got:
                bad.append(f"{chan} (id {info['id']}): the trace delivered "
                           f"{sorted(got.elements())}, the tasks received "
                           f"{sorted(want.elements())}")
    tmo = timeout_interruptions(out.events)
    for g, tid in enumerate(out.task_ids):
        if tid is None or (loose and g in _interrupted_tasks(out)):
            continue
        if tmo[tid] != out.tmo[g]:
            bad.append(f"t{g} (id {tid}) caught {out.tmo[g]} timeout interruption(s), the "
                       f"trace records {tmo[tid]}")
    return bad


# --------------------------------------------------------------------------- clock


def _timed(step: list[Any]) -> tuple[float, float]:
    """(at least, at most) the milliseconds a completed step takes on a virtual clock,
    whatever else happens (joins and receives: at least 0)."""
    kind = step[0]
    if kind in ("sleep", "alt_after"):
        return step[1], step[1]
    if kind == "ticker":
        return step[1], step[1] + 1
    if kind == "race":
        deadline, p, hold = step[5], step[6], step[7]
        return (0 if hold else p), deadline + p
    if kind in ("join_task", "join_proc"):
        t = timeout_value(step[2])
        return 0, (0 if t is None or t == math.inf else t * 1000)
    return 0, 0


def virtual_bounds(prog: LcProgram, out: LcOutcome) -> tuple[float, float]:
    """(lower, upper) bounds in ms of the virtual time at the end of a run: no task can
    finish its completed timed steps sooner than their sum, and the clock only jumps to
    a deadline armed by some timed step, at most its length after the jump before."""
    lower = 0.0
    for g, steps in enumerate(prog.tasks):
        t = 0.0
        for s, res in enumerate(out.res[g][:len(steps)]):
            lo, _ = _timed(steps[s])
            if steps[s][0] == "race" and isinstance(res, list) and len(res) > 2 and res[2]:
                lo = max(lo, steps[s][5])  # interrupted: its deadline passed
            if steps[s][0] in ("join_task", "join_proc") and isinstance(res, list) \
                    and len(res) > 1 and res[1] is False:
                lo = _timed(steps[s])[1]  # timed out
            t += lo
        lower = max(lower, t)
    upper = sum(_timed(step)[1] for steps in prog.tasks for step in steps)
    upper += sum(step[1] for grp in prog.groups for step in grp["body"] if step[0] == "sleep")
    return lower, upper


def virtual_end(prog: LcProgram) -> float | None:
    """The virtual time (ms) at which a ``normal`` run ends, when it is determined: the
    critical path of timed steps through receives, joins and groups (every other action
    takes no virtual time; an iocall stops the clock).  None when it is not simple to
    know: another mode, a channel received by two tasks (which value each gets depends on
    the schedule), a killed member or victim that may leave a timer behind, a race whose
    partner in another proc comes at once (the operation may complete at once or expire
    at the deadline)."""
    if prog.mode != "normal":
        return None
    receivers: dict[int, set[int]] = defaultdict(set)
    for g, steps in enumerate(prog.tasks):
        for step in steps:
            if step[0] == "recv":
                receivers[step[1]].add(g)
    if any(len(r) > 1 for r in receivers.values()):
        return None
    for k, grp in enumerate(prog.groups):
        if grp["kind"] != "ok":
            for h in grp["members"]:
                if h != prog.failing(k) and any(
                        step[0] not in ("sleep", "yield", "send", "recv", "block")
                        for step in prog.tasks[h]):
                    return None
    want, _ = expected_outcome(prog)
    if want == "Deadlock" and any(step[0] == "alt_after" for g in prog.victims()
                                  for step in prog.tasks[g]):
        return None  # (a victim killed in an alt_after leaves its after() timer armed)
    sends: dict[int, list[float]] = defaultdict(list)
    end: dict[int, float] = {}

    def join(t: float, e: float, timeout: Any) -> float:
        tmo = timeout_value(timeout)
        if e <= t:
            return t
        return e if tmo is None or tmo == math.inf else min(e, t + tmo * 1000)

    def timeline(g: int, t: float) -> float | None:
        nrecv: Counter[int] = Counter()
        for step in prog.tasks[g]:
            kind = step[0]
            if kind == "race" and step[4] == "proc" and step[6] == 0 and not step[7]:
                return None  # (completed at once, or expired after its deadline)
            if kind in ("sleep", "alt_after", "ticker", "race"):
                t += _timed(step)[0]  # (a race: its partner's p ms, whichever wins)
            elif kind == "send":
                sends[step[1]].append(t)
            elif kind == "recv":
                times = sorted(sends[step[1]])
                i = nrecv[step[1]]
                nrecv[step[1]] += 1
                if i >= len(times):
                    return None
                t = max(t, times[i])
            elif kind == "join_task":
                t = join(t, end[step[1]], step[2])
            elif kind == "join_proc":
                t = join(t, max(end[h] for h in prog.procs[step[1]]), step[2])
            elif kind == "group":
                grp = prog.groups[step[1]]
                body = t + sum(b[1] for b in grp["body"] if b[0] == "sleep")
                if grp["kind"] == "ok":
                    ends = []
                    for h in sorted(grp["members"], key=lambda u: prog.ranks[u]):
                        e = timeline(h, t)
                        if e is None:
                            return None
                        end[h] = e
                        ends.append(e)
                    t = max([body, *ends])
                elif grp["kind"] == "fail":
                    f = prog.failing(step[1])
                    e = None if f is None else timeline(f, t)
                    if e is None:
                        return None
                    t = max(body, e)
                else:
                    t = body
            elif kind in ("block", "fail"):
                break
        return t

    for g in sorted((g for g, r in enumerate(prog.roles) if r != "member"),
                    key=lambda u: prog.ranks[u]):
        e = timeline(g, 0.0)
        if e is None:
            return None
        end[g] = e
    if want == "returned":
        return end[0]
    return max([end[0]] + [end[g] for g in prog.stuck()])


def check_clock(prog: LcProgram, out: LcOutcome) -> list[str]:
    if out.vclock is None:
        return []
    now = out.vclock * 1000.0
    eps = 1e-6 * max(1.0, now)
    lower, upper = virtual_bounds(prog, out)
    bad = []
    if now < lower - eps:
        bad.append(f"the virtual clock reads {now:.6f} ms at the end, but a task completed "
                   f"timed steps that take {lower:g} ms")
    if now > upper + eps:
        bad.append(f"the virtual clock reads {now:.6f} ms at the end, more than the "
                   f"{upper:g} ms of all the program's timed steps together")
    want = virtual_end(prog)
    if want is not None and out.run_name() in ("returned", "Deadlock") \
            and abs(now - want) > eps:
        bad.append(f"the virtual clock reads {now:.6f} ms at the end; the program's critical "
                   f"path of timed steps is {want:g} ms")
    return bad
