"""Reading, writing and checking runtime traces against the oracle.

A trace is the list of events the runtime's tracer (``libtask9._trace``) records, one per
spec action, in the order of their ``seq`` numbers (see ``docs/CONTRACT.md``, "Trace
events").  On disk it is NDJSON: a header line ``{"format": "libtask9-trace",
"version": 1}`` and one JSON object per line.  Nothing here ever unpickles or evaluates
anything: a trace file someone sent you is only parsed as JSON.

:func:`check_trace` replays the events through :class:`libtask9.model.Model` and reports
the first event that is not an enabled action of the current state (with the state and
what the oracle expected), then runs final-state checks (everything sent was received,
is buffered, or belonged to an operation that was killed or closed out).

Each task's program is derived from the trace itself: the operation carried by each
operation-starting event (``AltBuffer`` ... ``CloseClosed``), a placeholder operation for
``Killed`` (the operation it interrupts is not recorded, and is not performed), and a
trailing placeholder for a task that has a kill pending when the trace ends.  Events on
channels that no ``ChanCreate`` declares (private channels of helpers such as timers) are
ignored; an alt that mixes declared and undeclared channels cannot be checked and is
reported.  A ``KillBlocked`` of a task blocked in an ignored operation is replayed as
``KillPending`` then ``Killed``: from the spec's point of view that task was between two
channel operations.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .. import model as M
from .._trace import LIFECYCLE_ACTIONS

__all__ = [
    "ALT_ACTIONS",
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "PreparedTrace",
    "TraceFormatError",
    "TraceReport",
    "check_trace",
    "event_op",
    "hashable",
    "incarnations",
    "prepare_trace",
    "read_trace",
    "validate_event",
    "write_trace",
]

TRACE_FORMAT = "libtask9-trace"
TRACE_VERSION = 2  # 2 added "run", "t" and the lifecycle events; version 1 files still read
READ_VERSIONS = (1, 2)

ALT_ACTIONS = ("AltBuffer", "AltRendezvous", "AltHandover", "AltClosed", "AltBlock", "AltNone")
CLOSE_ACTIONS = ("Close", "CloseClosed")
KILL_ACTIONS = ("KillBlocked", "KillPending", "Killed")
OP_ACTIONS = ALT_ACTIONS + CLOSE_ACTIONS
EVENT_ACTIONS = ("ChanCreate", *OP_ACTIONS, *KILL_ACTIONS, *LIFECYCLE_ACTIONS)


class TraceFormatError(ValueError):
    """A trace file or event that does not follow the format; names the line if known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:"
        if line is not None:
            where += f"line {line}: " if path is None else f"{line}: "
        elif where:
            where += " "
        super().__init__(where + message)
        self.path = path
        self.line = line


# --------------------------------------------------------------------------- NDJSON I/O


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def validate_event(raw: object) -> dict[str, Any]:
    """Check one event's shape (fields and types of CONTRACT.md); return it as a dict.

    Raises :class:`TraceFormatError` (without a line number; the reader adds it)."""
    if not isinstance(raw, dict):
        raise TraceFormatError(f"an event must be a JSON object, not {type(raw).__name__}")
    ev: dict[str, Any] = raw
    action = ev.get("action")
    if action not in EVENT_ACTIONS:
        raise TraceFormatError(f"unknown action {action!r}")
    if not _is_int(ev.get("seq")):
        raise TraceFormatError(f"{action}: 'seq' must be an integer, got {ev.get('seq')!r}")
    task = ev.get("task")
    if task is not None and not _is_int(task):
        raise TraceFormatError(f"{action}: 'task' must be an integer or null, got {task!r}")
    proc = ev.get("proc")
    if proc is not None and not _is_int(proc):
        raise TraceFormatError(f"{action}: 'proc' must be an integer or null, got {proc!r}")

    def need(key: str, ok: bool, what: str) -> None:
        if not ok:
            raise TraceFormatError(f"{action}: {key!r} must be {what}, got {ev.get(key)!r}")

    if action in LIFECYCLE_ACTIONS:  # (spec/Procs.tla's events: not the channel oracle's)
        run = ev.get("run")
        need("run", run is None or _is_int(run), "an integer or null")
    elif action == "ChanCreate":
        need("chan", _is_int(ev.get("chan")), "an integer")
        need("cap", _is_int(ev.get("cap")) and ev["cap"] >= 0, "an integer >= 0")
    elif action in ALT_ACTIONS:
        ops = ev.get("ops")
        need("ops", isinstance(ops, list), "a list of [dir, chan]")
        assert isinstance(ops, list)
        for case in ops:
            if (
                not isinstance(case, list)
                or len(case) != 2
                or case[0] not in (M.SEND, M.RECV)
                or not (case[1] is None or _is_int(case[1]))
            ):
                raise TraceFormatError(f"{action}: bad case {case!r} in 'ops'")
        vals = ev.get("vals")
        need("vals", isinstance(vals, list) and len(vals) == len(ops), "a list as long as ops")
        need("block", isinstance(ev.get("block"), bool), "a boolean")
        idx: Any = ev.get("index")
        if action in ("AltBlock", "AltNone"):
            need("index", idx == -1, "-1")
        else:
            need("index", _is_int(idx) and 0 <= idx < len(ops), "a case index of ops")
        if "value" not in ev:
            raise TraceFormatError(f"{action}: missing 'value'")
        if action in ("AltRendezvous", "AltHandover"):
            need("partner", _is_int(ev.get("partner")), "a task id")
            need("pindex", _is_int(ev.get("pindex")) and ev["pindex"] >= 0, "a case index")
        if task is None and ev.get("proc") is None:
            raise TraceFormatError(f"{action}: a helper event (task null) needs 'proc'")
    elif action in CLOSE_ACTIONS:
        need("chan", _is_int(ev.get("chan")), "an integer")
        if action == "Close":
            woken = ev.get("woken")
            need("woken", isinstance(woken, list), "a list of [task, index]")
            assert isinstance(woken, list)
            for w in woken:
                if not (isinstance(w, list) and len(w) == 2 and _is_int(w[0]) and _is_int(w[1])):
                    raise TraceFormatError(f"Close: bad entry {w!r} in 'woken'")
    else:  # kills
        need("task", _is_int(task), "the victim's task id")
    return ev


def read_trace(source: str | os.PathLike[str] | IO[str]) -> list[dict[str, Any]]:
    """Read an NDJSON trace (header line first); every error names the line."""
    if isinstance(source, (str, os.PathLike)):
        path = str(source)
        with open(source, encoding="utf-8") as f:
            return _read_lines(f, path)
    return _read_lines(source, getattr(source, "name", None))


def _read_lines(f: IO[str], path: str | None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    header_seen = False
    lineno = 0
    for lineno, raw in enumerate(f, start=1):
        line = raw.strip()
        if not line:
            if not raw.endswith("\n"):
                break
            raise TraceFormatError("blank line", path=path, line=lineno)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            trunc = "" if raw.endswith("\n") else " (truncated file? the last line has no newline)"
            raise TraceFormatError(
                f"malformed JSON: {e.msg}{trunc}", path=path, line=lineno
            ) from None
        if not header_seen:
            if (
                not isinstance(obj, dict)
                or obj.get("format") != TRACE_FORMAT
                or "version" not in obj
            ):
                raise TraceFormatError(
                    f'not a libtask9 trace: the first line must be {{"format": "{TRACE_FORMAT}", '
                    f'"version": {TRACE_VERSION}}}',
                    path=path,
                    line=lineno,
                )
            if obj["version"] not in READ_VERSIONS:
                raise TraceFormatError(
                    f"unsupported trace version {obj['version']!r} (this reader knows "
                    f"{TRACE_VERSION})",
                    path=path,
                    line=lineno,
                )
            header_seen = True
            continue
        try:
            events.append(validate_event(obj))
        except TraceFormatError as e:
            raise TraceFormatError(str(e), path=path, line=lineno) from None
    if not header_seen:
        raise TraceFormatError("empty file: no header line", path=path, line=lineno or 1)
    return events


def write_trace(
    dest: str | os.PathLike[str] | IO[str], events: Iterable[Mapping[str, Any]]
) -> None:
    """Write ``events`` as NDJSON with the version header (values must be JSON values)."""
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "w", encoding="utf-8") as f:
            write_trace(f, events)
        return
    dest.write(json.dumps({"format": TRACE_FORMAT, "version": TRACE_VERSION}) + "\n")
    for ev in events:
        dest.write(json.dumps(dict(ev), separators=(",", ":")) + "\n")


# --------------------------------------------------------------------------- preparation


def hashable(v: Any) -> Hashable:
    """A JSON value as a hashable Python value (lists -> tuples, objects -> sorted tuples)."""
    if isinstance(v, list):
        return tuple(hashable(x) for x in v)
    if isinstance(v, dict):
        return ("<object>", tuple(sorted((str(k), hashable(x)) for k, x in v.items())))
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(f"not a JSON value: {v!r}")


def event_op(ev: Mapping[str, Any]) -> M.Op:
    """The operation an op-starting event carries."""
    action = ev["action"]
    if action in CLOSE_ACTIONS:
        return M.CloseOp(ev["chan"])
    if action in ALT_ACTIONS:
        cases = tuple(
            M.Case(d, ch, hashable(v) if d == M.SEND else None)
            for (d, ch), v in zip(ev["ops"], ev["vals"], strict=True)
        )
        return M.AltOp(cases, bool(ev["block"]))
    raise ValueError(f"{action} does not start an operation")


def _event_chans(ev: Mapping[str, Any]) -> list[int]:
    if ev["action"] in ALT_ACTIONS:
        return [ch for _, ch in ev["ops"] if ch is not None]
    if ev["action"] in CLOSE_ACTIONS:
        return [ev["chan"]]
    return []


Task = Hashable


def _task_key(ev: Mapping[str, Any]) -> Task:
    t = ev.get("task")
    return t if t is not None else ("helper", ev.get("proc"))


@dataclasses.dataclass(frozen=True)
class Item:
    """One replayable step: ``index`` into the original event list, the action to replay
    (``KillBlocked`` of a task blocked outside the model becomes two items)."""

    index: int
    action: str
    task: Task
    event: Mapping[str, Any]
    step: int = -1  # 0-based op index of the task's program this step starts/continues


@dataclasses.dataclass
class PreparedTrace:
    """A trace reduced to what the spec sees (see the module docstring)."""

    events: Sequence[Mapping[str, Any]]
    chans: dict[int, int]  # declared channel -> capacity, in ChanCreate order
    items: list[Item]
    prog: dict[Task, list[M.Op]]  # derived programs (placeholders included)
    tasks: list[Task]  # in order of first appearance
    ignored: list[int]  # indices of ignored events
    problem: tuple[int, str] | None  # a trace that cannot be checked: (index, why)


PLACEHOLDER = M.AltOp((), False)


def incarnations(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events with each task renamed after every timeout-scope interruption.

    A timeout scope interrupts a task exactly as a kill does (``KillBlocked``, or
    ``KillPending`` and ``Killed``, with ``"reason": "timeout"``), and in the spec that
    task is then dead; in the runtime the scope catches the interruption and the task
    goes on.  So what the task does after it is, for the spec, a new task: its later
    events (and the partners' references to it) carry a fresh id,
    ``-(1000 * id + n)`` for its n-th life.  Events are copied only where renamed.
    """
    cur: dict[int, int] = {}
    lives: dict[int, int] = {}
    out: list[Mapping[str, Any]] = []

    def ren(u: Any) -> Any:
        return cur.get(u, u) if isinstance(u, int) else u

    for ev in events:
        action = ev.get("action")
        if cur and action not in LIFECYCLE_ACTIONS:
            new = dict(ev)
            for key in ("task", "partner", "by"):
                if key in new:
                    new[key] = ren(new[key])
            if action == "Close" and isinstance(new.get("woken"), list):
                new["woken"] = [[ren(w[0]), *w[1:]] if isinstance(w, list) and w else w
                                for w in new["woken"]]
            ev = new
        out.append(ev)
        if ev.get("reason") == "timeout" and action in ("KillBlocked", "Killed"):
            t = ev.get("task")
            orig = next((o for o, a in cur.items() if a == t), t)
            if isinstance(orig, int):
                lives[orig] = lives.get(orig, 0) + 1
                cur[orig] = -(1000 * orig + lives[orig])
    return out


def prepare_trace(events: Sequence[Mapping[str, Any]]) -> PreparedTrace:
    """Decide which events the spec sees, and derive every task's program (after
    :func:`incarnations`)."""
    events = incarnations(events)
    chans: dict[int, int] = {}
    created_at: dict[int, int] = {}
    for k, ev in enumerate(events):
        if ev.get("action") == "ChanCreate":
            created_at.setdefault(ev["chan"], k)
    items: list[Item] = []
    prog: dict[Task, list[M.Op]] = {}
    tasks: list[Task] = []
    ignored: list[int] = []
    problem: tuple[int, str] | None = None
    outside: set[Task] = set()  # tasks blocked in an ignored (undeclared-channel) op
    last_seq: int | None = None

    def see(t: Task) -> None:
        if t not in prog:
            prog[t] = []
            tasks.append(t)

    for k, raw in enumerate(events):
        try:
            ev = validate_event(raw)
        except TraceFormatError as e:
            problem = (k, f"malformed event: {e}")
            break
        seq = ev["seq"]
        if last_seq is not None and seq <= last_seq:
            problem = (k, f"seq {seq} does not increase (previous event has seq {last_seq})")
            break
        last_seq = seq
        if ev["action"] in LIFECYCLE_ACTIONS:  # the lifecycle is not the channels' spec
            continue
        action = ev["action"]
        if action == "ChanCreate":
            c = ev["chan"]
            if c in chans:
                problem = (k, f"channel {c} is created twice")
                break
            chans[c] = ev["cap"]
            continue
        t = _task_key(ev)
        if action in OP_ACTIONS:
            cs = _event_chans(ev)
            known = [c for c in cs if c in created_at]
            if cs and not known:
                ignored.append(k)
                if action == "AltBlock":
                    outside.add(t)
                else:
                    outside.discard(t)
                for key in ("partner",):
                    if ev.get(key) is not None:
                        outside.discard(ev[key])
                continue
            if len(known) != len(cs):
                problem = (
                    k,
                    f"{action} of task {t!r} mixes declared channels {sorted(known)} with "
                    f"undeclared ones {sorted(set(cs) - set(known))}: it cannot be checked",
                )
                break
            early = [c for c in cs if c not in chans]
            if early:
                problem = (k, f"channel {early[0]} is used before its ChanCreate")
                break
            outside.discard(t)
            see(t)
            items.append(Item(k, action, t, ev, len(prog[t])))
            prog[t].append(event_op(ev))
            for u in [ev.get("partner")] + [w[0] for w in ev.get("woken") or []]:
                if u is not None:
                    see(u)
        else:  # kills
            see(t)
            if action == "KillBlocked" and t in outside:
                outside.discard(t)
                items.append(Item(k, "KillPending", t, ev))
                items.append(Item(k, "Killed", t, ev, len(prog[t])))
                prog[t].append(PLACEHOLDER)
            elif action == "Killed":
                items.append(Item(k, "Killed", t, ev, len(prog[t])))
                prog[t].append(PLACEHOLDER)
            elif action == "KillBlocked":
                items.append(Item(k, action, t, ev, len(prog[t]) - 1))
            else:
                items.append(Item(k, action, t, ev))
    # a kill still pending at the end: the task had a next operation (HasOp)
    pending: dict[Task, bool] = {}
    for it in items:
        if it.action == "KillPending":
            pending[it.task] = True
        elif it.action in OP_ACTIONS or it.action == "Killed":
            pending[it.task] = False
    for t, p in pending.items():
        if p:
            prog[t].append(PLACEHOLDER)
    return PreparedTrace(events, chans, items, prog, tasks, ignored, problem)


# --------------------------------------------------------------------------- checking


@dataclasses.dataclass
class TraceReport:
    """The verdict of :func:`check_trace`.

    ``ok`` is True iff every event replayed and the final checks passed.  On failure,
    ``index`` is the position of the first bad event in the list given to
    :func:`check_trace` (``None`` if only a final check failed), ``message`` says what is
    wrong, ``expected`` lists what the oracle would have allowed, ``state`` is the oracle
    state before that event."""

    ok: bool
    index: int | None = None
    event: Mapping[str, Any] | None = None
    message: str = ""
    expected: list[str] = dataclasses.field(default_factory=list)
    state: M.State | None = None
    checked: int = 0
    ignored: int = 0
    final: list[str] = dataclasses.field(default_factory=list)
    summary: dict[str, int] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return (
                f"trace OK: {self.checked} events replayed, {self.ignored} ignored; "
                + ", ".join(f"{k}={v}" for k, v in self.summary.items())
            )
        lines = []
        if self.index is not None:
            seq = self.event.get("seq") if self.event else None
            lines.append(f"event #{self.index} (seq {seq}) is not a step of the spec:")
            lines.append(f"  event: {json.dumps(self.event, default=repr)}")
            lines.append(f"  {self.message}")
            if self.expected:
                lines.append("  the oracle allows, for this task and operation:")
                lines.extend(f"    {x}" for x in self.expected)
            else:
                lines.append("  the oracle allows nothing for this task here")
            if self.state is not None:
                lines.append("  oracle state before the event:")
                lines.append(self.state.describe())
        for f in self.final:
            lines.append(f"final check failed: {f}")
        return "\n".join(lines)


class _Bad(Exception):
    def __init__(self, message: str, expected: Sequence[M.Step] = ()) -> None:
        super().__init__(message)
        self.expected = [s.brief() for s in expected]


def _fmt(v: Any) -> str:
    return "NoVal" if v is M.NOVAL else repr(v)


def _replay_item(model: M.Model, pt: PreparedTrace, it: Item) -> M.Step:
    ev = it.event
    t = it.task
    for u in [t, ev.get("partner")] + [w[0] for w in ev.get("woken") or []]:
        if u is not None and not model.has_task(u):
            model.add_task(u)
    if it.action in ("KillBlocked", "KillPending"):
        choices = model.kill_steps(t)
        for st in choices:
            if st.action == it.action:
                model.apply(it.action, t)
                return st
        raise _Bad(f"{it.action}(task={t!r}) is not enabled", choices)
    if it.action == "Killed":
        choices = model.enabled(t, PLACEHOLDER)
        choices = [c for c in choices if c.action == "Killed"]
        if not choices:
            raise _Bad(f"Killed(task={t!r}) is not enabled (no pending kill, or not ready)")
        return model.apply("Killed", t, op=PLACEHOLDER)
    op = pt.prog[t][it.step]
    choices = model.enabled(t, op)
    idx = ev.get("index", -1)
    want = [
        c
        for c in choices
        if c.action == it.action and (c.index == idx or it.action not in M.CASE_ACTIONS)
    ]
    if not choices or model.state.killreq[t]:
        tstate = model.state.st[t]
        why = (
            f"task {t!r} is {tstate}"
            if tstate != M.READY
            else f"task {t!r} has a pending kill: its next operation must be Killed"
        )
        raise _Bad(f"{it.action}(task={t!r}) is not enabled: {why}", choices)
    if not want:
        what = f"{it.action}(task={t!r}"
        what += f", index={idx})" if it.action in M.CASE_ACTIONS else ")"
        raise _Bad(f"{what} is not enabled", choices)
    step = want[0]
    diffs: list[str] = []
    if it.action in ALT_ACTIONS:
        r = step.result
        got = M.NOVAL if r is None else r.val
        case = op.cases[idx] if isinstance(op, M.AltOp) and idx >= 0 else None
        observed = hashable(ev.get("value"))
        if case is not None and case.dir == M.RECV and r is not None and r.kind == "ok":
            if observed != got:
                c = case.ch
                diffs.append(
                    f"received value: trace says {observed!r}, the spec says {_fmt(got)} "
                    f"(buf[{c!r}] = {list(model.state.buf[c])}, sendq[{c!r}] = "
                    f"{list(model.state.sendq[c])})"
                )
        elif observed is not None:
            diffs.append(f"value: trace says {observed!r}, the spec says no value (null)")
        if it.action in ("AltRendezvous", "AltHandover") and (
            (ev.get("partner"), ev.get("pindex")) != (step.partner, step.pindex)
        ):
            diffs.append(
                f"partner: trace says task {ev.get('partner')!r} case {ev.get('pindex')}, the "
                f"spec says task {step.partner!r} case {step.pindex} (the FIRST waiter)"
            )
    if it.action == "Close":
        woken = {(w[0], w[1]) for w in ev["woken"]}
        expect = set(step.woken.items())
        if woken != expect:
            diffs.append(
                f"woken: trace says {sorted(woken, key=repr)}, the spec says "
                f"{sorted(expect, key=repr)} (every waiter on the channel, smallest case index)"
            )
    if diffs:
        raise _Bad("; ".join(diffs), [step])
    return model.apply(it.action, t, idx, op)


def check_trace(events: Sequence[Mapping[str, Any]]) -> TraceReport:
    """Replay ``events`` (dicts as recorded by the runtime's tracer) through the oracle.

    Returns a :class:`TraceReport`; ``report.ok`` is the verdict and ``str(report)`` a
    readable account of the first bad event, with the oracle's state and its expectation.
    """
    pt = prepare_trace(events)
    model = M.Model()
    for c, cap in pt.chans.items():
        model.add_chan(c, cap)
    checked = 0
    counts: Counter[str] = Counter()
    for it in pt.items:
        if pt.problem is not None and it.index >= pt.problem[0]:
            break
        before = model.state
        try:
            _replay_item(model, pt, it)
        except _Bad as e:
            return TraceReport(
                ok=False,
                index=it.index,
                event=it.event,
                message=str(e),
                expected=e.expected,
                state=before,
                checked=checked,
                ignored=len(pt.ignored),
            )
        counts[it.action] += 1
        checked += 1
    if pt.problem is not None:
        k, why = pt.problem
        return TraceReport(
            ok=False,
            index=k,
            event=events[k],
            message=why,
            state=model.state,
            checked=checked,
            ignored=len(pt.ignored),
        )
    final = final_checks(model)
    return TraceReport(
        ok=not final,
        checked=checked,
        ignored=len(pt.ignored),
        final=final,
        state=model.state,
        summary=dict(counts),
    )


def final_checks(model: M.Model) -> list[str]:
    """The spec's invariants on the final state (``DeadlockExact`` aside: whether a task
    has a next operation is not known from a trace), with a conservation account."""
    s = model.state
    problems = []
    for name, inv in M.INVARIANTS.items():
        if name == "DeadlockExact":
            continue
        if not inv(model, s):
            problems.append(f"invariant {name} is violated by the final state")
    for c in s.buf:
        sent = Counter(s.slog[c])
        rcvd = Counter(s.rlog[c])
        buffered = Counter(s.buf[c])
        lost = sent - rcvd - buffered
        extra = (rcvd + buffered) - sent
        if lost or extra:
            problems.append(
                f"channel {c!r}: sent values neither received nor buffered "
                f"{sorted(lost, key=repr)}, received or buffered but never sent "
                f"{sorted(extra, key=repr)}"
            )
    return problems


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Check libtask9 NDJSON traces against the oracle.")
    ap.add_argument("files", nargs="+", type=Path)
    ns = ap.parse_args(argv)
    bad = 0
    for p in ns.files:
        try:
            rep = check_trace(read_trace(p))
        except TraceFormatError as e:
            print(f"{p}: {e}")
            bad += 1
            continue
        print(f"{p}: {rep}")
        bad += not rep.ok
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(_main())
