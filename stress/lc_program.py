"""Lifecycle stress programs: a run of procs, tasks, timers, iocalls, joins and kills whose
outcome is known by construction, as plain JSON data.

A lifecycle program is one ``run()``: the main task (task 0, the first task of proc 0,
the main proc), 0..2 more tasks in the main proc, and 0..3 extra procs (``new_proc``)
with 1..3 tasks each.  Every task runs a *script* (a list of steps).  Fields:

* ``mode``    ``"normal"``, ``"kill_main"`` (a task kills the main task: ``run()`` must
              raise ``TaskKilled``) or ``"interrupt"`` (a task sends SIGINT to the main
              thread: ``run()`` must raise ``KeyboardInterrupt``);
* ``procs``   for each proc, the task indices it runs (``procs[0][0] == 0``: main);
* ``roles``   for each task: ``main``, ``normal``, ``victim`` (blocks for ever at the end
              of its script until a task kills it) or ``stuck`` (blocks for ever at the
              end of its script; never killed, nobody waits for it);
* ``ranks``   a global order of the tasks (distinct integers, main on top);
* ``caps``    the capacity of each channel;
* ``tasks``   each task's script;
* ``stop_io`` main stops the run's IOProc at the end of its script (otherwise the run
              stops it when it ends); only when no victim or stuck task makes iocalls.

Steps (JSON lists):

=================================  ===================================================
``["sleep", d]``                    ``sleep(d)``, d in 0..3 ms
``["alt_after", d]``                ``alt`` of a never-ready private channel against
                                    ``after(d)``: must pick the timer (index 1)
``["ticker", k]``                   a ``Ticker(1)`` read k times, then stopped
``["iocall", d]``                   an ``iocall`` on the run's IOProc that sleeps d ms
                                    on the helper thread and returns ``[task, step]``
``["send", c]`` / ``["recv", c]``   ``Channel.send([task, step])`` / ``Channel.recv``
``["join_proc", q, timeout]``       ``Proc.join(timeout)`` of proc q
``["join_task", g, timeout]``       ``Task.join(timeout)`` of task g
``["kill", g]``                     ``Task.kill()`` of task g (a victim, or main)
``["yield"]``                       ``yield_()``
``["interrupt"]``                   ``signal.pthread_kill(main thread, SIGINT)``
``["block", "chan" | "sleep"]``     block for ever: ``recv`` on a private channel or
                                    ``sleep(inf)`` (victims and stuck tasks only)
``["hold"]``                        block the proc's *thread* in a plain
                                    ``threading.Event.wait`` (tests only: a hang)
=================================  ===================================================

A ``timeout`` is ``null`` (wait for ever), ``"inf"`` (the same, spelled ``math.inf``) or
seconds.

**The construction** (:func:`invariant_violations` checks it): every wait edge goes
from a higher-ranked task to a strictly lower-ranked one.  A ``recv`` on channel c is
made only by a task ranked above every task that sends on c; the senders are normal
tasks, and c has room for every value sent on it (so sends never block) and at least as
many sends as receives.  A join without timeout waits only for a normal task (or a proc
all of whose tasks are normal) ranked below the joiner.  Each victim is killed by
exactly one normal task (or main) and is waited for by nobody; stuck tasks are waited
for by nobody and killed by nobody.  Main, on top, ends its script by joining every
normal task.  So in ``normal`` mode every non-stuck task finishes its script: by
induction on rank, each wait is on something that happens.  Then, if a stuck task is in
the main proc, the run must raise ``Deadlock`` naming exactly the stuck tasks; otherwise
main's proc finishes and ``run()`` returns main's result, after unwinding the stuck
tasks of the other procs.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from typing import Any

from .program import FormatError

__all__ = [
    "MAIN_RESULT",
    "MODES",
    "ROLES",
    "STEP_KINDS",
    "LcConfig",
    "LcProgram",
    "describe_lc_step",
    "expected_outcome",
    "generate_lc",
    "invariant_violations",
    "timeout_value",
]

MODES = ("normal", "kill_main", "interrupt")
ROLES = ("main", "normal", "victim", "stuck")
STEP_KINDS = ("sleep", "alt_after", "ticker", "iocall", "send", "recv", "join_proc",
              "join_task", "kill", "yield", "interrupt", "block", "hold")
#: Steps that wait for another task (the wait edges of the construction).
WAIT_KINDS = ("recv", "join_proc", "join_task")

#: What the main task returns (``run()``'s result when the run ends normally).
MAIN_RESULT = "main finished its script"

Step = list[Any]

# Relative weights of the random steps (sends, kills, the interrupt and the blocks are
# placed separately; a kind that has no legal target for a task is left out).
_WEIGHTS: dict[str, float] = {
    "sleep": 3, "alt_after": 2, "ticker": 1, "iocall": 1.5, "yield": 2, "recv": 4,
    "join_proc": 1, "join_task": 1.5,
}
_TIMEOUTS: tuple[Any, ...] = (None, None, "inf", 0.001, 0.003, 5.0)


@dataclasses.dataclass(frozen=True)
class LcConfig:
    """Sizes and rates of the generated programs."""

    procs: int = 3  # extra procs: 0..procs
    tasks: int = 3  # tasks per extra proc: 1..tasks; the main proc has 1..tasks
    steps: int = 5  # random steps per task: 0..steps (victims and stuck: 0..steps//2+1)
    channels: int = 3  # 0..channels
    victim_rate: float = 0.15  # probability that a non-main task is a victim
    stuck_rate: float = 0.3  # probability that a program has stuck tasks (1 or 2)


@dataclasses.dataclass
class LcProgram:
    """A lifecycle program (see the module docstring)."""

    mode: str
    procs: list[list[int]]
    roles: list[str]
    ranks: list[int]
    caps: list[int]
    tasks: list[list[Step]]
    stop_io: bool = False

    def to_json(self) -> dict[str, Any]:
        """The program as a JSON object."""
        return {"kind": "lifecycle", "mode": self.mode, "procs": self.procs,
                "roles": self.roles, "ranks": self.ranks, "caps": self.caps,
                "tasks": self.tasks, "stop_io": self.stop_io}

    def proc_of(self) -> dict[int, int]:
        """Task index -> proc index."""
        return {g: q for q, gs in enumerate(self.procs) for g in gs}

    def stuck(self) -> list[int]:
        return [g for g, r in enumerate(self.roles) if r == "stuck"]

    def victims(self) -> list[int]:
        return [g for g, r in enumerate(self.roles) if r == "victim"]

    def uses_io(self) -> bool:
        return any(step[0] == "iocall" for steps in self.tasks for step in steps)

    def size(self) -> int:
        """The total number of steps."""
        return sum(len(t) for t in self.tasks)

    @classmethod
    def from_json(cls, obj: object, where: str = "program") -> LcProgram:
        """Parse and validate a program; raise :class:`FormatError` naming the field.
        (Its construction invariants are checked separately: :func:`invariant_violations`.)"""
        if not isinstance(obj, dict):
            raise FormatError(f"{where} must be a JSON object, got {type(obj).__name__}")
        if obj.get("kind") != "lifecycle":
            raise FormatError(f"{where}.kind must be 'lifecycle', got {obj.get('kind')!r}")
        if obj.get("mode") not in MODES:
            raise FormatError(f"{where}.mode must be one of {MODES}, got {obj.get('mode')!r}")
        for key in ("procs", "roles", "ranks", "caps", "tasks"):
            if not isinstance(obj.get(key), list):
                raise FormatError(f"{where}.{key} must be a list, got {obj.get(key)!r}")
        if not isinstance(obj.get("stop_io", False), bool):
            raise FormatError(f"{where}.stop_io must be a boolean")
        n = len(obj["tasks"])
        for key in ("roles", "ranks"):
            if len(obj[key]) != n:
                raise FormatError(f"{where}.{key} must have one entry per task ({n})")
        for g, r in enumerate(obj["roles"]):
            if r not in ROLES:
                raise FormatError(f"{where}.roles[{g}] must be one of {ROLES}, got {r!r}")
        for g, r in enumerate(obj["ranks"]):
            if not _is_int(r):
                raise FormatError(f"{where}.ranks[{g}] must be an integer, got {r!r}")
        for c, cap in enumerate(obj["caps"]):
            if not _is_int(cap) or not 0 <= cap <= 1000:
                raise FormatError(f"{where}.caps[{c}] must be an integer >= 0, got {cap!r}")
        seen: set[int] = set()
        if not obj["procs"] or not obj["procs"][0] or obj["procs"][0][0] != 0:
            raise FormatError(f"{where}.procs[0] must start with task 0 (the main task)")
        for q, gs in enumerate(obj["procs"]):
            if not isinstance(gs, list) or not gs:
                raise FormatError(f"{where}.procs[{q}] must be a non-empty list of tasks")
            for g in gs:
                if not _is_int(g) or not 0 <= g < n or g in seen:
                    raise FormatError(f"{where}.procs[{q}]: bad or repeated task {g!r}")
                seen.add(g)
        if len(seen) != n:
            raise FormatError(f"{where}.procs: tasks {sorted(set(range(n)) - seen)} have "
                              "no proc")
        for g, steps in enumerate(obj["tasks"]):
            if not isinstance(steps, list):
                raise FormatError(f"{where}.tasks[{g}] must be a list of steps")
            for s, step in enumerate(steps):
                _check_step(step, len(obj["caps"]), n, len(obj["procs"]),
                            f"{where}.tasks[{g}][{s}]")
        return cls(obj["mode"], [list(p) for p in obj["procs"]], list(obj["roles"]),
                   list(obj["ranks"]), list(obj["caps"]), [list(t) for t in obj["tasks"]],
                   obj.get("stop_io", False))


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_timeout(t: object, where: str) -> None:
    if t is None or t == "inf":
        return
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t >= 0:
        raise FormatError(f"{where}: timeout must be null, \"inf\" or seconds >= 0, got {t!r}")


def _check_step(step: object, nchans: int, ntasks: int, nprocs: int, where: str) -> None:
    if not isinstance(step, list) or not step or step[0] not in STEP_KINDS:
        raise FormatError(f"{where}: not a step (expected [kind, ...] with kind in "
                          f"{STEP_KINDS})")
    kind, args = step[0], step[1:]
    arity = {"yield": 0, "interrupt": 0, "hold": 0, "join_proc": 2, "join_task": 2}.get(kind, 1)
    if len(args) != arity:
        raise FormatError(f"{where}: {kind} takes {arity} argument(s), got {len(args)}")
    if kind in ("sleep", "alt_after", "iocall"):
        if isinstance(args[0], bool) or not isinstance(args[0], (int, float)) \
                or not 0 <= args[0] <= 1000:
            raise FormatError(f"{where}: {kind} needs milliseconds 0..1000, got {args[0]!r}")
    elif kind == "ticker":
        if not _is_int(args[0]) or not 1 <= args[0] <= 100:
            raise FormatError(f"{where}: ticker needs a count 1..100, got {args[0]!r}")
    elif kind in ("send", "recv"):
        if not _is_int(args[0]) or not 0 <= args[0] < nchans:
            raise FormatError(f"{where}: channel must be an index 0..{nchans - 1}, "
                              f"got {args[0]!r}")
    elif kind == "join_proc":
        if not _is_int(args[0]) or not 0 <= args[0] < nprocs:
            raise FormatError(f"{where}: join_proc needs a proc index, got {args[0]!r}")
        _check_timeout(args[1], where)
    elif kind in ("join_task", "kill"):
        if not _is_int(args[0]) or not 0 <= args[0] < ntasks:
            raise FormatError(f"{where}: {kind} needs a task index, got {args[0]!r}")
        if kind == "join_task":
            _check_timeout(args[1], where)
    elif kind == "block" and args[0] not in ("chan", "sleep"):
        raise FormatError(f"{where}: block needs \"chan\" or \"sleep\", got {args[0]!r}")


def timeout_value(t: Any) -> float | None:
    """A step's timeout as the runtime takes it."""
    return math.inf if t == "inf" else t


# --------------------------------------------------------------------------- invariants


def invariant_violations(prog: LcProgram) -> list[str]:
    """Every way ``prog`` breaks the construction of the module docstring (empty: it is
    well built, and its outcome is :func:`expected_outcome`)."""
    bad: list[str] = []
    n = len(prog.tasks)
    rank, role, proc_of = prog.ranks, prog.roles, prog.proc_of()
    if len(set(rank)) != n:
        bad.append("ranks are not distinct")
    if role[0] != "main" or any(r == "main" for r in role[1:]):
        bad.append("task 0, and only task 0, has role main")
    if n and rank[0] != max(rank):
        bad.append("main is not ranked highest")
    senders: dict[int, set[int]] = {c: set() for c in range(len(prog.caps))}
    nsend = [0] * len(prog.caps)
    nrecv = [0] * len(prog.caps)
    for g, steps in enumerate(prog.tasks):
        for step in steps:
            if step[0] == "send":
                senders[step[1]].add(g)
                nsend[step[1]] += 1
            elif step[0] == "recv":
                nrecv[step[1]] += 1
    kills: dict[int, list[int]] = {}
    interrupts = 0
    joined_by_main: set[int] = set()
    for g, steps in enumerate(prog.tasks):
        for s, step in enumerate(steps):
            kind, where = step[0], f"t{g} step {s} ({describe_lc_step(step)})"
            if kind == "send" and role[g] != "normal":
                bad.append(f"{where}: a sender must be a normal task, t{g} is {role[g]}")
            if kind == "recv":
                for h in sorted(senders[step[1]]):
                    if rank[h] >= rank[g]:
                        bad.append(f"{where}: waits for sender t{h}, ranked "
                                   f"{rank[h]} >= {rank[g]}")
            elif kind in ("join_proc", "join_task"):
                targets = prog.procs[step[1]] if kind == "join_proc" else [step[1]]
                if kind == "join_proc" and (step[1] == 0 or step[1] == proc_of[g]):
                    bad.append(f"{where}: joins the main proc or its own proc")
                if kind == "join_task" and step[1] == g:
                    bad.append(f"{where}: joins itself")
                for h in targets:
                    if role[h] != "normal":
                        bad.append(f"{where}: waits for t{h}, which is {role[h]}")
                    elif rank[h] >= rank[g]:
                        bad.append(f"{where}: waits for t{h}, ranked {rank[h]} >= {rank[g]}")
                if g == 0 and timeout_value(step[2]) in (None, math.inf):
                    joined_by_main.update(targets)
            elif kind == "kill":
                kills.setdefault(step[1], []).append(g)
                if role[g] not in ("normal", "main"):
                    bad.append(f"{where}: a killer must be normal (or main), t{g} is {role[g]}")
                want = "main" if prog.mode == "kill_main" else "victim"
                if role[step[1]] not in ("victim", want):
                    bad.append(f"{where}: kills t{step[1]}, which is {role[step[1]]}")
            elif kind == "interrupt":
                interrupts += 1
                if role[g] not in ("normal", "main"):
                    bad.append(f"{where}: the interrupt is sent by a {role[g]} task")
            elif kind == "block":
                if s != len(steps) - 1 or role[g] not in ("victim", "stuck"):
                    bad.append(f"{where}: only victims and stuck tasks block, at the end")
                if role[g] == "stuck" and step[1] != "chan":
                    bad.append(f"{where}: a stuck task blocks on a private channel")
        if role[g] in ("victim", "stuck") and (not steps or steps[-1][0] != "block"):
            bad.append(f"t{g} ({role[g]}) does not end blocked for ever")
    for c in range(len(prog.caps)):
        if prog.caps[c] < nsend[c]:
            bad.append(f"c{c}: capacity {prog.caps[c]} < {nsend[c]} sends (a send could block)")
        if nrecv[c] > nsend[c]:
            bad.append(f"c{c}: {nrecv[c]} receives > {nsend[c]} sends")
    for v in prog.victims():
        if len(kills.get(v, [])) != 1:
            bad.append(f"victim t{v} is killed {len(kills.get(v, []))} times, not once")
    if prog.mode == "kill_main":
        killers = kills.get(0, [])
        if len(killers) != 1 or killers[0] == 0:
            bad.append(f"kill_main: main must be killed once by another task, got {killers}")
    elif 0 in kills:
        bad.append("main is killed outside kill_main mode")
    if interrupts != (prog.mode == "interrupt"):
        bad.append(f"{interrupts} interrupt steps in mode {prog.mode}")
    if prog.stop_io and any(role[g] in ("victim", "stuck") and any(
            step[0] == "iocall" for step in prog.tasks[g]) for g in range(n)):
        bad.append("stop_io, but a victim or stuck task makes iocalls")
    for g in range(1, n):
        if role[g] == "normal" and g not in joined_by_main:
            bad.append(f"main does not wait for normal task t{g}")
    return bad


def expected_outcome(prog: LcProgram) -> tuple[str, list[int]]:
    """What ``run()`` must do: ``("returned", [])``, ``("Deadlock", stuck tasks)``,
    ``("TaskKilled", [])`` or ``("KeyboardInterrupt", [])``."""
    if prog.mode == "kill_main":
        return "TaskKilled", []
    if prog.mode == "interrupt":
        return "KeyboardInterrupt", []
    if any(prog.roles[g] == "stuck" for g in prog.procs[0]):
        return "Deadlock", prog.stuck()
    return "returned", []


# --------------------------------------------------------------------------- generation


def generate_lc(rng: random.Random, mode: str = "normal",
                config: LcConfig | None = None) -> LcProgram:
    """A random well-built program (see the module docstring) drawn from ``rng``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    cfg = config or LcConfig()
    sizes = [rng.randint(1, cfg.tasks)] + [rng.randint(1, cfg.tasks)
                                           for _ in range(rng.randint(0, cfg.procs))]
    procs: list[list[int]] = []
    n = 0
    for k in sizes:
        procs.append(list(range(n, n + k)))
        n += k
    roles = ["main"] + ["normal"] * (n - 1)
    others = list(range(1, n))
    if others and rng.random() < cfg.stuck_rate:
        for g in rng.sample(others, min(len(others), rng.choice((1, 1, 2)))):
            roles[g] = "stuck"
    for g in others:
        if roles[g] == "normal" and rng.random() < cfg.victim_rate:
            roles[g] = "victim"
    if mode == "kill_main" and "normal" not in roles:  # someone must kill main
        q = rng.randrange(len(procs))
        procs[q].append(n)
        roles.append("normal")
        others.append(n)
        n += 1
    order = others[:]
    rng.shuffle(order)
    ranks = [0] * n
    for r, g in enumerate(order):
        ranks[g] = r
    ranks[0] = n - 1
    return _Builder(rng, cfg, mode, procs, roles, ranks).build()


class _Builder:
    def __init__(self, rng: random.Random, cfg: LcConfig, mode: str, procs: list[list[int]],
                 roles: list[str], ranks: list[int]) -> None:
        self.rng, self.cfg, self.mode = rng, cfg, mode
        self.procs, self.roles, self.ranks = procs, roles, ranks
        self.n = len(roles)
        self.proc_of = {g: q for q, gs in enumerate(procs) for g in gs}
        self.normals = [g for g in range(1, self.n) if roles[g] == "normal"]
        nch = rng.randint(0, cfg.channels) if self.normals else 0
        self.senders = [rng.sample(self.normals, min(len(self.normals), rng.randint(1, 2)))
                        for _ in range(nch)]
        self.scripts: list[list[Step]] = [[] for _ in range(self.n)]

    def build(self) -> LcProgram:
        rng = self.rng
        for g in range(self.n):
            most = self.cfg.steps if self.roles[g] in ("main", "normal") \
                else self.cfg.steps // 2 + 1
            for _ in range(rng.randint(0, most)):
                step = self._random_step(g)
                if step is not None:
                    self.scripts[g].append(step)
        caps = self._place_sends()
        killers = [*self.normals, 0]
        for v in range(self.n):
            if self.roles[v] == "victim":
                self._insert(rng.choice(killers), ["kill", v])
        if self.mode == "kill_main":
            self._insert(rng.choice(self.normals), ["kill", 0])
        elif self.mode == "interrupt":
            self._insert(rng.choice(killers), ["interrupt"])
        for g in range(self.n):
            if self.roles[g] == "victim":
                self.scripts[g].append(["block", rng.choice(("chan", "sleep"))])
            elif self.roles[g] == "stuck":
                self.scripts[g].append(["block", "chan"])
        self.scripts[0] += self._final_joins()
        # Main may stop the IOProc itself when only tasks it waits for make iocalls.
        io_only_normal = all(self.roles[g] in ("main", "normal") for g in range(self.n)
                             if any(step[0] == "iocall" for step in self.scripts[g]))
        return LcProgram(self.mode, self.procs, self.roles, self.ranks, caps, self.scripts,
                         stop_io=io_only_normal and rng.random() < 0.3)

    def _insert(self, g: int, step: Step) -> None:
        s = self.scripts[g]
        s.insert(self.rng.randint(0, len(s)), step)

    def _random_step(self, g: int) -> Step | None:
        rng, rank = self.rng, self.ranks
        choices: dict[str, Any] = {}
        chans = [c for c, ss in enumerate(self.senders) if max(rank[h] for h in ss) < rank[g]]
        if chans:
            choices["recv"] = chans
        procs = [q for q in range(1, len(self.procs)) if q != self.proc_of[g]
                 and all(self.roles[h] == "normal" and rank[h] < rank[g]
                         for h in self.procs[q])]
        if procs:
            choices["join_proc"] = procs
        tasks = [h for h in self.normals if h != g and rank[h] < rank[g]]
        if tasks:
            choices["join_task"] = tasks
        kinds = [k for k in _WEIGHTS if k in choices or k not in ("recv", "join_proc",
                                                                   "join_task")]
        kind = rng.choices(kinds, weights=[_WEIGHTS[k] for k in kinds])[0]
        if kind in ("sleep", "alt_after", "iocall"):
            return [kind, rng.randint(0, 3)]
        if kind == "ticker":
            return ["ticker", rng.randint(1, 3)]
        if kind == "yield":
            return ["yield"]
        if kind == "recv":
            return ["recv", rng.choice(choices["recv"])]
        return [kind, rng.choice(choices[kind]), rng.choice(_TIMEOUTS)]

    def _place_sends(self) -> list[int]:
        """Enough sends on each channel for its receives (and 0..2 more), spread over
        its senders at random positions; capacity >= the number of sends."""
        rng = self.rng
        caps = []
        for c, ss in enumerate(self.senders):
            nrecv = sum(step == ["recv", c] for steps in self.scripts for step in steps)
            nsend = nrecv + rng.randint(0 if nrecv else 1, 2)
            for _ in range(nsend):
                self._insert(rng.choice(ss), ["send", c])
            caps.append(nsend + rng.randint(0, 1))
        return caps

    def _final_joins(self) -> list[Step]:
        """Main waits for every normal task: a Proc.join of a proc whose tasks are all
        normal (half of the time), Task.join otherwise."""
        rng = self.rng
        joins: list[Step] = []
        for q, gs in enumerate(self.procs):
            if q and all(self.roles[h] == "normal" for h in gs) and rng.random() < 0.5:
                joins.append(["join_proc", q, rng.choice((None, "inf"))])
                continue
            joins += [["join_task", h, rng.choice((None, "inf"))] for h in gs
                      if self.roles[h] == "normal"]
        rng.shuffle(joins)
        return joins


def describe_lc_step(step: Sequence[Any]) -> str:
    """A short human-readable form of a step."""
    kind = step[0]
    if kind in ("send", "recv"):
        return f"{kind} c{step[1]}"
    if kind in ("join_proc", "join_task"):
        what = f"proc {step[1]}" if kind == "join_proc" else f"t{step[1]}"
        tmo = "" if step[2] is None else f", timeout={step[2]}"
        return f"join {what}{tmo}"
    if kind == "kill":
        return f"kill t{step[1]}"
    if kind in ("sleep", "alt_after", "iocall"):
        return f"{kind}({step[1]} ms)"
    if kind == "ticker":
        return f"ticker x{step[1]}"
    if kind == "block":
        return f"block for ever ({step[1]})"
    return str(kind)
