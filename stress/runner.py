"""``python -m stress run``: generate, execute and check random programs for a while.

Program ``k`` of a run with seed ``S`` is generated from, and scheduled with, the ``k``-th
number drawn from ``random.Random(S)``; that per-program seed is printed with every
failure and saved in its replay file.  With ``--procs 1`` the seed reproduces the whole
schedule (``Runner(seed=...)``); across procs the OS interleaves the threads, and the
seed still reproduces the program and each proc's alt choices.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

from .checks import Verdict, check_outcome
from .execute import Outcome, execute, world_is_idle
from .program import Config, Program, config_summary, generate
from .replay import save

__all__ = ["RunOptions", "Summary", "run"]


@dataclasses.dataclass
class RunOptions:
    """Options of ``python -m stress run``."""

    duration: float = 60.0
    seed: int | None = None
    config: Config = dataclasses.field(default_factory=Config)
    max_programs: int | None = None
    max_failures: int = 1
    hang_timeout: float = 10.0
    failures_dir: Path = Path(__file__).resolve().parent / "failures"
    switch_interval: float | None = None
    untraced: float = 0.2  # fraction of programs run without a tracer (fast paths)
    all_nil: bool = True  # also generate alts whose cases are all nil
    hold_procs: bool = False  # workaround: no proc exits before all are idle
    quiet: bool = False


@dataclasses.dataclass
class Summary:
    """The totals of a run."""

    seed: int
    programs: int = 0
    untraced: int = 0
    events: int = 0
    deadlocks: int = 0
    seconds: float = 0.0
    check_seconds: float = 0.0
    failures: list[tuple[int, str, Path]] = dataclasses.field(default_factory=list)
    actions: Counter[str] = dataclasses.field(default_factory=Counter)
    aborted: str | None = None

    def line(self) -> str:
        """The one-line progress report."""
        rate = self.events / self.seconds if self.seconds else 0.0
        return (f"[{self.seconds:6.1f}s] programs {self.programs:6d}  events {self.events:9,d} "
                f"({rate:7,.0f}/s)  deadlocks {self.deadlocks:5d}  "
                f"failures {len(self.failures)}")

    def report(self) -> str:
        """The final summary."""
        rate = self.events / self.seconds if self.seconds else 0.0
        crate = self.events / self.check_seconds if self.check_seconds else 0.0
        top = ", ".join(f"{a} {n}" for a, n in self.actions.most_common())
        lines = [
            "== stress summary",
            f"seed            {self.seed}",
            f"programs run    {self.programs} ({self.untraced} untraced; "
            f"{self.deadlocks} ended in Deadlock, all agreed by the checks)",
            f"events checked  {self.events:,} ({rate:,.0f}/s overall, {crate:,.0f}/s in "
            f"the checkers)",
            f"wall time       {self.seconds:.1f} s",
            f"actions         {top}",
            f"failures        {len(self.failures)}",
        ]
        lines += [f"  seed {s}: {check} -> {p}" for s, check, p in self.failures]
        if self.aborted:
            lines.append(f"aborted: {self.aborted}")
        return "\n".join(lines)


def run(opts: RunOptions, stream: TextIO | None = None) -> Summary:
    """The run loop: until ``duration`` (or ``max_programs``) is used up, or a failure
    limit or a hang stops it.  Progress goes to ``stream`` (default: stdout)."""
    stream = stream if stream is not None else sys.stdout
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(2**32)
    summary = Summary(seed)
    rng = random.Random(seed)
    old_interval = sys.getswitchinterval()
    if opts.switch_interval is not None:
        sys.setswitchinterval(opts.switch_interval)
    if not opts.quiet:
        print(f"stress: seed {seed}; {config_summary(opts.config)}; "
              f"{opts.duration:g} s", file=stream, flush=True)
    t0 = time.monotonic()
    last = t0
    tty = stream.isatty()
    every = 1.0 if tty else 10.0
    try:
        while _more(opts, summary, t0):
            pseed = rng.getrandbits(63)
            _one(opts, summary, pseed)
            summary.seconds = time.monotonic() - t0
            if not opts.quiet and time.monotonic() - last >= every:
                last = time.monotonic()
                print(("\r" if tty else "") + summary.line(), end="" if tty else "\n",
                      file=stream, flush=True)
    finally:
        sys.setswitchinterval(old_interval)
    summary.seconds = time.monotonic() - t0
    if not opts.quiet:
        if tty:
            print("\r" + summary.line(), file=stream)
        print(summary.report(), file=stream, flush=True)
    return summary


def _more(opts: RunOptions, summary: Summary, t0: float) -> bool:
    if summary.aborted or len(summary.failures) >= opts.max_failures:
        return False
    if opts.max_programs is not None and summary.programs >= opts.max_programs:
        return False
    return time.monotonic() - t0 < opts.duration


def _one(opts: RunOptions, summary: Summary, pseed: int) -> None:
    """Generate, execute and check one program; record a failure's replay file."""
    prng = random.Random(pseed)
    prog = generate(prng, opts.config, opts.all_nil)
    traced = prng.random() >= opts.untraced
    if not world_is_idle():
        summary.aborted = "procs of an earlier program are still registered"
        return
    out = execute(prog, pseed, opts.hang_timeout, traced, opts.hold_procs)
    verdict = check_outcome(prog, out)
    summary.programs += 1
    summary.events += verdict.events
    summary.check_seconds += verdict.check_seconds
    summary.deadlocks += out.deadlock is not None
    summary.untraced += not traced
    summary.actions.update(ev["action"] for ev in out.events)
    if not verdict.ok:
        _fail(opts, summary, pseed, prog, out, verdict)
    if out.hang:
        summary.aborted = "a program hung; its procs cannot be reclaimed, stopping"


def _fail(opts: RunOptions, summary: Summary, pseed: int, prog: Program, out: Outcome,
          verdict: Verdict) -> None:
    path = save(opts.failures_dir, run_seed=summary.seed, seed=pseed, config=opts.config,
                prog=prog, out=out, verdict=verdict)
    first = verdict.failures[0]
    summary.failures.append((pseed, first.check, path))
    if not opts.quiet:
        print(f"\nFAILURE (program seed {pseed}, check {first.check!r}):\n"
              f"{_indent(first.message, 40)}\nreplay file: {path}\n"
              f"  re-check and re-run: python -m stress replay {path}", flush=True)


def _indent(text: str, max_lines: int) -> str:
    lines = text.splitlines()
    more = len(lines) - max_lines
    lines = lines[:max_lines] + ([f"... ({more} more lines in the replay file)"]
                                 if more > 0 else [])
    return "\n".join("  " + x for x in lines)
