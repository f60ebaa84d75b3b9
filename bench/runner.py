"""Parent side: one fresh subprocess per measurement, aggregation, machine facts."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.core import MARK, Case, Impl, load_cases, median

ROOT = Path(__file__).resolve().parent.parent  # the directory that holds the bench package
RESULTS = Path(__file__).resolve().parent / "results"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------ one subprocess
def _spawn(case: Case, impl: Impl, param: Any, quick: bool, reps: int | None,
           timeout: float, time_left: float | None = None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench", "one", str(case.id), impl.key,
           "--param", json.dumps(param)]
    if time_left is not None:
        cmd += ["--time-left", f"{max(1.0, time_left):.1f}"]
    if quick:
        cmd.append("--quick")
    if reps is not None:
        cmd += ["--reps", str(reps)]
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    if impl.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / impl.pythonpath)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH")
                                              else []))
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                           env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(MARK):
            res: dict[str, Any] = json.loads(line[len(MARK):])
            return res
    tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {p.returncode}: " + " | ".join(tail)}


def measure(case: Case, impl: Impl, param: Any, quick: bool,
            deadline: float | None = None) -> dict[str, Any]:
    """Run one measurement (one subprocess, or one per repetition) and aggregate it.
    ``deadline`` (a ``time.perf_counter()`` value): the run's budget ends then; the
    measurement keeps at least one repetition but takes no more after it."""
    t0 = time.perf_counter()
    timeout = min(case.timeout, 60.0) if quick else case.timeout
    rec: dict[str, Any] = {
        "case": case.id, "impl": impl.key, "label": impl.label, "role": impl.role,
        "param": param, "reps": {}, "median": {},
    }
    if case.proc_per_rep:
        nreps = case.quick_reps if quick else case.reps
        for i in range(nreps):
            if i >= 1 and deadline is not None and time.perf_counter() > deadline:
                rec["partial"] = "run budget exhausted"
                break
            r = _spawn(case, impl, param, quick, 1, timeout)
            if "reps" not in r:
                if not rec["reps"]:
                    rec.update({k: v for k, v in r.items() if k in ("error", "skipped")})
                else:
                    rec["partial"] = r.get("error") or r.get("skipped")
                break
            for k, v in r["reps"].items():
                rec["reps"].setdefault(k, []).extend(v)
    else:
        left = None if deadline is None else deadline - time.perf_counter()
        r = _spawn(case, impl, param, quick, None, timeout, left)
        if "reps" in r:
            rec["reps"] = r["reps"]
            if "n" in r.get("extra", {}):
                rec["n"] = r["extra"]["n"]
        else:
            rec.update({k: v for k, v in r.items() if k in ("error", "skipped", "traceback")})
    rec["median"] = {k: median(v) for k, v in rec["reps"].items()}
    rec["wall_s"] = round(time.perf_counter() - t0, 2)
    return rec


def fmt_rec(case: Case, rec: dict[str, Any]) -> str:
    if "error" in rec:
        return "ERROR " + rec["error"]
    if "skipped" in rec:
        return "skipped: " + rec["skipped"]
    m = case.primary
    v = rec["median"].get(m.name, math.nan)
    nrep = len(rec["reps"].get(m.name, []))
    return f"{m.fmt.format(v)} {m.unit}  ({nrep} reps, {rec['wall_s']:.1f}s)"


# ------------------------------------------------------------------------ the plan
def plan(quick: bool, only_cases: set[int] | None = None,
         only_impls: set[str] | None = None) -> list[tuple[Case, Impl, Any]]:
    out = []
    for case in load_cases():
        if only_cases and case.id not in only_cases:
            continue
        for impl in case.impls:
            if quick and not impl.quick:
                continue
            if only_impls and impl.key not in only_impls and impl.role != "ref":
                continue
            for param in case.params_for(impl, quick):
                out.append((case, impl, param))
    return out


def _ref_measure(quick: bool) -> dict[str, Any]:
    ref_case = load_cases()[0]
    ref_impl = next(i for i in ref_case.impls if i.role == "ref")
    return measure(ref_case, ref_impl, None, quick)


def run_plan(items: list[tuple[Case, Impl, Any]], quick: bool, budget: float) -> dict[str, Any]:
    """Measure everything in ``items``. The raw greenlet reference is measured again
    before every case and once at the end, so each case is normalised by the references
    that bracket it (load on a shared machine drifts during a run)."""
    t_start = time.perf_counter()
    records: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []  # {"before": case id or "end", "rate": median, "reps"}

    def take_ref(before: Any) -> None:
        r = _ref_measure(quick)
        refs.append({"before": before, "rate": r["median"].get("rate", math.nan),
                     "reps": r["reps"].get("rate", [])})
        log(f"[{time.perf_counter() - t_start:6.1f}s] {'reference before ' + str(before):<34} "
            f"{fmt_rec(load_cases()[0], r)}")

    last_case = None
    for case, impl, param in items:
        if case.id != last_case:
            take_ref(case.id)
            last_case = case.id
        elapsed = time.perf_counter() - t_start
        tag = f"case {case.id} {impl.key}" + (f" {case.param_name}={param}" if param else "")
        if elapsed > budget:
            rec = {"case": case.id, "impl": impl.key, "label": impl.label, "role": impl.role,
                   "param": param, "reps": {}, "median": {},
                   "skipped": f"time budget ({budget:.0f} s) exhausted"}
        else:
            rec = measure(case, impl, param, quick, deadline=t_start + budget)
        records.append(rec)
        log(f"[{time.perf_counter() - t_start:6.1f}s] {tag:<34} {fmt_rec(case, rec)}")
    take_ref("end")
    return {"records": records, "refs": refs,
            "wall_s": round(time.perf_counter() - t_start, 1)}


def _mk(rate: float) -> dict[str, float]:
    return {"rate": rate, "us": 1e6 / rate if rate and not math.isnan(rate) else math.nan}


def reference(result: dict[str, Any]) -> dict[str, Any]:
    """The run's raw greenlet round trip: the median over every reference measurement,
    the spread between them, and ``by_case``: the mean of the two references that bracket
    each case (the one taken just before it and the next one)."""
    refs = [r for r in result.get("refs", []) if r["rate"] and not math.isnan(r["rate"])]
    allreps = [x for r in refs for x in r["reps"]]
    out: dict[str, Any] = _mk(median(allreps))
    rates = [r["rate"] for r in refs]
    out["min"] = min(rates) if rates else math.nan
    out["max"] = max(rates) if rates else math.nan
    out["n"] = len(rates)
    by_case: dict[str, dict[str, float]] = {}
    for i, r in enumerate(refs):
        if r["before"] == "end":
            continue
        nxt = refs[i + 1]["rate"] if i + 1 < len(refs) else r["rate"]
        by_case[str(r["before"])] = _mk((r["rate"] + nxt) / 2)
    out["by_case"] = by_case
    return out


def case_ref(ref: dict[str, Any], case_id: int) -> dict[str, float]:
    """The reference a case is normalised by (falls back to the run's median)."""
    return ref.get("by_case", {}).get(str(case_id)) or ref


# ------------------------------------------------------------------------ machine facts
def _version(mod: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:
        return None


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    # which libtask9 the measurement subprocesses import (they run with cwd=ROOT), and
    # its git revision (+ whether its directory has uncommitted changes)
    rev = None
    lt9 = None
    with contextlib.suppress(Exception):
        lt9 = subprocess.run([sys.executable, "-c", "import libtask9, os; "
                              "print(os.path.dirname(libtask9.__file__))"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30).stdout.strip() or None
    with contextlib.suppress(Exception):
        where = lt9 or str(ROOT)
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where,
                             capture_output=True, text=True, timeout=5).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=where,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        if rev and dirty:
            rev += " + uncommitted changes in libtask9/"
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "greenlet": _version("greenlet"),
        "gevent": _version("gevent"),
        "trio": _version("trio"),
        "goless": _version("goless"),
        "libtask9": _version("libtask9"),
        "git": rev,
        "libtask9_path": lt9,
    }
