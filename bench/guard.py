"""The regression guard of ``bench quick``: compare libtask9's rows with a committed
baseline and fail only on gross regressions.

Rules (per libtask9 measurement present in both runs):
* every greenlet-normalised metric (cost in raw greenlet round trips of the same run):
  regression if the cost more than doubled, i.e. the ratio to raw greenlet fell by more
  than half;
* ``rss_kb``: regression if more than 2x the baseline + 1 KB;
* ``p99_ms`` (timers): regression if more than 2x the baseline AND 20 ms later (timer
  lateness is not relative to the CPU and its tail moves with machine load, so it gets a
  wide absolute floor; the original 100 ms wheel was seconds late);
* a measurement that errors (crash, timeout, deadlock) where the baseline had numbers.
A suspected regression is measured again, twice at most (fresh subprocesses, with a fresh
greenlet reference), and is reported only if every attempt regresses: a noisy sample on
a shared 2-core machine never fails the guard on its own.
"""

from __future__ import annotations

import math
from typing import Any

from bench.core import Case, load_cases
from bench.report import _ok, cost_rt
from bench.runner import case_ref, log, measure, reference

RATIO = 2.0
P99_FLOOR_MS = 20.0  # timer p99 must also be this much later than the baseline


def _key(r: dict[str, Any]) -> tuple[int, str, str]:
    return (r["case"], r["impl"], repr(r["param"]))


def guarded(case: Case) -> list[Any]:
    """The metrics the guard compares: ``rate`` and ``us`` are reciprocal, keep the first."""
    out, seen = [], False
    for m in case.metrics:
        if m.name in ("rate", "us"):
            if seen:
                continue
            seen = True
        if m.norm or m.name in ("rss_kb", "p99_ms"):
            out.append(m)
    return out


def check(case: Case, rec: dict[str, Any], base: dict[str, Any], ref: dict[str, float],
          bref: dict[str, float]) -> list[str]:
    """Reasons this record is a gross regression against ``base`` (empty: fine)."""
    if "reps" not in base or not base.get("median"):
        return []
    if "error" in rec:
        return [f"error: {rec['error']}"]
    bad = []
    for m in guarded(case):
        now, was = rec["median"].get(m.name), base["median"].get(m.name)
        if not (_ok(now) and _ok(was)):
            continue
        if m.norm:
            c_now, c_was = cost_rt(m, now, ref), cost_rt(m, was, bref)
            if _ok(c_now) and _ok(c_was) and c_now > RATIO * c_was:
                bad.append(f"{m.name}: cost {c_now:.2f} greenlet RT vs baseline {c_was:.2f} "
                           f"({c_now / c_was:.2f}x)")
        elif m.name == "rss_kb" and now > RATIO * was + 1.0:
            bad.append(f"rss_kb: {now:.2f} KB vs baseline {was:.2f}")
        elif m.name == "p99_ms" and now > RATIO * was and now > was + P99_FLOOR_MS:
            bad.append(f"p99_ms: {now:.2f} ms vs baseline {was:.2f}")
    return bad


def compare(result: dict[str, Any], baseline: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Returns (table lines, confirmed regressions)."""
    cases = {c.id: c for c in load_cases()}
    ref = reference(result)
    bref = reference(baseline)
    brecs = {_key(r): r for r in baseline["records"]}
    lines = [f"reference: greenlet round trip {ref['rate']:,.0f}/s now, "
             f"{bref['rate']:,.0f}/s in the baseline ({baseline['machine']['date']})", "",
             "now/base: cost in greenlet round trips (rss_kb: KB, p99_ms: ms); "
             "a gross regression is a ratio > 2 that survives two re-measurements", "",
             f"{'measurement':<34} {'metric':<10} {'now':>10} {'base':>10} {'ratio':>7}"]
    regressions: list[str] = []
    for rec in result["records"]:
        if rec["role"] != "libtask9":
            continue
        base = brecs.get(_key(rec))
        case = cases[rec["case"]]
        tag = f"case {rec['case']} {rec['impl']}" + (
            f" {case.param_name}={rec['param']}" if rec["param"] is not None else "")
        if base is None:
            lines.append(f"{tag:<34} (not in baseline)")
            continue
        if case.guard_params is not None and rec["param"] not in case.guard_params:
            lines.append(f"{tag:<34} (reported, not guarded: too load-sensitive)")
            continue
        cref, cbref = case_ref(ref, case.id), case_ref(bref, case.id)
        bad = check(case, rec, base, cref, cbref)
        attempt = 0
        while bad and attempt < 2:
            attempt += 1
            log(f"suspected regression in {tag}: {'; '.join(bad)} -- measuring again "
                f"({attempt}/2)")
            ref_case = cases[1]
            ref_impl = next(i for i in ref_case.impls if i.role == "ref")
            r0 = measure(ref_case, ref_impl, None, True)
            fresh_ref = ({"rate": r0["median"]["rate"], "us": 1e6 / r0["median"]["rate"]}
                         if _ok(r0["median"].get("rate")) else ref)
            again = measure(case, case.impl(rec["impl"]), rec["param"], True)
            bad2 = check(case, again, base, fresh_ref, cbref)
            if not bad2:
                bad = []
                rec["guard_note"] = f"passed on re-measurement {attempt}"
            else:
                bad = bad2
        for m in guarded(case):
            now, was = rec["median"].get(m.name), base["median"].get(m.name)
            if m.norm:
                cn = cost_rt(m, now or math.nan, cref)
                cw = cost_rt(m, was or math.nan, cbref)
            else:
                cn = now if now is not None else math.nan
                cw = was if was is not None else math.nan
            ratio = cn / cw if _ok(cn) and _ok(cw) and cw else math.nan
            lines.append(f"{tag:<34} {m.name:<10} {cn:>10.3g} {cw:>10.3g} {ratio:>6.2f}x")
        verdict = ("REGRESSION: " + "; ".join(bad)) if bad else (
            "ok" + (f" ({rec['guard_note']})" if "guard_note" in rec else ""))
        lines.append(f"{'':<34} -> {verdict}")
        if bad:
            regressions.append(f"{tag}: {'; '.join(bad)}")
    return lines, regressions
