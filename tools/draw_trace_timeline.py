"""Draw a libtask9 trace timeline (the Chrome trace-event JSON of ``python -m
libtask9.trace``) as a Gantt-like PNG with matplotlib: the picture in the README.

    python tools/draw_trace_timeline.py                    # docs/trace-timeline.png
    python tools/draw_trace_timeline.py --json trace.json -o out.png

Without ``--json`` it records ``examples/trace_timeline.py`` in a fresh interpreter (so
ids start at 1), converts the trace with ``libtask9.trace.to_chrome`` and draws that
JSON.  Rows are the thread tracks (each proc's scheduler, then its tasks) and the buffer
counters; a task's or proc's lifetime is a thin grey bar, blocked slices (alt, sleep,
join, iocall) and idle periods pale bars, operations short dark ones, flow events
arrows, run events marks on the proc's row, a declared deadlock a red line.
``--real-time`` keeps the events' ``"t"`` (when the trace has it); by default the
picture spaces events by ``seq``, one step each, which reads better for a small program.
Needs matplotlib (``pip install -e '.[bench]'``).  The browser viewers show the same
JSON interactively: ui.perfetto.dev or ``chrome://tracing``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "trace_timeline.py"
DEFAULT_OUT = ROOT / "docs" / "trace-timeline.png"

OP_COLORS = {
    "AltBuffer": "#00897b",
    "AltRendezvous": "#1e63c9",
    "AltHandover": "#7b1fa2",
    "Close": "#ef6c00",
    "KillBlocked": "#202020",
    "KillPending": "#202020",
    "TimerFire": "#c2185b",
    "TaskCreate": "#2e7d32",
    "ProcCreate": "#2e7d32",
    "TaskExit": "#6d4c41",
    "ProcExit": "#6d4c41",
}
FLOW_COLORS = {"libtask9.value": "#1e63c9", "libtask9.close": "#ef6c00",
               "libtask9.kill": "#c62828", "libtask9.timer": "#c2185b",
               "libtask9.join": "#6d4c41", "libtask9.spawn": "#2e7d32"}
#: Blocked slices by the first word of their name: (face, edge, text) colours, legend.
BLOCK_COLORS = {
    "AltBlock": ("#f6d5d1", "#c0817a", "#8a3b33", "blocked in an alt"),
    "sleep": ("#d6e6f7", "#7d9cc0", "#2f4f75", "sleep"),
    "join": ("#e6dcf2", "#9a86b8", "#4e3a6e", "join"),
    "iocall": ("#f7ecc8", "#c2a95a", "#6e5a17", "iocall"),
}
IDLE_COLOR = ("#eeeeee", "#b0b0b0")
LIFETIME_COLOR = "#c8c8c8"


def example_timeline(real_time: bool) -> dict[str, Any]:
    """Record the example program and convert its trace (``"t"`` dropped unless asked)."""
    sys.path.insert(0, str(ROOT))
    from libtask9 import trace as tt

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "trace.ndjson"
        subprocess.run([sys.executable, str(EXAMPLE), str(path)], check=True, cwd=ROOT,
                       timeout=120, stdout=subprocess.DEVNULL)
        events = tt.read_events(path)
    if not real_time:
        events = [{k: v for k, v in e.items() if k != "t"} for e in events]
    return tt.to_chrome(events)


def draw(trace: dict[str, Any], out: Path, title: str) -> None:
    """Draw ``trace`` (Chrome trace-event JSON object) to the PNG ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Patch

    evs: list[dict[str, Any]] = trace["traceEvents"]
    pname = {e["pid"]: e["args"]["name"] for e in evs
             if e["ph"] == "M" and e["name"] == "process_name"}
    tname = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs
             if e["ph"] == "M" and e["name"] == "thread_name"}
    tsort = {(e["pid"], e["tid"]): e["args"]["sort_index"] for e in evs
             if e["ph"] == "M" and e["name"] == "thread_sort_index"}
    counters = sorted({e["name"] for e in evs if e["ph"] == "C"})

    # Rows, top to bottom: each proc's label, then its tracks (scheduler first, then its
    # tasks); then the counters.
    rows: dict[Any, float] = {}
    headers: dict[int, float] = {}
    labels: list[tuple[float, str, bool]] = []
    y = 0.0
    for pid in sorted({p for p, _ in tname}):
        headers[pid] = y
        labels.append((y, pname.get(pid, f"pid {pid}"), True))
        y += 0.8
        for track in sorted((t for t in tname if t[0] == pid),
                            key=lambda t: (tsort.get(t, t[1]), t[1])):
            rows[track] = y
            labels.append((y, tname[track], False))
            y += 1.0
    if counters:
        labels.append((y, "channel buffers", True))
        y += 0.8
        for name in counters:
            rows[name] = y
            labels.append((y, name, False))
            y += 1.0

    end = max([e["ts"] + e.get("dur", 0) for e in evs if e["ph"] != "M"] + [1.0])
    fig, ax = plt.subplots(figsize=(15, 0.42 * y + 1.9), dpi=150)
    h = 0.62

    def text_in(x: float, dur: float, r: float, label: str, color: str) -> None:
        if dur > 0.075 * len(label):
            ax.text(x + 0.1, r, label, va="center", ha="left", fontsize=5.5, color=color,
                    zorder=2, clip_on=True)

    placed: dict[int, list[tuple[float, int, int]]] = {}
    for e in evs:
        track = (e.get("pid"), e.get("tid"))
        cat = e.get("cat")
        if e["ph"] == "X" and track in rows:
            r = rows[track]
            if cat == "libtask9.lifetime":
                ax.broken_barh([(e["ts"], e["dur"])], (r - 0.05, 0.1),
                               facecolor=LIFETIME_COLOR, edgecolor="none", zorder=0.5)
            elif cat == "libtask9.idle":
                ax.broken_barh([(e["ts"], e["dur"])], (r - h / 2, h), facecolor=IDLE_COLOR[0],
                               edgecolor=IDLE_COLOR[1], linewidth=0.5, hatch="////",
                               zorder=1)
                text_in(e["ts"], e["dur"], r, "idle", "#707070")
            elif cat == "libtask9.block":
                kind = e["name"].split()[0]
                face, edge, ink, _ = BLOCK_COLORS.get(kind, BLOCK_COLORS["AltBlock"])
                ax.broken_barh([(e["ts"], e["dur"])], (r - h / 2, h), facecolor=face,
                               edgecolor=edge, linewidth=0.6, zorder=1)
                label = e["name"].replace("AltBlock ", "blocked: ")
                if e["dur"] <= 0.075 * len(label) and "alt(" in label:
                    label = "blocked: alt"
                text_in(e["ts"], e["dur"], r, label, ink)
            else:
                action = e["name"].split()[0]
                ax.broken_barh([(e["ts"], e["dur"])], (r - h / 2, h),
                               facecolor=OP_COLORS.get(action, "#7f7f7f"), zorder=3)
        elif e["ph"] == "i" and e.get("s") == "t" and track in rows:
            ax.plot(e["ts"], rows[track] - h / 2 - 0.08, marker="v", color="#444444",
                    markersize=4, zorder=4)
            ax.text(e["ts"], rows[track] - h / 2 - 0.25, e["name"], fontsize=5,
                    ha="center", va="bottom", color="#444444")
        elif e["ph"] == "i" and e.get("s") == "p" and e.get("pid") in headers:
            r = headers[e["pid"]]
            ax.plot(e["ts"], r + 0.3, marker="D", color="#37474f", markersize=3.5, zorder=4)
            # Labels run right of their mark (left of it near the end), one line up from
            # a previous label they would overlap.
            right = e["ts"] > 0.8 * end
            lines = placed.setdefault(e["pid"], [])
            level = 0
            while any(lv == level and abs(x - e["ts"]) < 0.09 * n for x, n, lv in lines):
                level += 1
            lines.append((e["ts"], len(e["name"]), level))
            ax.text(e["ts"] + (-0.3 if right else 0.3), r - 0.02 - 0.3 * level, e["name"],
                    fontsize=5.5, ha="right" if right else "left", va="bottom",
                    color="#37474f")
        elif e["ph"] == "i" and e.get("s") == "g":
            ax.axvline(e["ts"], color="#c62828", linestyle="--", linewidth=0.9, zorder=6)
            ax.text(e["ts"], -0.6, e["name"], fontsize=6.5, color="#c62828", ha="center")
    for name in counters:
        pts = sorted((e["ts"], e["args"]["len"]) for e in evs
                     if e["ph"] == "C" and e["name"] == name)
        top = max(v for _, v in pts) or 1
        xs = [t for t, _ in pts] + [end]
        ys = [rows[name] + h / 2 - h * v / top for _, v in pts]
        ax.step(xs, [*ys, ys[-1]], where="post", color="#00897b", linewidth=1.2)
        for t, v in pts:
            ax.text(t + 0.05, rows[name] + h / 2 - h * v / top - 0.05, str(v), fontsize=5.5,
                    color="#00695c", va="bottom")

    starts = {e["id"]: e for e in evs if e["ph"] == "s"}
    for f in (e for e in evs if e["ph"] == "f"):
        s = starts.get(f["id"])
        if s is None:
            continue
        a, b = (s["pid"], s["tid"]), (f["pid"], f["tid"])
        if a not in rows or b not in rows:
            continue
        color = FLOW_COLORS.get(f["cat"], "#555555")
        ya, yb = rows[a], rows[b]
        shrink = h / 2 if ya != yb else 0.0
        ya2 = ya + (shrink if yb > ya else -shrink)
        yb2 = yb - (shrink if yb > ya else -shrink)
        ax.add_patch(FancyArrowPatch((s["ts"], ya2), (f["ts"], yb2), arrowstyle="-|>",
                                     mutation_scale=7, color=color, linewidth=0.9,
                                     connectionstyle="arc3,rad=0.0", zorder=5))
        value = s.get("args", {}).get("value")
        if f["cat"] == "libtask9.value" and value is not None:
            ax.text((s["ts"] + f["ts"]) / 2 + 0.12, (ya2 + yb2) / 2, json.dumps(value),
                    fontsize=6, color=color, va="center", zorder=6,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.8})

    ax.set_ylim(y - 0.3, -0.9)
    ax.set_xlim(-0.5, end + 0.5)
    ax.set_yticks([r for r, _, _ in labels])
    ax.set_yticklabels([text for _, text, _ in labels], fontsize=7.5)
    for tick, (_, _, header) in zip(ax.get_yticklabels(), labels, strict=True):
        if header:
            tick.set_fontweight("bold")
    for r, _, header in labels:
        if not header:
            ax.axhline(r, color="#eeeeee", linewidth=0.6, zorder=0)
    seq_time = "seq step" in str(trace.get("otherData", {}).get("time", ""))
    ax.set_xlabel("seq step (each event 1 µs apart in the JSON)" if seq_time
                  else "time since the first event (µs)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=9, loc="left")
    legend: list[Any] = [Patch(facecolor=LIFETIME_COLOR, label="lifetime")]
    legend += [Patch(facecolor=face, edgecolor=edge, label=label)
               for face, edge, _, label in BLOCK_COLORS.values()]
    legend += [Patch(facecolor=IDLE_COLOR[0], edgecolor=IDLE_COLOR[1], hatch="////",
                     label="proc idle")]
    shown = {"AltBuffer", "AltRendezvous", "AltHandover", "Close", "KillBlocked",
             "TimerFire", "TaskCreate", "TaskExit"}
    legend += [Patch(facecolor=c, label=a + ("/ProcCreate" if a == "TaskCreate" else
                                             "/ProcExit" if a == "TaskExit" else ""))
               for a, c in OP_COLORS.items() if a in shown]
    legend += [Patch(facecolor="#7f7f7f", label="other operation")]
    legend += [plt.Line2D([], [], color=c, label=f"arrow: {cat.split('.')[1]}")
               for cat, c in FLOW_COLORS.items()]
    fig.legend(handles=legend, fontsize=6.2, ncol=(len(legend) + 1) // 2,
               loc="lower center", frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, help="a timeline from python -m libtask9.trace "
                    "(default: record examples/trace_timeline.py)")
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--save-json", type=Path, help="also write the drawn JSON there")
    ap.add_argument("--real-time", action="store_true",
                    help="keep the events' \"t\" instead of spacing them by seq")
    args = ap.parse_args(argv)
    if args.json is not None:
        trace = json.loads(args.json.read_text())
        title = f"libtask9 trace timeline: {args.json.name}"
    else:
        trace = example_timeline(args.real_time)
        title = ("libtask9 trace timeline of examples/trace_timeline.py "
                 "(python -m libtask9.trace, drawn by tools/draw_trace_timeline.py)")
    if args.save_json is not None:
        args.save_json.write_text(json.dumps(trace))
    draw(trace, args.output, title)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
