"""Human-readable output of ``python -m stress replay``."""

from __future__ import annotations

import sys
from typing import TextIO

from .program import config_summary, describe_step
from .replay import Replay, ReplayResult
from .replayfile import verdict_text

__all__ = ["print_replay"]


def print_replay(rp: Replay, res: ReplayResult, out: TextIO | None = None) -> None:
    """Print the saved verdict, the program, and each re-run's verdict (to ``out``, by
    default the ``sys.stdout`` of the moment of the call, not of the import)."""
    if out is None:
        out = sys.stdout
    print(f"replay {rp.path}", file=out)
    print(f"  program seed {rp.seed} (run seed {rp.run_seed}); "
          f"{config_summary(rp.config)}; {len(rp.outcome.events)} events saved", file=out)
    print(f"  recorded failure: {rp.check}"
          + ("" if rp.first_bad_event is None else f" at event #{rp.first_bad_event}"),
          file=out)
    print("  program:", file=out)
    for p, gs in enumerate(rp.program.procs):
        for g in gs:
            steps = "; ".join(describe_step(s) for s in rp.program.tasks[g])
            print(f"    proc {p} t{g}: {steps}", file=out)
    print(f"saved trace re-checked: {verdict_text(res.saved)}", file=out)
    for n, (v, same) in enumerate(zip(res.reruns, res.same_schedule, strict=True), start=1):
        sched = "" if same is None else (
            "; schedule reproduced exactly" if same else "; schedule DIFFERS from the saved one")
        print(f"re-run {n} (seed {rp.seed}){sched}: {verdict_text(v)}", file=out)
