"""Replay files: one JSON document per failure, never pickle.

Layout (``format`` = ``"libtask9-stress-replay"``, ``version`` = 1)::

    {
     "format": "libtask9-stress-replay",
     "version": 1,
     "created": "...", "libtask9": "...", "python": "...",
     "run_seed": 1, "seed": 123, "config": {...}, "program": {...},
     "check": "trace", "message": "...", "first_bad_event": {"index": 12, "event": {...}},
     "failures": [...], "outcome": {...},
     "trace": [
      {...one event per line...},
      ...
     ]
    }

Reading a file only parses JSON and validates every field (:func:`load`); a truncated or
malformed file raises :class:`~stress.program.FormatError` naming the line (for JSON
syntax errors) or the field (for a well-formed file with a wrong field).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from pathlib import Path
from typing import Any

from .checks import CHECKS, Verdict, check_outcome
from .execute import Outcome, execute
from .lc_replay import LcReplay, load_lc
from .program import Config, FormatError, Program
from .replayfile import FORMAT, VERSION, header, need, short, trace_events, write

__all__ = ["FORMAT", "VERSION", "Replay", "load", "normalize_trace", "replay", "save"]



@dataclasses.dataclass
class Replay:
    """A loaded replay file."""

    path: str
    seed: int
    run_seed: int | None
    config: Config
    program: Program
    check: str
    message: str
    first_bad_event: int | None
    outcome: Outcome


def save(directory: str | os.PathLike[str], *, run_seed: int | None, seed: int, config: Config,
         prog: Program, out: Outcome, verdict: Verdict) -> Path:
    """Write the replay file of a failed program; return its path."""
    first = verdict.failures[0]
    head: dict[str, Any] = {
        **header(),
        "run_seed": run_seed,
        "seed": seed,
        "config": config.to_json(),
        "program": prog.to_json(),
        "check": first.check,
        "message": first.message,
        "first_bad_event": None if first.index is None else {
            "index": first.index, "event": first.event},
        "failures": [f.to_json() for f in verdict.failures],
        "outcome": out.to_json(),
    }
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return write(directory, f"{stamp}-seed{seed}-{first.check}.json", head, out.events)


# --------------------------------------------------------------------------- loading


def load(path: str | os.PathLike[str]) -> Replay | LcReplay:
    """Parse and validate a replay file (JSON only: nothing in it is ever executed); a
    lifecycle program's file (``"kind": "lifecycle"``) gives a
    :class:`~stress.lc_replay.LcReplay`."""
    p = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{p}: not a text (UTF-8 JSON) file: {e.reason} at byte "
                          f"{e.start}; replay files are JSON, never pickle") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        end = text.rstrip()
        hint = "" if end.endswith("}") else " (the file looks truncated: it does not end with '}')"
        raise FormatError(f"{p}: line {e.lineno} column {e.colno}: malformed JSON: "
                          f"{e.msg}{hint}") from None
    try:
        if isinstance(obj, dict) and obj.get("format") == FORMAT and "kind" in obj:
            if obj["kind"] != "lifecycle":
                raise FormatError(f"field 'kind' must be 'lifecycle' (or absent), got "
                                  f"{short(obj['kind'])}")
            return load_lc(p, obj, text)
        return _from_json(p, obj, text)
    except FormatError as e:
        raise FormatError(f"{p}: {e}") from None


def _from_json(path: str, obj: Any, text: str) -> Replay:
    if not isinstance(obj, dict):
        raise FormatError(f"the top level must be a JSON object, got {type(obj).__name__}")
    if obj.get("format") != FORMAT:
        raise FormatError(f"field 'format' must be {FORMAT!r}, got {short(obj.get('format'))}")
    version = need(obj, "version", int, "an integer")
    if version != VERSION:
        raise FormatError(f"field 'version': unsupported version {version} (this reader "
                          f"knows {VERSION})")
    seed = need(obj, "seed", int, "an integer")
    run_seed = obj.get("run_seed")
    if run_seed is not None and (isinstance(run_seed, bool) or not isinstance(run_seed, int)):
        raise FormatError(f"field 'run_seed' must be an integer or null, got {short(run_seed)}")
    config = Config.from_json(need(obj, "config", dict, "an object"))
    prog = Program.from_json(need(obj, "program", dict, "an object"))
    if len(prog.procs) != config.procs or len(prog.caps) != config.channels:
        raise FormatError("field 'program' does not match field 'config' (procs/channels)")
    check = need(obj, "check", str, "a string")
    if check not in CHECKS:
        raise FormatError(f"field 'check' must be one of {CHECKS}, got {check!r}")
    message = need(obj, "message", str, "a string")
    fbe = obj.get("first_bad_event")
    index = None
    if fbe is not None:
        if not isinstance(fbe, dict) or isinstance(fbe.get("index"), bool) or not isinstance(
                fbe.get("index"), int):
            raise FormatError("field 'first_bad_event' must be null or {\"index\": int, ...}")
        index = fbe["index"]
    events = trace_events(need(obj, "trace", list, "a list of events"), text)
    out = _outcome(need(obj, "outcome", dict, "an object"), events, prog)
    return Replay(path, seed, run_seed, config, prog, check, message, index, out)


_OUTCOME_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "obs": (list, "a list per task"),
    "started": (list, "a list of booleans"),
    "ended": (list, "a list"),
    "task_ids": (list, "a list of task ids"),
    "chan_ids": (list, "a list of channel ids"),
    "errors": (list, "a list of strings"),
    "hang": (bool, "a boolean"),
    "buffers": (list, "a list per channel"),
    "seconds": ((int, float), "a number"),
}


def _outcome(obj: dict[str, Any], events: list[dict[str, Any]], prog: Program) -> Outcome:
    vals = {}
    for key, (kind, what) in _OUTCOME_FIELDS.items():
        try:
            vals[key] = need(obj, key, kind, what)
        except FormatError as e:
            raise FormatError(f"outcome: {e}") from None
    n = len(prog.tasks)
    for key in ("obs", "started", "ended", "task_ids"):
        if len(vals[key]) != n:
            raise FormatError(f"field outcome.{key} must have one entry per task ({n})")
    for g, obs in enumerate(vals["obs"]):
        for j, o in enumerate(obs):
            if (not isinstance(o, dict) or not isinstance(o.get("step"), int)
                    or not 0 <= o["step"] < len(prog.tasks[g])
                    or not isinstance(o.get("res"), list) or not o["res"]):
                raise FormatError(f"field outcome.obs[{g}][{j}] must be "
                                  f"{{\"step\": <step of t{g}>, \"res\": [...]}}")
            if (o["res"][0] == "kill") != (prog.tasks[g][o["step"]][0] == "kill"):
                raise FormatError(f"field outcome.obs[{g}][{j}]: a kill result must belong "
                                  f"to a kill step and vice versa")
    if len(vals["chan_ids"]) != len(prog.caps) or len(vals["buffers"]) != len(prog.caps):
        raise FormatError("fields outcome.chan_ids/buffers need one entry per channel")
    for key in ("traced", "held"):
        if not isinstance(obj.get(key, False), bool):
            raise FormatError(f"field outcome.{key} must be a boolean")
        vals[key] = obj.get(key, key == "traced")
    deadlock = obj.get("deadlock")
    if deadlock is not None and not isinstance(deadlock, list):
        raise FormatError("field outcome.deadlock must be null or a list of task ids")
    return Outcome(events=events, deadlock=deadlock, **vals)


# --------------------------------------------------------------------------- replaying


def normalize_trace(events: list[dict[str, Any]], task_ids: list[int | None],
                    chan_ids: list[int]) -> list[tuple[Any, ...]]:
    """The trace with runtime ids replaced by program indices and ``seq``/``proc`` dropped,
    so that two runs of one single-proc program compare equal iff they took the same
    schedule."""
    tmap = {tid: f"t{g}" for g, tid in enumerate(task_ids) if tid is not None}
    cmap = {cid: f"c{c}" for c, cid in enumerate(chan_ids)}
    out = []
    for ev in events:
        row: list[Any] = []
        for k in sorted(ev):
            if k in ("seq", "proc", "run", "t"):
                continue
            v = ev[k]
            if k in ("task", "partner", "by"):
                v = tmap.get(v, v)
            elif k == "chan":
                v = cmap.get(v, v)
            elif k == "ops":
                v = [[d, cmap.get(c, c)] for d, c in v]
            elif k == "woken":
                v = [[tmap.get(u, u), j] for u, j in v]
            row.append((k, json.dumps(v)))
        out.append(tuple(row))
    return out


@dataclasses.dataclass
class ReplayResult:
    """What :func:`replay` found."""

    saved: Verdict
    reruns: list[Verdict]
    same_schedule: list[bool | None]

    @property
    def ok(self) -> bool:
        return self.saved.ok and all(v.ok for v in self.reruns)


def replay(rp: Replay, runs: int = 1, timeout: float = 10.0) -> ReplayResult:
    """Re-check the saved outcome and trace, then re-run the program ``runs`` times with
    its seed (single proc: the schedule must come out identical)."""
    saved = check_outcome(rp.program, rp.outcome)
    reruns: list[Verdict] = []
    same: list[bool | None] = []
    want = normalize_trace(rp.outcome.events, rp.outcome.task_ids, rp.outcome.chan_ids)
    for _ in range(runs):
        out = execute(rp.program, rp.seed, timeout, rp.outcome.traced, rp.outcome.held)
        reruns.append(check_outcome(rp.program, out))
        if rp.config.procs == 1 and not rp.outcome.hang and rp.outcome.traced:
            same.append(normalize_trace(out.events, out.task_ids, out.chan_ids) == want)
        else:
            same.append(None)
        if out.hang:
            break
    return ReplayResult(saved, reruns, same)
