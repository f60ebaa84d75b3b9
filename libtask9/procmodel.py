"""The lifecycle oracle: an executable copy of ``spec/Procs.tla``, action by action.

``libtask9.model`` mirrors ``spec/Channels.tla``; this module mirrors the spec of the
layer around the channels: runs, procs, the scheduler's idle/wake protocol on a parker,
timers, iocalls, joins, kills, interrupts and the Deadlock declaration.  It has

* the spec's constants (:class:`Config`: ``Runs``, ``Procs``, ``Tasks``, ``ProcRun``,
  ``MainProc``, ``TaskProc``, ``FirstTask``, ``Budget``, ``Can``, ``Spinners``,
  ``Killable``, ``IntrRuns``, ``After``) and the bounded models of ``spec/MCProcs.tla``
  (:data:`MC_CONFIGS`, named after their ``MCProcs_*.cfg``);
* the spec's variables (:class:`State`, immutable and hashable);
* one function per spec action, with the spec's name, parameters, enabling condition and
  effect (:func:`RunStart`, :func:`RunEnding`, :func:`RunEnd`, :func:`Interrupt`,
  :func:`ProcStart`, :func:`TakeRemote`, :func:`Dispatch`, :func:`TimerFire`,
  :func:`ProcIdle`, :func:`Park`, :func:`ProcWake`, :func:`Unpark`, :func:`ProcExit`,
  :func:`ChanReady`, :func:`ChanBlock`, :func:`TimerArm`, :func:`TimerStop`,
  :func:`JoinBlock`, :func:`IoStart`, :func:`ProcCreate`, :func:`TaskCreate`,
  :func:`Yield`, :func:`Killed`, :func:`TaskExit`, :func:`IoRun`, :func:`IoDone`,
  :func:`KillBlocked`, :func:`KillPending`, :func:`TimerDrop`, :func:`Done`).  Each takes
  ``(cfg, state, *params)`` and returns the list of successor states (empty: not
  enabled; more than one where the action itself chooses, e.g. which chan-blocked task a
  timer channel's delivery readies);
* :func:`successors` (the spec's ``Next``, every ``(action, params, next)`` as TLC
  generates them), :func:`enabled`, :func:`apply`, and :func:`explore`, a breadth-first
  search of the reachable graph (``tests/test_procmodel_vs_tlc.py`` shows it equal to
  TLC's, states and labelled edges);
* the spec's state invariants under their names (:data:`INVARIANTS`);
* :func:`to_tla`, a state as TLC prints it (canonical values of
  :mod:`libtask9.testing.tla`).

The values are the spec's: strings for the enumerations, ``"-"`` for ``None`` and
``"off"`` for ``Off``, ids (strings in the MC models, ints in runtime traces) for runs,
procs and tasks, ``frozenset`` for sets, ``()`` / ``(B,)`` for ``deadlock``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .model import Exploration, bfs

__all__ = [
    "ACTIONS",
    "HIDDEN_ACTIONS",
    "INVARIANTS",
    "MC_CONFIGS",
    "NONE",
    "OFF",
    "OPS",
    "TRACED_ACTIONS",
    "Config",
    "Exploration",
    "NotEnabled",
    "State",
    "apply",
    "enabled",
    "explore",
    "successors",
    "to_tla",
    "violated_invariants",
]

Id = Any  # a run, proc or task id: a str in the MC models, an int in traces
Params = tuple[Any, ...]

NONE = "-"  # the spec's None
OFF = "off"  # the spec's Off: a timer channel that is not armed

#: The operations of a running task (``Ops``).
OPS = frozenset({"ready", "block", "sleep", "after", "stop", "join", "jointo", "jointask",
                 "io", "spawn", "newproc", "yield", "fatal"})

#: The spec's actions that are runtime trace events (``libtask9._trace.LIFECYCLE_ACTIONS``
#: plus the kills).
TRACED_ACTIONS = ("RunStart", "ProcCreate", "ProcStart", "TaskCreate", "TaskExit",
                  "ProcIdle", "ProcWake", "TimerArm", "TimerFire", "TimerStop", "IoStart",
                  "IoDone", "JoinBlock", "ProcExit", "Interrupt", "RunEnding", "RunEnd",
                  "KillBlocked", "KillPending", "Killed")
#: Its untraced steps (``ChanReady``/``ChanBlock`` are channel events seen from the
#: scheduler).
HIDDEN_ACTIONS = ("Dispatch", "TakeRemote", "Park", "Unpark", "ChanReady", "ChanBlock",
                  "Yield", "IoRun", "TimerDrop", "Done")
#: Every action of ``Next``, by name (the labels of TLC's state graph).
ACTIONS = TRACED_ACTIONS + HIDDEN_ACTIONS

STARTED = frozenset({"loop", "run", "parking", "asleep"})
PARKED = frozenset({"parking", "asleep"})
LIVE = frozenset({"runnable", "running", "blocked"})


# --------------------------------------------------------------------------- constants


@dataclasses.dataclass(frozen=True)
class Config:
    """The spec's constants (a bounded model, or the constants derived from a trace).

    ``budget`` is ``Budget`` (``None`` for a task: unbounded, the trace checker's
    choice), ``can`` is ``Can``; the other fields are named after the spec's
    constants."""

    runs: tuple[Id, ...]
    procs: tuple[Id, ...]
    tasks: tuple[Id, ...]
    proc_run: Mapping[Id, Id]
    main_proc: Mapping[Id, Id]
    task_proc: Mapping[Id, Id]
    first_task: Mapping[Id, Id]
    budget: Mapping[Id, int]
    can: Mapping[Id, frozenset[str]]
    spinners: frozenset[Id] = frozenset()
    killable: frozenset[Id] = frozenset()
    intr_runs: frozenset[Id] = frozenset()
    after: frozenset[tuple[Id, Id]] = frozenset()

    def __post_init__(self) -> None:
        # the ASSUME of the spec
        if not self.runs:
            raise ValueError("Runs must not be empty")
        if set(self.procs) & set(self.tasks):
            raise ValueError("proc and task ids must be distinct")
        if NONE in self.procs or NONE in self.tasks or OFF in self.procs:
            raise ValueError(f"{NONE!r} and {OFF!r} are not ids")
        for p in self.procs:
            if self.proc_run[p] not in self.runs:
                raise ValueError(f"ProcRun[{p!r}] is not a run")
            if self.task_proc[self.first_task[p]] != p:
                raise ValueError(f"FirstTask[{p!r}] is not a task of {p!r}")
        for w in self.runs:
            if self.proc_run[self.main_proc[w]] != w:
                raise ValueError(f"MainProc[{w!r}] is not a proc of {w!r}")
        for t in self.tasks:
            if self.task_proc[t] not in self.procs:
                raise ValueError(f"TaskProc[{t!r}] is not a proc")
            if not self.can[t] <= OPS:
                raise ValueError(f"Can[{t!r}] has unknown operations {self.can[t] - OPS}")
        object.__setattr__(self, "_derived", _Derived(self))

    @property
    def d(self) -> _Derived:
        """The spec's derived constants (``ProcsOf``, ``TasksOn``, ...) and index maps."""
        return self._derived  # type: ignore[attr-defined,no-any-return]

    def initial(self) -> State:
        """The spec's ``Init``."""
        nr, np_, nt = len(self.runs), len(self.procs), len(self.tasks)
        return State(
            phase=("idle",) * nr, wprocs=(frozenset(),) * nr, nidle=(0,) * nr,
            ntimers=(0,) * nr, iocalls=(0,) * nr, deadlock=((),) * nr, cause=(NONE,) * nr,
            intr=(False,) * nr, fatalp=(NONE,) * nr, kicked=(False,) * nr,
            pc=("none",) * np_, idle=(False,) * np_, parker=("off",) * np_,
            tmo=(False,) * np_, remote=(frozenset(),) * np_,
            ts=("none",) * nt, why=(NONE,) * nt, jt=(NONE,) * nt, kill=("no",) * nt,
            bud=tuple(self.budget[t] for t in self.tasks), tw=(False,) * nt,
            tc=(OFF,) * nt, io=("none",) * nt,
        )


class _Derived:
    """``ProcsOf``, ``TasksOn``, ``RunOfT``, ``TasksOf`` and position maps."""

    def __init__(self, c: Config) -> None:
        self.ri = {w: i for i, w in enumerate(c.runs)}
        self.pi = {p: i for i, p in enumerate(c.procs)}
        self.ti = {t: i for i, t in enumerate(c.tasks)}
        self.procs_of = {w: frozenset(p for p in c.procs if c.proc_run[p] == w)
                         for w in c.runs}
        self.tasks_on = {p: frozenset(t for t in c.tasks if c.task_proc[t] == p)
                         for p in c.procs}
        self.run_of_task = {t: c.proc_run[c.task_proc[t]] for t in c.tasks}
        self.tasks_of = {w: frozenset(t for t in c.tasks if self.run_of_task[t] == w)
                         for w in c.runs}
        # ordered views (iteration in a fixed order keeps the search deterministic)
        self.procs_of_l = {w: [p for p in c.procs if c.proc_run[p] == w] for w in c.runs}
        self.tasks_on_l = {p: [t for t in c.tasks if c.task_proc[t] == p] for p in c.procs}
        self.tasks_of_l = {w: [t for t in c.tasks if self.run_of_task[t] == w]
                           for w in c.runs}


# --------------------------------------------------------------------------- state


@dataclasses.dataclass(frozen=True)
class State:
    """The spec's variables, one tuple per variable in the order of ``cfg.runs``,
    ``cfg.procs`` or ``cfg.tasks`` (read them with :meth:`get`)."""

    # per run
    phase: tuple[str, ...]
    wprocs: tuple[frozenset[Id], ...]
    nidle: tuple[int, ...]
    ntimers: tuple[int, ...]
    iocalls: tuple[int, ...]
    deadlock: tuple[tuple[frozenset[Id], ...], ...]
    cause: tuple[str, ...]
    intr: tuple[bool, ...]
    fatalp: tuple[Id, ...]
    kicked: tuple[bool, ...]
    # per proc
    pc: tuple[str, ...]
    idle: tuple[bool, ...]
    parker: tuple[str, ...]
    tmo: tuple[bool, ...]
    remote: tuple[frozenset[Id], ...]
    # per task
    ts: tuple[str, ...]
    why: tuple[str, ...]
    jt: tuple[Id, ...]
    kill: tuple[str, ...]
    bud: tuple[int, ...]
    tw: tuple[bool, ...]
    tc: tuple[Id, ...]
    io: tuple[str, ...]

    def get(self, cfg: Config, var: str) -> dict[Id, Any]:
        """Variable ``var`` as a dict keyed by run, proc or task."""
        return dict(zip(_domain(cfg, var), getattr(self, var), strict=True))

    def describe(self, cfg: Config, runs: Iterable[Id] | None = None) -> str:
        """A readable multi-line rendering (for error messages)."""
        d = cfg.d
        lines = []
        for w in cfg.runs if runs is None else runs:
            i = d.ri[w]
            dl = self.deadlock[i]
            lines.append(
                f"  run {w!r}: phase={self.phase[i]} procs={sorted(self.wprocs[i], key=repr)} "
                f"nidle={self.nidle[i]} ntimers={self.ntimers[i]} iocalls={self.iocalls[i]} "
                f"deadlock={sorted(dl[0], key=repr) if dl else None} cause={self.cause[i]} "
                f"intr={self.intr[i]} fatalp={self.fatalp[i]!r}")
            for p in d.procs_of_l[w]:
                j = d.pi[p]
                lines.append(
                    f"    proc {p!r}: pc={self.pc[j]} idle={self.idle[j]} "
                    f"parker={self.parker[j]} tmo={self.tmo[j]} "
                    f"remote={sorted(self.remote[j], key=repr)}")
                for t in d.tasks_on_l[p]:
                    k = d.ti[t]
                    if self.ts[k] == "none":
                        continue
                    extra = [f"why={self.why[k]}"] if self.why[k] != NONE else []
                    extra += [f"jt={self.jt[k]!r}"] if self.jt[k] != NONE else []
                    extra += [f"kill={self.kill[k]}"] if self.kill[k] != "no" else []
                    extra += ["tw"] if self.tw[k] else []
                    extra += [f"tc={self.tc[k]!r}"] if self.tc[k] != OFF else []
                    extra += [f"io={self.io[k]}"] if self.io[k] != "none" else []
                    lines.append(f"      task {t!r}: {self.ts[k]} {' '.join(extra)}".rstrip())
        return "\n".join(lines)


_RUN_VARS = ("phase", "wprocs", "nidle", "ntimers", "iocalls", "deadlock", "cause", "intr",
             "fatalp", "kicked")
_PROC_VARS = ("pc", "idle", "parker", "tmo", "remote")
_TASK_VARS = ("ts", "why", "jt", "kill", "bud", "tw", "tc", "io")
VARIABLES = _RUN_VARS + _PROC_VARS + _TASK_VARS


def _domain(cfg: Config, var: str) -> tuple[Id, ...]:
    if var in _RUN_VARS:
        return cfg.runs
    if var in _PROC_VARS:
        return cfg.procs
    return cfg.tasks


def _put(tup: tuple[Any, ...], i: int, v: Any) -> tuple[Any, ...]:
    return (*tup[:i], v, *tup[i + 1:])


def _putmany(tup: tuple[Any, ...], changes: Mapping[int, Any]) -> tuple[Any, ...]:
    if not changes:
        return tup
    lst = list(tup)
    for i, v in changes.items():
        lst[i] = v
    return tuple(lst)


def _upd(s: State, **changes: Any) -> State:
    return dataclasses.replace(s, **changes)


# --------------------------------------------------------------------------- helpers
# The spec's helper operators, reading the state through the config's position maps.


def live(cfg: Config, s: State, t: Id) -> bool:
    """``Live(t)``."""
    return s.ts[cfg.d.ti[t]] in LIVE


def has_live(cfg: Config, s: State, p: Id) -> bool:
    """``HasLive(p)``."""
    ti = cfg.d.ti
    return any(s.ts[ti[t]] in LIVE for t in cfg.d.tasks_on_l[p])


def started(cfg: Config, s: State, p: Id) -> bool:
    return s.pc[cfg.d.pi[p]] in STARTED


def parked(cfg: Config, s: State, p: Id) -> bool:
    return s.pc[cfg.d.pi[p]] in PARKED


def declared(cfg: Config, s: State, w: Id) -> bool:
    return s.deadlock[cfg.d.ri[w]] != ()


def local_runnable(cfg: Config, s: State, p: Id) -> list[Id]:
    """``LocalRunnable(p)``."""
    ti = cfg.d.ti
    rem = s.remote[cfg.d.pi[p]]
    return [t for t in cfg.d.tasks_on_l[p] if s.ts[ti[t]] == "runnable" and t not in rem]


def has_timers(cfg: Config, s: State, p: Id) -> bool:
    """``HasTimers(p)``."""
    ti = cfg.d.ti
    return any(s.tw[ti[t]] for t in cfg.d.tasks_on_l[p]) or p in s.tc


def chan_blocked(cfg: Config, s: State, w: Id) -> list[Id]:
    """``ChanBlocked(w)``."""
    ti = cfg.d.ti
    return [t for t in cfg.d.tasks_of_l[w] if s.ts[ti[t]] == "blocked" and s.why[ti[t]] == "chan"]


def unidle(cfg: Config, s: State, us: Iterable[Id], by: Id) -> set[Id]:
    """``Unidle(U, by)``: the idle procs (but ``by``) of the tasks in ``U``."""
    d = cfg.d
    out = set()
    for u in us:
        p = cfg.task_proc[u]
        if p != by and s.idle[d.pi[p]]:
            out.add(p)
    return out


@dataclasses.dataclass
class _Ready:
    """The variables ``ready_locked(U)`` by ``by`` changes: ``RTs``, ``RWhy``, ``RJt``,
    ``RRemote``, ``RIdle``, the nidle of run ``w`` (``NIdleAfter``) and the procs to wake
    (``Unidle``), computed once for the actions that combine them."""

    ts: tuple[str, ...]
    why: tuple[str, ...]
    jt: tuple[Id, ...]
    remote: tuple[frozenset[Id], ...]
    idle: tuple[bool, ...]
    nidle_w: int
    woken: set[Id]


def _ready(cfg: Config, s: State, us: Iterable[Id], by: Id, w: Id,
           ts0: tuple[str, ...] | None = None) -> _Ready:
    d = cfg.d
    ul = list(us)
    uidx = {d.ti[u]: None for u in ul}
    ts = _putmany(s.ts if ts0 is None else ts0, dict.fromkeys(uidx, "runnable"))
    why = _putmany(s.why, dict.fromkeys(uidx, NONE))
    jt = _putmany(s.jt, dict.fromkeys(uidx, NONE))
    rem: dict[int, frozenset[Id]] = {}
    for u in ul:
        p = cfg.task_proc[u]
        if p != by:
            j = d.pi[p]
            rem[j] = rem.get(j, s.remote[j]) | {u}
    woken = unidle(cfg, s, ul, by)
    idle = _putmany(s.idle, {d.pi[p]: False for p in woken})
    n = s.nidle[d.ri[w]] - sum(1 for p in woken if cfg.proc_run[p] == w)
    return _Ready(ts, why, jt, _putmany(s.remote, rem), idle, n, woken)


def _rtw(cfg: Config, s: State, us: Iterable[Id]) -> tuple[bool, ...]:
    """``RTw(U)``."""
    return _putmany(s.tw, {cfg.d.ti[u]: False for u in us})


def _ntimers_after(cfg: Config, s: State, w: Id, us: Iterable[Id]) -> int:
    """``NTimersAfter(w, U)``."""
    d = cfg.d
    return s.ntimers[d.ri[w]] - sum(1 for u in set(us)
                                    if s.tw[d.ti[u]] and d.run_of_task[u] == w)


def _wake(cfg: Config, pk: tuple[str, ...], procs: Iterable[Id]) -> tuple[str, ...]:
    """``Wake(pk, S)``: release the armed parkers of ``S``."""
    pi = cfg.d.pi
    return _putmany(pk, {pi[p]: "sig" for p in procs if pk[pi[p]] == "armed"})


def dead_cond(cfg: Config, s: State, w: Id, procs: frozenset[Id], n: int, i: int,
              k: int) -> bool:
    """``DeadCond(w, P, n, i, k)``."""
    r = cfg.d.ri[w]
    return (s.phase[r] == "running" and s.deadlock[r] == () and bool(procs)
            and n == len(procs) and i == 0 and k == 0)


def _declare(cfg: Config, s: State, w: Id, decl: bool, ts1: tuple[str, ...],
             pk1: tuple[str, ...]) -> dict[str, Any]:
    """``Declare(w, decl, ts1, pk1)``: the new deadlock, phase and parker."""
    if not decl:
        return {"parker": pk1}
    d = cfg.d
    r = d.ri[w]
    blocked = frozenset(t for t in d.tasks_of_l[w] if ts1[d.ti[t]] == "blocked")
    return {"deadlock": _put(s.deadlock, r, (blocked,)), "phase": _put(s.phase, r, "ending"),
            "parker": _wake(cfg, pk1, d.procs_of_l[w])}


def end_due(cfg: Config, s: State, p: Id) -> str:
    """``EndDue(p)``: the cause ``p`` must act on at its next scheduler step, or NONE."""
    w = cfg.proc_run[p]
    r = cfg.d.ri[w]
    if s.cause[r] != NONE or s.phase[r] not in ("running", "ending"):
        return NONE
    main = cfg.main_proc[w] == p
    if main and s.intr[r]:
        return "interrupt"
    if s.fatalp[r] == p:
        return "fatal"
    if main and s.deadlock[r] != ():
        return "deadlock"
    if main and not has_live(cfg, s, p):
        return "main"
    return NONE


# --------------------------------------------------------------------------- runs


def RunStart(cfg: Config, s: State, w: Id) -> list[State]:
    """1. run() creates the world and its main proc and spawns main's first task."""
    d = cfg.d
    r = d.ri[w]
    m = cfg.main_proc[w]
    if s.phase[r] != "idle":
        return []
    if any(s.phase[d.ri[v]] != "ended" for v, x in cfg.after if x == w):
        return []
    return [_upd(s, phase=_put(s.phase, r, "running"), wprocs=_put(s.wprocs, r, frozenset({m})),
                 pc=_put(s.pc, d.pi[m], "loop"),
                 ts=_put(s.ts, d.ti[cfg.first_task[m]], "runnable"))]


def RunEnding(cfg: Config, s: State, p: Id) -> list[State]:
    """13. Run ending: phase = ending, every task of the run killed (a blocked one
    withdrawn and readied, the others a pending kill), every parker woken."""
    d = cfg.d
    w = cfg.proc_run[p]
    r = d.ri[w]
    if s.pc[d.pi[p]] != "loop":
        return []
    c = end_due(cfg, s, p)
    if c == NONE:
        return []
    ti = d.ti
    tasks = d.tasks_of_l[w]
    b = [t for t in tasks if s.ts[ti[t]] == "blocked"]
    live_ = [t for t in tasks if s.ts[ti[t]] in ("runnable", "running") and s.kill[ti[t]] == "no"]
    rd = _ready(cfg, s, b, p, w)
    kill = _putmany(s.kill, {**{ti[t]: "pending" for t in live_}, **{ti[t]: "dying" for t in b}})
    return [_upd(s, cause=_put(s.cause, r, c), phase=_put(s.phase, r, "ending"), ts=rd.ts,
                 why=rd.why, jt=rd.jt, tw=_rtw(cfg, s, b),
                 ntimers=_put(s.ntimers, r, _ntimers_after(cfg, s, w, b)), kill=kill,
                 remote=rd.remote, idle=rd.idle, nidle=_put(s.nidle, r, rd.nidle_w),
                 parker=_wake(cfg, s.parker, d.procs_of_l[w]))]


def RunEnd(cfg: Config, s: State, w: Id) -> list[State]:
    """13. run() returns or raises: every proc of the run exited; queued iocalls dropped."""
    d = cfg.d
    r = d.ri[w]
    if s.phase[r] != "ending" or s.cause[r] == NONE:
        return []
    if s.pc[d.pi[cfg.main_proc[w]]] != "exited":
        return []
    if any(s.pc[d.pi[q]] not in ("none", "exited") for q in d.procs_of_l[w]):
        return []
    q = [d.ti[t] for t in d.tasks_of_l[w] if s.io[d.ti[t]] == "queued"]
    return [_upd(s, phase=_put(s.phase, r, "ended"), io=_putmany(s.io, dict.fromkeys(q, "none")),
                 iocalls=_put(s.iocalls, r, s.iocalls[r] - len(q)))]


def Interrupt(cfg: Config, s: State, w: Id) -> list[State]:
    """14. KeyboardInterrupt: in the idle wait, restore idle and leave the sleep;
    otherwise deferred, or (a task runs user code) that task dies."""
    d = cfg.d
    r = d.ri[w]
    if w not in cfg.intr_runs or s.intr[r] or s.phase[r] not in ("running", "ending"):
        return []
    m = cfg.main_proc[w]
    j = d.pi[m]
    intr = _put(s.intr, r, True)
    if s.pc[j] in PARKED:
        return [_upd(s, intr=intr, pc=_put(s.pc, j, "loop"), idle=_put(s.idle, j, False),
                     nidle=_put(s.nidle, r, s.nidle[r] - 1) if s.idle[j] else s.nidle,
                     parker=_put(s.parker, j, "off"), tmo=_put(s.tmo, j, False))]
    out = [_upd(s, intr=intr)]  # deferred
    c = [d.ti[t] for t in d.tasks_on_l[m] if s.ts[d.ti[t]] == "running"]
    if c:  # user code
        out.append(_upd(s, intr=intr, kill=_putmany(s.kill, dict.fromkeys(c, "dying"))))
    return out


# --------------------------------------------------------------------------- procs


def ProcStart(cfg: Config, s: State, q: Id) -> list[State]:
    """3. q's thread starts and creates its first task (killed if the run is ending)."""
    d = cfg.d
    j = d.pi[q]
    if s.pc[j] != "created":
        return []
    f = d.ti[cfg.first_task[q]]
    running = s.phase[d.ri[cfg.proc_run[q]]] == "running"
    return [_upd(s, pc=_put(s.pc, j, "loop"), ts=_put(s.ts, f, "runnable"),
                 kill=s.kill if running else _put(s.kill, f, "pending"))]


def TakeRemote(cfg: Config, s: State, p: Id) -> list[State]:
    """5. Move the tasks other threads readied into the run queue (untraced)."""
    j = cfg.d.pi[p]
    if s.pc[j] != "loop" or end_due(cfg, s, p) != NONE or not s.remote[j]:
        return []
    return [_upd(s, remote=_put(s.remote, j, frozenset()))]


def Dispatch(cfg: Config, s: State, t: Id) -> list[State]:
    """4. Dispatch a runnable task of the run queue (untraced)."""
    d = cfg.d
    p = cfg.task_proc[t]
    j, k = d.pi[p], d.ti[t]
    if s.pc[j] != "loop" or end_due(cfg, s, p) != NONE:
        return []
    if s.ts[k] != "runnable" or t in s.remote[j]:
        return []
    return [_upd(s, ts=_put(s.ts, k, "running"), pc=_put(s.pc, j, "run"))]


def TimerFire(cfg: Config, s: State, p: Id, t: Id, k: str) -> list[State]:
    """5./7. A due timer of p's heap: t's wait timer (readies t) or t's timer channel
    (disarmed; readies one chan-blocked task of the run, or nobody)."""
    d = cfg.d
    w = cfg.proc_run[p]
    r, j, x = d.ri[w], d.pi[p], d.ti[t]
    if s.pc[j] != "loop" or end_due(cfg, s, p) != NONE:
        return []
    nt = _put(s.ntimers, r, s.ntimers[r] - 1)
    if k == "wait":
        if cfg.task_proc[t] != p or not s.tw[x]:
            return []
        return [_upd(s, ts=_put(s.ts, x, "runnable"), why=_put(s.why, x, NONE),
                     jt=_put(s.jt, x, NONE), tw=_put(s.tw, x, False), ntimers=nt)]
    if k != "chan" or s.tc[x] != p:
        return []
    tc = _put(s.tc, x, OFF)
    out = []
    for us in [()] + [(u,) for u in chan_blocked(cfg, s, w)]:
        rd = _ready(cfg, s, us, p, w)
        out.append(_upd(s, tc=tc, ts=rd.ts, why=rd.why, jt=rd.jt, ntimers=nt, remote=rd.remote,
                        idle=rd.idle, nidle=_put(s.nidle, r, rd.nidle_w),
                        parker=_wake(cfg, s.parker, rd.woken)))
    return out


def ProcIdle(cfg: Config, s: State, p: Id) -> list[State]:
    """5. wait_for_work decides to sleep: idle, nidle += 1, check deadlock."""
    d = cfg.d
    w = cfg.proc_run[p]
    r, j = d.ri[w], d.pi[p]
    if s.pc[j] != "loop" or s.phase[r] != "running" or end_due(cfg, s, p) != NONE:
        return []
    if s.remote[j] or local_runnable(cfg, s, p) or not has_live(cfg, s, p):
        return []
    n1 = s.nidle[r] + 1
    decl = dead_cond(cfg, s, w, s.wprocs[r], n1, s.iocalls[r], s.ntimers[r])
    pk1 = s.parker if decl else _put(s.parker, j, "armed")
    return [_upd(s, idle=_put(s.idle, j, not decl),
                 nidle=_put(s.nidle, r, s.nidle[r] if decl else n1),
                 pc=_put(s.pc, j, "loop" if decl else "parking"),
                 tmo=_put(s.tmo, j, not decl and has_timers(cfg, s, p)),
                 **_declare(cfg, s, w, decl, s.ts, pk1))]


def Park(cfg: Config, s: State, p: Id) -> list[State]:
    """5. The thread enters the semaphore's acquire (untraced)."""
    j = cfg.d.pi[p]
    if s.pc[j] != "parking":
        return []
    return [_upd(s, pc=_put(s.pc, j, "asleep"))]


def _wake_up(cfg: Config, s: State, p: Id) -> dict[str, Any] | None:
    """``WakeUp(p)``: the sleep returns (released, or timed out)."""
    j = cfg.d.pi[p]
    if s.pc[j] not in PARKED or not (s.parker[j] == "sig" or s.tmo[j]):
        return None
    return {"parker": _put(s.parker, j, "off"), "tmo": _put(s.tmo, j, False),
            "pc": _put(s.pc, j, "loop")}


def ProcWake(cfg: Config, s: State, p: Id) -> list[State]:
    """5. Back from the sleep, still idle: idle = false, nidle -= 1."""
    j = cfg.d.pi[p]
    wu = _wake_up(cfg, s, p)
    if wu is None or not s.idle[j]:
        return []
    r = cfg.d.ri[cfg.proc_run[p]]
    return [_upd(s, idle=_put(s.idle, j, False), nidle=_put(s.nidle, r, s.nidle[r] - 1), **wu)]


def Unpark(cfg: Config, s: State, p: Id) -> list[State]:
    """5. Back from the sleep, already un-idled by a waker (untraced)."""
    wu = _wake_up(cfg, s, p)
    if wu is None or s.idle[cfg.d.pi[p]]:
        return []
    return [_upd(s, **wu)]


def ProcExit(cfg: Config, s: State, p: Id) -> list[State]:
    """11. p exits: deregistered, its joiners readied, its live timers handed to main
    (running) or dropped (ending) -- main's parker woken -- then check deadlock."""
    d = cfg.d
    w = cfg.proc_run[p]
    r, j = d.ri[w], d.pi[p]
    if s.pc[j] != "loop" or has_live(cfg, s, p) or end_due(cfg, s, p) != NONE:
        return []
    run = s.phase[r] == "running"
    ti = d.ti
    jn = [u for u in cfg.tasks if s.ts[ti[u]] == "blocked" and s.why[ti[u]] == "joinp"
          and s.jt[ti[u]] == p]
    h = [t for t in cfg.tasks if s.tc[ti[t]] == p]
    p1 = s.wprocs[r] - {p}
    rd = _ready(cfg, s, jn, p, w)
    k1 = _ntimers_after(cfg, s, w, jn) - (0 if run else len(h))
    pk0 = _wake(cfg, s.parker, rd.woken)
    pk1 = _wake(cfg, pk0, [cfg.main_proc[w]]) if run and h else pk0
    decl = dead_cond(cfg, s, w, p1, rd.nidle_w, s.iocalls[r], k1)
    m = cfg.main_proc[w] if run else OFF
    return [_upd(s, pc=_put(s.pc, j, "exited"), wprocs=_put(s.wprocs, r, p1), ts=rd.ts, why=rd.why,
                 jt=rd.jt, tw=_rtw(cfg, s, jn), remote=rd.remote, idle=rd.idle,
                 nidle=_put(s.nidle, r, rd.nidle_w),
                 tc=_putmany(s.tc, {ti[t]: m for t in h}), ntimers=_put(s.ntimers, r, k1),
                 **_declare(cfg, s, w, decl, rd.ts, pk1))]


# --------------------------------------------------------------------------- tasks


def _op(cfg: Config, s: State, t: Id, o: str) -> bool:
    """``Op(t, o)``: t runs, may do ``o`` and has budget left."""
    k = cfg.d.ti[t]
    return s.ts[k] == "running" and o in cfg.can[t] and s.bud[k] > 0


def _spend(s: State, k: int) -> tuple[int, ...]:
    return _put(s.bud, k, s.bud[k] - 1)


def _block_in(cfg: Config, s: State, t: Id, why: str, j: Id) -> dict[str, Any]:
    """``BlockIn(t, w0, j)``."""
    k = cfg.d.ti[t]
    return {"ts": _put(s.ts, k, "blocked"), "why": _put(s.why, k, why), "jt": _put(s.jt, k, j),
            "pc": _put(s.pc, cfg.d.pi[cfg.task_proc[t]], "loop")}


def ChanReady(cfg: Config, s: State, t: Id, u: Id) -> list[State]:
    """A channel action of t that completes the blocked partner u (same run)."""
    d = cfg.d
    k = d.ti[t]
    if not _op(cfg, s, t, "ready") or s.kill[k] != "no":
        return []
    p = cfg.task_proc[t]
    w = cfg.proc_run[p]
    if u not in chan_blocked(cfg, s, w):
        return []
    rd = _ready(cfg, s, (u,), p, w)
    return [_upd(s, ts=rd.ts, why=rd.why, jt=rd.jt, remote=rd.remote, idle=rd.idle,
                 nidle=_put(s.nidle, d.ri[w], rd.nidle_w), parker=_wake(cfg, s.parker, rd.woken),
                 bud=_spend(s, k))]


def ChanBlock(cfg: Config, s: State, t: Id) -> list[State]:
    """AltBlock: t blocks on a channel."""
    k = cfg.d.ti[t]
    if not _op(cfg, s, t, "block") or s.kill[k] != "no":
        return []
    return [_upd(s, bud=_spend(s, k), **_block_in(cfg, s, t, "chan", NONE))]


def TimerArm(cfg: Config, s: State, t: Id, kind: str) -> list[State]:
    """7. sleep(ms) arms t's wait timer and blocks t; after()/Timer() arms t's timer
    channel and t goes on."""
    d = cfg.d
    k = d.ti[t]
    if s.ts[k] != "running":
        return []
    p = cfg.task_proc[t]
    r = d.ri[cfg.proc_run[p]]
    nt = _put(s.ntimers, r, s.ntimers[r] + 1)
    if kind == "sleep":
        if not _op(cfg, s, t, "sleep") or s.kill[k] != "no":
            return []
        return [_upd(s, ntimers=nt, tw=_put(s.tw, k, True), bud=_spend(s, k),
                     **_block_in(cfg, s, t, "sleep", NONE))]
    if kind == "after":
        if not _op(cfg, s, t, "after") or s.kill[k] == "dying" or s.tc[k] != OFF:
            return []
        return [_upd(s, ntimers=nt, tc=_put(s.tc, k, p), bud=_spend(s, k))]
    return []


def TimerStop(cfg: Config, s: State, t: Id) -> list[State]:
    """7. Timer.stop() of t's timer channel: ntimers -= 1, check deadlock."""
    d = cfg.d
    k = d.ti[t]
    if not _op(cfg, s, t, "stop") or s.kill[k] == "dying" or s.tc[k] == OFF:
        return []
    w = d.run_of_task[t]
    r = d.ri[w]
    decl = dead_cond(cfg, s, w, s.wprocs[r], s.nidle[r], s.iocalls[r], s.ntimers[r] - 1)
    return [_upd(s, tc=_put(s.tc, k, OFF), ntimers=_put(s.ntimers, r, s.ntimers[r] - 1),
                 bud=_spend(s, k), **_declare(cfg, s, w, decl, s.ts, s.parker))]


def JoinBlock(cfg: Config, s: State, t: Id, x: Id, timeout: bool) -> list[State]:
    """9. Proc.join() / Proc.join(timeout) on a live proc of the run, or Task.join() on a
    live task of the run: t blocks (with a timeout, its wait timer is armed)."""
    d = cfg.d
    k = d.ti[t]
    if s.ts[k] != "running" or s.kill[k] != "no":
        return []
    p = cfg.task_proc[t]
    w = cfg.proc_run[p]
    r = d.ri[w]
    if x in d.procs_of[w] and x != p:
        if s.pc[d.pi[x]] in ("none", "exited"):
            return []
        if not _op(cfg, s, t, "jointo" if timeout else "join"):
            return []
        return [_upd(s, tw=_put(s.tw, k, timeout),
                     ntimers=_put(s.ntimers, r, s.ntimers[r] + 1) if timeout else s.ntimers,
                     bud=_spend(s, k), **_block_in(cfg, s, t, "joinp", x))]
    if x in d.tasks_of[w] and x != t:
        if not live(cfg, s, x) or timeout or not _op(cfg, s, t, "jointask"):
            return []
        return [_upd(s, bud=_spend(s, k), **_block_in(cfg, s, t, "joint", x))]
    return []


def IoStart(cfg: Config, s: State, t: Id) -> list[State]:
    """8. Queue the call, iocalls += 1, t blocks on its reply."""
    d = cfg.d
    k = d.ti[t]
    if not _op(cfg, s, t, "io") or s.kill[k] != "no" or s.io[k] != "none":
        return []
    r = d.ri[d.run_of_task[t]]
    return [_upd(s, io=_put(s.io, k, "queued"), iocalls=_put(s.iocalls, r, s.iocalls[r] + 1),
                 bud=_spend(s, k), **_block_in(cfg, s, t, "io", NONE))]


def ProcCreate(cfg: Config, s: State, t: Id, q: Id) -> list[State]:
    """2. new_proc: q registered before its thread starts (refused while ending)."""
    d = cfg.d
    k = d.ti[t]
    if not _op(cfg, s, t, "newproc") or s.kill[k] == "dying":
        return []
    w = d.run_of_task[t]
    r = d.ri[w]
    if s.phase[r] != "running" or q not in d.procs_of[w] or q == cfg.main_proc[w]:
        return []
    j = d.pi[q]
    if s.pc[j] != "none":
        return []
    return [_upd(s, pc=_put(s.pc, j, "created"), wprocs=_put(s.wprocs, r, s.wprocs[r] | {q}),
                 bud=_spend(s, k))]


def TaskCreate(cfg: Config, s: State, t: Id, u: Id) -> list[State]:
    """new_task: u becomes runnable in p's run queue (pending kill while ending)."""
    d = cfg.d
    k = d.ti[t]
    if not _op(cfg, s, t, "spawn") or s.kill[k] == "dying":
        return []
    p = cfg.task_proc[t]
    if cfg.task_proc[u] != p or u == cfg.first_task[p] or s.ts[d.ti[u]] != "none":
        return []
    x = d.ti[u]
    running = s.phase[d.ri[cfg.proc_run[p]]] == "running"
    return [_upd(s, ts=_put(s.ts, x, "runnable"),
                 kill=s.kill if running else _put(s.kill, x, "pending"), bud=_spend(s, k))]


def Yield(cfg: Config, s: State, t: Id) -> list[State]:
    """yield_(): back to the run queue (a spinner's yield is free).  Both disjuncts of
    the spec may hold: TLC then generates the (same) successor twice."""
    d = cfg.d
    k = d.ti[t]
    if s.ts[k] != "running" or s.kill[k] != "no":
        return []
    base = {"ts": _put(s.ts, k, "runnable"), "pc": _put(s.pc, d.pi[cfg.task_proc[t]], "loop")}
    out = []
    if t in cfg.spinners:
        out.append(_upd(s, **base))
    if _op(cfg, s, t, "yield"):
        out.append(_upd(s, bud=_spend(s, k), **base))
    return out


def Killed(cfg: Config, s: State, t: Id) -> list[State]:
    """12. The pending kill lands at t's switch point: t unwinds."""
    k = cfg.d.ti[t]
    if s.ts[k] != "running" or s.kill[k] != "pending":
        return []
    return [_upd(s, kill=_put(s.kill, k, "dying"))]


def main_killed(cfg: Config, s: State, t: Id) -> bool:
    """``MainKilled(t)``: t is main's first task, dying (killed), and its run is running:
    its exit ends the run ("main raised")."""
    w = cfg.proc_run[cfg.task_proc[t]]
    return (t == cfg.first_task[cfg.main_proc[w]] and s.kill[cfg.d.ti[t]] == "dying"
            and s.phase[cfg.d.ri[w]] == "running")


def TaskExit(cfg: Config, s: State, t: Id, fatal: bool) -> list[State]:
    """10. t is done; its joiners readied; ``fatal``: SystemExit (or main raised).  Main's
    first task exiting killed while its run runs is fatal too (``MainKilled``)."""
    d = cfg.d
    k = d.ti[t]
    if s.ts[k] != "running":
        return []
    if fatal and ("fatal" not in cfg.can[t] or s.kill[k] == "dying"):
        return []
    p = cfg.task_proc[t]
    w = cfg.proc_run[p]
    r = d.ri[w]
    ti = d.ti
    jn = [u for u in cfg.tasks if s.ts[ti[u]] == "blocked" and s.why[ti[u]] == "joint"
          and s.jt[ti[u]] == t]
    rd = _ready(cfg, s, jn, p, w)
    fp = (_put(s.fatalp, r, p) if (fatal or main_killed(cfg, s, t)) and s.fatalp[r] == NONE
          else s.fatalp)
    return [_upd(s, ts=_put(rd.ts, k, "done"), why=rd.why, jt=rd.jt, remote=rd.remote,
                 idle=rd.idle, nidle=_put(s.nidle, r, rd.nidle_w),
                 parker=_wake(cfg, s.parker, rd.woken), pc=_put(s.pc, d.pi[p], "loop"),
                 kill=_put(s.kill, k, "no"), bud=_put(s.bud, k, 0), fatalp=fp)]


# --------------------------------------------------------------------------- other threads


def IoRun(cfg: Config, s: State, t: Id) -> list[State]:
    """8. The helper thread takes t's queued call (untraced)."""
    k = cfg.d.ti[t]
    if s.io[k] != "queued":
        return []
    return [_upd(s, io=_put(s.io, k, "running"))]


def IoDone(cfg: Config, s: State, t: Id) -> list[State]:
    """8. The call returns: iocalls -= 1, the reply readies t unless it was killed,
    check deadlock."""
    d = cfg.d
    k = d.ti[t]
    if s.io[k] != "running":
        return []
    w = d.run_of_task[t]
    r = d.ri[w]
    us = (t,) if s.ts[k] == "blocked" and s.why[k] == "io" else ()
    rd = _ready(cfg, s, us, NONE, w)
    i1 = s.iocalls[r] - 1
    decl = dead_cond(cfg, s, w, s.wprocs[r], rd.nidle_w, i1, s.ntimers[r])
    return [_upd(s, io=_put(s.io, k, "none"), iocalls=_put(s.iocalls, r, i1), ts=rd.ts,
                 why=rd.why, jt=rd.jt, remote=rd.remote, idle=rd.idle,
                 nidle=_put(s.nidle, r, rd.nidle_w),
                 **_declare(cfg, s, w, decl, rd.ts, _wake(cfg, s.parker, rd.woken)))]


def KillBlocked(cfg: Config, s: State, t: Id) -> list[State]:
    """12. Task.kill of a blocked task: withdrawn (wait timer disarmed) and readied."""
    d = cfg.d
    k = d.ti[t]
    if t not in cfg.killable or s.kill[k] != "no" or s.ts[k] != "blocked":
        return []
    w = d.run_of_task[t]
    r = d.ri[w]
    rd = _ready(cfg, s, (t,), NONE, w)
    kicked = s.kicked[r] or (s.deadlock[r] != () and s.cause[r] == NONE)
    return [_upd(s, kill=_put(s.kill, k, "dying"), ts=rd.ts, why=rd.why, jt=rd.jt,
                 tw=_rtw(cfg, s, (t,)), ntimers=_put(s.ntimers, r, _ntimers_after(cfg, s, w, (t,))),
                 remote=rd.remote, idle=rd.idle, nidle=_put(s.nidle, r, rd.nidle_w),
                 parker=_wake(cfg, s.parker, rd.woken), kicked=_put(s.kicked, r, kicked))]


def KillPending(cfg: Config, s: State, t: Id) -> list[State]:
    """12. Task.kill of a runnable or running task: lands at its next switch point."""
    k = cfg.d.ti[t]
    if t not in cfg.killable or s.kill[k] != "no" or s.ts[k] not in ("runnable", "running"):
        return []
    return [_upd(s, kill=_put(s.kill, k, "pending"))]


def TimerDrop(cfg: Config, s: State, t: Id) -> list[State]:
    """7. t's timer channel is garbage collected: ntimers -= 1, check deadlock."""
    d = cfg.d
    k = d.ti[t]
    if s.tc[k] == OFF:
        return []
    w = d.run_of_task[t]
    r = d.ri[w]
    decl = dead_cond(cfg, s, w, s.wprocs[r], s.nidle[r], s.iocalls[r], s.ntimers[r] - 1)
    return [_upd(s, tc=_put(s.tc, k, OFF), ntimers=_put(s.ntimers, r, s.ntimers[r] - 1),
                 **_declare(cfg, s, w, decl, s.ts, s.parker))]


def Done(cfg: Config, s: State) -> list[State]:
    """Every run has returned and no iocall is in flight: stutter."""
    if all(x == "ended" for x in s.phase) and all(x == "none" for x in s.io):
        return [s]
    return []


# --------------------------------------------------------------------------- Next

ActionFn = Callable[..., list[State]]


def action_table() -> dict[str, ActionFn]:
    """The action functions by name (looked up at call time: a test may replace one)."""
    g = globals()
    return {name: g[name] for name in ACTIONS}


def successors(cfg: Config, s: State, impl: Mapping[str, ActionFn] | None = None
               ) -> Iterator[tuple[str, Params, State]]:
    """The spec's ``Next``: every enabled ``(action, params, next)``, once per successor
    TLC generates (``Done``'s stutter included)."""
    a = action_table()
    if impl:
        a.update(impl)
    d = cfg.d
    for w in cfg.runs:
        for name in ("RunStart", "RunEnd", "Interrupt"):
            for n in a[name](cfg, s, w):
                yield name, (w,), n
    for p in cfg.procs:
        for name in ("ProcStart", "TakeRemote", "ProcIdle", "Park", "ProcWake", "Unpark",
                     "ProcExit", "RunEnding"):
            for n in a[name](cfg, s, p):
                yield name, (p,), n
    for t in cfg.tasks:
        k = d.ti[t]
        if s.ts[k] == "running":
            yield from _task_steps(cfg, s, t, a)
        for n in a["Dispatch"](cfg, s, t):
            yield "Dispatch", (t,), n
        for kind in ("wait", "chan"):
            for p in cfg.procs:
                for n in a["TimerFire"](cfg, s, p, t, kind):
                    yield "TimerFire", (p, t, kind), n
        for name in ("IoRun", "IoDone", "KillBlocked", "KillPending", "TimerDrop"):
            for n in a[name](cfg, s, t):
                yield name, (t,), n
    for n in a["Done"](cfg, s):
        yield "Done", (), n


def _task_steps(cfg: Config, s: State, t: Id, a: Mapping[str, ActionFn]
                ) -> Iterator[tuple[str, Params, State]]:
    """``TaskStep(t)``."""
    for u in cfg.tasks:
        for n in a["ChanReady"](cfg, s, t, u):
            yield "ChanReady", (t, u), n
    for n in a["ChanBlock"](cfg, s, t):
        yield "ChanBlock", (t,), n
    for kind in ("sleep", "after"):
        for n in a["TimerArm"](cfg, s, t, kind):
            yield "TimerArm", (t, kind), n
    for n in a["TimerStop"](cfg, s, t):
        yield "TimerStop", (t,), n
    for x in (*cfg.procs, *cfg.tasks):
        for b in (False, True):
            for n in a["JoinBlock"](cfg, s, t, x, b):
                yield "JoinBlock", (t, x, b), n
    for n in a["IoStart"](cfg, s, t):
        yield "IoStart", (t,), n
    for q in cfg.procs:
        for n in a["ProcCreate"](cfg, s, t, q):
            yield "ProcCreate", (t, q), n
    for u in cfg.tasks:
        for n in a["TaskCreate"](cfg, s, t, u):
            yield "TaskCreate", (t, u), n
    for n in a["Yield"](cfg, s, t):
        yield "Yield", (t,), n
    for n in a["Killed"](cfg, s, t):
        yield "Killed", (t,), n
    for f in (False, True):
        for n in a["TaskExit"](cfg, s, t, f):
            yield "TaskExit", (t, f), n


class NotEnabled(Exception):
    """:func:`apply` was asked for an action instance that is not enabled."""


def enabled(cfg: Config, s: State) -> list[tuple[str, Params, State]]:
    """Every enabled action instance and its successor (as :func:`successors`)."""
    return list(successors(cfg, s))


def apply(cfg: Config, s: State, action: str, *params: Any) -> list[State]:
    """The successors of ``action(*params)`` in ``s``; raises :class:`NotEnabled`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    nxt = action_table()[action](cfg, s, *params)
    if not nxt:
        raise NotEnabled(f"{action}{params!r} is not enabled")
    return nxt


def explore(cfg: Config, init: State | None = None, *, max_states: int = 2_000_000,
            check: Callable[[State], None] | None = None,
            impl: Mapping[str, ActionFn] | None = None) -> Exploration[State]:
    """Breadth-first search of the reachable graph from ``init`` (default ``Init``)."""
    return bfs(cfg.initial() if init is None else init,
               lambda s: successors(cfg, s, impl), max_states=max_states, check=check)


# --------------------------------------------------------------------------- invariants


def TypeOK(cfg: Config, s: State) -> bool:
    ids_p, ids_t = set(cfg.procs), set(cfg.tasks)
    np_, nt = len(cfg.procs), len(cfg.tasks)
    return (
        all(x in ("idle", "running", "ending", "ended") for x in s.phase)
        and all(x <= ids_p for x in s.wprocs)
        and all(0 <= x <= np_ for x in s.nidle)
        and all(0 <= x <= 2 * nt for x in s.ntimers)
        and all(0 <= x <= nt for x in s.iocalls)
        and all(x == () or (len(x) == 1 and x[0] <= ids_t) for x in s.deadlock)
        and all(x in (NONE, "main", "deadlock", "fatal", "interrupt") for x in s.cause)
        and all(x in ids_p or x == NONE for x in s.fatalp)
        and all(x in ("none", "created", "loop", "run", "parking", "asleep", "exited")
                for x in s.pc)
        and all(x in ("off", "armed", "sig") for x in s.parker)
        and all(x <= ids_t for x in s.remote)
        and all(x in ("none", "runnable", "running", "blocked", "done") for x in s.ts)
        and all(x in (NONE, "chan", "sleep", "joinp", "joint", "io") for x in s.why)
        and all(x in ids_p or x in ids_t or x == NONE for x in s.jt)
        and all(x in ("no", "pending", "dying") for x in s.kill)
        and all(x >= 0 for x in s.bud)
        and all(x in ids_p or x == OFF for x in s.tc)
        and all(x in ("none", "queued", "running") for x in s.io)
    )


def IdleExact(cfg: Config, s: State) -> bool:
    d = cfg.d
    for w in cfg.runs:
        r = d.ri[w]
        if s.nidle[r] != sum(1 for p in s.wprocs[r] if s.idle[d.pi[p]]):
            return False
    for p in cfg.procs:
        j = d.pi[p]
        if s.idle[j] and not (s.pc[j] in PARKED and not s.remote[j]
                              and p in s.wprocs[d.ri[cfg.proc_run[p]]]):
            return False
    return True


def ntimers_of(cfg: Config, s: State, w: Id) -> int:
    """``NTimersOf(w)``."""
    ti = cfg.d.ti
    ts = cfg.d.tasks_of_l[w]
    return sum(1 for t in ts if s.tw[ti[t]]) + sum(1 for t in ts if s.tc[ti[t]] != OFF)


def TimerCount(cfg: Config, s: State) -> bool:
    return all(s.ntimers[cfg.d.ri[w]] == ntimers_of(cfg, s, w) for w in cfg.runs)


def IoCount(cfg: Config, s: State) -> bool:
    d = cfg.d
    return all(s.iocalls[d.ri[w]] == sum(1 for t in d.tasks_of_l[w] if s.io[d.ti[t]] != "none")
               for w in cfg.runs)


def Registered(cfg: Config, s: State) -> bool:
    d = cfg.d
    ok = ("created", "loop", "run", "parking", "asleep")
    return all(s.wprocs[d.ri[w]] == frozenset(p for p in d.procs_of_l[w] if s.pc[d.pi[p]] in ok)
               for w in cfg.runs)


def WaitExact(cfg: Config, s: State) -> bool:
    d = cfg.d
    for t in cfg.tasks:
        k = d.ti[t]
        w = d.run_of_task[t]
        why, jt = s.why[k], s.jt[k]
        if (s.ts[k] == "blocked") != (why != NONE):
            return False
        if (why in ("joinp", "joint")) != (jt != NONE):
            return False
        if why == "joinp" and not (jt in d.procs_of[w] and jt != cfg.task_proc[t]
                                   and s.pc[d.pi[jt]] not in ("none", "exited")):
            return False
        if why == "joint" and not (jt in d.tasks_of[w] and live(cfg, s, jt)):
            return False
        if s.tw[k] and why not in ("sleep", "joinp"):
            return False
        if why == "sleep" and not s.tw[k]:
            return False
        if why == "io" and s.io[k] == "none":
            return False
        tc = s.tc[k]
        if tc != OFF and not (tc in d.procs_of[w] and tc in s.wprocs[d.ri[w]]):
            return False
        if s.kill[k] != "no" and s.ts[k] not in LIVE:
            return False
        if s.ts[k] == "blocked" and s.kill[k] != "no":
            return False
    return True


def SchedExact(cfg: Config, s: State) -> bool:
    d = cfg.d
    for p in cfg.procs:
        j = d.pi[p]
        on = d.tasks_on_l[p]
        if sum(1 for t in on if s.ts[d.ti[t]] == "running") != (1 if s.pc[j] == "run" else 0):
            return False
        if any(s.ts[d.ti[t]] in LIVE for t in on) and s.pc[j] not in STARTED:
            return False
        if not s.remote[j] <= {t for t in on if s.ts[d.ti[t]] == "runnable"}:
            return False
        if (s.parker[j] == "armed" or s.tmo[j]) and s.pc[j] not in PARKED:
            return False
    return True


def quiet(cfg: Config, s: State, w: Id) -> bool:
    """``Quiet(w)``: nothing that could ready a task of run w remains."""
    d = cfg.d
    for t in d.tasks_of_l[w]:
        k = d.ti[t]
        if s.ts[k] not in ("none", "blocked", "done"):
            return False
        if s.tw[k] or s.tc[k] != OFF or s.io[k] != "none":
            return False
        if s.why[k] == "joinp" and not has_live(cfg, s, s.jt[k]):
            return False
    return all(not s.remote[d.pi[p]] and s.pc[d.pi[p]] != "created" for p in d.procs_of_l[w])


def NoFalseDeadlock(cfg: Config, s: State) -> bool:
    d = cfg.d
    return all(quiet(cfg, s, w) for w in cfg.runs
               if s.deadlock[d.ri[w]] != () and s.cause[d.ri[w]] == NONE
               and not s.kicked[d.ri[w]])


def DeadlockNames(cfg: Config, s: State) -> bool:
    d = cfg.d
    for w in cfg.runs:
        r = d.ri[w]
        dl = s.deadlock[r]
        if dl and not (dl[0] <= d.tasks_of[w] and dl[0] and s.phase[r] in ("ending", "ended")):
            return False
    return True


def RunEndsClean(cfg: Config, s: State) -> bool:
    d = cfg.d
    for w in cfg.runs:
        r = d.ri[w]
        if s.phase[r] != "ended":
            continue
        if s.wprocs[r] or s.nidle[r] or s.ntimers[r]:
            return False
        for p in d.procs_of_l[w]:
            j = d.pi[p]
            if s.pc[j] not in ("none", "exited") or s.remote[j] or s.idle[j]:
                return False
        for t in d.tasks_of_l[w]:
            k = d.ti[t]
            if s.ts[k] not in ("none", "done") or s.tw[k] or s.tc[k] != OFF or s.io[k] == "queued":
                return False
    return True


#: The spec's state invariants (their conjunction is ``Safety``), by name.
INVARIANTS: dict[str, Callable[[Config, State], bool]] = {
    "TypeOK": TypeOK,
    "IdleExact": IdleExact,
    "TimerCount": TimerCount,
    "IoCount": IoCount,
    "Registered": Registered,
    "WaitExact": WaitExact,
    "SchedExact": SchedExact,
    "NoFalseDeadlock": NoFalseDeadlock,
    "DeadlockNames": DeadlockNames,
    "RunEndsClean": RunEndsClean,
}


def violated_invariants(cfg: Config, s: State) -> list[str]:
    """The names of the invariants ``s`` violates."""
    return [name for name, inv in INVARIANTS.items() if not inv(cfg, s)]


# --------------------------------------------------------------------------- to TLA+


def _tla() -> Any:
    from .testing import tla  # (lazily: libtask9.testing imports the oracles)

    return tla


def _canon(v: Any) -> Any:
    if isinstance(v, frozenset):
        return frozenset(_canon(x) for x in v)
    if isinstance(v, tuple):
        return tuple(_canon(x) for x in v)
    return v


def to_tla(cfg: Config, s: State) -> dict[str, Any]:
    """The state as the spec's canonical TLA+ values (functions over runs, procs, tasks
    as TLC prints them)."""
    tla = _tla()
    out = {}
    for var in VARIABLES:
        dom = _domain(cfg, var)
        out[var] = tla.fn(zip(dom, (_canon(x) for x in getattr(s, var)), strict=True))
    return out


# --------------------------------------------------------------------------- MC models
# The constants of spec/MCProcs.tla (module MCProcs), as its .cfg files select them.

_CHAN = frozenset({"ready", "block"})


def _one_run(procs: Sequence[str], tasks: Mapping[str, str], first: Mapping[str, str],
             budget: Mapping[str, int], can: Mapping[str, frozenset[str]], *,
             killable: Iterable[str] = (), intr: bool = False,
             spinners: Iterable[str] = ()) -> Config:
    return Config(
        runs=("A",), procs=tuple(procs), tasks=tuple(tasks),
        proc_run=dict.fromkeys(procs, "A"), main_proc={"A": "M"}, task_proc=dict(tasks),
        first_task=dict(first), budget=dict(budget), can=dict(can),
        spinners=frozenset(spinners), killable=frozenset(killable),
        intr_runs=frozenset({"A"}) if intr else frozenset())


def _mc_configs() -> dict[str, Config]:
    one_tasks = {"m1": "M", "m2": "M", "q1": "Q"}
    one_first = {"M": "m1", "Q": "q1"}
    safe_can = {"m1": frozenset({"newproc", "join", "jointo", "sleep", "io", "spawn"}) | _CHAN,
                "m2": frozenset({"after", "stop", "jointask"}) | _CHAN,
                "q1": frozenset({"sleep", "after", "fatal"}) | _CHAN}
    live_tasks = {"m1": "M", "q1": "Q"}
    live_can = {"m1": frozenset({"newproc", "block"}),
                "q1": frozenset({"ready", "block", "after"})}
    teeth_can = {"m1": frozenset({"newproc", "join", "sleep", "io", "block"}), "q1": _CHAN}
    two_procs = ("M", "Q", "N", "P")
    two_tasks = {"m1": "M", "q1": "Q", "n1": "N", "p1": "P"}
    two_first = {"M": "m1", "Q": "q1", "N": "n1", "P": "p1"}
    two_can = {"m1": frozenset({"newproc", "join", "block"}), "n1": frozenset({"block"}),
               "q1": _CHAN, "p1": _CHAN}
    two_budget = {"m1": 2, "q1": 1, "n1": 1, "p1": 1}

    def two(can: Mapping[str, frozenset[str]], *, spin: bool, killable: Iterable[str] = (),
            intr: bool = False, after: bool = False) -> Config:
        return Config(
            runs=("A", "B"), procs=two_procs, tasks=tuple(two_tasks),
            proc_run={"M": "A", "Q": "A", "N": "B", "P": "B"},
            main_proc={"A": "M", "B": "N"}, task_proc=two_tasks, first_task=two_first,
            budget=two_budget, can=dict(can), spinners=frozenset({"n1"} if spin else ()),
            killable=frozenset(killable), intr_runs=frozenset({"A"} if intr else ()),
            after=frozenset({("A", "B")} if after else ()))

    full_tasks = {"m1": "M", "m2": "M", "q1": "Q", "r1": "R"}
    return {
        "Safety": _one_run(("M", "Q"), one_tasks, one_first, {"m1": 3, "m2": 1, "q1": 2},
                           safe_can, killable={"q1"}, intr=True),
        "SafetyBig": _one_run(("M", "Q"), one_tasks, one_first, {"m1": 3, "m2": 2, "q1": 2},
                              safe_can, killable={"q1"}, intr=True),
        "LiveBig": _one_run(("M", "Q"), one_tasks, one_first, {"m1": 2, "m2": 1, "q1": 1},
                            safe_can, killable={"q1"}, intr=True),
        "Live": _one_run(("M", "Q"), live_tasks, one_first, {"m1": 2, "q1": 1}, live_can),
        "Io": _one_run(("M",), {"m1": "M", "m2": "M"}, {"M": "m1"}, {"m1": 2, "m2": 1},
                       {"m1": frozenset({"spawn", "block"}), "m2": frozenset({"io", "sleep"})},
                       killable={"m1", "m2"}),
        "Teeth": _one_run(("M", "Q"), live_tasks, one_first, {"m1": 2, "q1": 2}, teeth_can,
                          intr=True),
        "Two": two(two_can, spin=True),
        "TwoBig": two({**two_can, "n1": frozenset({"newproc", "ready", "block"})}, spin=True),
        "Seq": two(two_can, spin=False, killable={"q1", "p1"}, intr=True, after=True),
        "Duo": Config(
            runs=("A", "B"), procs=("M", "N"), tasks=("m1", "n1"),
            proc_run={"M": "A", "N": "B"}, main_proc={"A": "M", "B": "N"},
            task_proc={"m1": "M", "n1": "N"}, first_task={"M": "m1", "N": "n1"},
            budget={"m1": 1, "n1": 1},
            can={"m1": frozenset({"block"}), "n1": frozenset({"ready"})},
            spinners=frozenset({"n1"})),
        "Full": _one_run(("M", "Q", "R"), full_tasks, {"M": "m1", "Q": "q1", "R": "r1"},
                         {"m1": 2, "m2": 1, "q1": 1, "r1": 1},
                         {"m1": frozenset({"newproc", "join", "jointo", "sleep", "io", "spawn"})
                          | _CHAN,
                          "m2": frozenset({"after", "stop", "jointask", "newproc"}) | _CHAN,
                          "q1": frozenset({"sleep", "after", "fatal", "join"}) | _CHAN,
                          "r1": frozenset({"io", "after"}) | _CHAN},
                         killable={"q1", "r1"}, intr=True),
    }


#: The models of ``spec/MCProcs.tla`` by the name of their ``MCProcs_<name>.cfg`` (the
#: liveness models ``Live``/``LiveBig``/``SeqLive``/``LiveUnfair`` share their constants
#: with ``Live``/``LiveBig``/``Seq``; ``Witness`` with ``Safety``).
MC_CONFIGS: dict[str, Config] = _mc_configs()
