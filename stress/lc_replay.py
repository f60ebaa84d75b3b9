"""Replay files of lifecycle programs (the same JSON layout as :mod:`stress.replay`, with
``"kind": "lifecycle"``).

Fields: ``format``, ``version`` (1), ``kind``, ``created``, ``libtask9``, ``python``,
``run_seed``, ``seed``, ``program`` (:class:`~stress.lc_program.LcProgram`), ``batch``
(the programs that ran at the same time, on other threads) and ``batch_seeds``,
``check``, ``message``, ``failures``, ``outcome`` (:class:`~stress.lc_execute.LcOutcome`
without its events) and ``trace``: the run's lifecycle and channel events, one per line.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .checks import Verdict
from .lc_checks import LC_CHECKS, check_lc, known_bugs
from .lc_execute import LcOutcome, execute_batch, execute_in_main_thread
from .lc_program import LcProgram, describe_lc_step, invariant_violations
from .program import FormatError
from .replayfile import VERSION, header, need, trace_events, verdict_text, write

__all__ = ["LcReplay", "load_lc", "print_lc_replay", "replay_lc", "save_lc"]



@dataclasses.dataclass
class LcReplay:
    """A loaded lifecycle replay file."""

    path: str
    seed: int
    run_seed: int | None
    program: LcProgram
    batch: list[LcProgram]
    batch_seeds: list[int]
    check: str
    message: str
    outcome: LcOutcome


def save_lc(directory: str | os.PathLike[str], *, run_seed: int | None, seed: int,
            prog: LcProgram, out: LcOutcome, verdict: Verdict,
            batch: Sequence[LcProgram] = (), batch_seeds: Sequence[int] = ()) -> Path:
    """Write the replay file of a failed lifecycle run; return its path."""
    first = verdict.failures[0]
    head: dict[str, Any] = {
        **header(),
        "kind": "lifecycle",
        "run_seed": run_seed,
        "seed": seed,
        "program": prog.to_json(),
        "batch": [p.to_json() for p in batch],
        "batch_seeds": list(batch_seeds),
        "check": first.check,
        "message": first.message,
        "failures": [f.to_json() for f in verdict.failures],
        "outcome": out.to_json(),
    }
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return write(directory, f"{stamp}-lifecycle-seed{seed}-{first.check}.json", head,
                 sorted(out.events, key=lambda e: e["seq"]))


# --------------------------------------------------------------------------- loading


_OUTCOME_LISTS = ("res", "started", "blocked", "fin", "ended", "task_ids", "task_states",
                  "task_excs")


def load_lc(path: str, obj: dict[str, Any], text: str) -> LcReplay:
    """Validate a parsed lifecycle replay file (``obj``; ``text`` for line numbers)."""
    version = need(obj, "version", int, "an integer")
    if version != VERSION:
        raise FormatError(f"field 'version': unsupported version {version} (this reader "
                          f"knows {VERSION})")
    seed = need(obj, "seed", int, "an integer")
    run_seed = obj.get("run_seed")
    if run_seed is not None and (isinstance(run_seed, bool) or not isinstance(run_seed, int)):
        raise FormatError("field 'run_seed' must be an integer or null")
    prog = LcProgram.from_json(need(obj, "program", dict, "an object"))
    bad = invariant_violations(prog)
    if bad and not any(step[0] == "hold" for steps in prog.tasks for step in steps):
        raise FormatError(f"field 'program' is not well built: {bad[0]}")
    batch = [LcProgram.from_json(p, f"batch[{k}]")
             for k, p in enumerate(need(obj, "batch", list, "a list of programs"))]
    batch_seeds = need(obj, "batch_seeds", list, "a list of seeds")
    if len(batch_seeds) != len(batch) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in batch_seeds):
        raise FormatError("field 'batch_seeds' must hold one integer seed per batch program")
    check = need(obj, "check", str, "a string")
    if check not in LC_CHECKS:
        raise FormatError(f"field 'check' must be one of {LC_CHECKS}, got {check!r}")
    message = need(obj, "message", str, "a string")
    events = trace_events(need(obj, "trace", list, "a list of events"), text)
    o = need(obj, "outcome", dict, "an object")
    n = len(prog.tasks)
    for key in _OUTCOME_LISTS:
        v = o.get(key)
        if not isinstance(v, list) or len(v) != n:
            raise FormatError(f"field outcome.{key} must be a list with one entry per task "
                              f"({n})")
    for key in ("run",):
        if not isinstance(o.get(key), dict):
            raise FormatError(f"field outcome.{key} must be an object")
    for key in ("errors", "leftovers", "proc_ids", "chan_ids", "chan_lens"):
        if not isinstance(o.get(key), list):
            raise FormatError(f"field outcome.{key} must be a list")
    if not isinstance(o.get("hang"), bool):
        raise FormatError("field outcome.hang must be a boolean")
    names = {f.name for f in dataclasses.fields(LcOutcome)} - {"events"}
    unknown = sorted(set(o) - names)
    if unknown:
        raise FormatError(f"outcome: unknown field {unknown[0]!r}")
    try:
        out = LcOutcome(events=events, **o)
    except TypeError as e:
        raise FormatError(f"field 'outcome': {e}") from None
    return LcReplay(path, seed, run_seed, prog, batch, batch_seeds, check, message, out)


# --------------------------------------------------------------------------- replaying


@dataclasses.dataclass
class LcReplayResult:
    """What :func:`replay_lc` found."""

    saved: Verdict
    reruns: list[Verdict]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return self.saved.ok and all(v.ok for v in self.reruns)


def replay_lc(rp: LcReplay, runs: int = 1, timeout: float = 10.0,
              alone: bool = False, strict: bool | None = None) -> LcReplayResult:
    """Re-check the saved outcome, then re-run the program ``runs`` times with its seed:
    with its batch companions at once (unless ``alone``), an interrupt program in the
    main thread.  ``strict`` is passed to :func:`~stress.lc_checks.check_lc` (default:
    strict iff the saved outcome fails only as a known bug, i.e. it was saved by a
    ``--strict`` run)."""
    if strict is None:
        strict = bool(known_bugs(rp.program, rp.outcome)) and not check_lc(
            rp.program, rp.outcome).failures
    saved = check_lc(rp.program, rp.outcome, strict)
    reruns: list[Verdict] = []
    notes: list[str] = []
    virtual = rp.outcome.vclock is not None  # (it ran on a VirtualClock: so do the re-runs)
    for _ in range(runs):
        if rp.program.mode == "interrupt":
            if threading.current_thread() is not threading.main_thread():
                notes.append("an interrupt program re-runs only in the main thread: skipped")
                break
            out = execute_in_main_thread(rp.program, rp.seed, timeout, rp.outcome.traced,
                                         virtual=virtual)
        else:
            progs = [rp.program] + ([] if alone else rp.batch)
            seeds = [rp.seed] + ([] if alone else rp.batch_seeds)
            outs = execute_batch(progs, seeds, timeout, rp.outcome.traced, virtual=virtual)
            out = outs[0]
            for k, (p, o) in enumerate(zip(progs[1:], outs[1:], strict=True)):
                v = check_lc(p, o, strict)
                if not v.ok:
                    notes.append(f"batch companion {k} failed too: {v.failures[0].check}")
        reruns.append(check_lc(rp.program, out, strict))
        if out.hang:
            notes.append("the re-run hung: no further re-runs")
            break
    return LcReplayResult(saved, reruns, notes)


def print_lc_replay(rp: LcReplay, res: LcReplayResult, out: TextIO | None = None) -> None:
    """Print the saved verdict, the program, and each re-run's verdict."""
    out = out if out is not None else sys.stdout
    p = rp.program
    print(f"replay {rp.path}", file=out)
    print(f"  lifecycle program seed {rp.seed} (run seed {rp.run_seed}), mode {p.mode}, "
          f"{len(p.procs)} procs, {len(p.tasks)} tasks, {len(p.caps)} channels; ran "
          f"{rp.outcome.where}; {len(rp.outcome.events)} events saved", file=out)
    print(f"  recorded failure: {rp.check}", file=out)
    print("  program:", file=out)
    for q, gs in enumerate(p.procs):
        for g in gs:
            steps = "; ".join(describe_lc_step(s) for s in p.tasks[g])
            print(f"    proc {q} t{g} ({p.roles[g]}, rank {p.ranks[g]}): {steps}", file=out)
    for k, grp in enumerate(p.groups):
        body = "; ".join(describe_lc_step(s) for s in grp["body"]) or "-"
        print(f"    group {k} ({grp['kind']}) of t{grp['owner']}, channels "
              f"{[f'c{c}' for c in grp['chans']]}, body: {body}", file=out)
        for h in grp["members"]:
            steps = "; ".join(describe_lc_step(s) for s in p.tasks[h])
            where = "a proc of its own" if h in grp["procs"] else "a task"
            print(f"      t{h} (member, {where}, rank {p.ranks[h]}): {steps}", file=out)
    print(f"saved outcome re-checked: {verdict_text(res.saved)}", file=out)
    for n, v in enumerate(res.reruns, start=1):
        print(f"re-run {n} (seed {rp.seed}): {verdict_text(v)}", file=out)
    for note in res.notes:
        print(f"note: {note}", file=out)
