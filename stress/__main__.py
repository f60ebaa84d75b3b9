"""Stress testing of libtask9 against the oracle (see stress/README.md).

  run          random multi-proc programs on the runtime, every outcome checked
  lifecycle    random runs of procs, joins, timers, iocalls, kills and interrupts, back
               to back and several at once, every outcome checked
  replay FILE  re-check a saved failure and re-run its program
  check-trace  TLC trace validation of fresh traces and of planted bugs
  mutants      plant runtime bugs in a copy of libtask9; expect each to be caught
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .program import Config, FormatError


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m stress", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run random programs on the runtime and check them")
    r.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    r.add_argument("--seed", type=int, default=None, help="run seed (default: random)")
    for flag, default, what in (("--procs", Config.procs, "procs per program"),
                                ("--tasks", Config.tasks, "tasks per proc"),
                                ("--channels", Config.channels, "channels, capacities 0..3"),
                                ("--ops", Config.ops, "max steps per task")):
        r.add_argument(flag, type=_positive, default=default, help=f"{what} (default {default})")
    r.add_argument("--programs", type=_positive, default=None, help="stop after N programs")
    r.add_argument("--max-failures", type=_positive, default=1,
                   help="stop after N failures (default 1)")
    r.add_argument("--hang-timeout", type=float, default=10.0,
                   help="watchdog bound per program, seconds (default 10)")
    r.add_argument("--switch-interval", type=float, default=1e-5,
                   help="sys.setswitchinterval during the run (default 1e-5 s: the GIL "
                        "changes hands ~500x more often than CPython's 5 ms, so races "
                        "between procs show up; it costs ~8%% of the programs)")
    r.add_argument("--untraced", type=float, default=0.2,
                   help="fraction of programs run without a tracer, exercising the runtime's "
                        "inline fast paths (observation checks only; default 0.2)")
    r.add_argument("--no-all-nil", dest="all_nil", action="store_false",
                   help="leave out alts whose cases are all nil (runtimes before cfe121b "
                        "did not trace them)")
    r.add_argument("--hold-procs", action="store_true",
                   help="keep every proc alive until all are idle (workaround for the missed "
                        "deadlock on proc exit of runtimes before cfe121b; see README)")
    r.add_argument("--failures-dir", type=Path, default=None,
                   help="where replay files go (default stress/failures/)")
    r.add_argument("--quiet", action="store_true", help="only the summary")
    lc = sub.add_parser("lifecycle", help="lifecycle programs back to back and at once")
    lc.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    lc.add_argument("--seed", type=int, default=None, help="run seed (default: random)")
    lc.add_argument("--concurrent", type=_positive, default=4,
                    help="largest batch of runs at once on plain threads (default 4; 1: none)")
    lc.add_argument("--batch-rate", type=float, default=0.3,
                    help="fraction of iterations that run a batch (default 0.3)")
    lc.add_argument("--interrupts", type=float, default=0.1,
                    help="fraction of iterations that run an interrupt program in the main "
                         "thread (default 0.1)")
    lc.add_argument("--kill-main", type=float, default=0.15,
                    help="fraction of the other programs in which a task kills main "
                         "(default 0.15)")
    lc.add_argument("--untraced", type=float, default=0.2,
                    help="fraction of iterations run without a tracer (default 0.2)")
    lc.add_argument("--virtual", type=float, default=0.15,
                    help="fraction of iterations whose runs read a VirtualClock(autojump="
                         "True) (default 0.15)")
    lc.add_argument("--runs", type=_positive, default=None, help="stop after N runs")
    lc.add_argument("--max-failures", type=_positive, default=1,
                    help="stop after N failures (default 1)")
    lc.add_argument("--hang-timeout", type=float, default=10.0,
                    help="watchdog bound per run, seconds (default 10)")
    lc.add_argument("--switch-interval", type=float, default=1e-5,
                    help="sys.setswitchinterval during the run (default 1e-5 s)")
    lc.add_argument("--failures-dir", type=Path, default=None,
                    help="where replay files go (default stress/failures/)")
    lc.add_argument("--lenient", dest="strict", action="store_false",
                    help="only count (do not fail on) the fingerprints of the six runtime "
                         "bugs this stress found and that are now fixed (stress/README.md, "
                         "'Runtime bugs it found'); by default each is a failure")
    lc.add_argument("--quiet", action="store_true", help="only the summary")
    p = sub.add_parser("replay", help="re-check a replay file's trace and re-run its program")
    p.add_argument("file", type=Path)
    p.add_argument("--runs", type=_positive, default=1, help="re-runs (default 1)")
    p.add_argument("--alone", action="store_true",
                   help="lifecycle files: re-run the program without its batch companions")
    t = sub.add_parser("check-trace", help="TLC-validate fresh stress traces + a planted bug")
    t.add_argument("--count", type=_positive, default=2)
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--max-events", type=_positive, default=200)
    m = sub.add_parser("mutants", help="plant runtime bugs in a copy; expect each caught")
    m.add_argument("--only", action="append", default=None, help="run only these mutants")
    m.add_argument("--stress-seconds", type=float, default=20.0,
                   help="duration of the stress layer per mutant (default 20)")
    m.add_argument("--all-layers", action="store_true",
                   help="run every layer on every mutant (default: stop at the first catch)")
    m.add_argument("--no-baseline", action="store_true",
                   help="skip the unmutated baseline run")
    m.add_argument("--readme", type=Path, default=None,
                   help="write the results table into this README (default stress/README.md)")
    m.add_argument("--list", action="store_true", help="list the mutants and exit")
    m.add_argument("--worktree", action="store_true",
                   help="mutate the working tree's runtime as it is (default: git HEAD's)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    ns = _parser().parse_args(argv)
    if ns.cmd == "run":
        return _run(ns)
    if ns.cmd == "lifecycle":
        return _lifecycle(ns)
    if ns.cmd == "replay":
        return _replay(ns)
    if ns.cmd == "check-trace":
        from .tlccheck import main as tlc_main

        return tlc_main(ns.count, ns.seed, ns.max_events)
    from .mutants import main as mutants_main

    return mutants_main(ns.only, ns.stress_seconds, ns.all_layers, not ns.no_baseline,
                        ns.readme, ns.list, ns.worktree)


def _run(ns: argparse.Namespace) -> int:
    from .runner import RunOptions, run

    opts = RunOptions(duration=ns.duration, seed=ns.seed,
                      config=Config(ns.procs, ns.tasks, ns.channels, ns.ops),
                      max_programs=ns.programs, max_failures=ns.max_failures,
                      hang_timeout=ns.hang_timeout, switch_interval=ns.switch_interval,
                      untraced=ns.untraced, all_nil=ns.all_nil,
                      hold_procs=ns.hold_procs, quiet=ns.quiet)
    if ns.failures_dir is not None:
        opts.failures_dir = ns.failures_dir
    summary = run(opts)
    if ns.quiet:
        print(summary.report())
    return 1 if summary.failures or summary.aborted else 0


def _lifecycle(ns: argparse.Namespace) -> int:
    from .lc_runner import LcOptions, run_lifecycle

    opts = LcOptions(duration=ns.duration, seed=ns.seed, concurrent=ns.concurrent,
                     batch_rate=ns.batch_rate, interrupts=ns.interrupts,
                     kill_main=ns.kill_main, untraced=ns.untraced, virtual=ns.virtual,
                     max_runs=ns.runs, max_failures=ns.max_failures,
                     hang_timeout=ns.hang_timeout, switch_interval=ns.switch_interval,
                     strict=ns.strict, strict_open=ns.strict, quiet=ns.quiet)
    if ns.failures_dir is not None:
        opts.failures_dir = ns.failures_dir
    summary = run_lifecycle(opts)
    if ns.quiet:
        print(summary.report())
    return 1 if summary.failures or summary.aborted else 0


def _replay(ns: argparse.Namespace) -> int:
    from .lc_replay import LcReplay, print_lc_replay, replay_lc
    from .replay import load, replay
    from .reporting import print_replay

    try:
        rp = load(ns.file)
    except (FormatError, OSError) as e:
        print(f"stress replay: {e}", file=sys.stderr)
        return 2
    if isinstance(rp, LcReplay):
        lres = replay_lc(rp, runs=ns.runs, alone=ns.alone)
        print_lc_replay(rp, lres)
        return 0 if lres.ok else 1
    res = replay(rp, runs=ns.runs)
    print_replay(rp, res)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
