"""Lifecycle trace validation: are a runtime trace's lifecycle events a behaviour of
``spec/Procs.tla``, as the lifecycle oracle :mod:`libtask9.procmodel` computes it?

A trace (format version 2, ``docs/CONTRACT.md``) carries, besides the channel actions,
the lifecycle events of ``spec/Procs.tla`` (``RunStart`` ... ``RunEnd``), each recorded
under ``chanlock`` at its linearization point and named after its spec action.  The
spec also has steps the runtime does not record (``Dispatch``, ``TakeRemote``, ``Park``,
``Unpark``, ``Yield``, ``IoRun``, ``TimerDrop``, and the scheduler's own kills landing).
So the check is trace validation with hidden steps, as done for TLA+ specifications
(Cirstea, Kuppe, Loillier, Merz 2024; tlaplus/Examples): it keeps the *set* of oracle
states consistent with the events read so far; before each event it closes that set
under the hidden actions (:data:`HIDDEN`; the closure is finite, see below), then keeps
the successors by the event's action whose effect matches what the event reports.  An
event no state explains is the first rejected one: :class:`LcReport` names its index
(into the events given), the event, and the candidate states.

**Runs are checked one at a time.**  Events are grouped by ``run``; each run is checked
against a one-run configuration derived from its own events (``Isolation``, checked by
TLC in ``ProcsIsolation.tla``: every run's projection is a behaviour of the one-run
spec).

**The event → action mapping** (:func:`prepare_lifecycle`; the table is in
``spec/README.md``, "Trace validation of lifecycle traces").  Runtime ids become model ids
as they appear: run ``n`` → ``"r<n>"``, proc ``n`` → ``"p<n>"``, task ``n`` →
``"t<n>"``; a timer id → the (task, kind) it was armed for.

* ``RunStart`` → ``RunStart(w)``.  The ``TaskCreate`` of a proc's first task (``by``
  null) and the ``ProcStart`` of the *main* proc are part of it (the spec's ``RunStart``
  makes main's first task runnable); the ``TaskCreate`` of another proc's first task is
  part of its ``ProcStart(q)``.
* ``TaskCreate`` (``by`` a task) → ``TaskCreate(by, task)``; ``ProcCreate`` →
  ``ProcCreate(by, proc)``; ``ProcIdle`` → ``ProcIdle(p)`` (``declared`` must be what
  the step decides); ``ProcWake`` → ``ProcWake(p)``; ``ProcExit`` → ``ProcExit(p)``
  (``declared`` and the joiners ``woken`` must match); ``TaskExit`` → ``TaskExit(t, f)``
  (``woken`` must match; ``f`` may be TRUE only if the task raised); ``JoinBlock`` →
  ``JoinBlock(t, x, timeout)`` (a ``TimerArm`` of kind ``join`` just before it is its
  timeout, part of the same CS); ``IoStart``/``IoDone`` → ``IoStart(t)``/``IoDone(t)``
  (``delivered``, ``declared`` must match); ``Interrupt`` → ``Interrupt(w)``;
  ``RunEnding`` → ``RunEnding(p)`` for some proc ``p`` of the run, whose cause must be
  the event's ``reason`` (:data:`REASON_CAUSES`); ``RunEnd`` → ``RunEnd(w)``.
* Timers: ``TimerArm`` ``sleep`` → ``TimerArm(t, "sleep")``; ``Timer`` (``after()``,
  ``Timer()``) → ``TimerArm(t, "after")``; ``TimerFire`` → ``TimerFire(p, t, k)`` with
  ``p`` the firing proc and ``(t, k)`` the timer's; ``TimerStop`` ``stop`` →
  ``TimerStop(t)`` (the task that armed it); ``TimerStop`` ``wait completed`` is part of
  the CS that completed the wait (``ProcExit``, ``KillBlocked``, ``RunEnding``, which
  disarm the wait timer themselves): no step.
* Channels (``Procs.tla`` abstracts them to ``ChanBlock``/``ChanReady``): ``AltBlock``
  → ``ChanBlock(t)`` (``sleep(math.inf)`` records an ``AltBlock`` with no case and
  ``sleep`` true: the spec's block forever, a ``ChanBlock`` nobody readies);
  ``AltRendezvous``/``AltHandover`` with a ``partner`` →
  ``ChanReady(t, partner)``; ``Close`` → ``ChanReady(t, u)`` for each woken ``u``;
  every other channel event readies nobody and blocks nobody: no step.  A timer
  channel's delivery is not recorded: ``TimerFire(p, t, "chan")`` may ready any
  chan-blocked task or none.
* Kills: ``KillBlocked``/``KillPending``/``Killed`` → the action of the same name (a
  kill by a task of the same run, e.g. a TaskGroup's, is the spec's kill from outside
  delivered through the remote queue; the extra hidden ``TakeRemote`` changes nothing
  else).  A cancelled group's ``KillPending`` of a member proc's first task, recorded
  in the CS that creates it (before its ``ProcStart``), is the ``KillPending`` right
  after that ``ProcStart``.  The scheduler's own kills when a run ends are not
  recorded (``RunEnding`` does them); their landing, ``Killed(t)``, is hidden while
  the run is ending.

**Derived constants** (:func:`derive_config`): ``Procs``/``Tasks``/``ProcRun``/
``MainProc``/``TaskProc``/``FirstTask`` from the events; ``Budget[t]`` = the number of
budgeted steps ``t`` takes in the mapped trace and ``Can[t]`` = the operations among them
(plus ``fatal`` if ``t`` raised); ``Spinners`` = every task (``yield_()`` is not
recorded: any task may yield any number of times, free, as a hidden ``Yield``;
``Spinners`` matters only to ``RunReturns``, which a trace does not check);
``Killable`` = the tasks a kill event names; ``IntrRuns`` = the run if it has an
``Interrupt``.

**Out of the spec's scope** (reported as *unsupported*, distinct from a rejection):
Tickers and timeout scopes (``move_on_after``/``timeout``: a task that lives on after
its kill), ``Task.join(timeout)``, ``Timer.reset``, a task with two live timer channels,
timers or procs of no task, a second interrupt.  ``spec/README.md`` says why each is not
modelled.

**The closure is finite**: every hidden action either consumes something finite (a
budget, a queued call, a live timer, a pending kill, a remote hand-off) or moves a proc
along ``loop → run → loop`` / ``parking → asleep → loop`` among finitely many states;
the search visits each state once.  :data:`MAX_STATES` bounds it anyway.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .. import procmodel as P

__all__ = [
    "HIDDEN",
    "MAX_STATES",
    "REASON_CAUSES",
    "LcItem",
    "LcReport",
    "LcRunTrace",
    "Unsupported",
    "check_lifecycle_trace",
    "derive_config",
    "hidden_closure",
    "prepare_lifecycle",
]

#: The spec's actions the runtime does not record, allowed between two events.
#: (``Killed`` is hidden only while the run is ending: see :func:`hidden_successors`.)
HIDDEN = ("Dispatch", "TakeRemote", "Park", "Unpark", "Yield", "IoRun", "TimerDrop", "Killed")

#: ``RunEnding.reason`` → the causes the spec's ``RunEnding`` may have fixed.  "main
#: raised": main's first task ended with an exception, a fatal one (``fatalp``) or not.
REASON_CAUSES: dict[str, frozenset[str]] = {
    "main returned": frozenset({"main"}),
    "main raised": frozenset({"fatal", "main"}),
    "fatal": frozenset({"fatal"}),
    "interrupt": frozenset({"interrupt"}),
    "deadlock": frozenset({"deadlock"}),
}

#: The largest state set the search keeps (per event, closure included).
MAX_STATES = 200_000

#: The budgeted action of an item → the operation of ``Ops`` it performs.
_OP_OF = {"ChanReady": "ready", "ChanBlock": "block", "TimerStop": "stop",
          "IoStart": "io", "TaskCreate": "spawn", "ProcCreate": "newproc"}

_CHAN_READY_EVENTS = ("AltRendezvous", "AltHandover")


class Unsupported(ValueError):
    """An event outside what ``spec/Procs.tla`` models (not a rejection)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"event #{index}: {message}")
        self.index = index


@dataclasses.dataclass(frozen=True)
class LcItem:
    """One model step an event maps to: ``action`` with one of ``choices`` (parameter
    tuples), and what the event reports about its effect (``decl``: the step declares a
    Deadlock (None: not reported); ``woken``: the tasks it readies (None: not
    reported); ``causes``: for ``RunEnding``, the causes it may fix)."""

    index: int
    action: str
    choices: tuple[tuple[Any, ...], ...]
    decl: bool | None = None
    woken: frozenset[str] | None = None
    causes: frozenset[str] | None = None
    task: str | None = None  # the budgeted task (its Budget/Can), if any
    op: str | None = None  # the operation of Ops it performs


@dataclasses.dataclass
class LcRunTrace:
    """The lifecycle of one run: its model id, constants and items."""

    run: Any  # the runtime's run id
    cfg: P.Config
    items: list[LcItem]


def _m(prefix: str, x: Any) -> str:
    return f"{prefix}{x}"


def _task(x: Any) -> str:
    return _m("t", x)


def _proc(x: Any) -> str:
    return _m("p", x)


class _Builder:
    """Reads one run's events in order, building the items and the constants."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.w = _m("r", run)
        self.main: str | None = None
        self.procs: list[str] = []
        self.tasks: list[str] = []
        self.task_proc: dict[str, str] = {}
        self.first: dict[str, str] = {}
        self.killable: set[str] = set()
        self.intr = False
        self.raised: set[str] = set()
        self.items: list[LcItem] = []
        self.timers: dict[Any, tuple[str, str]] = {}  # timer id -> (task, "wait"|"chan")
        self.live_chan: dict[str, Any] = {}  # task -> its live timer channel's id
        self.pending_first: dict[str, str] = {}  # task created by nobody -> its proc
        self.join_timeout: dict[str, Any] = {}  # task -> its join timer id (armed first)
        self.declarer: str | None = None  # the proc whose ProcIdle just declared
        self.deferred_kill: dict[str, int] = {}  # first task -> its early KillPending

    def proc(self, x: Any) -> str:
        p = _proc(x)
        if p not in self.procs:
            self.procs.append(p)
        return p

    def new_task(self, t: str, p: str) -> None:
        if t not in self.tasks:
            self.tasks.append(t)
            self.task_proc[t] = p

    def add(self, k: int, action: str, *choices: tuple[Any, ...], **kw: Any) -> None:
        self.items.append(LcItem(k, action, tuple(choices), **kw))

    def event(self, k: int, ev: Mapping[str, Any]) -> None:
        a = ev["action"]
        w = self.w
        if a != "RunEnding" and a != "ProcWake":
            self.declarer = None  # (only the declaring CS's own events may come between)
        if a == "RunStart":
            self.main = self.proc(ev["proc"])
            self.add(k, "RunStart", (w,))
        elif a == "TaskCreate":
            t, p = _task(ev["task"]), self.proc(ev["proc"])
            self.new_task(t, p)
            if ev.get("by") is None:
                self.pending_first[t] = p  # (part of ProcStart / RunStart)
            else:
                by = _task(ev["by"])
                self.add(k, "TaskCreate", (by, t), task=by, op="spawn")
        elif a == "ProcStart":
            p, t = self.proc(ev["proc"]), _task(ev["task"])
            self.new_task(t, p)
            if self.pending_first.pop(t, None) != p:
                raise Unsupported(k, f"ProcStart of {p} without the TaskCreate of its first "
                                     f"task {t}")
            self.first[p] = t
            if p != self.main:
                self.add(k, "ProcStart", (p,))
            if t in self.deferred_kill:
                self.add(self.deferred_kill.pop(t), "KillPending", (t,))
        elif a == "ProcCreate":
            if ev.get("by") is None:
                raise Unsupported(k, "new_proc from a thread that is no task")
            by, q = _task(ev["by"]), self.proc(ev["proc"])
            self.add(k, "ProcCreate", (by, q), task=by, op="newproc")
        elif a == "ProcIdle":
            p = self.proc(ev["proc"])
            self.add(k, "ProcIdle", (p,), decl=bool(ev["declared"]))
            if ev["declared"]:
                self.declarer = p
        elif a == "ProcWake":
            p = self.proc(ev["proc"])
            if self.declarer == p:
                # The proc whose ProcIdle declared restores its own idle flag in the same
                # CS (after the RunEnding it causes) and records it as ProcWake; the spec's
                # ProcIdle un-idles it in its declaring step (idle' = ~decl): no step.
                self.declarer = None
                return
            self.add(k, "ProcWake", (p,))
        elif a == "ProcExit":
            self.add(k, "ProcExit", (self.proc(ev["proc"]),), decl=bool(ev["declared"]),
                     woken=frozenset(_task(u) for u in ev["woken"]))
        elif a == "TaskExit":
            t = _task(ev["task"])
            fatal: tuple[tuple[Any, ...], ...] = ((t, False),)
            if ev.get("outcome") == "raised":
                self.raised.add(t)
                fatal = ((t, False), (t, True))
            self.add(k, "TaskExit", *fatal, woken=frozenset(_task(u) for u in ev["woken"]))
        elif a == "JoinBlock":
            t = _task(ev["task"])
            tid = self.join_timeout.pop(t, None)
            if ev.get("kind") == "proc":
                x = _proc(ev["target_id"])
                op = "jointo" if tid is not None else "join"
            else:
                if tid is not None:
                    raise Unsupported(k, "Task.join(timeout): not modelled")
                x, op = _task(ev["target_id"]), "jointask"
            self.add(k, "JoinBlock", (t, x, tid is not None), task=t, op=op)
        elif a == "TimerArm":
            self.timer_arm(k, ev)
        elif a == "TimerFire":
            tm = self.timers.get(ev["timer"])
            if tm is None:
                raise Unsupported(k, f"timer {ev['timer']} was not armed by a task of the run")
            if ev.get("proc") is None:
                raise Unsupported(k, "a timer fired by no proc (the fallback timer thread)")
            t, kind = tm
            if kind == "chan":
                self.live_chan.pop(t, None)
            del self.timers[ev["timer"]]
            self.add(k, "TimerFire", (self.proc(ev["proc"]), t, kind))
        elif a == "TimerStop":
            self.timer_stop(k, ev)
        elif a == "IoStart":
            t = _task(ev["task"])
            self.add(k, "IoStart", (t,), task=t, op="io")
        elif a == "IoDone":
            t = _task(ev["task"])
            # ("delivered": the reply went into the reply channel, buffered or taken: it
            # does not say whether the caller, perhaps killed meanwhile, was readied)
            self.add(k, "IoDone", (t,), decl=bool(ev["declared"]))
        elif a == "Interrupt":
            if self.intr:
                raise Unsupported(k, "a second interrupt in one run (the spec has one)")
            self.intr = True
            self.add(k, "Interrupt", (w,))
        elif a == "RunEnding":
            causes = REASON_CAUSES.get(ev["reason"])
            if causes is None:
                raise Unsupported(k, f"RunEnding for {ev['reason']!r}")
            self.add(k, "RunEnding", *((p,) for p in self.procs), causes=causes)
        elif a == "RunEnd":
            self.add(k, "RunEnd", (w,))
        elif a in ("KillBlocked", "KillPending", "Killed"):
            if ev.get("reason") == "timeout":
                raise Unsupported(k, "a timeout scope's interruption (the task lives on)")
            t = _task(ev["task"])
            if a != "Killed":
                self.killable.add(t)
            if a == "KillPending" and t in self.pending_first:
                # A cancelled TaskGroup kills a member proc's first task in the CS that
                # creates it, before the ProcStart that the spec makes it runnable in:
                # nothing of the task can happen in between, so it is the KillPending
                # right after that ProcStart.
                self.deferred_kill[t] = k
                return
            self.add(k, a, (t,))
        elif a == "AltBlock":
            t = _task(ev["task"])
            self.add(k, "ChanBlock", (t,), task=t, op="block")
        elif a in _CHAN_READY_EVENTS and "partner" in ev and ev.get("task") is not None:
            t = _task(ev["task"])
            self.add(k, "ChanReady", (t, _task(ev["partner"])), task=t, op="ready")
        elif a == "Close":
            t = _task(ev["task"])
            for u, _ in ev["woken"]:
                self.add(k, "ChanReady", (t, _task(u)), task=t, op="ready")
        # every other event (ChanCreate, AltBuffer, AltClosed, AltNone, CloseClosed, an
        # alt of no task) readies and blocks nobody: no step

    def timer_arm(self, k: int, ev: Mapping[str, Any]) -> None:
        kind = ev["kind"]
        if ev.get("task") is None or ev.get("proc") is None:
            raise Unsupported(k, f"a {kind} timer armed outside a task")
        t = _task(ev["task"])
        if kind == "sleep":
            self.timers[ev["timer"]] = (t, "wait")
            self.add(k, "TimerArm", (t, "sleep"), task=t, op="sleep")
        elif kind == "join":
            self.timers[ev["timer"]] = (t, "wait")
            self.join_timeout[t] = ev["timer"]  # (the JoinBlock that follows arms it)
        elif kind == "Timer":
            if t in self.live_chan:
                raise Unsupported(k, f"task {t} arms a second live timer channel (the spec "
                                     "has one per task)")
            self.timers[ev["timer"]] = (t, "chan")
            self.live_chan[t] = ev["timer"]
            self.add(k, "TimerArm", (t, "after"), task=t, op="after")
        else:
            raise Unsupported(k, f"a {kind} timer (not modelled)")

    def timer_stop(self, k: int, ev: Mapping[str, Any]) -> None:
        why = ev["why"]
        tm = self.timers.pop(ev["timer"], None)
        if why == "wait completed":
            return  # (part of the CS that completed the wait, which disarms it)
        if why != "stop" or tm is None:
            raise Unsupported(k, f"TimerStop ({why}) of timer {ev['timer']}")
        t, kind = tm
        if kind != "chan":
            raise Unsupported(k, f"Timer.stop of a wait timer {ev['timer']}")
        self.live_chan.pop(t, None)
        self.add(k, "TimerStop", (t,), task=t, op="stop")

    def finish(self) -> LcRunTrace:
        if self.main is None:
            raise Unsupported(self.items[0].index if self.items else 0,
                              f"run {self.run}: no RunStart")
        for t, p in self.pending_first.items():  # (created by nobody, never started)
            raise Unsupported(0, f"task {t} of {p} created by no task and never started")
        return LcRunTrace(self.run, derive_config(self), self.items)


def derive_config(b: _Builder) -> P.Config:
    """The one-run constants of a run's events (see the module docstring)."""
    assert b.main is not None
    budget = dict.fromkeys(b.tasks, 0)
    can: dict[str, set[str]] = {t: set() for t in b.tasks}
    for it in b.items:
        if it.task is not None and it.op is not None:
            budget[it.task] += 1
            can[it.task].add(it.op)
    for t in b.raised:
        can[t].add("fatal")
    for p in b.procs:
        if p not in b.first:
            raise Unsupported(0, f"proc {p} never started (no first task)")
    return P.Config(
        runs=(b.w,), procs=tuple(b.procs), tasks=tuple(b.tasks),
        proc_run=dict.fromkeys(b.procs, b.w), main_proc={b.w: b.main},
        task_proc=dict(b.task_proc), first_task=dict(b.first), budget=budget,
        can={t: frozenset(c) for t, c in can.items()},
        spinners=frozenset(b.tasks), killable=frozenset(b.killable),
        intr_runs=frozenset({b.w}) if b.intr else frozenset())


_LIFECYCLE_OR_CHANNEL = frozenset((
    "RunStart", "ProcCreate", "ProcStart", "TaskCreate", "TaskExit", "ProcIdle", "ProcWake",
    "TimerArm", "TimerFire", "TimerStop", "IoStart", "IoDone", "JoinBlock", "ProcExit",
    "Interrupt", "RunEnding", "RunEnd", "KillBlocked", "KillPending", "Killed", "AltBlock",
    "AltRendezvous", "AltHandover", "Close"))


def prepare_lifecycle(events: Sequence[Mapping[str, Any]]) -> list[LcRunTrace]:
    """Each run's constants and items (raises :class:`Unsupported`).  Indices are into
    ``events``; runs in the order of their first event; events of no run are ignored."""
    builders: dict[Any, _Builder] = {}
    for k, ev in enumerate(events):
        run = ev.get("run")
        if run is None or ev.get("action") not in _LIFECYCLE_OR_CHANNEL:
            continue
        b = builders.get(run)
        if b is None:
            if ev["action"] != "RunStart":
                raise Unsupported(k, f"run {run}'s first event is {ev['action']}, not RunStart")
            b = builders[run] = _Builder(run)
        b.event(k, ev)
    return [b.finish() for b in builders.values()]


# --------------------------------------------------------------------------- the search


def hidden_successors(cfg: P.Config, s: P.State) -> Iterable[P.State]:
    """The successors of ``s`` by one hidden action (:data:`HIDDEN`)."""
    for p in cfg.procs:
        yield from P.TakeRemote(cfg, s, p)
        yield from P.Park(cfg, s, p)
        yield from P.Unpark(cfg, s, p)
    d = cfg.d
    for t in cfg.tasks:
        yield from P.Dispatch(cfg, s, t)
        yield from P.Yield(cfg, s, t)
        yield from P.IoRun(cfg, s, t)
        yield from P.TimerDrop(cfg, s, t)
        # the scheduler's kills (RunEnding, a task born while ending) land unrecorded
        if s.phase[d.ri[d.run_of_task[t]]] == "ending":
            yield from P.Killed(cfg, s, t)


def hidden_closure(cfg: P.Config, states: Iterable[P.State],
                   max_states: int = MAX_STATES) -> list[P.State]:
    """Every state reachable from ``states`` by hidden actions (``states`` included)."""
    seen: dict[P.State, None] = dict.fromkeys(states)
    todo = list(seen)
    while todo:
        s = todo.pop()
        for n in hidden_successors(cfg, s):
            if n not in seen:
                seen[n] = None
                if len(seen) > max_states:
                    raise RuntimeError(f"more than {max_states} states in a hidden closure")
                todo.append(n)
    return list(seen)


def _readied(cfg: P.Config, s: P.State, n: P.State) -> frozenset[str]:
    return frozenset(t for t in cfg.tasks
                     if s.ts[cfg.d.ti[t]] == "blocked" and n.ts[cfg.d.ti[t]] == "runnable")


def observed(cfg: P.Config, it: LcItem, s: P.State, n: P.State) -> bool:
    """Does the step ``s -> n`` do what the event reports?  (``TraceProcs.tla``:
    ``Observed``.)"""
    r = 0  # (one run)
    if it.decl is not None and it.decl != (s.deadlock[r] == () and n.deadlock[r] != ()):
        return False
    if it.woken is not None and it.woken != _readied(cfg, s, n):
        return False
    return it.causes is None or n.cause[r] in it.causes


@dataclasses.dataclass
class LcReport:
    """The verdict: ``ok``; else ``index`` (of the first event no state explains),
    ``event``, ``message`` and ``states`` (the candidates before it, described).
    ``unsupported``: the trace leaves the spec's scope at event ``index``.  Figures:
    ``events`` (lifecycle steps matched), ``states`` explored, ``runs``."""

    ok: bool
    index: int | None = None
    event: Mapping[str, Any] | None = None
    message: str = ""
    candidates: list[str] = dataclasses.field(default_factory=list)
    unsupported: bool = False
    items: int = 0
    explored: int = 0
    runs: int = 0

    def __str__(self) -> str:
        if self.ok:
            return (f"accepted: {self.items} lifecycle steps of {self.runs} run(s), "
                    f"{self.explored} oracle states explored")
        head = ("unsupported" if self.unsupported else "rejected") + f" at event #{self.index}"
        out = [f"{head}: {self.message}"]
        if self.event is not None:
            out.append(f"  event: {dict(self.event)}")
        if self.candidates:
            out.append(f"  {len(self.candidates)} candidate state(s) before it, e.g.:")
            out.extend(self.candidates[:3])
        return "\n".join(out)


def check_run(rt: LcRunTrace, events: Sequence[Mapping[str, Any]],
              max_states: int = MAX_STATES) -> LcReport:
    """Validate one run's items against the oracle."""
    cfg = rt.cfg
    table = P.action_table()
    frontier: list[P.State] = [cfg.initial()]
    explored = 1
    for it in rt.items:
        closure = hidden_closure(cfg, frontier, max_states)
        explored += len(closure)
        fn: Callable[..., list[P.State]] = table[it.action]
        nxt: dict[P.State, None] = {}
        for s in closure:
            for params in it.choices:
                for n in fn(cfg, s, *params):
                    if observed(cfg, it, s, n):
                        nxt[n] = None
        if not nxt:
            return LcReport(
                False, it.index, events[it.index],
                f"no oracle state explains {it.action}{_fmt_choices(it.choices)} (run "
                f"{rt.run}; {len(closure)} candidate state(s))",
                [s.describe(cfg) for s in closure[:3]], items=rt.items.index(it),
                explored=explored, runs=1)
        frontier = list(nxt)
    return LcReport(True, items=len(rt.items), explored=explored, runs=1)


def _fmt_choices(choices: Sequence[tuple[Any, ...]]) -> str:
    if len(choices) == 1:
        return repr(choices[0])
    return " with one of " + ", ".join(repr(c) for c in choices)


def check_lifecycle_trace(events: Sequence[Mapping[str, Any]],
                          max_states: int = MAX_STATES) -> LcReport:
    """Validate every run's lifecycle events of ``events`` against the oracle; the first
    rejected event (by index) over all runs, or the totals when every run is accepted."""
    try:
        runs = prepare_lifecycle(events)
    except Unsupported as e:
        ev = events[e.index] if 0 <= e.index < len(events) else None
        return LcReport(False, e.index, ev, str(e), unsupported=True)
    total = LcReport(True, runs=len(runs))
    worst: LcReport | None = None
    for rt in runs:
        r = check_run(rt, events, max_states)
        total.items += r.items
        total.explored += r.explored
        if not r.ok and (worst is None or (r.index or 0) < (worst.index or 0)):
            worst = r
    return worst if worst is not None else total
