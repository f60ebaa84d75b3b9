"""``python -m bench plot``: PNG bar charts of ``results/latest.json`` (matplotlib, Agg)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

LT = "#d62728"  # libtask9
LTC = "#7b0d0d"  # libtask9-mypyc, the compiled core
PEER = "#1f77b4"
FLOOR = "#7f7f7f"
_OURS = ("libtask9", "libtask9-mypyc")


def _color(role: str) -> str:
    return {"libtask9": LT, "libtask9-mypyc": LTC, "ref": FLOOR, "floor": FLOOR}.get(role, PEER)


def _ok(v: Any) -> bool:
    return isinstance(v, (int, float)) and not math.isnan(v)


def _human(v: float) -> str:
    for div, suf in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suf}"
    return f"{v:.3g}"


def _bars(ax: Any, recs: list[dict[str, Any]], metric: str, unit: str, title: str,
          log: bool = False) -> None:
    recs = [r for r in recs if _ok(r["median"].get(metric))]
    names = [r["impl"] for r in recs]
    vals = [r["median"][metric] for r in recs]
    ys = range(len(recs))
    ax.barh(list(ys), vals, color=[_color(r["role"]) for r in recs])
    ax.set_yticks(list(ys), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(unit, fontsize=8)
    ax.set_title(title, fontsize=9)
    if log:
        ax.set_xscale("log")
    for y, v in zip(ys, vals, strict=True):
        ax.text(v, y, " " + _human(v), va="center", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)


def _grouped(ax: Any, recs: list[dict[str, Any]], metric: str, params: list[Any],
             unit: str, title: str, pname: str, log: bool = False) -> None:
    impls = list(dict.fromkeys(r["impl"] for r in recs))
    w = 0.8 / max(1, len(impls))
    palette = iter(["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"])
    for j, impl in enumerate(impls):
        xs, ys, role = [], [], "peer"
        for i, p in enumerate(params):
            r = next((r for r in recs if r["impl"] == impl and r["param"] == p), None)
            if r and _ok(r["median"].get(metric)):
                xs.append(i + (j - (len(impls) - 1) / 2) * w)
                ys.append(r["median"][metric])
                role = r["role"]
        color = _color(role) if role in _OURS or role in ("floor", "ref") else next(
            palette, PEER)
        ax.bar(xs, ys, width=w, label=impl, color=color)
    ax.set_xticks(range(len(params)), [f"{pname}={p:,}" if isinstance(p, int) else
                                       f"{pname}={p}" for p in params], fontsize=8)
    ax.set_ylabel(unit, fontsize=8)
    ax.set_title(title, fontsize=9)
    if log:
        ax.set_yscale("log")
    else:  # headroom for the legend
        ax.set_ylim(top=ax.get_ylim()[1] * 1.4)
    ax.legend(fontsize=7, ncol=3, loc="upper center")
    ax.tick_params(axis="y", labelsize=7)


def plot(path: Path, outdir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = json.loads(path.read_text())
    recs = res["records"]
    by = {c: [r for r in recs if r["case"] == c] for c in range(1, 8)}
    mc = res["machine"]
    sub = (f"{mc['date']} · {mc['python']} · greenlet {mc['greenlet']} · nproc {mc['nproc']}"
           f" · ref {res['ref']['rate']:,.0f} greenlet RT/s")
    written: list[Path] = []
    outdir.mkdir(parents=True, exist_ok=True)

    def save(fig: Any, name: str, top: float = 1.0) -> None:
        fig.tight_layout(rect=(0, 0.01, 1, top))
        p = outdir / name
        fig.savefig(p, dpi=110)
        plt.close(fig)
        written.append(p)

    def alt_lines(ax: Any, variant: str) -> None:
        recs4 = [r for r in by[4] if r["param"].startswith(variant + "/")
                 and _ok(r["median"].get("us"))]
        palette = iter(["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"])
        for impl in dict.fromkeys(r["impl"] for r in recs4):
            pts = sorted((int(r["param"].split("/")[1]), r["median"]["us"], r["role"])
                         for r in recs4 if r["impl"] == impl)
            role = pts[0][2]
            ax.plot([k for k, _, _ in pts], [v for _, v, _ in pts], marker="o", label=impl,
                    color=_color(role) if role in _OURS else next(palette, PEER),
                    linewidth=2.5 if role in _OURS else 1.2)
        ax.set_xscale("log", base=2)
        ks = sorted({int(r["param"].split("/")[1]) for r in recs4})
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_yscale("log")
        ax.set_xlabel("K channels", fontsize=8)
        ax.set_ylabel("µs per alt", fontsize=8)
        ax.set_title(f"4 alt over K channels, variant '{variant}'", fontsize=9)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)

    panels: list[tuple[str, bool, Any]] = [
        ("case1", bool(by[1]), lambda ax: _bars(ax, by[1], "rate", "round trips/s",
                                                "1 ping-pong (same proc)", log=True)),
        ("case2", bool(by[2]), lambda ax: _bars(ax, by[2], "rate", "items/s",
                                                "2 buffered(128) producer->consumer",
                                                log=True)),
        ("case3", bool(by[3]), lambda ax: _grouped(ax, by[3], "rate", sorted(
            {r["param"] for r in by[3]}), "round trips/s", "3 cross-proc ping-pong", "CPUs")),
        ("case4-ready", bool(by[4]), lambda ax: alt_lines(ax, "ready")),
        ("case4-sender", bool(by[4]), lambda ax: alt_lines(ax, "sender")),
        ("case5", bool(by[5]), lambda ax: _grouped(ax, by[5], "wake_us", sorted(
            {r["param"] for r in by[5]}), "µs per task", "5 wake N blocked tasks", "N")),
        ("case5-rss", bool(by[5]), lambda ax: _grouped(ax, by[5], "rss_kb", sorted(
            {r["param"] for r in by[5]}), "KB per blocked task", "5 RSS per blocked task",
            "N")),
        ("case6", bool(by[6]), lambda ax: _bars(ax, by[6], "p99_ms", "p99 lateness, ms",
                                                "6 timers: 1k sleeps, p99 lateness")),
        ("case7", bool(by[7]), lambda ax: _bars(ax, by[7], "seconds", "seconds",
                                                "7 prime sieve, 2,000 primes")),
    ]
    panels = [p for p in panels if p[1]]
    rows = (len(panels) + 1) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(12, 3.6 * rows))
    flat = list(axes.flat) if rows > 1 else list(axes)
    for ax, (_, _, fn) in zip(flat, panels, strict=False):
        fn(ax)
    for ax in flat[len(panels):]:
        ax.set_axis_off()
    fig.suptitle("libtask9 (red; compiled core dark red) vs peers (grey = floor/reference)\n"
                 + sub, fontsize=10)
    save(fig, "bench.png", top=1 - 0.5 / (3.6 * rows))
    for name, _, fn in panels:
        fig, ax = plt.subplots(figsize=(7, 3.6))
        fn(ax)
        fig.text(0.01, 0.005, sub, fontsize=6, color="#555")
        save(fig, f"{name}.png")
    return written
