"""``python -m stress lifecycle``: lifecycle programs back to back and several at once.

Each iteration draws, from the run's ``random.Random(seed)``, what it runs:

* an **interrupt** program (``--interrupts``, default 10 %), alone, with ``run()`` in
  the process's main thread (SIGINT is delivered there);
* a **batch** of 2..``--concurrent`` programs (``--batch-rate``, default 30 %), each in
  ``normal`` or ``kill_main`` mode, run at once on as many plain threads and checked one
  by one (a run's outcome depends only on its own tasks);
* otherwise one ``normal`` or ``kill_main`` (``--kill-main``, default 15 %) program on a
  helper thread under the watchdog;

whether it is traced (``--untraced``, default 20 % are not: the runtime's inline
fast paths), and whether its runs read a ``VirtualClock(autojump=True)`` (``--virtual``,
default 15 %: only when timers fire changes, the checks are the same, plus ``clock``).
Program ``k`` gets the ``k``-th 63-bit number drawn as its seed: it generates the
program (:func:`stress.lc_program.generate_lc`) and seeds its ``Runner``.
After every iteration: no libtask9 proc or IOProc thread may be alive and no run live.
A hang stops the whole command (the hung run's threads cannot be reclaimed).
"""

from __future__ import annotations

import dataclasses
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

from .checks import Verdict
from .lc_checks import check_lc, known_bugs, missed_members
from .lc_execute import LcOutcome, execute_batch, execute_in_main_thread, leftover_threads
from .lc_program import LcConfig, LcProgram, expected_outcome, generate_lc
from .lc_replay import save_lc
from .lc_structured import timeout_interruptions, virtual_end

__all__ = ["LcOptions", "LcSummary", "run_lifecycle"]


@dataclasses.dataclass
class LcOptions:
    """Options of ``python -m stress lifecycle``."""

    duration: float = 60.0
    seed: int | None = None
    concurrent: int = 4  # largest batch (1: no batches)
    batch_rate: float = 0.3
    interrupts: float = 0.1
    kill_main: float = 0.15
    untraced: float = 0.2
    virtual: float = 0.15
    config: LcConfig = dataclasses.field(default_factory=LcConfig)
    max_runs: int | None = None
    max_failures: int = 1
    hang_timeout: float = 10.0
    switch_interval: float | None = 1e-5
    failures_dir: Path = Path(__file__).resolve().parent / "failures"
    strict: bool = True  # the fixed bugs' fingerprints are failures (--lenient: counted)
    strict_open: bool = True  # the TaskGroup bugs' fingerprints are failures (fixed)
    quiet: bool = False


@dataclasses.dataclass
class LcSummary:
    """The totals of a lifecycle stress run."""

    seed: int
    strict: bool = False
    strict_open: bool = True
    runs: int = 0
    batches: int = 0
    batched_runs: int = 0
    untraced: int = 0
    deadlocks_expected: int = 0
    deadlocks_declared: int = 0
    deadlocks_known: int = 0  # unexpected, explained by an open bug (missed_member)
    returned: int = 0
    stuck_elsewhere: int = 0  # returned with stuck tasks of other procs unwound
    kills_of_main: int = 0
    interrupts: int = 0
    victims: int = 0
    #: runs that showed each known runtime bug's fingerprint (lc_checks.known_bugs)
    known: Counter[str] = dataclasses.field(default_factory=Counter)
    #: TaskGroup blocks that ended, by kind and how ("ok ok", "fail raised", ...)
    groups: Counter[str] = dataclasses.field(default_factory=Counter)
    members_killed: int = 0  # members killed by their group (TaskKilled)
    #: race steps that ended: "completed", "expired", "completed, then interrupted"
    races: Counter[str] = dataclasses.field(default_factory=Counter)
    timeouts_raised: int = 0  # races whose timeout(d) raised Timeout
    timeout_events: int = 0  # timeout interruptions in the traces the oracle replayed
    virtual: int = 0  # runs on a VirtualClock(autojump=True)
    virtual_exact: int = 0  # ... whose end time was checked against the critical path
    values: int = 0  # values sent whose fate conservation checked
    steps: int = 0
    events: int = 0
    seconds: float = 0.0
    run_seconds: float = 0.0
    failures: list[tuple[int, str, Path]] = dataclasses.field(default_factory=list)
    aborted: str | None = None

    def line(self) -> str:
        """The one-line progress report."""
        rate = self.runs / self.seconds if self.seconds else 0.0
        return (f"[{self.seconds:6.1f}s] runs {self.runs:6d} ({rate:5.1f}/s)  batches "
                f"{self.batches:5d}  deadlocks {self.deadlocks_declared:5d}  kills of main "
                f"{self.kills_of_main:4d}  interrupts {self.interrupts:4d}  "
                f"failures {len(self.failures)}")

    def report(self) -> str:
        """The final summary."""
        rate = self.runs / self.seconds if self.seconds else 0.0
        lines = [
            "== lifecycle stress summary",
            f"seed              {self.seed}",
            f"runs              {self.runs} checked ({rate:.1f} runs/s; {self.untraced} "
            f"untraced; {self.steps:,} script steps, {self.events:,} trace events)",
            f"concurrent        {self.batches} batches ({self.batched_runs} runs on 2+ "
            f"threads at once)",
            f"deadlocks         {self.deadlocks_expected} expected, "
            f"{self.deadlocks_declared} declared"
            + (f" ({self.deadlocks_known} of them unexpected: the open bug missed_member)"
               if self.deadlocks_known else ""),
            f"returned          {self.returned} ({self.stuck_elsewhere} with stuck tasks "
            f"in other procs, unwound)",
            f"kills of main     {self.kills_of_main}",
            f"interrupts        {self.interrupts}",
            f"victims killed    {self.victims}",
            f"groups            {sum(self.groups.values())} ended ("
            + ", ".join(f"{k} {v}" for k, v in sorted(self.groups.items()))
            + f"); {self.members_killed} members killed by their group",
            f"timeout races     {sum(self.races.values())} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(self.races.items()))
            + f"); Timeout raised {self.timeouts_raised}; {self.timeout_events} timeout "
            f"interruptions replayed by the oracle",
            f"conservation      {self.values:,} values sent, each received once or left "
            f"buffered",
            f"virtual clock     {self.virtual} runs ({self.virtual_exact} ended exactly at "
            f"the critical path)",
            f"known bugs        late_thread {self.known['late_thread']} (run() returned "
            f"while an exited proc's thread was alive), lost_interrupt "
            f"{self.known['lost_interrupt']}, escaped_interrupt "
            f"{self.known['escaped_interrupt']}, swallowed_interrupt "
            f"{self.known['swallowed_interrupt']} (stress/README.md, \"Findings\"; "
            f"{'failures' if self.strict else 'counted, not failures: --lenient'})",
            f"open bugs         abandoned_owner {self.known['abandoned_owner']} (the run-end "
            f"unwinding abandoned a TaskGroup owner waiting for a member proc), "
            f"missed_member {self.known['missed_member']} (a group cancelled while a "
            f"member was being added never killed it) ("
            f"{'failures' if self.strict_open else 'counted, not failures: --lenient'})",
            f"wall time         {self.seconds:.1f} s",
            f"failures          {len(self.failures)}",
        ]
        lines += [f"  seed {s}: {check} -> {p}" for s, check, p in self.failures]
        if self.aborted:
            lines.append(f"aborted: {self.aborted}")
        return "\n".join(lines)


def run_lifecycle(opts: LcOptions, stream: TextIO | None = None) -> LcSummary:
    """The loop: until ``duration`` (or ``max_runs``) is used up, a failure limit is
    reached or a run hangs.  Progress goes to ``stream`` (default: stdout)."""
    stream = stream if stream is not None else sys.stdout
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(2**32)
    summary = LcSummary(seed, strict=opts.strict, strict_open=opts.strict_open)
    rng = random.Random(seed)
    old_interval = sys.getswitchinterval()
    if opts.switch_interval is not None:
        sys.setswitchinterval(opts.switch_interval)
    in_main = threading.current_thread() is threading.main_thread()
    if not opts.quiet:
        print(f"stress lifecycle: seed {seed}; {opts.duration:g} s; batches of up to "
              f"{opts.concurrent}" + ("" if in_main else "; not the main thread: no "
                                      "interrupt programs"), file=stream, flush=True)
    t0 = time.monotonic()
    last = t0
    tty = stream.isatty()
    every = 1.0 if tty else 10.0
    try:
        while _more(opts, summary, t0):
            _iteration(opts, summary, rng, in_main, stream)
            summary.seconds = time.monotonic() - t0
            if not opts.quiet and time.monotonic() - last >= every:
                last = time.monotonic()
                print(("\r" if tty else "") + summary.line(), end="" if tty else "\n",
                      file=stream, flush=True)
    finally:
        sys.setswitchinterval(old_interval)
    summary.seconds = time.monotonic() - t0
    if not summary.aborted and (leftover_threads() or _live()):
        summary.aborted = f"left after the last run: {leftover_threads()} {_live()}"
    if not opts.quiet:
        if tty:
            print("\r" + summary.line(), file=stream)
        print(summary.report(), file=stream, flush=True)
    return summary


def _live() -> list[object]:
    import libtask9

    return list(libtask9._world.live_worlds())


def _more(opts: LcOptions, summary: LcSummary, t0: float) -> bool:
    if summary.aborted or len(summary.failures) >= opts.max_failures:
        return False
    if opts.max_runs is not None and summary.runs >= opts.max_runs:
        return False
    return time.monotonic() - t0 < opts.duration


def _iteration(opts: LcOptions, summary: LcSummary, rng: random.Random, in_main: bool,
               stream: TextIO) -> None:
    """Draw, run and check one iteration (a single run or a batch)."""
    r = rng.random()
    traced = rng.random() >= opts.untraced
    virtual = rng.random() < opts.virtual
    if in_main and r < opts.interrupts:
        pseed = rng.getrandbits(63)
        prog = generate_lc(random.Random(pseed), "interrupt", opts.config)

        def on_hang(out: LcOutcome) -> None:  # the main thread is stuck: report, exit
            _record(opts, summary, [prog], [pseed], [out], stream)
            print(summary.report(), file=stream, flush=True)
            import os

            os._exit(1)

        outs = [execute_in_main_thread(prog, pseed, opts.hang_timeout, traced, on_hang,
                                       virtual=virtual)]
        _record(opts, summary, [prog], [pseed], outs, stream)
        return
    n = 1
    if opts.concurrent >= 2 and r >= 1.0 - opts.batch_rate:
        n = rng.randint(2, opts.concurrent)
    seeds = [rng.getrandbits(63) for _ in range(n)]
    modes = ["kill_main" if rng.random() < opts.kill_main else "normal" for _ in range(n)]
    progs = [generate_lc(random.Random(s), m, opts.config) for s, m in zip(seeds, modes,
                                                                              strict=True)]
    outs = execute_batch(progs, seeds, opts.hang_timeout, traced,
                         names=[f"lc{summary.runs + k}" for k in range(n)], virtual=virtual)
    if n > 1:
        summary.batches += 1
        summary.batched_runs += n
    _record(opts, summary, progs, seeds, outs, stream)


def _record(opts: LcOptions, summary: LcSummary, progs: list[LcProgram], seeds: list[int],
            outs: list[LcOutcome], stream: TextIO) -> None:
    for k, (prog, pseed, out) in enumerate(zip(progs, seeds, outs, strict=True)):
        verdict = check_lc(prog, out, strict=opts.strict, strict_open=opts.strict_open)
        summary.runs += 1
        _count_structured(summary, prog, out)
        summary.known.update(known_bugs(prog, out))
        summary.untraced += not out.traced
        summary.steps += sum(len(r) for r in out.res)
        summary.events += len(out.events)
        summary.run_seconds += out.seconds
        want, _ = expected_outcome(prog)
        got = out.run_name()
        summary.deadlocks_expected += want == "Deadlock"
        summary.deadlocks_declared += got == "Deadlock"
        summary.deadlocks_known += got == "Deadlock" and want != "Deadlock" and bool(
            missed_members(prog, out))
        summary.kills_of_main += prog.mode == "kill_main" and got == "TaskKilled"
        summary.interrupts += prog.mode == "interrupt" and got == "KeyboardInterrupt"
        if got == "returned":
            summary.returned += 1
            summary.stuck_elsewhere += bool(prog.stuck())
        summary.victims += sum(1 for g in prog.victims() if out.ended[g] == "TaskKilled")
        if not verdict.ok:
            companions = [p for j, p in enumerate(progs) if j != k]
            _fail(opts, summary, pseed, prog, out, verdict, companions,
                  [s for j, s in enumerate(seeds) if j != k], stream)
        if out.hang:
            summary.aborted = "a run hung; its threads cannot be reclaimed, stopping"


def _count_structured(summary: LcSummary, prog: LcProgram, out: LcOutcome) -> None:
    """Count the groups, races, values and virtual-clock runs of one outcome."""
    for g, steps in enumerate(prog.tasks):
        for s, res in enumerate(out.res[g][:len(steps)]):
            if steps[s][0] == "group" and isinstance(res, list) and len(res) > 1:
                summary.groups[f"{prog.groups[steps[s][1]]['kind']} {res[1]}"] += 1
            elif steps[s][0] == "race" and isinstance(res, list) and len(res) > 4:
                summary.races["completed" if res[1] and not res[2] else "expired"
                              if not res[1] else "completed, then interrupted"] += 1
                summary.timeouts_raised += res[4] is True
    members = {h for grp in prog.groups for h in grp["members"]}
    summary.members_killed += sum(1 for h in members if out.ended[h] == "TaskKilled"
                                  or (not out.started[h] and out.task_excs[h] == "TaskKilled"))
    summary.timeout_events += sum(timeout_interruptions(out.events).values())
    summary.values += sum(1 for o in out.obs if o[1] == "sent")
    if out.vclock is not None:
        summary.virtual += 1
        summary.virtual_exact += virtual_end(prog) is not None and out.run_name() in (
            "returned", "Deadlock")


def _fail(opts: LcOptions, summary: LcSummary, pseed: int, prog: LcProgram, out: LcOutcome,
          verdict: Verdict, companions: list[LcProgram], companion_seeds: list[int],
          stream: TextIO) -> None:
    path = save_lc(opts.failures_dir, run_seed=summary.seed, seed=pseed, prog=prog, out=out,
                   verdict=verdict, batch=companions, batch_seeds=companion_seeds)
    first = verdict.failures[0]
    summary.failures.append((pseed, first.check, path))
    if not opts.quiet:
        lines = first.message.splitlines()
        more = len(lines) - 40
        body = "\n".join("  " + x for x in lines[:40]) + (
            f"\n  ... ({more} more lines in the replay file)" if more > 0 else "")
        print(f"\nFAILURE (lifecycle program seed {pseed}, mode {prog.mode}, {out.where}, "
              f"check {first.check!r}):\n{body}\nreplay file: {path}\n"
              f"  re-check and re-run: python -m stress replay {path}", file=stream,
              flush=True)
