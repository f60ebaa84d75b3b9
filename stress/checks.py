"""The checks run on every stress program's outcome.

In the order they are reported (the first failing one is the verdict):

``error``         no task or proc raised anything but ``ChannelClosed``/``TaskKilled``
                  (an ``InternalError`` is a runtime invariant breaking).
``hang``          every proc finished within the watchdog's bound (a hang is a lost
                  wake-up, a task resumed twice, or a proc sleeping with work queued).
``trace``         the trace replays through the oracle
                  (:func:`libtask9.testing.tracecheck.check_trace`): every event is an
                  enabled spec action, and the final state satisfies the invariants.
``results``       each task's observed results (what ``send``/``recv``/``alt``/``close``
                  returned or raised in the task, in program order) equal the results the
                  trace gives that task: no result twice, none missing ("resumed exactly
                  once"), and the same values.  Derived from the raw events, independently
                  of the oracle.
``kills``         ``Task.kill()`` returned True exactly for the kills the trace records
                  (``KillBlocked``/``KillPending`` with ``by`` = the killer), in order.
``conservation``  from the tasks' own observations: every value whose send completed was
                  received exactly once or is still buffered (in the channel it was sent
                  on), nothing was received that no completed send offered, and the
                  runtime's final buffers equal the oracle's.
``order``         per channel and per sender, values are delivered in the order they were
                  sent (delivery order = trace order), and what is still buffered comes
                  after everything delivered.
``deadlock``      if the runtime raised ``Deadlock``, the oracle agrees: some task is
                  blocked and no task action is enabled (every task the oracle has ready
                  has finished its program), and the oracle's blocked tasks are exactly the
                  ones ``Deadlock`` lists.  Without ``Deadlock``, no task is left blocked
                  and every task finished.

Untraced programs (``Outcome.traced`` False; the runtime's inline send/recv fast paths
only run without a tracer) get the checks that need no trace: ``error``, ``hang``,
``conservation`` (without the oracle's buffers), ``order`` per receiver (the values one
task received from one sender on one channel come in send order), and ``deadlock``
reduced to: the tasks ``Deadlock`` lists are exactly the tasks that had not finished.

"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from libtask9 import model as M
from libtask9.testing.tracecheck import TraceReport, check_trace, hashable

from .execute import Outcome
from .program import Program, describe_step

__all__ = ["CHECKS", "Failure", "Verdict", "check_outcome", "trace_results"]

CHECKS = ("error", "hang", "trace", "results", "kills", "conservation", "order", "deadlock")

RECV_ACTIONS = ("AltBuffer", "AltRendezvous", "AltHandover")


@dataclasses.dataclass
class Failure:
    """One failed check: ``check`` (a name of :data:`CHECKS`), a message, and for the trace
    check the index of the first bad event."""

    check: str
    message: str
    index: int | None = None
    event: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The failure as a JSON object."""
        return {"check": self.check, "message": self.message, "index": self.index,
                "event": None if self.event is None else dict(self.event)}


@dataclasses.dataclass
class Verdict:
    """All failures of one outcome (empty: it passed) plus the checker's statistics."""

    failures: list[Failure]
    events: int
    check_seconds: float
    report: TraceReport | None

    @property
    def ok(self) -> bool:
        return not self.failures


def check_outcome(prog: Program, out: Outcome) -> Verdict:
    """Run every check of the module docstring on ``out``; return all failures."""
    t0 = time.perf_counter()
    fails: list[Failure] = []
    if out.errors:
        fails.append(Failure("error", "unexpected exception(s):\n" + "\n".join(out.errors)))
    if out.hang:
        fails.append(Failure("hang", _hang_message(prog, out)))
    if not out.traced:
        if not out.hang:
            fails += check_conservation(prog, out, None)
            fails += check_receiver_order(prog, out)
            fails += check_deadlock_untraced(out)
        return Verdict(fails, 0, time.perf_counter() - t0, None)
    report = check_trace(out.events)
    if not report.ok:
        fails.append(Failure("trace", str(report), report.index,
                             None if report.event is None else dict(report.event)))
    if not out.hang:
        fails += check_results(prog, out)
        fails += check_kills(prog, out)
        fails += check_conservation(prog, out, report if report.ok else None)
        fails += check_order(prog, out)
        if report.ok:
            fails += check_deadlock(prog, out, report)
    return Verdict(fails, len(out.events), time.perf_counter() - t0, report)


def _hang_message(prog: Program, out: Outcome) -> str:
    lines = [f"no progress within the watchdog bound ({out.seconds:.1f} s)."]
    if out.traced:
        lines.append(_hang_diagnosis(out))
    lines.append("task states:")
    for g, end in enumerate(out.ended):
        last = out.obs[g][-1] if out.obs[g] else None
        lines.append(f"  t{g} (id {out.task_ids[g]}): started={out.started[g]} "
                     f"ended={end} steps={len(prog.tasks[g])} last observed={last}")
    if out.hang_info:
        lines.append(out.hang_info)
    return "\n".join(lines)


def _hang_diagnosis(out: Outcome) -> str:
    """Missed deadlock (the oracle's state is a deadlock) or a lost wake-up (the oracle
    completed an operation the task never returned from)?"""
    report = check_trace(out.events)
    if not report.ok or report.state is None:
        return f"the trace so far is rejected at event #{report.index} (check 'trace')"
    st = report.state
    g_of = {tid: g for g, tid in enumerate(out.task_ids) if tid is not None}
    blocked = sorted((t for t in st.st if st.st[t] == M.BLOCKED), key=repr)
    stuck = [f"t{g_of[t]}" for t in st.st if st.st[t] == M.READY and t in g_of
             and out.ended[g_of[t]] is None and out.started[g_of[t]]]
    if stuck:
        return (f"LOST WAKE-UP: the oracle has {stuck} ready (their operations completed), "
                f"but they never returned")
    if blocked:
        return (f"MISSED DEADLOCK: the oracle's final state is a deadlock (task ids {blocked} "
                f"blocked, every other task finished: no task action is enabled), but the "
                f"runtime never raised Deadlock")
    return "the oracle has no blocked task and no task left ready"


# --------------------------------------------------------------------------- results


@dataclasses.dataclass
class _Slot:
    """One result the trace gives a task: ``res`` (None while its alt is blocked)."""

    res: list[Any] | None
    event: int


@dataclasses.dataclass
class TraceView:
    """The per-task results and the kills a trace records (derived from raw events)."""

    results: dict[int, list[_Slot]]
    kills_by: dict[int | None, list[int]]
    problems: list[str]


def trace_results(events: Sequence[Mapping[str, Any]]) -> TraceView:
    """Derive every task's operation results from the raw events (no oracle involved)."""
    view = TraceView(defaultdict(list), defaultdict(list), [])
    blocked: dict[int, tuple[_Slot, Mapping[str, Any]]] = {}

    def complete(u: int, res: list[Any], k: int) -> None:
        if u not in blocked:
            view.problems.append(f"event #{k} completes task {u}, which is not blocked")
            return
        slot, _ = blocked.pop(u)
        slot.res = res

    for k, ev in enumerate(events):
        a, t = ev["action"], ev.get("task")
        if t is None:
            continue  # helper events (timers, IOProcs) carry no task
        if a in RECV_ACTIONS:
            i = ev["index"]
            mine_recv = ev["ops"][i][0] == "recv"
            view.results[t].append(_Slot(["ok", i, ev["value"] if mine_recv else None], k))
            if a != "AltBuffer":
                u, j = ev["partner"], ev["pindex"]
                pev = blocked[u][1] if u in blocked else None
                partner_recv = pev is not None and pev["ops"][j][0] == "recv"
                complete(u, ["ok", j, ev["vals"][i] if partner_recv else None], k)
        elif a == "AltClosed":
            view.results[t].append(_Slot(["closed", ev["index"]], k))
        elif a == "AltNone":
            view.results[t].append(_Slot(["none"], k))
        elif a == "AltBlock":
            slot = _Slot(None, k)
            view.results[t].append(slot)
            blocked[t] = (slot, ev)
        elif a == "Close":
            view.results[t].append(_Slot(["ok", -1, None], k))
            for u, j in ev["woken"]:
                complete(u, ["closed", j], k)
        elif a == "CloseClosed":
            view.results[t].append(_Slot(["closed", -1], k))
        elif a == "KillBlocked":
            complete(t, ["killed"], k)
            view.kills_by[ev.get("by")].append(t)
        elif a == "KillPending":
            view.kills_by[ev.get("by")].append(t)
        elif a == "Killed":
            view.results[t].append(_Slot(["killed"], k))
    return view


def _observed(out: Outcome, g: int) -> list[dict[str, Any]]:
    """Task ``g``'s observed operation results (the return values of kill left out)."""
    return [o for o in out.obs[g] if o["res"][0] != "kill"]


def check_results(prog: Program, out: Outcome) -> list[Failure]:
    """Observed results == trace results, task by task, in order ("resumed exactly once")."""
    view = trace_results(out.events)
    fails = [Failure("results", p) for p in view.problems]
    teardown = set(out.deadlock or ())
    for g, tid in enumerate(out.task_ids):
        if tid is None:
            continue
        msg = _compare_task(prog, g, tid, _observed(out, g), view.results.get(tid, []),
                            tid in teardown, out.started[g])
        if msg:
            fails.append(Failure("results", f"task t{g} (id {tid}): {msg}"))
    return fails


def _compare_task(prog: Program, g: int, tid: int, obs: list[dict[str, Any]],
                  slots: list[_Slot], in_deadlock: bool, started: bool) -> str | None:
    if not started and [s.res for s in slots] == [["killed"]] and not obs:
        return None  # killed before its first step: nothing could be observed
    for n in range(max(len(obs), len(slots))):
        o = obs[n] if n < len(obs) else None
        s = slots[n] if n < len(slots) else None
        where = "" if o is None else (
            f" at step {o['step']} ({describe_step(prog.tasks[g][o['step']])})")
        if s is None:
            return (f"observed result #{n}{where} {o and o['res']} has no counterpart in the "
                    f"trace (resumed twice, or an untraced completion)")
        if o is None:
            state = "still blocked" if s.res is None else f"result {s.res}"
            return (f"the trace has result #{n} ({state}, event #{s.event}) that the task "
                    f"never observed (a wake-up lost, or a task that never resumed)")
        if s.res is None:
            if in_deadlock and o["res"] == ["killed"] and n == len(obs) - 1:
                continue  # Deadlock's teardown killed the task it lists as blocked
            return (f"result #{n}{where}: the task observed {o['res']} but the trace leaves "
                    f"it blocked since event #{s.event}")
        if hashable(o["res"]) != hashable(s.res):
            return (f"result #{n}{where}: the task observed {o['res']} but the trace says "
                    f"{s.res} (event #{s.event})")
    return None


def check_kills(prog: Program, out: Outcome) -> list[Failure]:
    """``kill()`` returned True exactly for the traced kills by that task, in order."""
    view = trace_results(out.events)
    fails = []
    for g, tid in enumerate(out.task_ids):
        if tid is None:
            continue
        mine = [out.task_ids[prog.tasks[g][o["step"]][1]] for o in out.obs[g]
                if o["res"] == ["kill", True]]
        traced = view.kills_by.get(tid, [])
        if mine != traced:
            fails.append(Failure("kills", f"task t{g} (id {tid}): kill() returned True for "
                                 f"task ids {mine} but the trace records kills of {traced}"))
    return fails


# --------------------------------------------------------------------------- values


def _case(prog: Program, g: int, s: int, i: int) -> tuple[str, int | None]:
    step = prog.tasks[g][s]
    if step[0] == "alt":
        d, c = step[1][i]
        return d, c
    return ("send" if step[0] in ("send", "nbsend") else "recv"), step[1]


def _value_ok(prog: Program, v: Any) -> bool:
    return (isinstance(v, list) and len(v) == 3 and all(isinstance(x, int) for x in v)
            and 0 <= v[0] < len(prog.tasks) and 0 <= v[1] < len(prog.tasks[v[0]]))


def check_conservation(prog: Program, out: Outcome,
                       report: TraceReport | None) -> list[Failure]:
    """Completed sends == receives + final buffers, by unique value, channel by channel."""
    sent: dict[tuple[int, ...], int | None] = {}  # value -> channel index
    received: Counter[tuple[int, ...]] = Counter()
    fails: list[str] = []
    for g, obs in enumerate(out.obs):
        for o in obs:
            res = o["res"]
            if res[0] != "ok" or res[1] < 0:
                continue
            d, c = _case(prog, g, o["step"], res[1])
            if d == "send":
                sent[(g, o["step"], res[1])] = c
                continue
            v = res[2]
            if not _value_ok(prog, v):
                fails.append(f"t{g} step {o['step']} received {v!r}, which no task sends")
                continue
            received[tuple(v)] += 1
            sc = _case(prog, v[0], v[1], v[2])
            if sc != ("send", c):
                fails.append(f"t{g} received {v} on c{c}; that case is {sc[0]} on c{sc[1]}")
    buffered: Counter[tuple[int, ...]] = Counter()
    for c, buf in enumerate(out.buffers):
        for v in buf:
            buffered[tuple(v)] += 1
            if _value_ok(prog, v) and sent.get(tuple(v), -1) != c:
                fails.append(f"c{c} buffers {v}, which was not sent on c{c} by a completed op")
    fails += _balance(sent, received, buffered)
    if report is not None and report.state is not None:
        fails += _buffers_vs_oracle(out, report.state)
    return [Failure("conservation", m) for m in fails]


def _balance(sent: Mapping[tuple[int, ...], int | None], received: Counter[tuple[int, ...]],
             buffered: Counter[tuple[int, ...]]) -> list[str]:
    fails = []
    dup = sorted(v for v, n in (received + buffered).items() if n > 1)
    if dup:
        fails.append(f"values received or buffered more than once: {[list(v) for v in dup]}")
    lost = sorted(set(sent) - set(received) - set(buffered))
    if lost:
        fails.append(f"values whose send completed but were neither received nor buffered: "
                     f"{[list(v) for v in lost]}")
    ghost = sorted((set(received) | set(buffered)) - set(sent))
    if ghost:
        fails.append(f"values received or buffered whose send did not complete: "
                     f"{[list(v) for v in ghost]}")
    return fails


def _buffers_vs_oracle(out: Outcome, state: M.State) -> list[str]:
    fails = []
    for c, cid in enumerate(out.chan_ids):
        if cid not in state.buf:
            continue
        mine = [hashable(v) for v in out.buffers[c]]
        if mine != list(state.buf[cid]):
            fails.append(f"c{c}: the runtime's final buffer {out.buffers[c]} differs from the "
                         f"oracle's {list(state.buf[cid])}")
    return fails


def check_order(prog: Program, out: Outcome) -> list[Failure]:
    """Per channel and sender: delivery order (trace order) == send order (step order)."""
    chan_index = {cid: c for c, cid in enumerate(out.chan_ids)}
    delivered: dict[tuple[int, int], list[int]] = defaultdict(list)  # (chan, sender) -> steps
    for ev in out.events:
        if ev["action"] not in RECV_ACTIONS:
            continue
        d, cid = ev["ops"][ev["index"]]
        v = ev["value"] if d == "recv" else (
            ev["vals"][ev["index"]] if ev["action"] == "AltRendezvous" else None)
        if v is not None and _value_ok(prog, v) and cid in chan_index:
            delivered[(chan_index[cid], v[0])].append(v[1])
    fails = []
    for (c, g), steps in sorted(delivered.items()):
        if steps != sorted(steps):
            fails.append(f"c{c}: values of sender t{g} delivered out of order: steps {steps}")
    for c, buf in enumerate(out.buffers):
        by_sender: dict[int, list[int]] = defaultdict(list)
        for v in buf:
            if _value_ok(prog, v):
                by_sender[v[0]].append(v[1])
        for g, steps in sorted(by_sender.items()):
            done = delivered.get((c, g), [])
            if steps != sorted(steps) or (done and min(steps) < max(done)):
                fails.append(f"c{c}: sender t{g} has steps {steps} still buffered after "
                             f"delivering steps {done}")
    return [Failure("order", m) for m in fails]


def check_receiver_order(prog: Program, out: Outcome) -> list[Failure]:
    """Without a trace: each receiver got each sender's values on a channel in send order."""
    fails = []
    for r, obs in enumerate(out.obs):
        seen: dict[tuple[int | None, int], list[int]] = defaultdict(list)
        for o in obs:
            res = o["res"]
            if res[0] != "ok" or res[1] < 0:
                continue
            d, c = _case(prog, r, o["step"], res[1])
            if d == "recv" and _value_ok(prog, res[2]):
                seen[(c, res[2][0])].append(res[2][1])
        for (c, g), steps in sorted(seen.items(), key=repr):
            if steps != sorted(steps):
                fails.append(Failure("order", f"t{r} received sender t{g}'s values on c{c} "
                                     f"out of send order: steps {steps}"))
    return fails


# --------------------------------------------------------------------------- deadlock


def check_deadlock_untraced(out: Outcome) -> list[Failure]:
    """Without a trace: every started task finished (Deadlock's teardown kills the ones it
    lists), and every task Deadlock lists was indeed unwound by that teardown."""
    listed = set(out.deadlock or ())
    unfinished = [f"t{g}" for g, tid in enumerate(out.task_ids)
                  if out.started[g] and out.ended[g] is None]
    killed = {tid for g, tid in enumerate(out.task_ids) if out.ended[g] == "killed"}
    fails = []
    if unfinished:
        fails.append(Failure("deadlock", f"tasks {unfinished} never finished"))
    if not listed <= killed:
        fails.append(Failure("deadlock", f"Deadlock lists tasks {sorted(listed)}, but "
                             f"{sorted(listed - killed)} were not unwound by its teardown"))
    return fails


def check_deadlock(prog: Program, out: Outcome, report: TraceReport) -> list[Failure]:
    """The runtime's Deadlock verdict agrees with the oracle's final state."""
    state = report.state
    if state is None:
        return []
    g_of = {tid: g for g, tid in enumerate(out.task_ids) if tid is not None}
    blocked = [t for t in state.st if state.st[t] == M.BLOCKED]
    ready_unfinished = [t for t in state.st if state.st[t] == M.READY and t in g_of
                        and out.started[g_of[t]] and out.ended[g_of[t]] is None]
    if out.deadlock is None:
        msgs = []
        if blocked:
            msgs.append(f"the runtime finished without Deadlock, but the oracle has tasks "
                        f"{blocked} blocked")
        unfinished = [g for g, e in enumerate(out.ended) if e is None and out.started[g]]
        if unfinished:
            msgs.append(f"tasks {[f't{g}' for g in unfinished]} never finished, yet no "
                        f"Deadlock was raised")
        return [Failure("deadlock", m) for m in msgs]
    msgs = []
    if not blocked:
        msgs.append("the runtime raised Deadlock, but the oracle has no blocked task")
    if ready_unfinished:
        msgs.append(f"the runtime raised Deadlock, but tasks {ready_unfinished} are not "
                    f"blocked in the oracle and had not finished (a task action is enabled)")
    if set(out.deadlock) != set(blocked):
        msgs.append(f"Deadlock lists blocked tasks {sorted(out.deadlock)}, the oracle "
                    f"{sorted(blocked, key=str)}")
    return [Failure("deadlock", m) for m in msgs]
