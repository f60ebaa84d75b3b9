"""Trace timeline: a recorded libtask9 trace as a Chrome trace-event / Perfetto timeline.

    python -m libtask9.trace FILE.ndjson -o FILE.json   # open in ui.perfetto.dev
    python -m libtask9.trace FILE.ndjson --summary      # runs, procs, channels, tasks

The input is the NDJSON a :class:`libtask9.TraceRecorder` writes (``docs/CONTRACT.md``,
"Trace events", and the lifecycle events of ``libtask9/_trace.py``); the output is the
JSON Object Format of the Chrome trace-event format, which ui.perfetto.dev and
``chrome://tracing`` both load.  The mapping (see ``docs/TRACE_TIMELINE.md``):

* one process per proc (``pid`` = proc id) and one thread per task (``tid`` = task id),
  named by ``process_name`` / ``thread_name`` metadata events (prefixed with the run id
  when events carry ``run``); each proc also has a *scheduler* thread (``tid`` = one
  more than every task and proc id) with the proc's lifetime, its idle periods and the
  timers it fires; one more process, after the procs, holds what belongs to no proc:
  channel creation, the buffer length of each buffered channel (counters), timers fired
  outside any proc;
* a task's track holds a lifetime slice from its ``TaskCreate`` to its ``TaskExit``,
  and inside it a slice for each time it is blocked: ``AltBlock`` (until the partner's
  ``AltRendezvous`` / ``AltHandover``, the ``Close`` that wakes it, the ``KillBlocked``,
  or the ``TimerFire`` of a timer it armed, whose channel is untraced), ``sleep`` (its
  ``TimerArm`` to the ``TimerFire`` that wakes it), ``join`` (``JoinBlock`` to the
  ``TaskExit`` / ``ProcExit`` that wakes it, or its timeout's ``TimerFire``), ``iocall``
  (``IoStart`` to ``IoDone``); a block that no recorded event ends is ended at the
  task's next event ("at the latest here");
* every other channel operation, and ``TaskCreate`` / ``ProcCreate`` / ``TaskExit`` /
  ``ProcExit`` / ``TimerFire``, is a short slice (half a microsecond: the critical
  section) on the acting task's or proc's track, so that arrows can bind to it;
* arrows (flow events, binding point "enclosing slice"): every value moved from a
  sender to a receiver (at once for a rendezvous, across the buffer for a buffered
  channel), a ``Close`` to each task it wakes, a ``KillBlocked`` from the killer to its
  victim, a ``TimerFire`` to the task it wakes, a ``TaskExit`` / ``ProcExit`` to each
  joiner it wakes, a ``TaskCreate`` / ``ProcCreate`` to the new task / proc;
* run events (``RunStart``, ``RunEnding``, ``RunEnd``, ``Interrupt``) are instants of
  the run's main proc (scope "p"), a declared deadlock (``declared`` true) an instant
  of scope "g"; any other event (``Killed``, ``ChanCreate``, ``TimerArm`` of a timer
  channel, actions this module does not know) is an instant on its task's track, else
  on its proc's scheduler track, else on the extra process.  Nothing in the input
  makes the converter fail: unknown fields are kept in the ``args`` of each event,
  unknown actions become instants.

Time: when every event carries ``"t"`` (``time.monotonic()`` seconds), ``ts`` is the
time since the first event in microseconds; otherwise one ``seq`` step is one
microsecond.  Events are ordered by ``seq``, kept at least 1 µs apart (so that no two
share a timestamp and every slice fits between its neighbours) and placed on a grid of
1/8 µs, so that every ``ts + dur`` is exact in binary floating point: a slice that ends
where the next one begins does not overlap it by a rounding error.

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
    "LIFECYCLE_ACTIONS",
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
#: The lifecycle actions of ``spec/Procs.tla`` the runtime records (``libtask9/_trace.py``,
#: ``LIFECYCLE_ACTIONS``: a test keeps the two equal).
LIFECYCLE_ACTIONS = (
    "RunStart", "ProcCreate", "ProcStart", "TaskCreate", "TaskExit", "ProcIdle", "ProcWake",
    "TimerArm", "TimerFire", "TimerStop", "IoStart", "IoDone", "JoinBlock", "ProcExit",
    "Interrupt", "RunEnding", "RunEnd",
)
#: Actions that show their acting task running: a block of that task that no recorded
#: event ended (a timer's or an IOProc's channel woke it) ended before such an event.
#: (The acting task is ``by`` for kills and creations, ``task`` otherwise.)
_RUNNING_ACTIONS = frozenset((*ALT_ACTIONS, *CLOSE_ACTIONS, "KillBlocked", "KillPending",
                              "Killed", "TaskCreate", "ProcCreate", "TaskExit", "JoinBlock",
                              "TimerArm", "IoStart"))
#: Actions performed by the thread of their ``proc`` (which is then not idle).
_PROC_ACTIONS = frozenset((*ALT_ACTIONS, *CLOSE_ACTIONS, "Killed", "RunStart", "ProcStart",
                           "TaskCreate", "TaskExit", "ProcIdle", "ProcWake", "TimerArm",
                           "IoStart", "JoinBlock", "ProcExit", "Interrupt"))
#: Timer kinds whose firing completes a task's wait (the others deliver on a channel).
_WAIT_TIMERS = ("sleep", "join")

#: Width of an operation's slice, in microseconds (events are at least 1 µs apart).
OP_SLICE_US = 0.5
_MIN_GAP_US = 1.0
_GRID = 8  # timestamps are multiples of 1/8 µs (125 ns): their sums are exact

_CAT_OP = "libtask9.op"
_CAT_BLOCK = "libtask9.block"
_CAT_EVENT = "libtask9.event"
_CAT_VALUE = "libtask9.value"
_CAT_CLOSE = "libtask9.close"
_CAT_KILL = "libtask9.kill"
_CAT_TIMER = "libtask9.timer"
_CAT_JOIN = "libtask9.join"
_CAT_SPAWN = "libtask9.spawn"
_CAT_LIFETIME = "libtask9.lifetime"
_CAT_IDLE = "libtask9.idle"
_CAT_RUN = "libtask9.run"
_CAT_DEADLOCK = "libtask9.deadlock"


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


def _run_key(x: object) -> int | str | None:
    """A run id usable as a key (the runtime's are ints)."""
    return x if isinstance(x, (int, str)) and not isinstance(x, bool) else None


def _ids(x: object) -> list[int]:
    """The task ids of a ``woken`` list of a lifecycle event (malformed items skipped)."""
    return [i for i in (_id(v) for v in x) if i is not None] if isinstance(x, list) else []


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

    @property
    def run(self) -> int | str | None:
        return _run_key(self.raw.get("run"))

    @property
    def by(self) -> int | None:
        return _id(self.raw.get("by"))

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


#: Block kinds: an alt (AltBlock), a sleep, a join, an iocall.
BLOCK_KINDS = ("alt", "sleep", "join", "iocall")


@dataclasses.dataclass
class _Block:
    """A task blocked (in an alt, a sleep, a join or an iocall), from the event that
    started it to what ended it."""

    ev: _Ev
    kind: str  # one of BLOCK_KINDS
    label: str  # what it waits in: "recv c1", "sleep", "join task 2", "iocall ioproc"
    start: float
    end: float | None = None  # slice end (µs)
    waited: float = 0.0  # time blocked, in the summary's unit
    reason: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"AltBlock {self.label}" if self.kind == "alt" else self.label


@dataclasses.dataclass
class _Stats:
    ops: Counter[str] = dataclasses.field(default_factory=Counter)
    sent: int = 0
    received: int = 0
    blocked: int = 0
    waited: float = 0.0


@dataclasses.dataclass
class _TaskLife:
    """A task's lifecycle: creation, exit, and its sleeps, joins and iocalls."""

    run: int | str | None = None
    created: _Ev | None = None
    exited: _Ev | None = None
    waits: Counter[str] = dataclasses.field(default_factory=Counter)  # by block kind
    waited: dict[str, float] = dataclasses.field(default_factory=dict)  # by block kind


@dataclasses.dataclass
class _ProcLife:
    """A proc's lifecycle: creation (``ProcCreate``, or ``RunStart`` for a run's main
    proc), start, exit, tasks created on it, its idle periods."""

    run: int | str | None = None
    created: _Ev | None = None
    started: _Ev | None = None
    exited: _Ev | None = None
    tasks: int = 0
    idle: int = 0
    idle_time: float = 0.0


@dataclasses.dataclass
class _Run:
    """What the trace says about one run."""

    main: int | None = None  # its main proc (RunStart's proc)
    procs: set[int] = dataclasses.field(default_factory=set)
    tasks: set[int] = dataclasses.field(default_factory=set)
    started: _Ev | None = None
    ending: _Ev | None = None  # RunEnding
    ended: _Ev | None = None  # RunEnd
    declared: list[_Ev] = dataclasses.field(default_factory=list)  # declared == true
    interrupts: int = 0


@dataclasses.dataclass
class _Timer:
    """A timer as its ``TimerArm`` describes it, and the proc whose heap holds it."""

    arm: _Ev
    kind: str
    task: int | None
    owner: int | None  # the proc that fires it (None: the fallback timer thread)


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
    task_life: dict[int, _TaskLife] = dataclasses.field(default_factory=dict)
    proc_life: dict[int, _ProcLife] = dataclasses.field(default_factory=dict)
    runs: dict[int | str, _Run] = dataclasses.field(default_factory=dict)
    lifecycle: Counter[str] = dataclasses.field(default_factory=Counter)
    other: Counter[str] = dataclasses.field(default_factory=Counter)

    @property
    def aux_tid(self) -> int:
        """The ``tid`` of each proc's scheduler thread (and of the extra process's own
        thread): one more than every task and proc id, so it is no task's."""
        return self.runtime_pid

    def pid_of(self, task: int | None, proc: int | None = None) -> int:
        if task is not None and task in self.task_proc:
            return self.task_proc[task]
        return proc if proc is not None else self.runtime_pid

    def sched(self, proc: int | None) -> tuple[int, int]:
        """The scheduler track of ``proc`` (the extra process's thread for None)."""
        return (self.runtime_pid if proc is None else proc), self.aux_tid

    def tstat(self, task: int) -> _Stats:
        return self.task_stats.setdefault(task, _Stats())

    def cstat(self, chan: int) -> _Stats:
        return self.chan_stats.setdefault(chan, _Stats())

    def tlife(self, task: int) -> _TaskLife:
        return self.task_life.setdefault(task, _TaskLife())

    def plife(self, proc: int) -> _ProcLife:
        return self.proc_life.setdefault(proc, _ProcLife())

    def run_info(self, run: int | str | None) -> _Run | None:
        return None if run is None else self.runs.setdefault(run, _Run())


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
        x = round(x * _GRID) / _GRID if math.isfinite(x) else 0.0
        x = max(x, 0.0) if not out else max(x, out[-1] + _MIN_GAP_US)
        out.append(x)
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
        self.open: dict[int, _Block] = {}  # task -> its open block
        self.idle: dict[int, _Ev] = {}  # proc -> the ProcIdle of its open idle period
        self.fifo: dict[int, deque[tuple[Any, Point | None]]] = {}
        self.buflen: dict[int, int] = {}
        self.timers: dict[int, _Timer] = {}
        self.join_timer: dict[int, int] = {}  # task -> its join's timeout timer
        self.task_run: dict[int, int | str] = {}
        self.aproc: int | None = None  # the proc whose thread performs the current event
        self.last_ts = tl.events[-1].ts if tl.events else 0.0
        self.lifecycle = {
            "RunStart": self.run_start, "ProcCreate": self.proc_create,
            "ProcStart": self.proc_start, "TaskCreate": self.task_create,
            "TaskExit": self.task_exit, "ProcIdle": self.proc_idle,
            "ProcWake": self.proc_wake, "TimerArm": self.timer_arm,
            "TimerFire": self.timer_fire, "TimerStop": self.timer_stop,
            "IoStart": self.io_start, "IoDone": self.io_done, "JoinBlock": self.join_block,
            "ProcExit": self.proc_exit, "Interrupt": self.run_event,
            "RunEnding": self.run_event, "RunEnd": self.run_event,
        }

    # -- helpers ---------------------------------------------------------------------

    def wait_units(self, start: float, end_ts: float) -> float:
        """Time between ``start`` and ``end_ts`` in the summary's unit."""
        return end_ts - start  # µs, or seq steps (1 µs per step in seq mode)

    def op_slice(self, ev: _Ev, task: int, name: str) -> Point:
        """A short slice on ``task``'s track for ``ev``; returns where arrows bind to it."""
        pid = self.tl.pid_of(task, ev.proc if task == ev.task else None)
        return self.slice_at(ev, (pid, task), name)

    def sched_slice(self, ev: _Ev, proc: int | None, name: str) -> Point:
        """A short slice on ``proc``'s scheduler track (the extra process's for None)."""
        return self.slice_at(ev, self.tl.sched(proc), name)

    def slice_at(self, ev: _Ev, track: tuple[int, int], name: str) -> Point:
        self.tl.slices.append({"name": name, "cat": _CAT_OP, "ph": "X", "ts": ev.ts,
                               "dur": OP_SLICE_US, "pid": track[0], "tid": track[1],
                               "args": _jsonable(dict(ev.raw))})
        return track[0], track[1], ev.mid

    def instant(self, ev: _Ev, name: str, track: tuple[int, int] | None = None,
                scope: str = "t", cat: str = _CAT_EVENT) -> None:
        """An instant: on ``track`` if given, else on ``ev``'s task's track, else on its
        proc's scheduler track, else on the extra process."""
        if track is None:
            if ev.task is not None:
                track = self.tl.pid_of(ev.task, ev.proc), ev.task
            elif ev.proc is not None:
                track = self.tl.sched(ev.proc)
            else:
                track, scope = self.tl.sched(None), "p"
        self.tl.instants.append({"name": name, "cat": cat, "ph": "i", "ts": ev.ts,
                                 "s": scope, "pid": track[0], "tid": track[1],
                                 "args": _jsonable(dict(ev.raw))})

    def flow(self, cat: str, name: str, src: Point | None, dst: Point | None,
             args: dict[str, Any]) -> None:
        """An arrow from ``src`` to ``dst`` (none if either end has no slice to bind to)."""
        if src is not None and dst is not None:
            self.tl.flows.append((cat, name, src, dst, args))

    def open_block(self, ev: _Ev, task: int, kind: str, label: str,
                   extra: dict[str, Any] | None = None) -> None:
        b = _Block(ev=ev, kind=kind, label=label, start=ev.ts, extra=extra or {})
        self.open[task] = b
        self.tl.blocks.append((task, b))
        if kind != "alt":
            self.tl.tlife(task).waits[kind] += 1

    def end_block(self, task: int, end: float, waited_until: float, reason: str) -> Point | None:
        """End ``task``'s open block: the slice ends at ``end``; returns its bind point."""
        b = self.open.pop(task, None)
        if b is None:
            return None
        b.end, b.reason = end, reason
        b.waited = self.wait_units(b.start, waited_until)
        self._count_wait(task, b)
        return self.tl.pid_of(task, b.ev.proc), task, end - OP_SLICE_US / 2

    def _count_wait(self, task: int, b: _Block) -> None:
        if b.kind != "alt":
            w = self.tl.tlife(task).waited
            w[b.kind] = w.get(b.kind, 0.0) + b.waited
            return
        self.tl.tstat(task).waited += b.waited
        for c in {ch for _, ch in b.ev.cases() if ch is not None}:
            self.tl.cstat(c).waited += b.waited

    def wake(self, task: int, ev: _Ev, reason: str) -> Point | None:
        """``ev`` readied ``task``: its block ends with ``ev``'s critical section, and so
        does the idle period of its proc if another thread did it; returns the point of
        the block's end for an arrow (None if no block of it was open)."""
        dst = self.end_block(task, ev.ts + OP_SLICE_US, ev.ts, reason)
        q = self.tl.task_proc.get(task)
        if q is not None and q != self.aproc:
            self.end_idle(q, ev.ts + OP_SLICE_US, ev.ts,
                          f"t{task} readied by {ev.action} (seq {ev.seq})")
        return dst

    def at_latest(self, task: int, ev: _Ev) -> None:
        """``task`` runs at ``ev``: a block of it still open was ended by something the
        trace does not record, at the latest here."""
        b = self.open.get(task)
        if b is None:
            return
        run = self.tl.runs.get(self.task_run[task]) if task in self.task_run else None
        ending = run.ending if run is not None else None
        if ending is not None:
            why = (f"not woken by a recorded event: unwound when its run ended "
                   f"({ending.raw.get('reason')}, RunEnding seq {ending.seq}), at the "
                   "latest here")
        elif b.kind == "alt":
            why = ("woken by a channel the trace does not record (a timer's, or one "
                   "created before tracing began), at the latest here")
        else:
            why = "woken by nothing the trace records, at the latest here"
        self.end_block(task, ev.ts, ev.ts, why)

    def end_idle(self, proc: int, end: float, waited_until: float, reason: str) -> None:
        ev = self.idle.pop(proc, None)
        if ev is None:
            return
        args = _jsonable(dict(ev.raw))
        args["ended_by"] = reason
        self.tl.slices.append({"name": "idle", "cat": _CAT_IDLE, "ph": "X", "ts": ev.ts,
                               "dur": end - ev.ts, "pid": proc, "tid": self.tl.aux_tid,
                               "args": args})
        self.tl.plife(proc).idle_time += self.wait_units(ev.ts, waited_until)

    def buffer_change(self, ev: _Ev, chan: int, delta: int) -> None:
        if self.tl.chan_cap.get(chan, 0) <= 0:
            return
        n = self.buflen.get(chan, 0) + delta
        self.buflen[chan] = n
        self.tl.counters.append({"name": f"c{chan} buffer", "ph": "C", "ts": ev.ts,
                                 "pid": self.tl.runtime_pid, "tid": self.tl.runtime_pid,
                                 "args": {"len": n}})

    def actor(self, ev: _Ev) -> int | None:
        """The task that performs ``ev`` (``by`` for kills and creations)."""
        if ev.action in ("KillBlocked", "KillPending", "TaskCreate", "ProcCreate"):
            return ev.by
        return ev.task

    def acting_proc(self, ev: _Ev, actor: int | None) -> int | None:
        """The proc whose thread performs ``ev`` (None: a helper thread, or unknown)."""
        a = ev.action
        if a == "TimerFire":
            x = _int(ev.raw.get("timer"))
            tm = self.timers.get(x) if x is not None else None
            if tm is not None:
                return tm.owner
            woken = _id(ev.raw.get("woken"))
            return None if woken is None else self.tl.task_proc.get(woken)
        if a in _PROC_ACTIONS:
            return ev.proc
        if a in ("KillBlocked", "KillPending", "ProcCreate") and actor is not None:
            return self.tl.task_proc.get(actor)
        return None

    # -- the pass --------------------------------------------------------------------

    def run(self) -> None:
        for ev in self.tl.events:
            self.step(ev)
        end = self.last_ts + OP_SLICE_US
        for task in list(self.open):
            self.end_block(task, end, self.last_ts, "still blocked at the end of the trace")
        for proc in list(self.idle):
            self.end_idle(proc, end, self.last_ts, "still idle at the end of the trace")
        for task, b in self.tl.blocks:
            self.block_slice(task, b)
        self.lifetimes()

    def block_slice(self, task: int, b: _Block) -> None:
        assert b.end is not None
        args = _jsonable(dict(b.ev.raw))
        args["ended_by"] = b.reason
        args.update(_jsonable(b.extra))
        self.tl.slices.append({"name": b.name, "cat": _CAT_BLOCK, "ph": "X", "ts": b.start,
                               "dur": b.end - b.start,
                               "pid": self.tl.pid_of(task, b.ev.proc), "tid": task,
                               "args": args})

    def lifetimes(self) -> None:
        """A slice for the life of each task and proc the lifecycle events describe,
        enclosing everything on its track."""
        tl = self.tl
        extent: dict[tuple[int, int], tuple[float, float]] = {}

        def cover(track: tuple[int, int], a: float, b: float) -> None:
            lo, hi = extent.get(track, (a, b))
            extent[track] = (min(lo, a), max(hi, b))

        for s in tl.slices:
            cover((s["pid"], s["tid"]), s["ts"], s["ts"] + s["dur"])
        for _, _, src, dst, _ in tl.flows:
            for pid, tid, ts in (src, dst):
                cover((pid, tid), ts - OP_SLICE_US / 2, ts + OP_SLICE_US / 2)
        end_of_trace = self.last_ts + OP_SLICE_US
        for t, life in sorted(tl.task_life.items()):
            if life.created is None and life.exited is None:
                continue
            start = life.created.ts if life.created is not None else None
            end = life.exited.ts + OP_SLICE_US if life.exited is not None else end_of_trace
            by = life.created.by if life.created is not None else None
            args = {
                "task": t, "run": _jsonable(life.run),
                "created": (None if life.created is None else
                            f"TaskCreate (seq {life.created.seq})"
                            + (f" by t{by}" if by is not None else "")),
                "ended": (f"TaskExit (seq {life.exited.seq})" if life.exited is not None
                          else "still alive at the end of the trace"),
            }
            self.lifetime_slice((tl.pid_of(t), t), f"task {t}", start, end, args, extent)
        for p, pl in sorted(tl.proc_life.items()):
            if pl.created is None and pl.started is None and pl.exited is None:
                continue
            first = pl.created or pl.started
            start = first.ts if first is not None else None
            end = pl.exited.ts + OP_SLICE_US if pl.exited is not None else end_of_trace
            created = None
            if pl.created is not None:
                c = pl.created
                created = f"{c.action} (seq {c.seq})" + (f" by t{c.by}" if c.by is not None
                                                         else "")
            args = {"proc": p, "run": _jsonable(pl.run), "created": created,
                    "ended": (f"ProcExit (seq {pl.exited.seq})" if pl.exited is not None
                              else "still running at the end of the trace")}
            self.lifetime_slice(tl.sched(p), f"proc {p}", start, end, args, extent)

    def lifetime_slice(self, track: tuple[int, int], name: str, start: float | None,
                       end: float, args: dict[str, Any],
                       extent: dict[tuple[int, int], tuple[float, float]]) -> None:
        lo, hi = extent.get(track, (end, end))
        start = lo if start is None else min(start, lo)
        end = max(end, hi, start + OP_SLICE_US)
        self.tl.slices.append({"name": name, "cat": _CAT_LIFETIME, "ph": "X", "ts": start,
                               "dur": end - start, "pid": track[0], "tid": track[1],
                               "args": args})

    def step(self, ev: _Ev) -> None:
        a, r, tl = ev.action, ev.raw, self.tl
        actor = self.actor(ev)
        self.aproc = self.acting_proc(ev, actor)
        if ev.task is not None:
            tl.tstat(ev.task)
        run = tl.run_info(ev.run)
        if run is not None and ev.run is not None:
            if ev.proc is not None:
                run.procs.add(ev.proc)
            if ev.task is not None:
                run.tasks.add(ev.task)
                self.task_run.setdefault(ev.task, ev.run)
        # The thread of the acting proc runs: an idle period of it has ended.
        if self.aproc is not None and a != "ProcWake":
            self.end_idle(self.aproc, ev.ts, ev.ts,
                          f"{a} on this proc (seq {ev.seq}), at the latest here")
        # The acting task runs: a block that no recorded event ended (an untraced
        # channel woke it, or its run's unwinding) ended before this event.
        running = {actor} if a in _RUNNING_ACTIONS else set()
        if a in ("KillPending", "Killed"):
            running.add(ev.task)  # (a kill finds a blocked task as KillBlocked)
        for t in running:
            if t is not None:
                self.at_latest(t, ev)
        if a in ALT_ACTIONS or a in CLOSE_ACTIONS:
            self.channel_op(ev)
        elif a in ("KillBlocked", "KillPending"):
            self.kill(ev, actor)
        elif a == "Killed":
            if ev.task is not None:
                tl.tstat(ev.task).ops[a] += 1
            self.instant(ev, "Killed")
        elif a == "ChanCreate":
            c = _id(r.get("chan"))
            self.instant(ev, f"ChanCreate c{c} (cap {r.get('cap')})")
            if c is not None:
                tl.cstat(c)
                self.buffer_change(ev, c, 0)
        elif a in self.lifecycle:
            tl.lifecycle[a] += 1
            self.lifecycle[a](ev)
        else:
            tl.other[a] += 1
            self.instant(ev, a)

    # -- channel actions -------------------------------------------------------------

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
            dst = self.wake(victim, ev, f"KillBlocked by t{killer} (seq {ev.seq})")
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
            if r.get("sleep") is True:  # sleep(math.inf): blocked until killed
                self.open_block(ev, t, "sleep", "sleep(inf)")
                return
            self.open_block(ev, t, "alt", _cases_str(ev.cases()))
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
                dst = self.wake(u, ev, f"{name} by t{t} (seq {ev.seq})")
                self.flow(_CAT_CLOSE, name, here, dst, {"woken": u})

    def complete_partner(self, ev: _Ev, partner: int, reason: str, case: str) -> Point:
        """The point of ``partner``'s operation that ``ev`` completed (its block's end)."""
        p = self.wake(partner, ev, reason)
        if p is None:  # its AltBlock is not in the trace: mark the completion itself
            p = self.op_slice(ev, partner, f"completed {case}")
        return p

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

    # -- lifecycle actions -----------------------------------------------------------

    def run_event(self, ev: _Ev) -> None:
        """RunStart, RunEnding, RunEnd, Interrupt: instants of the run's main proc."""
        a, r = ev.action, ev.raw
        run = self.tl.run_info(ev.run)
        label = f"run {ev.run}" if ev.run is not None else "run"
        if a == "RunEnding":
            name = f"RunEnding ({r.get('reason')})"
            if run is not None:
                run.ending = ev
        elif a == "RunEnd":
            name = f"RunEnd ({r.get('outcome')})"
            if run is not None:
                run.ended = ev
        elif a == "Interrupt":
            name = f"Interrupt ({r.get('exc')} in {r.get('where')})"
            if run is not None:
                run.interrupts += 1
        else:
            name = f"RunStart ({label})"
        main = run.main if run is not None and run.main is not None else ev.proc
        self.instant(ev, name, self.tl.sched(main), scope="p", cat=_CAT_RUN)

    def declared(self, ev: _Ev) -> None:
        """An event whose ``declared`` is true: the run's deadlock was declared in it."""
        if ev.raw.get("declared") is not True:
            return
        run = self.tl.run_info(ev.run)
        if run is not None:
            run.declared.append(ev)
        where = ev.proc if ev.proc is not None else run.main if run is not None else None
        label = f" (run {ev.run})" if ev.run is not None else ""
        self.instant(ev, f"Deadlock declared{label}", self.tl.sched(where), scope="g",
                     cat=_CAT_DEADLOCK)

    def run_start(self, ev: _Ev) -> None:
        run = self.tl.run_info(ev.run)
        if run is not None:
            run.main = ev.proc if run.main is None else run.main
            run.started = ev
        if ev.proc is not None:
            life = self.tl.plife(ev.proc)
            life.run = ev.run
            life.created = life.created or ev
        self.run_event(ev)

    def proc_create(self, ev: _Ev) -> None:
        q, by = ev.proc, ev.by
        if q is None:
            self.instant(ev, "ProcCreate")
            return
        life = self.tl.plife(q)
        life.run = ev.run
        life.created = life.created or ev
        if by is not None and by in self.tl.task_proc:
            src = self.op_slice(ev, by, f"ProcCreate p{q}")
            self.flow(_CAT_SPAWN, f"proc {q}", src, (*self.tl.sched(q), ev.mid), {"proc": q})

    def proc_start(self, ev: _Ev) -> None:
        if ev.proc is None:
            self.instant(ev, "ProcStart")
            return
        life = self.tl.plife(ev.proc)
        life.run = ev.run
        life.started = life.started or ev
        first = f" (first task t{ev.task})" if ev.task is not None else ""
        self.instant(ev, f"ProcStart{first}", self.tl.sched(ev.proc))

    def task_create(self, ev: _Ev) -> None:
        t, by = ev.task, ev.by
        if t is None:
            self.instant(ev, "TaskCreate")
            return
        life = self.tl.tlife(t)
        life.run = ev.run
        life.created = life.created or ev
        if ev.proc is not None:
            self.tl.plife(ev.proc).tasks += 1
        if by is not None and by in self.tl.task_proc:
            src = self.op_slice(ev, by, f"TaskCreate t{t}")
            dst = self.tl.pid_of(t, ev.proc), t, ev.mid
            self.flow(_CAT_SPAWN, f"task {t}", src, dst, {"task": t})

    def task_exit(self, ev: _Ev) -> None:
        t = ev.task
        if t is None:
            self.instant(ev, "TaskExit")
            return
        self.tl.tlife(t).exited = ev
        here = self.op_slice(ev, t, "TaskExit")
        for u in _ids(ev.raw.get("woken")):
            dst = self.wake(u, ev, f"TaskExit of t{t} (seq {ev.seq})")
            self.flow(_CAT_JOIN, f"TaskExit t{t}", here, dst, {"woken": u})

    def proc_idle(self, ev: _Ev) -> None:
        p = ev.proc
        if p is None:
            self.instant(ev, "ProcIdle")
        else:
            self.idle[p] = ev
            self.tl.plife(p).idle += 1
        self.declared(ev)

    def proc_wake(self, ev: _Ev) -> None:
        p = ev.proc
        if p is not None and p in self.idle:
            self.end_idle(p, ev.ts, ev.ts, f"ProcWake (seq {ev.seq})")
        else:
            self.instant(ev, "ProcWake")

    def timer_arm(self, ev: _Ev) -> None:
        r, t = ev.raw, ev.task
        x = _int(r.get("timer"))
        k = r.get("kind")
        kind = k if isinstance(k, str) else "?"
        if x is not None:
            self.timers[x] = _Timer(arm=ev, kind=kind, task=t, owner=ev.proc)
        if kind == "sleep" and t is not None:
            self.open_block(ev, t, "sleep", "sleep", {"timer": x})
        elif kind == "join" and t is not None and x is not None:
            self.join_timer[t] = x  # its JoinBlock follows
        else:
            self.instant(ev, f"TimerArm timer {x} ({kind})")

    def timer_fire(self, ev: _Ev) -> None:
        r = ev.raw
        x = _int(r.get("timer"))
        tm = self.timers.get(x) if x is not None else None
        kind = tm.kind if tm is not None else "?"
        here = self.sched_slice(ev, self.aproc, f"TimerFire timer {x} ({kind})")
        woken = _id(r.get("woken"))
        if woken is not None:
            dst = self.wake(woken, ev, f"TimerFire timer {x} ({kind}, seq {ev.seq})")
            self.flow(_CAT_TIMER, f"timer {x}", here, dst, {"timer": x, "woken": woken})
            return
        # A timer channel delivered (untraced): if the task that armed the timer is
        # blocked in an alt with an untraced case, this is the value that ends it.
        if tm is None or tm.kind in _WAIT_TIMERS or tm.task is None:
            return
        b = self.open.get(tm.task)
        if (b is None or b.kind != "alt" or b.start < tm.arm.ts
                or not any(c is not None and c not in self.tl.chan_cap
                           for _, c in b.ev.cases())):
            return
        dst = self.wake(tm.task, ev, f"TimerFire timer {x} (seq {ev.seq}): the {kind} "
                        f"armed by t{tm.task} (seq {tm.arm.seq}), on an untraced case")
        self.flow(_CAT_TIMER, f"timer {x}", here, dst,
                  {"timer": x, "woken": tm.task, "related": "armed by the blocked task"})

    def timer_stop(self, ev: _Ev) -> None:
        x = _int(ev.raw.get("timer"))
        tm = self.timers.get(x) if x is not None else None
        track = self.tl.sched(tm.owner if tm is not None else ev.proc)
        self.instant(ev, f"TimerStop timer {x} ({ev.raw.get('why')})", track)

    def io_start(self, ev: _Ev) -> None:
        if ev.task is None:
            self.instant(ev, "IoStart")
            return
        self.open_block(ev, ev.task, "iocall", f"iocall {ev.raw.get('io')}")

    def io_done(self, ev: _Ev) -> None:
        t, r = ev.task, ev.raw
        b = self.open.get(t) if t is not None else None
        delivered = r.get("delivered") is not False
        if t is not None and b is not None and b.kind == "iocall":
            if delivered:
                self.wake(t, ev, f"IoDone {r.get('io')} (seq {ev.seq})")
            else:
                self.end_block(t, ev.ts, ev.ts, f"IoDone {r.get('io')} (seq {ev.seq}): the "
                               "reply was dropped (its caller was killed), at the latest "
                               "here")
        else:
            self.instant(ev, f"IoDone {r.get('io')}" + ("" if delivered else
                                                        " (not delivered)"))
        self.declared(ev)

    def join_block(self, ev: _Ev) -> None:
        t = ev.task
        if t is None:
            self.instant(ev, "JoinBlock")
            return
        x = self.join_timer.pop(t, None)
        self.open_block(ev, t, "join", f"join {ev.raw.get('target')}",
                        {} if x is None else {"timeout_timer": x})

    def proc_exit(self, ev: _Ev) -> None:
        p = ev.proc
        if p is None:
            self.instant(ev, "ProcExit")
            self.declared(ev)
            return
        self.tl.plife(p).exited = ev
        here = self.sched_slice(ev, p, "ProcExit")
        for u in _ids(ev.raw.get("woken")):
            dst = self.wake(u, ev, f"ProcExit of p{p} (seq {ev.seq})")
            self.flow(_CAT_JOIN, f"ProcExit p{p}", here, dst, {"woken": u})
        self.declared(ev)
        # A proc that exits while its run goes on hands its timers to the main proc.
        run = self.tl.runs.get(ev.run) if ev.run is not None else None
        if run is not None and run.ending is None and run.main not in (None, p):
            for tm in self.timers.values():
                if tm.owner == p:
                    tm.owner = run.main


# --------------------------------------------------------------------------- output


def _process_label(tl: _Timeline, pid: int) -> str:
    if pid == tl.runtime_pid:
        return "libtask9: channels and runtime"
    name = tl.proc_name.get(pid)
    label = f"proc {pid}" + (f" ({name})" if name else "")
    if pid in tl.proc_run:
        label = f"run {tl.proc_run[pid]} · {label}"
    return label


def _thread_label(tl: _Timeline, pid: int, tid: int) -> str:
    if tid == tl.aux_tid:
        return "runtime" if pid == tl.runtime_pid else "scheduler"
    name = tl.task_name.get(tid)
    return f"task {tid}" + (f" ({name})" if name else "")


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
        meta.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": pid, "tid": tid,
                     "args": {"name": _thread_label(tl, pid, tid)}})
        meta.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": tid,
                     "args": {"sort_index": 0 if tid == tl.aux_tid else tid}})
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


def _actions(c: Counter[str], known: Sequence[str] = CONTRACT_ACTIONS) -> str:
    order = {a: i for i, a in enumerate(known)}
    return ", ".join(f"{a} {n}" for a, n in
                     sorted(c.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))) or "-"


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def _run_line(run_id: int | str, run: _Run) -> str:
    procs = sorted(run.procs)
    line = (f"run {run_id}: {_plural(len(procs), 'proc')}"
            + (f" ({', '.join(f'p{p}' for p in procs)})" if procs else "")
            + f", {_plural(len(run.tasks), 'task')}")
    if run.started is None and run.ending is None and run.ended is None and not run.declared:
        return line  # no lifecycle events: nothing more is known
    ending = run.ending.raw.get("reason") if run.ending is not None else None
    outcome = run.ended.raw.get("outcome") if run.ended is not None else None
    line += f"; ending: {'-' if ending is None else ending}"
    line += f"; outcome: {'-' if outcome is None else outcome}"
    if run.declared:
        d = run.declared[0]
        where = f"p{d.proc}" if d.proc is not None else f"t{d.task}"
        line += f"; deadlock: declared (seq {d.seq}, {d.action} of {where})"
    else:
        line += "; deadlock: not declared" + ("" if run.ended is not None else
                                              " (no RunEnd in the trace)")
    if run.interrupts:
        line += f"; interrupts: {run.interrupts}"
    return line


def _created_by(ev: _Ev | None) -> str:
    if ev is None:
        return "?"
    if ev.action == "RunStart":
        return "run()"
    return "-" if ev.by is None else f"t{ev.by}"


def summary(events: Iterable[Mapping[str, Any]]) -> str:
    """Per-run, per-proc, per-channel and per-task counts of a trace, as text.

    One line per run (its procs and tasks; with lifecycle events, why it ended
    (``RunEnding``), its outcome (``RunEnd``) and whether a deadlock was declared).
    For each channel: its capacity, the values sent into it and delivered out of it, how
    often a task blocked on it and for how long, and its operations by action (the
    chosen case's channel for a completed alt, every case's for ``AltBlock`` /
    ``AltNone``).  For each task: its proc, the values it sent and received, its blocks
    and time blocked in alts, and its operations by action.  With lifecycle events, for
    each proc: who created it, its tasks, its idle periods and their time, its exit; and
    for each task: who created it, its sleeps, joins and iocalls and the time it spent
    in each, its exit.  Times are milliseconds when the events carry ``"t"``, seq steps
    otherwise.
    """
    tl = _analyze(events)
    mode = tl.time_mode
    seqs = [e.seq for e in tl.events if e.seq is not None]
    procs = sorted({p for p in tl.task_proc.values()}
                   | {e.proc for e in tl.events if e.proc is not None})
    head = (f"libtask9 trace: {len(tl.events)} events"
            + (f" (seq {min(seqs)}..{max(seqs)})" if seqs else "")
            + f", {_plural(len(procs), 'proc')}"
            + f", {_plural(len(tl.task_stats), 'task')}"
            + f", {_plural(len(tl.chan_stats), 'channel')}")
    lines = [head]
    for run_id in sorted(tl.runs, key=lambda r: (isinstance(r, str), str(r).zfill(20))):
        lines.append(_run_line(run_id, tl.runs[run_id]))
    lines.append("time blocked: " + ("milliseconds, from the events' \"t\"" if
                                     mode == "t" else
                                     "seq steps (the events carry no \"t\")"))
    lines.append("")
    rows = []
    for c in sorted(tl.chan_stats):
        s = tl.chan_stats[c]
        cap = tl.chan_cap.get(c)
        rows.append([f"c{c}", "?" if cap is None else str(cap), str(s.sent), str(s.received),
                     str(s.blocked), _fmt_time(s.waited, mode), _actions(s.ops)])
    lines += _table(["channel", "cap", "sent", "delivered", "blocked", "time blocked",
                     "operations by action"], rows, right={1, 2, 3, 4, 5})
    lines.append("")
    rows = []
    for t in sorted(tl.task_stats):
        s = tl.task_stats[t]
        p = tl.task_proc.get(t)
        rows.append([f"t{t}", "?" if p is None else str(p), str(s.sent), str(s.received),
                     str(s.blocked), _fmt_time(s.waited, mode), _actions(s.ops)])
    lines += _table(["task", "proc", "sent", "received", "blocked", "time blocked",
                     "operations by action"], rows, right={1, 2, 3, 4, 5})
    if tl.proc_life:
        lines.append("")
        rows = []
        for p, pl in sorted(tl.proc_life.items()):
            rows.append([f"p{p}", "?" if pl.run is None else str(pl.run),
                         _created_by(pl.created), str(pl.tasks), str(pl.idle),
                         _fmt_time(pl.idle_time, mode),
                         "-" if pl.exited is None else f"seq {pl.exited.seq}"])
        lines += _table(["proc", "run", "created by", "tasks", "idle", "time idle", "exit"],
                        rows, right={1, 3, 4, 5})
    if tl.lifecycle:
        lines.append("")
        rows = []
        for t in sorted(set(tl.task_stats) | set(tl.task_life)):
            life = tl.task_life.get(t, _TaskLife())
            row = [f"t{t}", _created_by(life.created)]
            for kind in ("sleep", "join", "iocall"):
                row += [str(life.waits[kind]), _fmt_time(life.waited.get(kind, 0.0), mode)]
            row.append("-" if life.exited is None else f"seq {life.exited.seq}")
            rows.append(row)
        lines += _table(["task", "created by", "sleeps", "time asleep", "joins",
                         "time joining", "iocalls", "time in iocalls", "exit"], rows,
                        right={2, 3, 4, 5, 6, 7})
    stuck = [(t, b) for t, b in tl.blocks if b.reason.startswith("still blocked")]
    if stuck:
        lines.append("")
        lines.append("still blocked at the end: " + ", ".join(
            f"t{t} ({b.label}, since seq {b.ev.seq})" for t, b in stuck))
    if tl.lifecycle:
        lines.append("")
        lines.append("lifecycle events: " + _actions(tl.lifecycle, LIFECYCLE_ACTIONS))
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
                    "print per-run, per-proc, per-channel and per-task counts.")
    ap.add_argument("trace", help="the NDJSON trace (TraceRecorder output); - for stdin")
    ap.add_argument("-o", "--output", metavar="OUT.json",
                    help="write the timeline JSON there (- for stdout)")
    ap.add_argument("--summary", action="store_true",
                    help="print per-run, per-proc, per-channel and per-task counts")
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
