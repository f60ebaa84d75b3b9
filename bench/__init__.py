"""libtask9 benchmark suite (issue 4).

``python -m bench run``    every case, libtask9 and every peer, one fresh subprocess per
                           measurement; writes ``bench/results/latest.{json,md}``.
``python -m bench quick``  a reduced set (~1 minute) compared with
                           ``bench/results/baseline.json``; fails only on gross regressions.
``python -m bench plot``   PNG bar charts of ``latest.json`` into ``bench/results/``.

The unit of comparison is the raw ``greenlet.switch`` round trip measured in the same run:
every throughput or per-operation time is also reported as a *cost in greenlet round
trips*, which is what the regression guard compares (ratios survive a change of machine,
absolute numbers do not). See ``bench/README.md``.
"""

from __future__ import annotations

__all__ = ["CASE_MODULES"]

# The case modules, in the order they run and are reported.
CASE_MODULES = (
    "bench.case1_pingpong",
    "bench.case2_buffered",
    "bench.case3_crossproc",
    "bench.case4_alt",
    "bench.case5_scale",
    "bench.case6_timers",
    "bench.case7_sieve",
)
