"""Lifecycle traces for ``python -m stress check-trace``: fresh lifecycle-stress traces
validated against ``spec/Procs.tla`` by the Python checker
(:func:`libtask9.testing.lctracecheck.check_lifecycle_trace`) and by TLC
(:func:`libtask9.testing.lctlctrace.tlc_validate_lifecycle`), and planted lifecycle bugs
that both must reject at the same event, the planted one:

* ``deadlock-timer-pending``: a ``ProcIdle`` declares a Deadlock while a sleep's timer
  of the run is still live (the check ignores ``ntimers``: ``timer_not_counted``);
* ``exit-while-idle``: a proc exits right after going idle, without waking (W1: the
  runtime's ``InternalError("W1 violated")``);
* ``run-ends-early``: ``run()`` returns right after ``RunEnding``, before its procs
  exited (``run_returns_early``);
* ``lost-wakeup``: a proc fires its due timer without having woken from its idle sleep
  (the ``ProcWake`` that un-idles it is lost: ``nidle`` stays counted).

Fresh traces come from ``normal`` and ``kill_main`` lifecycle programs (as many of each)
without the features the spec leaves out (:func:`scope_problems`).
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from libtask9.testing.lctlctrace import tlc_validate_lifecycle
from libtask9.testing.lctracecheck import check_lifecycle_trace

from .lc_execute import execute_lc
from .lc_program import LcConfig, LcProgram, generate_lc

__all__ = ["LC_PLANTS", "fresh_lc_traces", "main_lifecycle", "scope_problems"]

Events = list[dict[str, Any]]

#: Lifecycle programs for TLC: no timeout races (out of scope), small.
LC_TLC_CONFIG = LcConfig(procs=2, tasks=3, steps=4, race_rate=0.0)

#: The spec of this source tree.
SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"


def _steps(prog: LcProgram) -> Iterator[list[Any]]:
    for script in prog.tasks:
        yield from script
    for g in prog.groups:
        yield from g.get("body", [])


def scope_problems(prog: LcProgram) -> list[str]:
    """The steps of ``prog`` that leave ``spec/Procs.tla``'s scope (its README, "Not
    modelled"): Tickers and timeout scopes (races), ``Task.join`` with a finite timeout.
    In ``kill_main`` mode also the runtime behaviour the spec still rejects (its README,
    "Trace validation of lifecycle traces"), which a pending kill of main reaches: a
    ``TaskGroup`` (its owner joins its members with a kill pending)."""
    out = []
    for st in _steps(prog):
        kind = st[0]
        if kind in ("ticker", "race", "hold"):
            out.append(kind)
        elif kind == "join_task" and st[2] not in (None, "inf"):
            out.append("join_task with a timeout")
    if prog.mode == "kill_main" and prog.groups:
        out.append("kill_main with a TaskGroup")
    return out


def fresh_lc_traces(count: int, seed: int, max_events: int, min_events: int = 30,
                    attempts: int = 400, mode: str = "normal") -> list[tuple[int, Events]]:
    """``count`` traces (with their program seeds) of in-scope lifecycle programs of
    ``mode`` ("normal" or "kill_main"), of min..max events."""
    rng = random.Random(seed)
    out: list[tuple[int, Events]] = []
    for _ in range(attempts):
        if len(out) >= count:
            break
        pseed = rng.getrandbits(63)
        prog = generate_lc(random.Random(pseed), mode, LC_TLC_CONFIG)
        if scope_problems(prog):
            continue
        ev = execute_lc(prog, pseed).events
        if min_events <= len(ev) <= max_events:
            out.append((pseed, ev))
    return out


# --------------------------------------------------------------------------- plants

Planted = tuple[Events, int] | None


def plant_deadlock_timer_pending(events: Events) -> Planted:
    """The first ProcIdle that declares nothing while a sleep's or a join's timer is live
    now declares.  (Not a timer channel's: one nobody references may be dropped, a
    hidden TimerDrop, and then the declaration is right.)"""
    live: set[Any] = set()
    for k, ev in enumerate(events):
        a = ev["action"]
        if a == "TimerArm" and ev["kind"] in ("sleep", "join"):
            live.add(ev["timer"])
        elif a in ("TimerFire", "TimerStop"):
            live.discard(ev["timer"])
        elif a == "ProcIdle" and not ev["declared"] and live:
            bad = copy.deepcopy(events)
            bad[k]["declared"] = True
            return bad, k
    return None


def plant_exit_while_idle(events: Events) -> Planted:
    """A ProcExit right after the first ProcIdle that declares nothing."""
    for k, ev in enumerate(events):
        if ev["action"] == "ProcIdle" and not ev["declared"]:
            bad = copy.deepcopy(events)
            bad.insert(k + 1, {**ev, "action": "ProcExit", "woken": [], "declared": False})
            return bad, k + 1
    return None


def plant_run_ends_early(events: Events) -> Planted:
    """A RunEnd right after the RunEnding."""
    ends = [e for e in events if e["action"] == "RunEnd"]
    for k, ev in enumerate(events):
        if ev["action"] == "RunEnding" and ends:
            bad = copy.deepcopy(events)
            bad.insert(k + 1, copy.deepcopy(ends[0]))
            return bad, k + 1
    return None


def plant_lost_wakeup(events: Events) -> Planted:
    """Drop the first ProcWake directly followed by a TimerFire of the same proc."""
    for k in range(len(events) - 1):
        ev, nx = events[k], events[k + 1]
        if (ev["action"] == "ProcWake" and nx["action"] == "TimerFire"
                and nx.get("proc") == ev["proc"]):
            bad = copy.deepcopy(events)
            del bad[k]
            return bad, k
    return None


LC_PLANTS: dict[str, Callable[[Events], Planted]] = {
    "deadlock-timer-pending": plant_deadlock_timer_pending,
    "exit-while-idle": plant_exit_while_idle,
    "run-ends-early": plant_run_ends_early,
    "lost-wakeup": plant_lost_wakeup,
}


# --------------------------------------------------------------------------- the command


def _verdict(ok: bool, index: int | None) -> str:
    return "accepted" if ok else f"rejected at #{index}"


def _check_valid(pseed: int, events: Events, mode: str = "normal") -> bool:
    t0 = time.monotonic()
    py = check_lifecycle_trace(events)
    t1 = time.monotonic()
    tlc = tlc_validate_lifecycle(events, spec_dir=SPEC_DIR)
    agree = py.ok and tlc.accepted
    print(f"  fresh {mode} lifecycle trace (program seed {pseed}): {len(events)} events, "
          f"{py.items} lifecycle steps; python {_verdict(py.ok, py.index)} ({t1 - t0:.2f} s, "
          f"{py.explored} states); TLC {_verdict(tlc.accepted, tlc.first_bad_index)} "
          f"({tlc.seconds:.1f} s, {tlc.states} states) -> "
          f"{'OK' if agree else 'DISAGREEMENT'}", flush=True)
    if not agree:
        print(f"    python: {str(py)[:3000]}\n    TLC: {tlc.detail[:2000]}")
    return agree


def _check_planted(name: str, events: Events) -> bool | None:
    planted = LC_PLANTS[name](events)
    if planted is None:
        return None
    bad, k = planted
    py = check_lifecycle_trace(bad)
    tlc = tlc_validate_lifecycle(bad, spec_dir=SPEC_DIR)
    agree = (not py.ok and not py.unsupported and not tlc.accepted
             and py.index == tlc.first_bad_index == k)
    print(f"  planted lifecycle {name} at event #{k}: python {_verdict(py.ok, py.index)}; "
          f"TLC {_verdict(tlc.accepted, tlc.first_bad_index)} ({tlc.seconds:.1f} s) -> "
          f"{'OK (same event)' if agree else 'DISAGREEMENT'}", flush=True)
    if not agree:
        print(f"    python: {str(py)[:3000]}\n    TLC: {tlc.detail[:2000]}")
    return agree


def main_lifecycle(count: int, seed: int, max_events: int) -> bool:
    """The lifecycle part of ``check-trace``; True if every verdict agrees."""
    t0 = time.monotonic()
    traces = fresh_lc_traces(count, seed, max_events)
    killers = fresh_lc_traces(count, seed + 2, max_events, mode="kill_main")
    ok = len(traces) == count and len(killers) == count
    if not ok:
        print(f"  only {len(traces)} + {len(killers)} of {count} + {count} lifecycle traces "
              "of a suitable size")
    ok = all([_check_valid(ps, ev) for ps, ev in traces]) and ok
    ok = all([_check_valid(ps, ev, "kill_main") for ps, ev in killers]) and ok
    planted = 0
    for name in LC_PLANTS:
        for _, ev in traces + fresh_lc_traces(4, seed + 1, max_events):
            verdict = _check_planted(name, ev)
            if verdict is not None:
                planted += 1
                ok = ok and verdict
                break
        else:
            print(f"  planted lifecycle {name}: no suitable trace found")
            ok = False
    print(f"  lifecycle: {len(traces)} + {len(killers)} fresh trace(s) (normal + kill_main), "
          f"{planted} planted bug(s); "
          f"{'all verdicts agree' if ok else 'FAILED'} ({time.monotonic() - t0:.1f} s)",
          flush=True)
    return ok
