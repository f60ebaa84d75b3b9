"""Lifecycle stress programs: a run of procs, tasks, timers, iocalls, joins and kills whose
outcome is known by construction, as plain JSON data.

A lifecycle program is one ``run()``: the main task (task 0, the first task of proc 0,
the main proc), 0..2 more tasks in the main proc, and 0..3 extra procs (``new_proc``)
with 1..3 tasks each.  Every task runs a *script* (a list of steps).  Fields:

* ``mode``    ``"normal"``, ``"kill_main"`` (a task kills the main task: ``run()`` must
              raise ``TaskKilled``) or ``"interrupt"`` (a task sends SIGINT to the main
              thread: ``run()`` must raise ``KeyboardInterrupt``);
* ``procs``   for each proc, the task indices it runs (``procs[0][0] == 0``: main); the
              members of groups are in no list (their owner starts them);
* ``roles``   for each task: ``main``, ``normal``, ``victim`` (blocks for ever at the end
              of its script until a task kills it), ``stuck`` (blocks for ever at the
              end of its script; never killed, nobody waits for it) or ``member`` (of a
              group: started by the group's owner, waited for by the group only);
* ``ranks``   a global order of the tasks (distinct integers, main on top);
* ``caps``    the capacity of each channel;
* ``tasks``   each task's script;
* ``stop_io`` main stops the run's IOProc at the end of its script (otherwise the run
              stops it when it ends); only when no victim or stuck task makes iocalls;
* ``groups``  the ``TaskGroup`` blocks (below; default none).

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
``["group", k]``                    a ``TaskGroup`` block running group k (below)
``["race", how, dir, partner,       a timeout scope racing a partner (below)
  where, d, p, hold, yield]``
``["fail"]``                        raise the designated ``PlantedFailure`` (the failing
                                    member of a ``fail`` group, at the end)
=================================  ===================================================

**Groups** (``groups``, issue 11).  ``groups[k]`` is ``{"owner": g, "kind": kind,
"members": [h, ...], "procs": [h, ...], "body": [steps], "chans": [c, ...]}``.  The
owner (main or a normal task) runs ``with TaskGroup() as grp:``, starts each member
(task index h, role ``member``, in no ``procs`` list) with ``grp.new_task`` -- or
``grp.new_proc`` if h is in ``procs`` -- runs the ``body`` (``sleep``/``yield`` steps)
and leaves the block, which waits for the members.  Members rank below their owner
and wait only on lower-ranked members (``recv`` on the group's channels ``chans``,
which nobody outside the group uses).  ``kind``:

* ``ok``: the group channels follow the program channels' rules (sends never block,
  enough sends): every member finishes its script and the block ends normally;
* ``fail``: exactly one member (the *failing* one, whose script waits on nothing) ends
  with ``["fail"]``; the others may block for ever (a final ``["block", "chan"]``, a
  send beyond a group channel's capacity, a receive beyond its sends): every other
  member still running is killed, and the block raises an ``ExceptionGroup`` holding
  exactly that ``PlantedFailure``;
* ``cancel``: as ``fail`` without a failing member; the owner calls ``grp.cancel()``
  after its body: every member still running is killed and the block ends normally.

Either way, nothing sent on any channel is lost or duplicated.

**Races** (issue 11).  ``["race", how, dir, partner, where, d, p, hold, yield]``: the
task makes a private channel, starts a partner (a helper task, or a helper proc if
``where`` is ``"proc"``) that waits ``p`` ms (``sleep``, or with ``hold`` a plain
``time.sleep`` that holds its proc: the partner commits after the deadline passed but
before the proc noticed), and at once runs ``with move_on_after(d)`` (``how``
``"move_on"``) or ``with timeout(d)`` (``"timeout"``) around one operation (``dir``):
``recv`` against a partner ``send`` (capacity 1: it never blocks) or ``nbsend``
(capacity 0), or ``send`` (capacity 0) against a partner ``nbrecv``; with ``yield``, a
``yield_()`` follows the operation inside the scope (an interruption that arrives after
the commit lands there).  Then it joins the partner.  Either the operation completed
(the value was delivered exactly once) or it expired (nothing was delivered: the
partner's value is still buffered, or its non-blocking operation failed), never both.

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
    "GROUP_KINDS",
    "MAIN_RESULT",
    "MODES",
    "PLANTED",
    "RACE_HOWS",
    "RACE_PARTNERS",
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
ROLES = ("main", "normal", "victim", "stuck", "member")
STEP_KINDS = ("sleep", "alt_after", "ticker", "iocall", "send", "recv", "join_proc",
              "join_task", "kill", "yield", "interrupt", "block", "hold", "group", "race",
              "fail")
GROUP_KINDS = ("ok", "fail", "cancel")
RACE_HOWS = ("move_on", "timeout")
#: the partner operations a scoped operation races against
RACE_PARTNERS = {"recv": ("send", "nbsend"), "send": ("nbrecv",)}
#: Steps that wait for another task (the wait edges of the construction).
WAIT_KINDS = ("recv", "join_proc", "join_task")

#: What the main task returns (``run()``'s result when the run ends normally).
MAIN_RESULT = "main finished its script"

#: The message of the failing member's exception (``PlantedFailure``), by task index.
PLANTED = "planted failure of t{}"

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
    group_rate: float = 0.3  # probability that a program has a TaskGroup block (1 or 2)
    race_rate: float = 0.2  # probability that a task (main, normal, member) races a timeout


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
    groups: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The program as a JSON object."""
        d = {"kind": "lifecycle", "mode": self.mode, "procs": self.procs,
             "roles": self.roles, "ranks": self.ranks, "caps": self.caps,
             "tasks": self.tasks, "stop_io": self.stop_io}
        if self.groups:
            d["groups"] = self.groups
        return d

    def proc_of(self) -> dict[int, int]:
        """Task index -> proc index (a group member started as a task: its owner's proc;
        as a proc: -1, a proc of its own)."""
        out = {g: q for q, gs in enumerate(self.procs) for g in gs}
        todo = list(self.groups)
        while todo:  # (owners first: a member may own a group in a later version)
            grp = todo.pop(0)
            if grp["owner"] not in out:
                todo.append(grp)
                continue
            for h in grp["members"]:
                out[h] = -1 if h in grp["procs"] else out[grp["owner"]]
        return out

    def main_proc_tasks(self) -> set[int]:
        """The tasks that run in the main proc (members started as tasks included)."""
        return {g for g, q in self.proc_of().items() if q == 0}

    def group_of(self) -> dict[int, int]:
        """Member task index -> index of its group."""
        return {h: k for k, grp in enumerate(self.groups) for h in grp["members"]}

    def failing(self, k: int) -> int | None:
        """The failing member of group k (None unless its kind is ``fail``)."""
        for h in self.groups[k]["members"]:
            if self.tasks[h] and self.tasks[h][-1] == ["fail"]:
                return int(h)
        return None

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
        groups = obj.get("groups", [])
        if not isinstance(groups, list):
            raise FormatError(f"{where}.groups must be a list, got {groups!r}")
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
        for k, grp in enumerate(groups):
            gw = f"{where}.groups[{k}]"
            if not isinstance(grp, dict) or set(grp) != {"owner", "kind", "members", "procs",
                                                         "body", "chans"}:
                raise FormatError(f"{gw} must be an object with owner, kind, members, "
                                  "procs, body and chans")
            if grp["kind"] not in GROUP_KINDS:
                raise FormatError(f"{gw}.kind must be one of {GROUP_KINDS}, got "
                                  f"{grp['kind']!r}")
            if not _is_int(grp["owner"]) or not 0 <= grp["owner"] < n:
                raise FormatError(f"{gw}.owner must be a task index, got {grp['owner']!r}")
            for key in ("members", "procs", "body", "chans"):
                if not isinstance(grp[key], list):
                    raise FormatError(f"{gw}.{key} must be a list")
            if not grp["members"]:
                raise FormatError(f"{gw}.members must not be empty")
            for h in grp["members"]:
                if not _is_int(h) or not 0 <= h < n or h in seen:
                    raise FormatError(f"{gw}.members: bad or repeated task {h!r}")
                seen.add(h)
            if not set(grp["procs"]) <= set(grp["members"]):
                raise FormatError(f"{gw}.procs must be members")
            for c in grp["chans"]:
                if not _is_int(c) or not 0 <= c < len(obj["caps"]):
                    raise FormatError(f"{gw}.chans: bad channel {c!r}")
            for s, step in enumerate(grp["body"]):
                if not (isinstance(step, list) and step and step[0] in ("sleep", "yield")):
                    raise FormatError(f"{gw}.body[{s}]: only sleep and yield steps")
                _check_step(step, 0, n, len(obj["procs"]), len(groups), f"{gw}.body[{s}]")
        if len(seen) != n:
            raise FormatError(f"{where}.procs: tasks {sorted(set(range(n)) - seen)} have "
                              "no proc and are in no group")
        for g, steps in enumerate(obj["tasks"]):
            if not isinstance(steps, list):
                raise FormatError(f"{where}.tasks[{g}] must be a list of steps")
            for s, step in enumerate(steps):
                _check_step(step, len(obj["caps"]), n, len(obj["procs"]), len(groups),
                            f"{where}.tasks[{g}][{s}]")
        return cls(obj["mode"], [list(p) for p in obj["procs"]], list(obj["roles"]),
                   list(obj["ranks"]), list(obj["caps"]), [list(t) for t in obj["tasks"]],
                   obj.get("stop_io", False),
                   [{k: (list(v) if isinstance(v, list) else v) for k, v in grp.items()}
                    for grp in groups])


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_timeout(t: object, where: str) -> None:
    if t is None or t == "inf":
        return
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t >= 0:
        raise FormatError(f"{where}: timeout must be null, \"inf\" or seconds >= 0, got {t!r}")


def _check_step(step: object, nchans: int, ntasks: int, nprocs: int, ngroups: int,
                where: str) -> None:
    if not isinstance(step, list) or not step or step[0] not in STEP_KINDS:
        raise FormatError(f"{where}: not a step (expected [kind, ...] with kind in "
                          f"{STEP_KINDS})")
    kind, args = step[0], step[1:]
    arity = {"yield": 0, "interrupt": 0, "hold": 0, "fail": 0, "join_proc": 2,
             "join_task": 2, "race": 8}.get(kind, 1)
    if len(args) != arity:
        raise FormatError(f"{where}: {kind} takes {arity} argument(s), got {len(args)}")
    if kind == "group":
        if not _is_int(args[0]) or not 0 <= args[0] < ngroups:
            raise FormatError(f"{where}: group needs a group index, got {args[0]!r}")
        return
    if kind == "race":
        how, d, partner, where_, dl, p, hold, yld = args
        if how not in RACE_HOWS or d not in RACE_PARTNERS or partner not in RACE_PARTNERS[d] \
                or where_ not in ("task", "proc") or not isinstance(hold, bool) \
                or not isinstance(yld, bool) or (hold and where_ != "task"):
            raise FormatError(f"{where}: race needs how in {RACE_HOWS}, dir in "
                              f"{tuple(RACE_PARTNERS)}, a partner for it, where task|proc, "
                              "hold and yield booleans (hold only with a task partner)")
        for x in (dl, p):
            if not _is_int(x) or not 0 <= x <= 1000:
                raise FormatError(f"{where}: race needs milliseconds 0..1000, got {x!r}")
        if dl < 1:
            raise FormatError(f"{where}: a race's deadline must be >= 1 ms")
        return
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
    group_of = prog.group_of()
    chan_group = {c: k for k, grp in enumerate(prog.groups) for c in grp["chans"]}
    # channels of fail/cancel groups may block (their members are killed anyway)
    loose = {c for c, k in chan_group.items() if prog.groups[k]["kind"] != "ok"}
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
    group_steps: dict[int, list[int]] = {}
    for g, steps in enumerate(prog.tasks):
        k_g = group_of.get(g)
        for s, step in enumerate(steps):
            kind, where = step[0], f"t{g} step {s} ({describe_lc_step(step)})"
            if kind in ("send", "recv") and chan_group.get(step[1]) != k_g:
                bad.append(f"{where}: c{step[1]} is "
                           + ("a program channel" if step[1] not in chan_group else
                              f"a channel of group {chan_group[step[1]]}")
                           + (", used by a member of group "
                              f"{k_g}" if k_g is not None else ", used outside its group"))
            if role[g] == "member" and kind not in ("sleep", "alt_after", "ticker", "yield",
                                                     "send", "recv", "race", "block",
                                                     "fail"):
                bad.append(f"{where}: a member does not {kind}")
            if kind == "send" and role[g] not in ("normal", "member"):
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
                loose_member = k_g is not None and prog.groups[k_g]["kind"] != "ok"
                if s != len(steps) - 1 or not (role[g] in ("victim", "stuck") or loose_member):
                    bad.append(f"{where}: only victims, stuck tasks and members of fail or "
                               "cancel groups block, at the end")
                if role[g] in ("stuck", "member") and step[1] != "chan":
                    bad.append(f"{where}: a stuck task or member blocks on a private channel")
            elif kind == "group":
                group_steps.setdefault(step[1], []).append(g)
            elif kind == "race" and role[g] not in ("main", "normal", "member"):
                bad.append(f"{where}: a {role[g]} task does not race")
            elif kind == "fail" and not (k_g is not None and s == len(steps) - 1
                                         and prog.groups[k_g]["kind"] == "fail"):
                bad.append(f"{where}: only a member of a fail group fails, at the end")
        if role[g] in ("victim", "stuck") and (not steps or steps[-1][0] != "block"):
            bad.append(f"t{g} ({role[g]}) does not end blocked for ever")
        if (role[g] == "member") != (k_g is not None):
            bad.append(f"t{g} has role {role[g]} but is "
                       + ("a member of a group" if k_g is not None else "in no group"))
    for k, grp in enumerate(prog.groups):
        owner, members = grp["owner"], grp["members"]
        if role[owner] not in ("main", "normal"):
            bad.append(f"group {k}: its owner t{owner} is {role[owner]}")
        if group_steps.get(k) != [owner] or prog.tasks[owner].count(["group", k]) != 1:
            bad.append(f"group {k}: run by {group_steps.get(k, [])}, not once by its owner "
                       f"t{owner}")
        for h in members:
            if rank[h] >= rank[owner]:
                bad.append(f"group {k}: member t{h} ranked {rank[h]} >= its owner's "
                           f"{rank[owner]}")
        failing = [h for h in members if prog.tasks[h] and prog.tasks[h][-1] == ["fail"]]
        if len(failing) != (grp["kind"] == "fail"):
            bad.append(f"group {k} ({grp['kind']}): {len(failing)} failing members")
        for h in failing:
            if any(step[0] in ("send", "recv", "block") for step in prog.tasks[h]):
                bad.append(f"group {k}: the failing member t{h} may wait")
    for c in range(len(prog.caps)):
        if c in loose:
            continue
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
    prog = _Builder(rng, cfg, mode, procs, roles, ranks).build()
    # (groups and races are drawn after the rest, from the same rng)
    if rng.random() < cfg.group_rate:
        for _ in range(rng.choice((1, 1, 2))):
            _add_group(rng, prog)
    if cfg.race_rate:
        for g, role in enumerate(prog.roles):
            if role in ("main", "normal", "member") and rng.random() < cfg.race_rate:
                _insert_before_end(rng, prog.tasks[g], _race_step(rng))
    return prog


def _insert_before_end(rng: random.Random, script: list[Step], step: Step) -> None:
    """Insert ``step`` at a random place of ``script``, before a final block or fail."""
    end = len(script) - (1 if script and script[-1][0] in ("block", "fail") else 0)
    script.insert(rng.randint(0, end), step)


def _race_step(rng: random.Random) -> Step:
    how = rng.choice(RACE_HOWS)
    d = rng.choice(("recv", "recv", "send"))
    partner = rng.choice(RACE_PARTNERS[d])
    where = "proc" if rng.random() < 0.3 else "task"
    deadline = rng.randint(1, 3)
    hold = where == "task" and rng.random() < 0.2
    p = deadline + 2 if hold else max(0, deadline + rng.choice((-1, 0, 1)))
    return ["race", how, d, partner, where, deadline, p, hold, rng.random() < 0.4]


def _quick_step(rng: random.Random) -> Step:
    """A step that waits on no other task."""
    kind = rng.choice(("sleep", "sleep", "alt_after", "ticker", "yield"))
    if kind == "yield":
        return ["yield"]
    if kind == "ticker":
        return ["ticker", rng.randint(1, 2)]
    return [kind, rng.randint(0, 3)]


def _add_group(rng: random.Random, prog: LcProgram) -> None:
    """Add a TaskGroup block to a random main or normal task (see the module docstring):
    its members rank below the owner; its channels are received only by members ranked
    above every sender."""
    owner = rng.choice([g for g, r in enumerate(prog.roles) if r in ("main", "normal")])
    kind = rng.choice(GROUP_KINDS)
    k = len(prog.groups)
    first = len(prog.tasks)
    members = list(range(first, first + (rng.randint(1, 3) if kind == "ok"
                                         else rng.randint(2, 4))))
    order = sorted(range(first), key=lambda g: prog.ranks[g])
    for h in members:
        order.insert(rng.randint(0, order.index(owner)), h)
    prog.tasks += [[_quick_step(rng) for _ in range(rng.randint(0, 3))] for _ in members]
    prog.roles += ["member"] * len(members)
    prog.ranks = [0] * len(prog.tasks)
    for r, g in enumerate(order):
        prog.ranks[g] = r
    failing = rng.choice(members) if kind == "fail" else None
    talkers = [h for h in members if h != failing]
    chans = []
    for _ in range(rng.randint(0, 2) if talkers else 0):
        c = len(prog.caps)
        senders = rng.sample(talkers, min(len(talkers), rng.randint(1, 2)))
        top = max(prog.ranks[h] for h in senders)
        receivers = [h for h in talkers if prog.ranks[h] > top]
        nrecv = rng.randint(0, 2) if receivers else 0
        for _ in range(nrecv):
            _insert_before_end(rng, prog.tasks[rng.choice(receivers)], ["recv", c])
        if kind == "ok":
            nsend = nrecv + rng.randint(0 if nrecv else 1, 2)
            cap = nsend + rng.randint(0, 1)
        else:  # sends may block, receives may find nothing: the members are killed
            nsend = max(1, nrecv + rng.randint(-1, 2))
            cap = rng.randint(0, nsend)
        for _ in range(nsend):
            _insert_before_end(rng, prog.tasks[rng.choice(senders)], ["send", c])
        prog.caps.append(cap)
        chans.append(c)
    for h in members:
        if h == failing:
            prog.tasks[h].append(["fail"])
        elif kind != "ok" and rng.random() < 0.5:
            prog.tasks[h].append(["block", "chan"])
    prog.groups.append({
        "owner": owner, "kind": kind, "members": members,
        "procs": [h for h in members if rng.random() < 0.25],
        "body": [["yield"] if rng.random() < 0.3 else ["sleep", rng.randint(0, 3)]
                 for _ in range(rng.randint(0, 2))],
        "chans": chans})
    script = prog.tasks[owner]
    script.insert(rng.randint(0, len(script)), ["group", k])


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
    if kind == "group":
        return f"group {step[1]}"
    if kind == "race":
        _, how, d, partner, where, dl, p, hold, yld = step
        return (f"race {how}({dl} ms) {d} vs {partner} in a {where} after "
                f"{'holding ' if hold else ''}{p} ms{' +yield' if yld else ''}")
    return str(kind)
