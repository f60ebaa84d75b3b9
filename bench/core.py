"""Case/implementation model and the code that runs inside a measurement subprocess.

A case module defines ``CASE = Case(...)``. Each implementation is a function that the
child process (``python -m bench one CASE IMPL ...``) calls:

* kind ``"ops"``: ``fn(n, param) -> seconds`` for ``n`` operations. The child calibrates
  ``n`` so that one repetition lasts about ``target`` seconds, runs one warm-up at that size,
  then ``reps`` repetitions. Metrics: ``rate`` (operations/s) and ``us`` (µs/operation).
* kind ``"custom"``: ``fn(param, warmup: bool) -> dict[str, float]``; the child runs a
  warm-up (``warmup=True``, the implementation picks a reduced size) and the repetitions.
  With ``proc_per_rep`` the parent starts one subprocess per repetition (used where
  process state leaks between repetitions, e.g. RSS deltas).

Implementations import their library inside the function, so a measurement subprocess
only ever loads the library it measures.
"""

from __future__ import annotations

import gc
import importlib
import json
import math
import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import CASE_MODULES

MARK = "BENCHJSON:"


class Skip(Exception):
    """Raised by an implementation that cannot run here (e.g. optional peer missing)."""


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    better: str  # "higher" | "lower"
    # how the metric relates to a raw greenlet round trip:
    #   "rate" -> cost = ref_rate / value   (value is operations per second)
    #   "us"   -> cost = value / ref_us     (value is µs per operation)
    #   None   -> not normalised (memory, lateness, ...)
    norm: str | None = None
    fmt: str = "{:.3g}"


@dataclass(frozen=True)
class Impl:
    key: str
    label: str  # what exactly is measured (honest label)
    fn: Callable[..., Any]
    role: str = "peer"  # "libtask9" | "ref" | "peer" | "floor"
    quick: bool = False  # part of `bench quick`
    params: tuple[Any, ...] | None = None  # restrict the case's params
    # a directory (relative to the repo root) put first on the measurement subprocess's
    # PYTHONPATH (the compiled core, bench/compiled.py)
    pythonpath: str | None = None


@dataclass(frozen=True)
class Case:
    id: int
    title: str
    short: str
    kind: str  # "ops" | "custom"
    metrics: tuple[Metric, ...]
    impls: tuple[Impl, ...]
    params: tuple[Any, ...] = (None,)
    quick_params: tuple[Any, ...] | None = None
    param_name: str = ""
    # sizing (ops kind): seconds per repetition, repetitions
    target: float = 0.25
    quick_target: float = 0.12
    reps: int = 5
    quick_reps: int = 5
    proc_per_rep: bool = False
    timeout: float = 150.0  # per subprocess
    # a repetition loop stops early once this many seconds were spent (min 2 reps)
    rep_budget: float = 60.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    # parameters the quick guard judges (None: all); the others are reported only
    guard_params: tuple[Any, ...] | None = None

    @property
    def primary(self) -> Metric:
        return self.metrics[0]

    def impl(self, key: str) -> Impl:
        for i in self.impls:
            if i.key == key:
                return i
        raise KeyError(f"case {self.id}: no implementation {key!r}")

    def params_for(self, impl: Impl, quick: bool) -> tuple[Any, ...]:
        ps = self.quick_params if (quick and self.quick_params is not None) else self.params
        if impl.params is not None:
            ps = tuple(p for p in ps if p in impl.params)
        return ps


def load_cases() -> list[Case]:
    return [importlib.import_module(m).CASE for m in CASE_MODULES]


def get_case(cid: int) -> Case:
    for c in load_cases():
        if c.id == cid:
            return c
    raise KeyError(f"no case {cid}")


# ---------------------------------------------------------------------------- helpers
def rss_bytes() -> int:
    """Resident set size of this process now (``/proc/self/statm``), in bytes."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: peak RSS is the best we have
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def percentile(xs: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    s = sorted(xs)
    if not s:
        return math.nan
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def median(xs: list[float]) -> float:
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan


# ---------------------------------------------------------------------------- child side
def _calibrate(fn: Callable[..., float], param: Any, target: float) -> int:
    """Pick n so that fn(n) takes about ``target`` seconds."""
    fn(16, param)  # throwaway: first-call costs (lazy imports, caches, thread start-up)
    n = 32
    while True:
        t = fn(n, param)
        if t >= target / 10 or n >= 1 << 26:
            break
        n *= 8 if t < target / 80 else 2
    n = max(16, int(n * target / max(t, 1e-9)))
    t = fn(n, param)  # second estimate at (nearly) full size
    return max(16, int(n * target / max(t, 1e-9)))


def _enough(i: int, spent: float, rep_budget: float, time_left: float | None) -> bool:
    """Stop repeating? After 2 repetitions once the case's budget is spent; after 1 once
    the run's remaining time is (a run must stay within its overall budget)."""
    if time_left is not None and spent > time_left:
        return True
    return i >= 1 and spent > rep_budget


def child_measure(case: Case, impl: Impl, param: Any, quick: bool, reps: int | None,
                  time_left: float | None = None) -> dict:
    nreps = reps if reps is not None else (case.quick_reps if quick else case.reps)
    out: dict[str, Any] = {"reps": {}, "extra": {}}
    gc.collect()
    t_start = time.perf_counter()
    if case.kind == "ops":
        target = case.quick_target if quick else case.target
        n = _calibrate(impl.fn, param, target)  # includes the warm-up runs
        rates, uss = [], []
        for i in range(nreps):
            t = impl.fn(n, param)
            rates.append(n / t)
            uss.append(t / n * 1e6)
            if _enough(i, time.perf_counter() - t_start, case.rep_budget, time_left):
                break
        out["reps"] = {"rate": rates, "us": uss}
        out["extra"]["n"] = n
    else:
        impl.fn(param, True)  # warm-up (reduced size, chosen by the implementation)
        acc: dict[str, list[float]] = {}
        for i in range(nreps):
            gc.collect()
            r = impl.fn(param, False)
            for k, v in r.items():
                acc.setdefault(k, []).append(float(v))
            if _enough(i, time.perf_counter() - t_start, case.rep_budget, time_left):
                break
        out["reps"] = acc
    out["extra"]["child_seconds"] = time.perf_counter() - t_start
    return out


def child_main(argv: list[str]) -> int:
    """``python -m bench one CASE IMPL [--param P] [--quick] [--reps R]``."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench one")
    ap.add_argument("case", type=int)
    ap.add_argument("impl")
    ap.add_argument("--param", default="null", help="JSON value")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--time-left", type=float, default=None,
                    help="seconds left in the run's budget: stop repeating after that")
    a = ap.parse_args(argv)
    case = get_case(a.case)
    impl = case.impl(a.impl)
    param = json.loads(a.param)
    try:
        res = child_measure(case, impl, param, a.quick, a.reps, a.time_left)
    except Skip as e:
        res = {"skipped": str(e)}
    except BaseException as e:  # report, never hang the parent
        tb = traceback.format_exc(limit=6)
        res = {"error": f"{type(e).__name__}: {e}".strip(), "traceback": tb}
    sys.stdout.flush()
    print(MARK + json.dumps(res), flush=True)
    return 0
