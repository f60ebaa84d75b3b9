"""Trace timeline: a recorded libtask9 trace as a Chrome trace-event / Perfetto timeline.

    python -m libtask9.trace FILE.ndjson -o FILE.json   # open in ui.perfetto.dev
    python -m libtask9.trace FILE.ndjson --summary      # counts per channel and task

The input is the NDJSON a :class:`libtask9.TraceRecorder` writes (``docs/CONTRACT.md``,
"Trace events"); the output is the JSON Object Format of the Chrome trace-event format,
which ui.perfetto.dev and ``chrome://tracing`` both load.  The mapping (see
``docs/TRACE_TIMELINE.md``):

* one process per proc (``pid`` = proc id) and one thread per task (``tid`` = task id),
  named by ``process_name`` / ``thread_name`` metadata events (prefixed with the run id
  when events carry ``run``); one more process, after the procs, holds what belongs to
  no proc: channel creation and the buffer length of each buffered channel (counters);
* a blocked task is a slice on its track, from its ``AltBlock`` to the event that
  completes its operation (the partner's ``AltRendezvous`` / ``AltHandover``, the
  ``Close`` that wakes it, the ``KillBlocked``), or, when a channel the trace does not
  record woke it (a timer's or an IOProc's), to its next event;
* every other channel operation is a short slice (half a microsecond: the critical
  section) on the acting task's track, so that arrows can bind to it;
* every value moved from a sender to a receiver is a flow arrow (``"s"``/``"f"`` events,
  binding point "enclosing slice") from the sender's slice to the receiver's: at once
  for a rendezvous, across the buffer (FIFO) for a buffered channel; a ``Close`` has an
  arrow to each task it wakes, a ``KillBlocked`` one from the killer to its victim;
* any other event (``ChanCreate``, ``Killed``, lifecycle events, actions this module does
  not know) is an instant on its task's track, else on its proc's, else on the extra
  process.  Nothing in the input makes the converter fail: unknown fields are kept in
  the ``args`` of each event, unknown actions become instants.

Time: when every event carries ``"t"`` (``time.monotonic()`` seconds), ``ts`` is the
time since the first event in microseconds; otherwise one ``seq`` step is one
microsecond.  Events are ordered by ``seq`` and kept at least 1 µs apart, so that no two
share a timestamp and every slice fits between its neighbours.

The JSON is written with the standard library: the PyPI writers of this format either
lack flow events and the JSON Object Format (``chrometrace``), or write Perfetto's
protobuf format instead (``perfetto``'s ``TraceProtoBuilder``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

__all__ = [
    "CONTRACT_ACTIONS",
    "OP_SLICE_US",
    "TraceReadError",
    "dump_chrome",
    "main",
    "read_events",
    "summary",
    "to_chrome",
]

TRACE_FORMAT = "libtask9-trace"
KNOWN_VERSION = 2

ALT_ACTIONS = ("AltBuffer", "AltRendezvous", "AltHandover", "AltClosed", "AltBlock", "AltNone")
CLOSE_ACTIONS = ("Close", "CloseClosed")
KILL_ACTIONS = ("KillBlocked", "KillPending", "Killed")
#: The actions ``docs/CONTRACT.md`` defines (the channel-level trace).
CONTRACT_ACTIONS = ("ChanCreate", *ALT_ACTIONS, *CLOSE_ACTIONS, *KILL_ACTIONS)
#: Events that show their task running: a block of that task that no recorded event
#: completed (a timer or IOProc channel woke it) ended before such an event.
_RUNNING_ACTIONS = frozenset(
    (*ALT_ACTIONS, *CLOSE_ACTIONS, "Killed", "TaskExit", "JoinBlock", "TimerArm", "IoStart")
)

#: Width of an operation's slice, in microseconds (events are at least 1 µs apart).
OP_SLICE_US = 0.5
_MIN_GAP_US = 1.0

_CAT_OP = "libtask9.op"
_CAT_BLOCK = "libtask9.block"
_CAT_EVENT = "libtask9.event"
_CAT_VALUE = "libtask9.value"
_CAT_CLOSE = "libtask9.close"
_CAT_KILL = "libtask9.kill"


class TraceReadError(ValueError):
    """The input is not a libtask9 NDJSON trace (names the line when it can)."""


# --------------------------------------------------------------------------- reading


def read_events(
    source: str | os.PathLike[str] | IO[str], notes: list[str] | None = None
) -> list[dict[str, Any]]:
    """Read a libtask9 NDJSON trace: the header line, then one JSON object per line.

    Lenient where a viewer can be: any header ``version`` is accepted, blank lines and
    lines that are not JSON objects are skipped, and so is a last line cut short (a
    program that died while writing).  Each such thing is described in ``notes`` when
    a list is given.  Raises :class:`TraceReadError` for a file that is not a trace (no
    header) or a malformed line in the middle.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8") as f:
            return read_events(f, notes)
    note = notes.append if notes is not None else (lambda _s: None)
    events: list[dict[str, Any]] = []
    header = False
    lines = source.read().split("\n")
    last = len(lines) - 1
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            if lineno - 1 == last:  # no newline after it: cut short
                note(f"line {lineno}: ignored a truncated last line")
                continue
            raise TraceReadError(f"line {lineno}: malformed JSON: {e.msg}") from None
        if not header:
            if not isinstance(obj, dict) or obj.get("format") != TRACE_FORMAT:
                raise TraceReadError(
                    f'line {lineno}: not a libtask9 trace: the first line must be '
                    f'{{"format": "{TRACE_FORMAT}", "version": {KNOWN_VERSION}}}'
                )
            if obj.get("version") != KNOWN_VERSION:
                note(f"trace version {obj.get('version')!r} (this reader was written for "
                     f"{KNOWN_VERSION}): unknown actions are shown as instants")
            header = True
            continue
        if not isinstance(obj, dict):
            note(f"line {lineno}: skipped a {type(obj).__name__}, not an event object")
            continue
        events.append(obj)
    if not header:
        raise TraceReadError("empty file: no libtask9 trace header")
    return events


# --------------------------------------------------------------------------- analysis


def _int(x: object) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def _id(x: object) -> int | None:
    """A task, proc or channel id: an int that fits a trace viewer's pid/tid (>= 0)."""
    return x if isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**31 else None


def _num(x: object) -> float | None:
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


def _jsonable(v: Any, depth: int = 0) -> Any:
    """``v`` as a JSON value (what ``TraceRecorder`` writes: ``repr`` for the rest)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if depth > 20:
        return repr(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x, depth + 1) for k, x in v.items()}
    return repr(v)


@dataclasses.dataclass
class _Ev:
    """One input event with its place on the timeline."""

    raw: Mapping[str, Any]
    action: str
    seq: int | None
    task: int | None
    proc: int | None
    ts: float  # µs

    @property
    def mid(self) -> float:
        """Where arrows bind: the middle of this event's operation slice."""
        return self.ts + OP_SLICE_US / 2

    def case(self, i: int | None) -> tuple[str, int | None] | None:
        """Case ``i`` of the event's ``ops`` as ``(dir, chan)``, if well-formed."""
        ops = self.raw.get("ops")
        if i is None or not isinstance(ops, list) or not 0 <= i < len(ops):
            return None
        c = ops[i]
        if isinstance(c, list) and len(c) == 2 and isinstance(c[0], str):
            return c[0], _id(c[1])
        return None

    def cases(self) -> list[tuple[str, int | None]]:
        ops = self.raw.get("ops")
        n = len(ops) if isinstance(ops, list) else 0
        return [c for c in (self.case(i) for i in range(n)) if c is not None]

    def val(self, i: int | None) -> Any:
        vals = self.raw.get("vals")
        if i is None or not isinstance(vals, list) or not 0 <= i < len(vals):
            return None
        return vals[i]


def _case_str(case: tuple[str, int | None] | None) -> str:
    if case is None:
        return "?"
    d, c = case
    return f"{d} {'nil' if c is None else f'c{c}'}"


def _cases_str(cases: Sequence[tuple[str, int | None]]) -> str:
    if len(cases) == 1:
        return _case_str(cases[0])
    shown = ", ".join(_case_str(c) for c in cases[:3])
    more = f", +{len(cases) - 3}" if len(cases) > 3 else ""
    return f"alt({shown}{more})"


@dataclasses.dataclass
class _Block:
    """A task blocked in an alt, from its AltBlock to what ended it."""

    ev: _Ev
    start: float
    end: float | None = None  # slice end (µs)
    waited: float = 0.0  # time blocked, in the summary's unit
    reason: str = ""


@dataclasses.dataclass
class _Stats:
    ops: Counter[str] = dataclasses.field(default_factory=Counter)
    sent: int = 0
    received: int = 0
    blocked: int = 0
    waited: float = 0.0


Point = tuple[int, int, float]  # pid, tid, ts


@dataclasses.dataclass
class _Timeline:
    """Everything ``to_chrome`` and ``summary`` need, from one pass over the events."""

    events: list[_Ev]
    time_mode: str  # "t" or "seq"
    runtime_pid: int
    task_proc: dict[int, int]
    proc_run: dict[int, Any]
    proc_name: dict[int, str]
    task_name: dict[int, str]
    chan_cap: dict[int, int]
    slices: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    instants: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    counters: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    flows: list[tuple[str, str, Point, Point, dict[str, Any]]] = dataclasses.field(
        default_factory=list)
    blocks: list[tuple[int, _Block]] = dataclasses.field(default_factory=list)
    task_stats: dict[int, _Stats] = dataclasses.field(default_factory=dict)
    chan_stats: dict[int, _Stats] = dataclasses.field(default_factory=dict)
    other: Counter[str] = dataclasses.field(default_factory=Counter)

    def pid_of(self, task: int | None, proc: int | None = None) -> int:
        if task is not None and task in self.task_proc:
            return self.task_proc[task]
        return proc if proc is not None else self.runtime_pid

    def tstat(self, task: int) -> _Stats:
        return self.task_stats.setdefault(task, _Stats())

    def cstat(self, chan: int) -> _Stats:
        return self.chan_stats.setdefault(chan, _Stats())


def _order(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    evs = [e for e in events if isinstance(e, Mapping)]
    if all(_int(e.get("seq")) is not None for e in evs):
        evs.sort(key=lambda e: int(e["seq"]))
    return evs


def _timestamps(evs: Sequence[Mapping[str, Any]]) -> tuple[list[float], str]:
    ts_raw: list[float]
    if evs and all(_num(e.get("t")) is not None for e in evs):
        t0 = float(evs[0]["t"])
        ts_raw, mode = [(float(e["t"]) - t0) * 1e6 for e in evs], "t"
    else:
        seqs = [_int(e.get("seq")) for e in evs]
        if evs and all(s is not None for s in seqs):
            s0 = seqs[0]
            assert s0 is not None
            ts_raw = [float(s - s0) for s in seqs if s is not None]
        else:
            ts_raw = [float(i) for i in range(len(evs))]
        mode = "seq"
    out: list[float] = []
    for x in ts_raw:
        x = max(x, 0.0) if not out else max(x, out[-1] + _MIN_GAP_US)
        out.append(round(x, 3))
    return out, mode


def _analyze(events: Iterable[Mapping[str, Any]]) -> _Timeline:
    raws = _order(events)
    stamps, mode = _timestamps(raws)
    evs = [
        _Ev(raw=e, action=e["action"] if isinstance(e.get("action"), str) else "?",
            seq=_int(e.get("seq")), task=_id(e.get("task")), proc=_id(e.get("proc")),
            ts=ts)
        for e, ts in zip(raws, stamps, strict=True)
    ]

    # First pass: who lives where, names, runs, channel capacities.
    task_proc: dict[int, int] = {}
    proc_run: dict[int, Any] = {}
    proc_name: dict[int, str] = {}
    task_name: dict[int, str] = {}
    chan_cap: dict[int, int] = {}
    ids: list[int] = [0]
    for ev in evs:
        r = ev.raw
        if ev.task is not None and ev.proc is not None:
            task_proc.setdefault(ev.task, ev.proc)
        if ev.proc is not None and "run" in r and r["run"] is not None:
            proc_run.setdefault(ev.proc, _jsonable(r["run"]))
        name = r.get("name")
        if isinstance(name, str) and name:
            if ev.action.startswith("Task") and ev.task is not None:
                task_name.setdefault(ev.task, name)
            elif ev.action.startswith("Proc") and ev.proc is not None:
                proc_name.setdefault(ev.proc, name)
        if ev.action == "ChanCreate":
            c, cap = _id(r.get("chan")), _int(r.get("cap"))
            if c is not None and cap is not None:
                chan_cap.setdefault(c, cap)
        ids += [x for x in (ev.task, ev.proc) if x is not None]
    tl = _Timeline(events=evs, time_mode=mode, runtime_pid=max(ids) + 1, task_proc=task_proc,
                   proc_run=proc_run, proc_name=proc_name, task_name=task_name,
                   chan_cap=chan_cap)
    _Pass(tl).run()
    return tl


class _Pass:
    """Second pass: slices, instants, arrows and counts, in seq order."""

    def __init__(self, tl: _Timeline) -> None:
        self.tl = tl
        self.open: dict[int, _Block] = {}
        self.fifo: dict[int, deque[tuple[Any, Point | None]]] = {}
        self.buflen: dict[int, int] = {}
        self.last_ts = tl.events[-1].ts if tl.events else 0.0

    # -- helpers ---------------------------------------------------------------------

    def wait_units(self, start: _Ev, end_ts: float) -> float:
        """Time between ``start`` and ``end_ts`` in the summary's unit."""
        return end_ts - start.ts  # µs, or seq steps (1 µs per step in seq mode)

    def op_slice(self, ev: _Ev, task: int, name: str) -> Point:
        """A short slice on ``task``'s track for ``ev``; returns where arrows bind to it."""
        pid = self.tl.pid_of(task, ev.proc if task == ev.task else None)
        self.tl.slices.append({"name": name, "cat": _CAT_OP, "ph": "X", "ts": ev.ts,
                               "dur": OP_SLICE_US, "pid": pid, "tid": task,
                               "args": _jsonable(dict(ev.raw))})
        return pid, task, ev.mid

    def instant(self, ev: _Ev, name: str) -> None:
        """An instant on ``ev``'s task's track, else on its proc's, else the runtime's."""
        task = ev.task
        if task is not None:
            pid, tid, scope = self.tl.pid_of(task, ev.proc), task, "t"
        else:
            pid = ev.proc if ev.proc is not None else self.tl.runtime_pid
            tid, scope = pid, "p"
        self.tl.instants.append({"name": name, "cat": _CAT_EVENT, "ph": "i", "ts": ev.ts,
                                 "s": scope, "pid": pid, "tid": tid,
                                 "args": _jsonable(dict(ev.raw))})

    def flow(self, cat: str, name: str, src: Point | None, dst: Point | None,
             args: dict[str, Any]) -> None:
        """An arrow from ``src`` to ``dst`` (none if either end has no slice to bind to)."""
        if src is not None and dst is not None:
            self.tl.flows.append((cat, name, src, dst, args))

    def end_block(self, task: int, end: float, waited_until: float, reason: str) -> Point | None:
        """End ``task``'s open block: the slice ends at ``end``; returns its bind point."""
        b = self.open.pop(task, None)
        if b is None:
            return None
        b.end, b.reason = end, reason
        b.waited = self.wait_units(b.ev, waited_until)
        self._count_wait(task, b)
        return self.tl.pid_of(task, b.ev.proc), task, end - OP_SLICE_US / 2

    def _count_wait(self, task: int, b: _Block) -> None:
        self.tl.tstat(task).waited += b.waited
        for c in {ch for _, ch in b.ev.cases() if ch is not None}:
            self.tl.cstat(c).waited += b.waited

    def complete_partner(self, ev: _Ev, partner: int, reason: str, case: str) -> Point:
        """The point of ``partner``'s operation that ``ev`` completed (its block's end)."""
        p = self.end_block(partner, ev.ts + OP_SLICE_US, ev.ts, reason)
        if p is None:  # its AltBlock is not in the trace: mark the completion itself
            p = self.op_slice(ev, partner, f"completed {case}")
        return p

    def buffer_change(self, ev: _Ev, chan: int, delta: int) -> None:
        if self.tl.chan_cap.get(chan, 0) <= 0:
            return
        n = self.buflen.get(chan, 0) + delta
        self.buflen[chan] = n
        self.tl.counters.append({"name": f"c{chan} buffer", "ph": "C", "ts": ev.ts,
                                 "pid": self.tl.runtime_pid, "tid": self.tl.runtime_pid,
                                 "args": {"len": n}})

    # -- the pass --------------------------------------------------------------------

    def run(self) -> None:
        for ev in self.tl.events:
            self.step(ev)
        for task, b in list(self.open.items()):
            self.open.pop(task)
            b.end = self.last_ts + OP_SLICE_US
            b.waited = self.wait_units(b.ev, self.last_ts)
            b.reason = "still blocked at the end of the trace"
            self._count_wait(task, b)
        for task, b in self.tl.blocks:
            self.block_slice(task, b)

    def block_slice(self, task: int, b: _Block) -> None:
        assert b.end is not None
        cases = b.ev.cases()
        args = _jsonable(dict(b.ev.raw))
        args["ended_by"] = b.reason
        self.tl.slices.append({"name": f"AltBlock {_cases_str(cases)}", "cat": _CAT_BLOCK,
                               "ph": "X", "ts": b.start, "dur": round(b.end - b.start, 3),
                               "pid": self.tl.pid_of(task, b.ev.proc), "tid": task,
                               "args": args})

    def step(self, ev: _Ev) -> None:
        a, r = ev.action, ev.raw
        kill = a in ("KillBlocked", "KillPending")
        actor = _id(r.get("by")) if kill else ev.task
        if ev.task is not None:
            self.tl.tstat(ev.task)
        # A block that no recorded event completed (a timer's or an IOProc's channel
        # woke the task) ended before the task was seen running again.
        running = {actor} if kill or a in _RUNNING_ACTIONS else set()
        if a in ("KillPending", "Killed"):
            running.add(ev.task)  # (a kill finds a blocked task as KillBlocked)
        for t in running:
            if t is not None and t in self.open:
                self.end_block(t, ev.ts, ev.ts, "woken by a channel the trace does not "
                               "record (a timer's or an IOProc's), at the latest here")
        if a in ALT_ACTIONS or a in CLOSE_ACTIONS:
            self.channel_op(ev)
        elif a in ("KillBlocked", "KillPending"):
            self.kill(ev, actor)
        elif a == "Killed":
            if ev.task is not None:
                self.tl.tstat(ev.task).ops[a] += 1
            self.instant(ev, "Killed")
        elif a == "ChanCreate":
            c = _id(r.get("chan"))
            self.instant(ev, f"ChanCreate c{c} (cap {r.get('cap')})")
            if c is not None:
                self.tl.cstat(c)
                self.buffer_change(ev, c, 0)
        else:
            self.tl.other[a] += 1
            self.instant(ev, a)

    def kill(self, ev: _Ev, killer: int | None) -> None:
        a, victim = ev.action, ev.task
        if victim is not None:
            self.tl.tstat(victim).ops[a] += 1
        src: Point | None = None
        if killer is not None and killer in self.tl.task_proc:
            src = self.op_slice(ev, killer, f"{a} t{victim}")
        else:
            self.instant(ev, a)
        if a == "KillBlocked" and victim is not None:
            dst = self.end_block(victim, ev.ts + OP_SLICE_US, ev.ts,
                                 f"KillBlocked by t{killer} (seq {ev.seq})")
            self.flow(_CAT_KILL, "KillBlocked", src, dst, {"victim": victim})

    def channel_op(self, ev: _Ev) -> None:
        a, r, t = ev.action, ev.raw, ev.task
        index = _int(r.get("index"))
        case = ev.case(index)
        chans: list[int]
        if a in CLOSE_ACTIONS:
            closed = _id(r.get("chan"))
            chans = [closed] if closed is not None else []
        elif a in ("AltBlock", "AltNone"):
            chans = sorted({c for _, c in ev.cases() if c is not None})
        else:
            chans = [case[1]] if case is not None and case[1] is not None else []
        if t is not None:
            self.tl.tstat(t).ops[a] += 1
        for c in chans:
            self.tl.cstat(c).ops[a] += 1

        if a == "AltBlock":
            if t is None:
                self.instant(ev, f"AltBlock {_cases_str(ev.cases())}")
                return
            b = _Block(ev=ev, start=ev.ts)
            self.open[t] = b
            self.tl.blocks.append((t, b))
            self.tl.tstat(t).blocked += 1
            for c in chans:
                self.tl.cstat(c).blocked += 1
            return

        if a in CLOSE_ACTIONS:
            name = f"{a} c{r.get('chan')}"
        elif a == "AltNone":
            name = f"AltNone {_cases_str(ev.cases())}"
        else:
            name = f"{a} {_case_str(case)}"
        here: Point | None = self.op_slice(ev, t, name) if t is not None else None
        if t is None:
            self.instant(ev, name)

        chan = case[1] if case is not None else None
        partner = _id(r.get("partner"))
        pindex = _int(r.get("pindex"))
        if a == "AltBuffer" and case is not None and chan is not None:
            q = self.fifo.setdefault(chan, deque())
            if case[0] == "send":
                q.append((ev.val(index), here))
                self._sent(t, chan)
                self.buffer_change(ev, chan, +1)
            else:
                src = q.popleft()[1] if q else None
                self.flow(_CAT_VALUE, f"c{chan}", src, here, {"value": _jsonable(r.get("value"))})
                self._received(t, chan)
                self.buffer_change(ev, chan, -1)
        elif a == "AltRendezvous" and case is not None and partner is not None:
            reason = f"AltRendezvous by t{t} (seq {ev.seq})"
            there = self.complete_partner(ev, partner, reason, _case_str(case))
            if case[0] == "send":
                value = ev.val(index)
                self.flow(_CAT_VALUE, f"c{chan}", here, there, {"value": _jsonable(value)})
                self._sent(t, chan)
                self._received(partner, chan)
            else:
                self.flow(_CAT_VALUE, f"c{chan}", there, here,
                          {"value": _jsonable(r.get("value"))})
                self._received(t, chan)
                self._sent(partner, chan)
        elif a == "AltHandover" and case is not None and partner is not None:
            blocked = self.open.get(partner)
            pval = blocked.ev.val(pindex) if blocked is not None else None
            reason = f"AltHandover by t{t} (seq {ev.seq})"
            there = self.complete_partner(ev, partner, reason, f"send c{chan}")
            if chan is not None:
                q = self.fifo.setdefault(chan, deque())
                src = q.popleft()[1] if q else None
                self.flow(_CAT_VALUE, f"c{chan}", src, here, {"value": _jsonable(r.get("value"))})
                q.append((pval, there))
            self._received(t, chan)
            self._sent(partner, chan)
        elif a == "Close":
            woken = r.get("woken")
            for w in woken if isinstance(woken, list) else []:
                u = _id(w[0]) if isinstance(w, list) and w else None
                if u is None:
                    continue
                dst = self.end_block(u, ev.ts + OP_SLICE_US, ev.ts,
                                     f"{name} by t{t} (seq {ev.seq})")
                self.flow(_CAT_CLOSE, name, here, dst, {"woken": u})

    def _sent(self, task: int | None, chan: int | None) -> None:
        if task is not None:
            self.tl.tstat(task).sent += 1
        if chan is not None:
            self.tl.cstat(chan).sent += 1

    def _received(self, task: int | None, chan: int | None) -> None:
        if task is not None:
            self.tl.tstat(task).received += 1
        if chan is not None:
            self.tl.cstat(chan).received += 1


# --------------------------------------------------------------------------- output


def _process_label(tl: _Timeline, pid: int) -> str:
    if pid == tl.runtime_pid:
        return "libtask9: channels and runtime"
    name = tl.proc_name.get(pid)
    label = f"proc {pid}" + (f" ({name})" if name else "")
    if pid in tl.proc_run:
        label = f"run {tl.proc_run[pid]} · {label}"
    return label


def to_chrome(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Convert libtask9 trace events to a Chrome trace-event JSON object.

    ``events`` are the event dicts (``TraceRecorder.events``, or :func:`read_events`
    of an NDJSON file).  Returns ``{"traceEvents": [...], "otherData": {...}}``, ready
    for ``json.dump`` (or :func:`dump_chrome`, one event per line).
    """
    tl = _analyze(events)
    body: list[dict[str, Any]] = []
    body += tl.slices + tl.instants + tl.counters
    for n, (cat, name, src, dst, args) in enumerate(tl.flows, start=1):
        body.append({"name": name, "cat": cat, "ph": "s", "id": n, "ts": src[2], "bp": "e",
                     "pid": src[0], "tid": src[1], "args": args})
        body.append({"name": name, "cat": cat, "ph": "f", "id": n, "ts": dst[2], "bp": "e",
                     "pid": dst[0], "tid": dst[1], "args": args})
    for e in body:
        e["ts"] = round(e["ts"], 3)
    # Sorted by time (then slices before what binds to them, longer slices first), so
    # that every track's events are in time order in the file too.
    rank = {"X": 0, "i": 1, "C": 1, "s": 2, "f": 3}
    body.sort(key=lambda e: (e["ts"], rank.get(e["ph"], 4), -float(e.get("dur", 0.0))))

    meta: list[dict[str, Any]] = []
    pids = sorted({int(e["pid"]) for e in body} | set(tl.task_proc.values()))
    for pid in pids:
        meta.append({"name": "process_name", "ph": "M", "ts": 0, "pid": pid, "tid": pid,
                     "args": {"name": _process_label(tl, pid)}})
        meta.append({"name": "process_sort_index", "ph": "M", "ts": 0, "pid": pid,
                     "tid": pid, "args": {"sort_index": pid}})
    threads = sorted({(int(e["pid"]), int(e["tid"])) for e in body
                      if e["ph"] in ("X", "s", "f") or e.get("s") == "t"})
    for pid, tid in threads:
        tname = tl.task_name.get(tid)
        meta.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": pid, "tid": tid,
                     "args": {"name": f"task {tid}" + (f" ({tname})" if tname else "")}})
        meta.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": tid,
                     "args": {"sort_index": tid}})
    return {
        "traceEvents": meta + body,
        "otherData": {
            "generator": "python -m libtask9.trace",
            "source_format": f"{TRACE_FORMAT} {KNOWN_VERSION}",
            "time": ("microseconds since the first event (from the events' \"t\")"
                     if tl.time_mode == "t" else
                     "one microsecond per seq step (the events carry no \"t\")"),
            "events": len(tl.events),
        },
    }


def dump_chrome(trace: Mapping[str, Any], fp: IO[str]) -> None:
    """Write ``trace`` (from :func:`to_chrome`) as strict JSON, one event per line."""
    fp.write('{"traceEvents": [\n')
    evs = trace["traceEvents"]
    for i, e in enumerate(evs):
        fp.write(json.dumps(e, allow_nan=False) + (",\n" if i + 1 < len(evs) else "\n"))
    fp.write("]")
    for k, v in trace.items():
        if k != "traceEvents":
            fp.write(f",\n{json.dumps(k)}: {json.dumps(v, allow_nan=False)}")
    fp.write("\n}\n")


def _fmt_time(x: float, mode: str) -> str:
    if mode == "t":
        return f"{x / 1000:.3f} ms"
    n = round(x)
    return f"{n} step" if n == 1 else f"{n} steps"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for r in [header, *rows]:
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        out.append("  ".join(cells).rstrip())
    return out


def _actions(c: Counter[str]) -> str:
    order = {a: i for i, a in enumerate(CONTRACT_ACTIONS)}
    return ", ".join(f"{a} {n}" for a, n in
                     sorted(c.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))) or "-"


def summary(events: Iterable[Mapping[str, Any]]) -> str:
    """Per-channel and per-task counts of a trace, as text.

    For each channel: its capacity, the values sent into it and delivered out of it, how
    often a task blocked on it and for how long, and its operations by action (the
    chosen case's channel for a completed alt, every case's for ``AltBlock`` /
    ``AltNone``).  For each task: its proc, the values it sent and received, its blocks
    and time blocked, and its operations by action.  Times are milliseconds when the
    events carry ``"t"``, seq steps otherwise.
    """
    tl = _analyze(events)
    seqs = [e.seq for e in tl.events if e.seq is not None]
    procs = sorted({p for p in tl.task_proc.values()}
                   | {e.proc for e in tl.events if e.proc is not None})
    head = (f"libtask9 trace: {len(tl.events)} events"
            + (f" (seq {min(seqs)}..{max(seqs)})" if seqs else "")
            + f", {len(procs)} proc{'s' * (len(procs) != 1)}"
            + f", {len(tl.task_stats)} task{'s' * (len(tl.task_stats) != 1)}"
            + f", {len(tl.chan_stats)} channel{'s' * (len(tl.chan_stats) != 1)}")
    lines = [head]
    runs = sorted({str(r) for r in tl.proc_run.values()})
    if runs:
        lines.append("runs: " + ", ".join(runs))
    lines.append("time blocked: " + ("milliseconds, from the events' \"t\"" if
                                     tl.time_mode == "t" else
                                     "seq steps (the events carry no \"t\")"))
    lines.append("")
    rows = []
    for c in sorted(tl.chan_stats):
        s = tl.chan_stats[c]
        cap = tl.chan_cap.get(c)
        rows.append([f"c{c}", "?" if cap is None else str(cap), str(s.sent), str(s.received),
                     str(s.blocked), _fmt_time(s.waited, tl.time_mode), _actions(s.ops)])
    lines += _table(["channel", "cap", "sent", "delivered", "blocked", "time blocked",
                     "operations by action"], rows, right={1, 2, 3, 4, 5})
    lines.append("")
    rows = []
    for t in sorted(tl.task_stats):
        s = tl.task_stats[t]
        p = tl.task_proc.get(t)
        rows.append([f"t{t}", "?" if p is None else str(p), str(s.sent), str(s.received),
                     str(s.blocked), _fmt_time(s.waited, tl.time_mode), _actions(s.ops)])
    lines += _table(["task", "proc", "sent", "received", "blocked", "time blocked",
                     "operations by action"], rows, right={1, 2, 3, 4, 5})
    stuck = [(t, b) for t, b in tl.blocks if b.reason.startswith("still blocked")]
    if stuck:
        lines.append("")
        lines.append("still blocked at the end: " + ", ".join(
            f"t{t} ({_cases_str(b.ev.cases())}, since seq {b.ev.seq})" for t, b in stuck))
    if tl.other:
        lines.append("")
        lines.append("other events: " + _actions(tl.other))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m libtask9.trace FILE.ndjson [-o OUT.json] [--summary]``; returns the
    exit status (2 for a file that is not a trace, or nothing asked)."""
    ap = argparse.ArgumentParser(
        prog="python -m libtask9.trace",
        description="Convert a libtask9 NDJSON trace to a Chrome trace-event / Perfetto "
                    "timeline (open it in ui.perfetto.dev or chrome://tracing), or "
                    "print per-channel and per-task counts.")
    ap.add_argument("trace", help="the NDJSON trace (TraceRecorder output); - for stdin")
    ap.add_argument("-o", "--output", metavar="OUT.json",
                    help="write the timeline JSON there (- for stdout)")
    ap.add_argument("--summary", action="store_true",
                    help="print per-channel and per-task counts")
    args = ap.parse_args(argv)
    if args.output is None and not args.summary:
        ap.print_usage(sys.stderr)
        print(f"{ap.prog}: error: nothing to do: give -o OUT.json and/or --summary",
              file=sys.stderr)
        return 2
    notes: list[str] = []
    try:
        events = read_events(sys.stdin if args.trace == "-" else args.trace, notes)
    except (OSError, TraceReadError) as e:
        print(f"{ap.prog}: error: {args.trace}: {e}", file=sys.stderr)
        return 2
    for n in notes:
        print(f"{ap.prog}: {args.trace}: {n}", file=sys.stderr)
    if args.output is not None:
        trace = to_chrome(events)
        if args.output == "-":
            dump_chrome(trace, sys.stdout)
        else:
            with open(args.output, "w", encoding="utf-8") as f:
                dump_chrome(trace, f)
    if args.summary:
        sys.stdout.write(summary(events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
