"""Derived numbers (greenlet-normalised costs, libtask9-vs-peer ratios, the alt fit), the
issue's targets as a PASS/MISS table, and the Markdown report."""

from __future__ import annotations

import math
from typing import Any

from bench.compiled import KEY as COMPILED
from bench.core import Case, Metric, load_cases
from bench.runner import case_ref

# the issue's reference machine: raw greenlet round trip ~ 2.7 M/s (CPython 3.11,
# greenlet 3.5.6); used only to show machine-scaled equivalents of absolute goals
ISSUE_REF_RATE = 2.7e6


def _ok(x: Any) -> bool:
    return isinstance(x, (int, float)) and not math.isnan(x)


def cost_rt(m: Metric, value: float, ref: dict[str, float]) -> float:
    """Cost of one operation in raw greenlet round trips (lower is better)."""
    if not _ok(value) or value == 0:
        return math.nan
    if m.norm == "rate":
        return ref["rate"] / value
    if m.norm == "us":
        return value / ref["us"]
    return math.nan


def advantage(m: Metric, lt: float, peer: float) -> float:
    """libtask9 relative to a peer, > 1 when libtask9 is better."""
    if not (_ok(lt) and _ok(peer)) or lt == 0 or peer == 0:
        return math.nan
    return lt / peer if m.better == "higher" else peer / lt


def derive(result: dict[str, Any], ref: dict[str, Any]) -> None:
    """Add ``cost_rt`` and ``libtask9_x`` to every record, and the case-4 fits."""
    cases = {c.id: c for c in load_cases()}
    recs = result["records"]
    for r in recs:
        case = cases[r["case"]]
        cref = case_ref(ref, r["case"])
        r["cost_rt"] = {m.name: cost_rt(m, r["median"].get(m.name, math.nan), cref)
                        for m in case.metrics if m.norm}
        lt = next((x for x in recs if x["case"] == r["case"] and x["role"] == "libtask9"
                   and x["param"] == r["param"]), None)
        r["libtask9_x"] = {}
        if lt is not None and r is not lt:
            for m in case.metrics:
                r["libtask9_x"][m.name] = advantage(
                    m, lt["median"].get(m.name, math.nan), r["median"].get(m.name, math.nan))
    fits: dict[str, Any] = {}
    for r in recs:
        if r["case"] != 4 or not _ok(r["median"].get("us")):
            continue
        variant, k = r["param"].split("/")
        fits.setdefault(f"{r['impl']} {variant}", []).append((int(k), r["median"]["us"]))
    result["fits"] = {"4": {key: linfit(pts) for key, pts in fits.items() if len(pts) >= 2}}


def linfit(pts: list[tuple[float, float]]) -> dict[str, float]:
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    slope = sxy / sxx if sxx else math.nan
    icpt = my - slope * mx
    ss_tot = sum((y - my) ** 2 for _, y in pts)
    ss_res = sum((y - (icpt + slope * x)) ** 2 for x, y in pts)
    r2 = 1 - ss_res / ss_tot if ss_tot else 1.0
    return {"intercept_us": icpt, "slope_us": slope, "r2": r2}


# ------------------------------------------------------------------------ targets
def _n(v: float, d: int = 2) -> str:
    return f"{v:.{d}f}" if _ok(v) else "-"


def _get(result: dict[str, Any], case: int, impl: str, metric: str,
         param: Any = None) -> float:
    for r in result["records"]:
        if r["case"] == case and r["impl"] == impl and r["param"] == param:
            v = r["median"].get(metric, math.nan)
            return v if _ok(v) else math.nan
    return math.nan


def targets(result: dict[str, Any], ref: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets for pure libtask9 and, when the run measured it, for the compiled
    core (``libtask9-mypyc``, same goals and peers); each row names its implementation."""
    rows = _targets_for(result, ref, "libtask9")
    if any(r["impl"] == COMPILED and r["median"] for r in result["records"]):
        rows += _targets_for(result, ref, COMPILED)
    return rows


def _targets_for(result: dict[str, Any], ref: dict[str, Any],
                 lt9: str) -> list[dict[str, Any]]:
    def g(case: int, impl: str, metric: str, param: Any = None) -> float:
        return _get(result, case, lt9 if impl == "libtask9" else impl, metric, param)

    rows: list[dict[str, Any]] = []

    def row(name: str, measured: float, goal: str, ok: bool | None, detail: str = "") -> None:
        status = "N/A" if ok is None or not _ok(measured) else ("PASS" if ok else "MISS")
        rows.append({"target": name, "impl": lt9, "measured": measured, "goal": goal,
                     "status": status, "detail": detail})

    r = g(1, "libtask9", "rate") / g(1, "gevent-channel", "rate")
    row("1 ping-pong vs gevent.queue.Channel", r, ">= 2.0x", _ok(r) and r >= 2.0)
    r = g(2, "libtask9", "rate") / g(2, "asyncio-queue", "rate")
    row("2 buffered(128) vs asyncio.Queue", r, ">= 1.5x", _ok(r) and r >= 1.5)
    r = g(2, "libtask9", "rate") / g(2, "gevent-queue", "rate")
    row("2 (stretch) buffered(128) vs gevent Queue", r, ">= 1.0x", _ok(r) and r >= 1.0)
    for cpus in (2, 1):
        r = g(3, "libtask9", "rate", cpus) / g(3, "condition", "rate", cpus)
        row(f"3 cross-proc vs threading.Condition, {cpus} CPU{'s' if cpus > 1 else ''}", r,
            ">= 1.0x", _ok(r) and r >= 1.0)
    fits4 = result.get("fits", {}).get("4", {})
    fit = fits4.get(f"{lt9} ready")
    sfit = fits4.get(f"{lt9} sender")
    r4 = case_ref(ref, 4)
    scale = r4["us"] * ISSUE_REF_RATE / 1e6 if _ok(r4.get("us")) else math.nan
    d_int = d_slope = "ready variant"
    if _ok(scale):  # the goal in this machine's greenlet units (issue: 2.7 M RT/s)
        d_int += f"; machine-scaled goal {scale:.2f} µs"
        d_slope += f"; machine-scaled goal {0.1 * scale:.3f} µs/ch"
    if sfit:
        d_int += f"; sender variant {sfit['intercept_us']:.2f} µs"
        d_slope += f"; sender variant {sfit['slope_us']:.3f} µs/ch"
    row("4 alt intercept (µs)", fit["intercept_us"] if fit else math.nan, "<= 1.0 µs",
        fit["intercept_us"] <= 1.0 if fit else None, d_int)
    row("4 alt slope (µs/channel)", fit["slope_us"] if fit else math.nan, "<= 0.10 µs",
        fit["slope_us"] <= 0.10 if fit else None, d_slope)
    w10, w100 = g(5, "libtask9", "wake_us", 10_000), g(5, "libtask9", "wake_us", 100_000)
    r = w100 / w10
    row("5 wake cost flat, 100k/10k", r, "<= 1.2", _ok(r) and r <= 1.2,
        f"{_n(w10)} -> {_n(w100)} µs/task")
    gw = g(5, "gevent-channel", "wake_us", 100_000)
    r = w100 / gw
    row("5 wake vs gevent Channel, 100k (ratio)", r, "<= 1.0", _ok(r) and r <= 1.0,
        f"{_n(w100)} vs {_n(gw)} µs/task")
    kb = g(5, "libtask9", "rss_kb", 100_000)
    if not _ok(kb):
        kb = g(5, "libtask9", "rss_kb", 10_000)
    row("5 RSS per blocked task (KB)", kb, "<= 7.0 KB", _ok(kb) and kb <= 7.0,
        f"bare greenlet {_n(g(5, 'greenlet', 'rss_kb', 100_000))} KB, gevent Channel "
        f"{_n(g(5, 'gevent-channel', 'rss_kb', 100_000))} KB")
    p99 = g(6, "libtask9", "p99_ms")
    row("6 timer lateness p99 (ms)", p99, "<= 1.0 ms", _ok(p99) and p99 <= 1.0,
        f"asyncio {_n(g(6, 'asyncio', 'p99_ms'), 3)} ms, gevent "
        f"{_n(g(6, 'gevent', 'p99_ms'), 3)} ms")
    return rows


# ------------------------------------------------------------------------ Markdown
def _f(m: Metric, v: Any) -> str:
    return m.fmt.format(v) if _ok(v) else "-"


def _x(v: Any) -> str:
    return f"{v:.2f}x" if _ok(v) else "-"


def case_table(case: Case, recs: list[dict[str, Any]]) -> list[str]:
    norm = next((m for m in case.metrics if m.norm), None)
    head = ["implementation", "what is measured"]
    if case.param_name:
        head.append(case.param_name)
    head += [f"{m.unit}" for m in case.metrics]
    if norm:
        head.append(f"÷ greenlet RT ({norm.name})")
    head += [f"libtask9 x ({case.primary.name})", "reps", "spread"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in recs:
        cells = [f"**{r['impl']}**" if r["role"] == "libtask9" else r["impl"], r["label"]]
        if case.param_name:
            cells.append(f"{r['param']:,}" if isinstance(r["param"], int) else str(r["param"]))
        if "error" in r or "skipped" in r:
            msg = ("error: " + r["error"]) if "error" in r else ("skipped: " + r["skipped"])
            cells += [msg.replace("|", "/")[:120]] + [""] * (len(head) - len(cells) - 1)
            out.append("| " + " | ".join(cells) + " |")
            continue
        cells += [_f(m, r["median"].get(m.name)) for m in case.metrics]
        if norm:
            c = r.get("cost_rt", {}).get(norm.name)
            cells.append(f"{c:.2f}" if _ok(c) else "-")
        cells.append("" if r["role"] == "libtask9" else _x(r["libtask9_x"].get(
            case.primary.name)))
        reps = r["reps"].get(case.primary.name, [])
        cells.append(str(len(reps)))
        if len(reps) >= 2 and _ok(r["median"].get(case.primary.name)) \
                and r["median"][case.primary.name]:
            half = (max(reps) - min(reps)) / 2
            cells.append(f"±{half / abs(r['median'][case.primary.name]):.0%}")
        else:
            cells.append("-")
        out.append("| " + " | ".join(cells) + " |")
    return out


def markdown(result: dict[str, Any], ref: dict[str, Any], rows: list[dict[str, Any]],
             summary: bool = False) -> str:
    """The full report; with ``summary`` only the header, the targets and, per case, the
    libtask9 rows' headline (for README.md)."""
    mc = result["machine"]
    L = [] if summary else [f"# libtask9 benchmarks ({result['mode']})", ""]
    L.append(f"- date: {mc['date']}; wall time of the run: {result['wall_s']:.0f} s")
    L.append(f"- machine: `{mc['platform']}`, {mc['cpu'] or 'cpu ?'}, nproc {mc['nproc']}")
    la0, la1 = mc.get("loadavg_start"), mc.get("loadavg_end")
    if la0 and la1:
        L.append(f"- load average (1 min) at start / end: {la0[0]:.2f} / {la1[0]:.2f} "
                 "(other work on the machine adds noise; see *spread*)")
    L.append(f"- {mc['python']}, greenlet {mc['greenlet']}, gevent {mc['gevent']}, "
             f"trio {mc['trio']}, goless {mc['goless'] or 'not installed'}, "
             f"libtask9 {mc['libtask9']} (git {mc['git'] or '-'}; imported from "
             f"`{mc.get('libtask9_path') or '?'}`)")
    L.append(f"- reference: raw `greenlet.switch` round trip = **{ref['rate']:,.0f} /s** "
             f"({ref['us']:.3f} µs), median of {ref['n']} measurements (before every case "
             f"and at the end; range {ref['min']:,.0f} - {ref['max']:,.0f} /s). Each case "
             "is normalised by the two references that bracket it.")
    L += ["",
          "Each row is one fresh subprocess (case 5: one per repetition): warm-up, then the "
          "repetitions; numbers are medians. *÷ greenlet RT* = cost of one operation in raw "
          "greenlet round trips measured around this case (lower is closer to the floor). "
          "*libtask9 x* = libtask9's advantage over that row in the same case and parameter "
          "(> 1: libtask9 is faster/better). *spread* = half the min-max range of the "
          "repetitions relative to the median.", ""]
    L += ["## Targets (issue 4; informational)", ""]
    if any(t.get("impl") == COMPILED for t in rows):
        L += [f"Each target is evaluated for pure-Python libtask9 and for `{COMPILED}` (the "
              "same source with its hot modules compiled by mypyc; `make compiled`), against "
              "the same peers.", ""]
    L += ["| target | implementation | measured | goal | status | detail |",
          "|---|---|---|---|---|---|"]
    for t in rows:
        v = t["measured"]
        vs = f"{v:.3g}" if _ok(v) else "-"
        L.append(f"| {t['target']} | {t.get('impl', 'libtask9')} | {vs} | {t['goal']} | "
                 f"{t['status']} | {t['detail']} |")
    L.append("")
    if summary:
        return "\n".join(L)
    for case in load_cases():
        recs = [r for r in result["records"] if r["case"] == case.id]
        if not recs:
            continue
        cr = case_ref(ref, case.id)
        L += [f"## Case {case.id}: {case.title}", ""]
        if case.id > 1 and _ok(cr.get("rate")):
            L += [f"Greenlet reference around this case: {cr['rate']:,.0f} round trips/s.", ""]
        L += case_table(case, recs)
        if case.id == 4 and result.get("fits", {}).get("4"):
            L += ["", "Least-squares fit µs/alt = intercept + slope x K (K = 1, 4, 16, 64):",
                  "", "| implementation | variant | intercept µs | slope µs/channel | r² |",
                  "|---|---|---|---|---|"]
            for key, f in sorted(result["fits"]["4"].items(), key=lambda kv: (
                    kv[0].split()[1], kv[0].split()[0] != "libtask9", kv[0])):
                impl, variant = key.split()
                L.append(f"| {impl} | {variant} | {f['intercept_us']:.3f} | "
                         f"{f['slope_us']:.4f} | {f['r2']:.3f} |")
        if case.id == 5:
            flat = []
            for impl in dict.fromkeys(r["impl"] for r in recs):
                a = _get(result, 5, impl, "wake_us", 10_000)
                b = _get(result, 5, impl, "wake_us", 100_000)
                if _ok(a) and _ok(b):
                    flat.append(f"{impl} {b / a:.2f}")
            if flat:
                L += ["", "Wake cost per task, 100k / 10k: " + ", ".join(flat) + "."]
        L.append("")
    return "\n".join(L)
