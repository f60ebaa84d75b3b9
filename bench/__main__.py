"""``python -m bench {run,quick,plot,list,profile,one}`` -- see bench/README.md."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.runner import RESULTS


def _targets_text(rows: list[dict[str, Any]]) -> str:
    out = [f"{'target':<46} {'implementation':<15} {'measured':>9}  {'goal':<10} status",
           "-" * 94]
    for t in rows:
        v = t["measured"]
        vs = f"{v:9.3g}" if isinstance(v, (int, float)) and not math.isnan(v) else "        -"
        out.append(f"{t['target']:<46} {t.get('impl', 'libtask9'):<15} {vs}  "
                   f"{t['goal']:<10} {t['status']}"
                   + (f"   ({t['detail']})" if t["detail"] else ""))
    return "\n".join(out)


def _collect(args: argparse.Namespace, quick: bool) -> dict[str, Any]:
    from bench.report import derive, targets
    from bench.runner import log, machine, plan, reference, run_plan

    cases = {int(c) for c in args.cases.split(",")} if args.cases else None
    impls = set(args.impls.split(",")) if args.impls else None
    items = plan(quick, cases, impls)
    log(f"bench {'quick' if quick else 'run'}: {len(items)} measurements, one fresh "
        f"subprocess each, budget {args.budget:.0f} s")
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    result = run_plan(items, quick, args.budget)
    result["mode"] = "quick" if quick else "full"
    result["machine"] = machine()
    result["machine"]["loadavg_start"] = load0
    result["machine"]["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    ref = reference(result)
    result["ref"] = ref
    derive(result, ref)
    result["targets"] = targets(result, ref)
    return result


def _dump(result: dict[str, Any], path: Path) -> None:
    def clean(o: Any) -> Any:
        if isinstance(o, float) and math.isnan(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(clean(result), indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())  # missing numbers are null
    return data


START, END = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"


def _update_readme(summary: str) -> None:
    """Replace the block between the markers in bench/README.md with the latest summary."""
    readme = RESULTS.parent / "README.md"
    if not readme.exists():
        return
    text = readme.read_text()
    a, b = text.find(START), text.find(END)
    if a < 0 or b < a:
        return
    block = (f"{START}\n_Written by `python -m bench run`; full tables: "
             f"[results/latest.md](results/latest.md)._\n\n{summary}\n")
    readme.write_text(text[:a] + block + text[b:])


def cmd_run(args: argparse.Namespace) -> int:
    from bench.report import markdown

    t0 = time.perf_counter()
    result = _collect(args, quick=False)
    md = markdown(result, result["ref"], result["targets"])
    out = Path(args.out) if args.out else RESULTS / "latest.json"
    _dump(result, out)
    out.with_suffix(".md").write_text(md + "\n")
    if not args.out:
        _update_readme(markdown(result, result["ref"], result["targets"], summary=True))
    print(md)
    print()
    print(_targets_text(result["targets"]))
    print(f"\nwrote {out} and {out.with_suffix('.md')} in {time.perf_counter() - t0:.0f} s "
          f"(targets are informational: exit 0)")
    return 0


def cmd_quick(args: argparse.Namespace) -> int:
    from bench.guard import compare
    from bench.report import markdown

    result = _collect(args, quick=True)
    base_path = Path(args.baseline)
    if args.out:
        _dump(result, Path(args.out))
        Path(args.out).with_suffix(".md").write_text(
            markdown(result, result["ref"], result["targets"]) + "\n")
    print(_targets_text([t for t in result["targets"] if t["status"] != "N/A"]))
    print("(informational; the quick set is reduced: targets it cannot judge are left out)\n")
    if args.save_baseline:
        _dump(result, base_path)
        print(f"wrote baseline {base_path}")
        return 0
    if not base_path.exists():
        print(f"no baseline at {base_path}: nothing to compare "
              f"(create one with `python -m bench quick --save-baseline`)")
        return 0
    lines, regressions = compare(result, _load(base_path))
    print("\n".join(lines))
    if regressions:
        print("\nGROSS REGRESSION (ratio to raw greenlet fell by more than half, confirmed "
              "on re-measurement):")
        for r in regressions:
            print("  " + r)
        return 1
    print("\nquick guard: no gross regression")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from bench.plot import plot

    src = Path(args.input)
    if not src.exists():
        print(f"{src} does not exist: run `python -m bench run` first", file=sys.stderr)
        return 1
    for p in plot(src, Path(args.outdir)):
        print(f"wrote {p}")
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """cProfile one implementation of one case in this process (for where-time-goes notes)."""
    import cProfile
    import io
    import pstats

    from bench.core import get_case

    case = get_case(args.case)
    impl = case.impl(args.impl)
    param = json.loads(args.param)
    if case.kind == "ops":
        impl.fn(min(args.n, 1000), param)  # warm-up
        prof = cProfile.Profile()
        prof.enable()
        impl.fn(args.n, param)
        prof.disable()
    else:
        impl.fn(param, True)
        prof = cProfile.Profile()
        prof.enable()
        impl.fn(param, False)
        prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf).sort_stats(args.sort)
    st.print_stats(args.top)
    print(buf.getvalue())
    if args.out:
        st.dump_stats(args.out)
    return 0


def cmd_list(_args: argparse.Namespace) -> int:
    from bench.core import load_cases

    for c in load_cases():
        print(f"case {c.id}: {c.title}  params={c.params} quick={c.quick_params or c.params}")
        for i in c.impls:
            print(f"    {i.key:<16} {i.role:<9} {'quick ' if i.quick else '      '}{i.label}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "one":
        from bench.core import child_main

        return child_main(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, helptext in (("run", "the full suite -> results/latest.{json,md}"),
                           ("quick", "reduced set + regression guard vs results/baseline.json")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--cases", help="comma-separated case numbers (default: all)")
        p.add_argument("--impls", help="comma-separated implementation keys (default: all)")
        p.add_argument("--budget", type=float, default=480.0 if name == "run" else 150.0,
                       help="seconds after which remaining measurements are skipped")
        p.add_argument("--out", help="JSON output path" + (
            " (default results/latest.json)" if name == "run" else " (default: none)"))
        if name == "quick":
            p.add_argument("--baseline", default=str(RESULTS / "baseline.json"))
            p.add_argument("--save-baseline", action="store_true",
                           help="write this run as the new baseline instead of comparing")
    p = sub.add_parser("plot", help="PNG charts of results/latest.json")
    p.add_argument("--input", default=str(RESULTS / "latest.json"))
    p.add_argument("--outdir", default=str(RESULTS))
    sub.add_parser("list", help="list cases and implementations")
    p = sub.add_parser("profile", help="cProfile one implementation of one case (in-process)")
    p.add_argument("case", type=int)
    p.add_argument("impl", nargs="?", default="libtask9")
    p.add_argument("--param", default="null", help="JSON value, e.g. '\"ready/16\"'")
    p.add_argument("-n", type=int, default=100_000, help="operations (ops cases)")
    p.add_argument("--sort", default="tottime")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--out", help="also dump the raw stats here")
    sub.add_parser("one", help="(internal) one measurement in this process")
    a = ap.parse_args(argv)
    return {"run": cmd_run, "quick": cmd_quick, "plot": cmd_plot, "list": cmd_list,
            "profile": cmd_profile}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
