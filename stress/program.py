"""Random stress programs: N procs x M tasks over K channels, as plain JSON data.

A program is data, never code, so that it can be saved in a replay file and re-run:

* ``caps``   the capacity (0..3) of each channel, indexed 0..K-1;
* ``procs``  for each proc, the (flat, 0-based) indices of the tasks it runs;
* ``tasks``  for each task, its list of steps.

A step is a JSON list whose first element names it:

=========================================  =============================================
``["send", c]`` / ``["recv", c]``          blocking ``Channel.send`` / ``Channel.recv``
``["nbsend", c]`` / ``["nbrecv", c]``      non-blocking variants
``["alt", [[dir, c_or_null], ...], blk]``  ``alt`` with mixed send/recv cases, nil cases
                                           (``null``), blocking (``blk``) or not
``["close", c]``                           ``Channel.close``
``["kill", v]``                            ``Task.kill`` of task ``v`` (flat index)
``["yield"]`` / ``["sleep0"]``             ``yield_()`` / ``sleep(0)``
=========================================  =============================================

The value sent by case ``i`` of step ``s`` of task ``t`` is the JSON list ``[t, s, i]``
(``docs/CONTRACT.md``), so every sent value is unique and names its sender and step.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MAX_CAP",
    "OP_NAMES",
    "Config",
    "FormatError",
    "Program",
    "generate",
    "send_value",
]

MAX_CAP = 3
OP_NAMES = ("send", "recv", "nbsend", "nbrecv", "alt", "close", "kill", "yield", "sleep0")

Step = list[Any]

#: Probability that a task's last step is a close (it wakes the tasks blocked there).
FINAL_CLOSE = 0.5

# Relative weights of the step kinds (close and kill are rarer; see _pick_kind).
_WEIGHTS: dict[str, float] = {
    "send": 16, "recv": 16, "nbsend": 5, "nbrecv": 5, "alt": 14,
    "close": 0.6, "kill": 1.5, "yield": 3, "sleep0": 2,
}


class FormatError(ValueError):
    """A program, config or replay file that does not have the expected shape.

    The message names the offending field, as a path such as ``program.tasks[3][1]``."""


def send_value(task: int, step: int, case: int) -> list[int]:
    """The unique value sent by ``case`` of ``step`` of ``task``: ``[task, step, case]``."""
    return [task, step, case]


@dataclasses.dataclass(frozen=True)
class Config:
    """The size of the generated programs (exact counts, except ``ops``: a maximum)."""

    procs: int = 3
    tasks: int = 3  # per proc
    channels: int = 3
    ops: int = 16  # maximum steps per task (each task draws ops//2 .. ops)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise FormatError(f"config.{f.name} must be an integer >= 1, got {v!r}")

    def to_json(self) -> dict[str, int]:
        """The config as a JSON object."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, obj: object, where: str = "config") -> Config:
        """Parse a config JSON object; raise :class:`FormatError` naming the field."""
        if not isinstance(obj, dict):
            raise FormatError(f"{where} must be a JSON object, got {type(obj).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(obj) - names)
        if unknown:
            raise FormatError(f"{where}: unknown field {unknown[0]!r}")
        missing = sorted(names - set(obj))
        if missing:
            raise FormatError(f"{where}.{missing[0]} is missing")
        for k in names:
            v = obj[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise FormatError(f"{where}.{k} must be an integer >= 1, got {v!r}")
        return cls(**obj)


@dataclasses.dataclass
class Program:
    """A generated program (see the module docstring for the step format)."""

    caps: list[int]
    procs: list[list[int]]
    tasks: list[list[Step]]

    def to_json(self) -> dict[str, Any]:
        """The program as a JSON object."""
        return {"caps": self.caps, "procs": self.procs, "tasks": self.tasks}

    def proc_of(self) -> dict[int, int]:
        """Flat task index -> proc index."""
        return {g: p for p, gs in enumerate(self.procs) for g in gs}

    def size(self) -> int:
        """The total number of steps."""
        return sum(len(t) for t in self.tasks)

    @classmethod
    def from_json(cls, obj: object, where: str = "program") -> Program:
        """Parse and validate a program; raise :class:`FormatError` naming the field."""
        if not isinstance(obj, dict):
            raise FormatError(f"{where} must be a JSON object, got {type(obj).__name__}")
        for key in ("caps", "procs", "tasks"):
            if not isinstance(obj.get(key), list):
                raise FormatError(f"{where}.{key} must be a list, got {obj.get(key)!r}")
        caps = obj["caps"]
        for i, c in enumerate(caps):
            if not _is_int(c) or not 0 <= c <= 1000:
                raise FormatError(f"{where}.caps[{i}] must be an integer >= 0, got {c!r}")
        ntasks = len(obj["tasks"])
        _check_procs(obj["procs"], ntasks, f"{where}.procs")
        for g, steps in enumerate(obj["tasks"]):
            if not isinstance(steps, list):
                raise FormatError(f"{where}.tasks[{g}] must be a list of steps")
            for s, step in enumerate(steps):
                _check_step(step, len(caps), ntasks, f"{where}.tasks[{g}][{s}]")
        return cls(list(caps), [list(p) for p in obj["procs"]], [list(t) for t in obj["tasks"]])


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_procs(procs: list[Any], ntasks: int, where: str) -> None:
    seen: set[int] = set()
    if not procs:
        raise FormatError(f"{where} must name at least one proc")
    for p, gs in enumerate(procs):
        if not isinstance(gs, list):
            raise FormatError(f"{where}[{p}] must be a list of task indices")
        for g in gs:
            if not _is_int(g) or not 0 <= g < ntasks or g in seen:
                raise FormatError(f"{where}[{p}]: bad or repeated task index {g!r}")
            seen.add(g)
    if len(seen) != ntasks:
        raise FormatError(f"{where}: tasks {sorted(set(range(ntasks)) - seen)} have no proc")


def _check_chan(c: object, nchans: int, where: str, nil_ok: bool = False) -> None:
    if c is None and nil_ok:
        return
    if not _is_int(c) or not 0 <= c < nchans:  # type: ignore[operator]
        raise FormatError(f"{where}: channel must be an index 0..{nchans - 1}, got {c!r}")


def _check_step(step: object, nchans: int, ntasks: int, where: str) -> None:
    """Validate one step (see the module docstring)."""
    if not isinstance(step, list) or not step or step[0] not in OP_NAMES:
        raise FormatError(f"{where}: not a step (expected [op, ...] with op in {OP_NAMES})")
    name, args = step[0], step[1:]
    arity = {"alt": 2, "yield": 0, "sleep0": 0}.get(name, 1)
    if len(args) != arity:
        raise FormatError(f"{where}: {name} takes {arity} argument(s), got {len(args)}")
    if name == "kill":
        if not _is_int(args[0]) or not 0 <= args[0] < ntasks:
            raise FormatError(f"{where}: kill needs a task index, got {args[0]!r}")
    elif name == "alt":
        cases, block = args
        if not isinstance(cases, list) or not isinstance(block, bool):
            raise FormatError(f"{where}: alt needs a list of cases and a boolean")
        for i, case in enumerate(cases):
            if not isinstance(case, list) or len(case) != 2 or case[0] not in ("send", "recv"):
                raise FormatError(f"{where}: alt case {i} must be [\"send\"|\"recv\", chan]")
            _check_chan(case[1], nchans, f"{where} case {i}", nil_ok=True)
    elif arity == 1:
        _check_chan(args[0], nchans, where)


# --------------------------------------------------------------------------- generation


def generate(rng: random.Random, config: Config, all_nil: bool = True) -> Program:
    """A random program of ``config``'s size drawn from ``rng``.

    ``all_nil=False`` leaves out alts whose cases are all nil (runtimes before cfe121b
    recorded no trace event for them; stress/README.md, "Findings")."""
    ntasks = config.procs * config.tasks
    caps = [rng.randint(0, MAX_CAP) for _ in range(config.channels)]
    procs = [list(range(p * config.tasks, (p + 1) * config.tasks)) for p in range(config.procs)]
    tasks = []
    for g in range(ntasks):
        n = rng.randint(max(1, config.ops // 2), config.ops)
        steps = [_step(rng, g, s, n, config.channels, ntasks, all_nil) for s in range(n)]
        if rng.random() < FINAL_CLOSE:  # a task that is done closes a channel: fewer deadlocks
            steps[-1] = ["close", rng.randrange(config.channels)]
        tasks.append(steps)
    return Program(caps, procs, tasks)


def _pick_kind(rng: random.Random, s: int, n: int) -> str:
    """Close gets likelier towards the end of a task (it then unblocks the others)."""
    w = dict(_WEIGHTS)
    w["close"] *= 0.1 + 2.0 * (s / max(1, n - 1)) ** 2
    kinds = list(w)
    return rng.choices(kinds, weights=[w[k] for k in kinds])[0]


def _step(rng: random.Random, g: int, s: int, n: int, nchans: int, ntasks: int,
          all_nil: bool) -> Step:
    kind = _pick_kind(rng, s, n)
    if kind in ("yield", "sleep0"):
        return [kind]
    if kind == "kill":
        victims = [t for t in range(ntasks) if t != g] or [g]
        return ["kill", rng.choice(victims) if rng.random() < 0.95 else g]
    if kind == "alt":
        ncases = rng.choice((1, 2, 2, 3, 3, 4))
        cases: list[list[Any]] = [
            [rng.choice(("send", "recv")), None if rng.random() < 0.1 else rng.randrange(nchans)]
            for _ in range(ncases)
        ]
        if not all_nil and all(c is None for _, c in cases):
            cases[rng.randrange(ncases)][1] = rng.randrange(nchans)
        return ["alt", cases, rng.random() < 0.7]
    return [kind, rng.randrange(nchans)]


def describe_step(step: Sequence[Any]) -> str:
    """A short human-readable form of a step."""
    if step[0] == "alt":
        cases = ", ".join(f"{d} {'nil' if c is None else f'c{c}'}" for d, c in step[1])
        return f"alt({cases}{'' if step[2] else ', nonblocking'})"
    if step[0] == "kill":
        return f"kill t{step[1]}"
    if len(step) == 2:
        return f"{step[0]} c{step[1]}"
    return str(step[0])


def config_summary(config: Config | Mapping[str, int]) -> str:
    """``3 procs x 3 tasks, 3 channels, <=16 ops``."""
    c = config.to_json() if isinstance(config, Config) else dict(config)
    return (f"{c['procs']} procs x {c['tasks']} tasks, {c['channels']} channels, "
            f"<={c['ops']} ops/task")
