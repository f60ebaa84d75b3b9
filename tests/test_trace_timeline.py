"""Trace timeline (``python -m libtask9.trace``): the Chrome trace-event / Perfetto output
is checked with the format's own rules, on traces recorded from real programs.

``check_chrome_trace`` states the rules of the JSON Object Format that ui.perfetto.dev
and ``chrome://tracing`` rely on: a JSON object with ``traceEvents``; the fields each
phase requires; every flow has one start and one end with the same id, cat and name, and
each binds to a slice ("enclosing slice": the flow's time lies inside a slice of its
track); per track, timestamps in file order never go back, ``B``/``E`` are balanced and
``X`` slices nest; every process and every thread that has events is named.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import libtask9
from libtask9 import (
    Channel,
    ChannelClosed,
    Deadlock,
    IOProc,
    Runner,
    TraceRecorder,
    after,
    alt,
    alt_recv,
    new_proc,
    new_task,
    tracing,
    yield_,
)
from libtask9 import trace as tt

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- the format

_REQUIRED = {
    "X": ("name", "ts", "dur", "pid", "tid"),
    "B": ("name", "ts", "pid", "tid"),
    "E": ("ts", "pid", "tid"),
    "i": ("name", "ts", "pid", "tid"),
    "I": ("name", "ts", "pid", "tid"),
    "C": ("name", "ts", "pid", "args"),
    "s": ("name", "cat", "ts", "pid", "tid", "id"),
    "t": ("name", "cat", "ts", "pid", "tid", "id"),
    "f": ("name", "cat", "ts", "pid", "tid", "id"),
    "M": ("name", "pid", "args"),
}
_METADATA = {"process_name": "name", "thread_name": "name", "process_sort_index": "sort_index",
             "thread_sort_index": "sort_index", "process_labels": "labels"}


def _is_num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _is_id(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**32


def _thread_scoped(e: dict[str, Any]) -> bool:
    return e["ph"] in ("X", "B", "E", "s", "t", "f") or (
        e["ph"] in ("i", "I") and e.get("s", "t") == "t")


def check_chrome_trace(obj: object) -> list[str]:
    """Every way ``obj`` breaks the trace-event format's rules (empty: none)."""
    problems: list[str] = []
    bad = problems.append
    if not isinstance(obj, dict) or not isinstance(obj.get("traceEvents"), list):
        return ["not a JSON object with a traceEvents list"]
    try:
        if json.loads(json.dumps(obj, allow_nan=False)) != obj:
            bad("does not survive a JSON round trip")
    except (TypeError, ValueError) as e:
        return [f"not strict JSON: {e}"]
    events: list[dict[str, Any]] = []
    for k, e in enumerate(obj["traceEvents"]):
        if not isinstance(e, dict) or e.get("ph") not in _REQUIRED:
            bad(f"event {k}: not an object with a known ph: {e!r}")
            continue
        missing = [f for f in _REQUIRED[e["ph"]] if f not in e]
        if missing:
            bad(f"event {k} ({e['ph']}): missing {missing}")
            continue
        if "name" in e and not isinstance(e["name"], str):
            bad(f"event {k}: name is not a string")
        if "ts" in e and not (_is_num(e["ts"]) and e["ts"] >= 0):
            bad(f"event {k}: bad ts {e['ts']!r}")
        if "dur" in e and not (_is_num(e["dur"]) and e["dur"] >= 0):
            bad(f"event {k}: bad dur {e['dur']!r}")
        for f in ("pid", "tid"):
            if f in e and not _is_id(e[f]):
                bad(f"event {k}: {f} is not a 32-bit unsigned integer: {e[f]!r}")
        if e["ph"] in ("i", "I") and e.get("s", "t") not in ("g", "p", "t"):
            bad(f"event {k}: instant scope {e.get('s')!r}")
        if e["ph"] == "C" and not (isinstance(e["args"], dict) and e["args"]
                                   and all(_is_num(v) for v in e["args"].values())):
            bad(f"event {k}: counter args must be numbers: {e['args']!r}")
        if e["ph"] == "M":
            key = _METADATA.get(e["name"])
            if key is None or not isinstance(e["args"], dict) or key not in e["args"]:
                bad(f"event {k}: bad metadata event {e!r}")
        if e["ph"] in ("s", "t", "f") and not isinstance(e["id"], (int, str)):
            bad(f"event {k}: flow id {e['id']!r}")
        events.append(e)
    if problems:
        return problems

    # Per track: time order in the file, B/E balance, X nesting.
    last: dict[tuple[int, int], float] = {}
    open_b: dict[tuple[int, int], list[str]] = defaultdict(list)
    slices: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for e in events:
        if e["ph"] == "M":
            continue
        track = (e["pid"], e.get("tid", e["pid"]))
        if e["ts"] < last.get(track, 0.0):
            bad(f"track {track}: ts goes back to {e['ts']} after {last[track]}")
        last[track] = e["ts"]
        if e["ph"] == "B":
            open_b[track].append(e["name"])
        elif e["ph"] == "E":
            if not open_b[track]:
                bad(f"track {track}: E at {e['ts']} with no open B")
            else:
                open_b[track].pop()
        elif e["ph"] == "X":
            slices[track].append((e["ts"], e["ts"] + e["dur"]))
    for track, names in open_b.items():
        if names:
            bad(f"track {track}: B without E: {names}")
    for track, spans in slices.items():
        stack: list[tuple[float, float]] = []
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack and end > stack[-1][1]:
                bad(f"track {track}: slice [{start}, {end}] overlaps {stack[-1]} "
                    "without nesting in it")
            stack.append((start, end))

    # Flows: one start, one end, same id/cat/name, each bound to a slice of its track.
    flows: dict[tuple[Any, ...], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    ids: dict[Any, set[tuple[str, str]]] = defaultdict(set)
    for e in events:
        if e["ph"] in ("s", "t", "f"):
            flows[(e["cat"], e["name"], e["id"])][e["ph"]].append(e)
            ids[e["id"]].add((e["cat"], e["name"]))
    for fid, keys in ids.items():
        if len(keys) != 1:
            bad(f"flow id {fid}: its events disagree on cat/name: {sorted(keys)}")
    for key, parts in flows.items():
        if len(parts["s"]) != 1 or len(parts["f"]) != 1:
            bad(f"flow {key}: {len(parts['s'])} start(s) and {len(parts['f'])} end(s)")
            continue
        s, f = parts["s"][0], parts["f"][0]
        if f["ts"] < s["ts"]:
            bad(f"flow {key}: ends at {f['ts']} before it starts at {s['ts']}")
        for p in (s, f):
            spans = slices.get((p["pid"], p["tid"]), [])
            enclosing = p["ph"] == "s" or p.get("bp") == "e"
            if enclosing:
                ok = any(a < p["ts"] < b for a, b in spans)
            else:
                ok = any(a >= p["ts"] for a, _ in spans)
            if not ok:
                bad(f"flow {key}: its {p['ph']} at {p['ts']} on {(p['pid'], p['tid'])} "
                    "binds to no slice")

    # Names: every process with events, every thread with thread-scoped events.
    named_p = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    named_t = {(e["pid"], e.get("tid")) for e in events
               if e["ph"] == "M" and e["name"] == "thread_name"}
    for e in events:
        if e["ph"] == "M":
            continue
        if e["pid"] not in named_p:
            bad(f"pid {e['pid']} has no process_name")
            named_p.add(e["pid"])
        if _thread_scoped(e) and (e["pid"], e["tid"]) not in named_t:
            bad(f"thread {(e['pid'], e['tid'])} has no thread_name")
            named_t.add((e["pid"], e["tid"]))
    return problems


def assert_valid(obj: dict[str, Any]) -> dict[str, Any]:
    problems = check_chrome_trace(obj)
    assert not problems, "\n".join(problems)
    return obj


# --------------------------------------------------------------------------- helpers


def record(main: Callable[[], Any], seed: int | None = None,
           raises: type[BaseException] | None = None) -> list[dict[str, Any]]:
    """Run ``main`` traced to NDJSON, and read the events back as the CLI does."""
    buf = io.StringIO()
    with tracing(TraceRecorder(buf)):
        if raises is None:
            Runner(seed=seed).run(main)
        else:
            with pytest.raises(raises):
                Runner(seed=seed).run(main)
    notes: list[str] = []
    events = tt.read_events(io.StringIO(buf.getvalue()), notes)
    assert notes == []
    return events


def of(obj: dict[str, Any], ph: str, cat: str | None = None) -> list[dict[str, Any]]:
    return [e for e in obj["traceEvents"]
            if e["ph"] == ph and (cat is None or e.get("cat") == cat)]


def flow_pairs(obj: dict[str, Any], cat: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(start, end) of each flow of ``cat``, in the order of their ids."""
    starts = {e["id"]: e for e in of(obj, "s", cat)}
    ends = {e["id"]: e for e in of(obj, "f", cat)}
    assert starts.keys() == ends.keys()
    return [(starts[i], ends[i]) for i in sorted(starts)]


def names(obj: dict[str, Any], which: str) -> dict[Any, str]:
    out: dict[Any, str] = {}
    for e in of(obj, "M"):
        if e["name"] == which == "process_name":
            out[e["pid"]] = e["args"]["name"]
        elif e["name"] == which == "thread_name":
            out[(e["pid"], e["tid"])] = e["args"]["name"]
    return out


def blocks(obj: dict[str, Any], tid: int | None = None,
           prefix: str = "AltBlock") -> list[dict[str, Any]]:
    """The blocked slices of ``tid`` (every task's if None) whose name starts with
    ``prefix`` (``AltBlock``, ``sleep``, ``join``, ``iocall``; "" for all)."""
    return [e for e in of(obj, "X", "libtask9.block")
            if (tid is None or e["tid"] == tid) and e["name"].startswith(prefix)]


def seen(action: str, after: int = -1, **fields: Any) -> dict[str, Any] | None:
    """The first event after seq ``after`` with ``action`` and ``fields`` that the
    installed recorder holds (a test waits on it to order threads without sleeps)."""
    rec = libtask9.get_tracer()
    assert isinstance(rec, TraceRecorder)
    for e in list(rec.events):
        if (e["action"] == action and e["seq"] > after
                and all(e.get(k) == v for k, v in fields.items())):
            return e
    return None


def wait_until_seen(action: str, after: int = -1, **fields: Any) -> dict[str, Any]:
    """Wait (sleeping the calling task, or the thread outside a task) until ``seen``."""
    deadline = time.monotonic() + 30
    while (e := seen(action, after, **fields)) is None:
        assert time.monotonic() < deadline, f"no {action} {fields} after seq {after}"
        if _in_task():
            libtask9.sleep(1)
        else:
            time.sleep(0.001)
    return e


def _in_task() -> bool:
    try:
        libtask9.curtask()
    except libtask9.NotInTask:
        return False
    return True


def summary_table(text: str, header: str) -> dict[str, list[str]]:
    """The rows of the table of ``summary`` text whose header starts with ``header``,
    by their first cell (the other cells split at spaces)."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if " ".join(ln.split()).startswith(header))
    rows: dict[str, list[str]] = {}
    for ln in lines[start + 1:]:
        if not ln:
            break
        first, *rest = ln.split()
        rows[first] = rest
    return rows


def sched_tid(obj: dict[str, Any]) -> int:
    """The tid of the procs' scheduler tracks."""
    (tid,) = {tid for (_, tid), n in names(obj, "thread_name").items() if n == "scheduler"}
    return tid


def ends(e: dict[str, Any]) -> float:
    return float(e["ts"] + e["dur"])


def inside(point: dict[str, Any], e: dict[str, Any]) -> bool:
    """The flow event ``point`` binds to the slice ``e`` (same track, strictly inside)."""
    return ((point["pid"], point["tid"]) == (e["pid"], e["tid"])
            and e["ts"] < point["ts"] < ends(e))


# --------------------------------------------------------------------------- real programs


def test_pingpong_across_two_procs_is_arrows_between_the_two_tracks() -> None:
    n = 5
    ids: dict[str, int] = {}

    def main() -> None:
        ping: Channel[int] = Channel()
        pong: Channel[int] = Channel()

        def ponger() -> None:
            ids["pong_task"] = libtask9.curtask().id
            for _ in range(n):
                pong.send(ping.recv() + 1)

        p = new_proc(ponger)
        ids["ping_task"] = libtask9.curtask().id
        ids["ping_proc"], ids["pong_proc"] = libtask9.curproc().id, p.id
        for i in range(n):
            ping.send(10 * i)
            assert pong.recv() == 10 * i + 1
        assert p.join(timeout=10)

    events = record(main)
    out = assert_valid(tt.to_chrome(events))
    ping, pong = (ids["ping_proc"], ids["ping_task"]), (ids["pong_proc"], ids["pong_task"])
    run_id = events[0]["run"]  # one run: both procs are named as its procs
    assert names(out, "process_name")[ping[0]] == f"run {run_id} · proc {ping[0]}"
    assert names(out, "process_name")[pong[0]] == f"run {run_id} · proc {pong[0]} (ponger)"
    assert names(out, "thread_name")[ping] == f"task {ping[1]} (main)"  # (TaskCreate's name)
    assert names(out, "thread_name")[pong] == f"task {pong[1]} (ponger)"
    sched = sched_tid(out)
    assert names(out, "thread_name")[(pong[0], sched)] == "scheduler"
    # Every message is one arrow from the sender's track to the receiver's, with its value.
    pairs = flow_pairs(out, "libtask9.value")
    assert len(pairs) == 2 * n
    there = [(s["args"]["value"]) for s, f in pairs
             if (s["pid"], s["tid"]) == ping and (f["pid"], f["tid"]) == pong]
    back = [(s["args"]["value"]) for s, f in pairs
            if (s["pid"], s["tid"]) == pong and (f["pid"], f["tid"]) == ping]
    assert there == [10 * i for i in range(n)]
    assert back == [10 * i + 1 for i in range(n)]
    # Unbuffered: every transfer met a blocked partner, so each one ends a blocked slice.
    ended = Counter(b["args"]["ended_by"].split()[0] for b in blocks(out))
    assert ended == {"AltRendezvous": 2 * n}
    # The ponger's proc is created by main's task (an arrow to its scheduler track) and
    # lives from there to its ProcExit.
    ((s, f),) = [(s, f) for s, f in flow_pairs(out, "libtask9.spawn")
                 if s["name"] == f"proc {pong[0]}"]
    assert (s["pid"], s["tid"]) == ping and (f["pid"], f["tid"]) == (pong[0], sched)
    (life,) = [e for e in of(out, "X", "libtask9.lifetime") if e["name"] == f"proc {pong[0]}"]
    assert inside(f, life) and life["args"]["ended"].startswith("ProcExit")
    assert out["otherData"]["events"] == len(events)


def test_buffered_pipeline_arrows_cross_the_buffer_fifo() -> None:
    n = 6
    ids: dict[str, int] = {}

    def main() -> None:
        a: Channel[int] = Channel(2)
        b: Channel[int] = Channel(2)

        def producer() -> None:
            ids["producer"] = libtask9.curtask().id
            for i in range(n):
                a.send(i)
            a.close()

        def doubler() -> None:
            ids["doubler"] = libtask9.curtask().id
            for v in a:
                b.send(2 * v)
            b.close()

        ids["consumer"] = libtask9.curtask().id
        ids["a"], ids["b"] = a.id, b.id
        new_task(producer)
        new_task(doubler)
        assert list(b) == [2 * i for i in range(n)]

    out = assert_valid(tt.to_chrome(record(main)))
    pairs = flow_pairs(out, "libtask9.value")
    hop1 = [(s["tid"], f["tid"], s["args"]["value"]) for s, f in pairs
            if s["name"] == f"c{ids['a']}"]
    hop2 = [(s["tid"], f["tid"], s["args"]["value"]) for s, f in pairs
            if s["name"] == f"c{ids['b']}"]
    assert hop1 == [(ids["producer"], ids["doubler"], i) for i in range(n)]
    assert hop2 == [(ids["doubler"], ids["consumer"], 2 * i) for i in range(n)]
    # The buffer-length counters stay within the capacity and end empty.
    for c in ("a", "b"):
        lens = [e["args"]["len"] for e in of(out, "C") if e["name"] == f"c{ids[c]} buffer"]
        assert lens[0] == 0 and lens[-1] == 0 and max(lens) == 2 and min(lens) == 0
    # The closes are arrows too, where they woke a blocked task.
    for s, f in flow_pairs(out, "libtask9.close"):
        assert (s["tid"], f["tid"]) in ((ids["producer"], ids["doubler"]),
                                        (ids["doubler"], ids["consumer"]))
    # Both tasks were created by the consumer: spawn arrows into their lifetimes.
    spawned = [(s["tid"], f["tid"]) for s, f in flow_pairs(out, "libtask9.spawn")]
    assert spawned == [(ids["consumer"], ids["producer"]), (ids["consumer"], ids["doubler"])]


def test_alt_with_a_timeout_blocks_until_its_timer_fires() -> None:
    """The timer channel of ``after()`` is untraced, so no channel event ends the alt;
    the ``TimerFire`` of the timer its task armed does (an arrow from the proc's
    scheduler track).  Timestamps lie on a grid where ``ts + dur`` is exact: this test
    used to fail on a slice ending 3e-12 µs after the next one began."""
    ids: dict[str, int] = {}

    def main() -> None:
        c: Channel[int] = Channel()
        ids["c"], ids["main"] = c.id, libtask9.curtask().id
        ids["proc"] = libtask9.curproc().id
        idx, _ = alt(alt_recv(c), alt_recv(after(20)))  # nobody sends: the timer wins
        assert idx == 1
        assert not c.nbsend(0)  # AltNone: the main task runs again
        sender = new_task(c.send, 7)  # now a partner arrives before a (long) timeout
        idx, v = alt(alt_recv(c), alt_recv(after(60_000)))
        assert (idx, v) == (0, 7)
        ids["sender"] = sender.id

    events = record(main)
    out = assert_valid(tt.to_chrome(events))
    first, second = blocks(out, ids["main"])
    assert first["name"].startswith(f"AltBlock alt(recv c{ids['c']}, recv c")
    (arm,) = [e for e in events if e["action"] == "TimerArm" and e["kind"] == "Timer"][:1]
    assert first["args"]["ended_by"].startswith(f"TimerFire timer {arm['timer']} (seq ")
    assert f"the Timer armed by t{ids['main']} (seq {arm['seq']})" in first["args"]["ended_by"]
    fire = next(e for e in of(out, "X", "libtask9.op") if e["name"].startswith("TimerFire"))
    assert (fire["pid"], fire["tid"]) == (ids["proc"], sched_tid(out))
    assert ends(first) == fire["ts"] + tt.OP_SLICE_US  # exactly: ends with its section
    ((s, f),) = flow_pairs(out, "libtask9.timer")
    assert inside(s, fire) and inside(f, first) and f["args"]["woken"] == ids["main"]
    nb = next(e for e in of(out, "X", "libtask9.op") if e["name"].startswith("AltNone"))
    assert ends(first) < nb["ts"]
    assert second["args"]["ended_by"].startswith(f"AltRendezvous by t{ids['sender']}")
    ((s, f),) = flow_pairs(out, "libtask9.value")
    assert (s["tid"], f["tid"], s["args"]["value"]) == (ids["sender"], ids["main"], 7)
    assert inside(f, second)


def test_a_timer_channel_armed_by_another_task_ends_the_block_at_the_latest_later() -> None:
    """A timer armed by one task and waited on by another cannot be related to the
    waiter's alt: the block ends at the waiter's next event ("at the latest here")."""
    ids: dict[str, int] = {}

    def main() -> None:
        c: Channel[int] = Channel()
        timer = libtask9.Timer(60_000)

        def waiter() -> None:
            alt(alt_recv(c), alt_recv(timer.c))
            c.nbsend(0)

        w = new_task(waiter)
        ids["waiter"] = w.id
        wait_until_seen("AltBlock", task=w.id)
        timer.reset(1)  # armed by main, fires while the waiter is blocked on its channel
        w.join()

    out = assert_valid(tt.to_chrome(record(main)))
    (b,) = blocks(out, ids["waiter"])
    assert "does not record" in b["args"]["ended_by"]
    nb = next(e for e in of(out, "X", "libtask9.op") if e["name"].startswith("AltNone"))
    assert ends(b) == nb["ts"]
    assert [f for _, f in flow_pairs(out, "libtask9.timer") if f["tid"] == ids["waiter"]] == []
    assert any(e["name"] == "TimerFire timer " + e["name"].split()[2] + " (Timer)"
               for e in of(out, "X", "libtask9.op") if e["name"].startswith("TimerFire"))


def test_a_sleep_is_a_block_ended_by_its_timer_with_an_arrow() -> None:
    ids: dict[str, int] = {}

    def main() -> None:
        ids["main"], ids["proc"] = libtask9.curtask().id, libtask9.curproc().id
        while True:  # until the proc has gone idle during a sleep (at once, but for load)
            rec = libtask9.get_tracer()
            assert isinstance(rec, TraceRecorder)
            mark = rec.events[-1]["seq"]
            libtask9.sleep(20)
            if seen("ProcIdle", mark, proc=ids["proc"]) is not None:
                return

    events = record(main)
    out = assert_valid(tt.to_chrome(events))
    b = blocks(out, ids["main"], "sleep")[-1]
    arm = [e for e in events if e["action"] == "TimerArm"][-1]
    fire_ev = [e for e in events if e["action"] == "TimerFire"][-1]
    assert fire_ev["woken"] == ids["main"] and arm["kind"] == "sleep"
    assert b["args"]["ended_by"] == f"TimerFire timer {arm['timer']} (sleep, seq {fire_ev['seq']})"
    assert b["args"]["seq"] == arm["seq"] and b["args"]["timer"] == arm["timer"]
    s, f = flow_pairs(out, "libtask9.timer")[-1]
    fire = [e for e in of(out, "X", "libtask9.op") if e["name"].startswith("TimerFire")][-1]
    assert fire["name"] == f"TimerFire timer {arm['timer']} (sleep)"
    assert inside(s, fire) and inside(f, b)
    assert (s["pid"], s["tid"]) == (ids["proc"], sched_tid(out))
    # Nothing else runs: the proc sleeps on its parker, an idle slice on its scheduler
    # track inside the proc's lifetime, that its ProcWake ends before the timer fires.
    idle = of(out, "X", "libtask9.idle")
    assert idle and all((e["pid"], e["tid"]) == (ids["proc"], sched_tid(out)) for e in idle)
    assert idle[-1]["args"]["ended_by"].startswith("ProcWake")
    assert b["ts"] < idle[-1]["ts"] and ends(idle[-1]) <= fire["ts"]
    (life,) = [e for e in of(out, "X", "libtask9.lifetime") if e["name"] == f"proc {ids['proc']}"]
    assert all(life["ts"] <= e["ts"] and ends(e) <= ends(life) for e in idle)


def test_joins_are_blocks_ended_by_task_exit_and_proc_exit_with_arrows() -> None:
    ids: dict[str, int] = {}

    def main() -> None:
        ids["main"] = libtask9.curtask().id
        worker = new_task(libtask9.sleep, 10)
        ids["worker"] = worker.id
        assert worker.join()
        p = new_proc(lambda: wait_until_seen(
            "JoinBlock", target=f"proc {libtask9.curproc().id}"))
        ids["proc"] = p.id
        assert p.join(timeout=30)  # (with a timeout: a timer that is not the waker)
        slow = new_task(libtask9.sleep, 60_000)
        assert not slow.join(timeout=0.005)  # times out: its timer's TimerFire ends it
        slow.kill()

    events = record(main)
    out = assert_valid(tt.to_chrome(events))
    by_task, by_proc, timed_out = blocks(out, ids["main"], "join")
    assert by_task["name"] == f"join task {ids['worker']}"
    assert by_task["args"]["ended_by"].startswith(f"TaskExit of t{ids['worker']} (seq ")
    assert by_proc["name"] == f"join proc {ids['proc']}"
    assert by_proc["args"]["ended_by"].startswith(f"ProcExit of p{ids['proc']} (seq ")
    assert "timeout_timer" in by_proc["args"]
    assert timed_out["args"]["ended_by"].startswith("TimerFire timer ")
    assert "(join, seq" in timed_out["args"]["ended_by"]
    pairs = flow_pairs(out, "libtask9.join")
    assert [(s["name"], s["tid"], f["tid"]) for s, f in pairs] == [
        (f"TaskExit t{ids['worker']}", ids["worker"], ids["main"]),
        (f"ProcExit p{ids['proc']}", sched_tid(out), ids["main"])]
    (task_exit,) = [e for e in of(out, "X", "libtask9.op")
                    if e["name"] == "TaskExit" and e["tid"] == ids["worker"]]
    (proc_exit,) = [e for e in of(out, "X", "libtask9.op")
                    if e["name"] == "ProcExit" and e["pid"] == ids["proc"]]
    assert inside(pairs[0][0], task_exit) and inside(pairs[0][1], by_task)
    assert inside(pairs[1][0], proc_exit) and inside(pairs[1][1], by_proc)
    ((_, f),) = [p for p in flow_pairs(out, "libtask9.timer") if p[1]["tid"] == ids["main"]]
    assert inside(f, timed_out)
    # The worker's lifetime: from its TaskCreate (an arrow from main) to its TaskExit.
    (life,) = [e for e in of(out, "X", "libtask9.lifetime")
               if e["name"] == f"task {ids['worker']}"]
    assert ends(life) == ends(task_exit) and life["args"]["created"].endswith(
        f"by t{ids['main']}")
    rows = summary_table(tt.summary(events), "task created by")
    cells = rows[f"t{ids['main']}"]  # created by, sleeps, time (2 cells), joins, ...
    assert (cells[1], cells[4], cells[7]) == ("0", "3", "0")  # 3 joins, no sleep, no iocall
    assert rows[f"t{ids['worker']}"][:2] == [f"t{ids['main']}", "1"]  # it slept once


def test_an_iocall_is_a_block_from_io_start_to_io_done() -> None:
    ids: dict[str, int] = {}

    def main() -> None:
        ids["main"], ids["proc"] = libtask9.curtask().id, libtask9.curproc().id
        with IOProc("disk") as io:
            assert io.iocall(sum, [1, 2, 3]) == 6
            start = seen("IoStart", task=ids["main"])
            assert start is not None
            # The helper returns once the proc has gone idle waiting for it.
            io.iocall(wait_until_seen, "ProcIdle", start["seq"] + 1, proc=ids["proc"])

    events = record(main)
    out = assert_valid(tt.to_chrome(events))
    quick, slow = blocks(out, ids["main"], "iocall")
    dones = [e for e in events if e["action"] == "IoDone"]
    for b, done in zip((quick, slow), dones, strict=True):
        assert b["name"] == "iocall disk"
        assert b["args"]["ended_by"] == f"IoDone disk (seq {done['seq']})"
    # While the helper sleeps, the proc idles; the IoDone that readies main ends it (no
    # ProcWake: the runtime records none when another thread hands a proc work).
    idle = [e for e in of(out, "X", "libtask9.idle") if slow["ts"] < e["ts"] < ends(slow)]
    assert [e["args"]["ended_by"] for e in idle] == [
        f"t{ids['main']} readied by IoDone (seq {dones[1]['seq']})"]
    assert ends(idle[0]) == ends(slow)


def test_idle_slices_of_a_proc_woken_by_another_procs_send() -> None:
    ids: dict[str, int] = {}

    def main() -> None:
        c: Channel[int] = Channel()
        p = new_proc(c.recv)
        ids["proc"], ids["main_proc"] = p.id, libtask9.curproc().id
        wait_until_seen("ProcIdle", proc=p.id)  # the receiver blocks, its proc idles
        c.send(1)  # readies the receiver: its proc has work again
        p.join()

    events = record(main)
    out = assert_valid(tt.to_chrome(events))
    sched = sched_tid(out)
    send = next(e for e in events if e["action"] == "AltRendezvous")
    idle = [e for e in of(out, "X", "libtask9.idle") if e["pid"] == ids["proc"]]
    assert [e["tid"] for e in idle] == [sched] * len(idle)
    woken = [e for e in idle if "readied by AltRendezvous" in e["args"]["ended_by"]]
    assert len(woken) == 1 and woken[0]["args"]["ended_by"].endswith(f"(seq {send['seq']})")
    # The idle period ends with the sender's critical section, where the arrow starts.
    ((s, _),) = flow_pairs(out, "libtask9.value")
    assert ends(woken[0]) == s["ts"] + tt.OP_SLICE_US / 2
    assert all(e["pid"] in (ids["proc"], ids["main_proc"])
               for e in of(out, "X", "libtask9.idle"))


def test_a_deadlocking_run_shows_its_declaration_and_its_end() -> None:
    ids: dict[str, int] = {}

    def main() -> None:
        ids["main"], ids["proc"] = libtask9.curtask().id, libtask9.curproc().id
        Channel[int]().recv()  # nobody will send

    events = record(main, raises=Deadlock)
    out = assert_valid(tt.to_chrome(events))
    run = events[0]["run"]
    (declared,) = [e for e in of(out, "i") if e["s"] == "g"]
    (decl_ev,) = [e for e in events if e.get("declared") is True]
    assert declared["name"] == f"Deadlock declared (run {run})"
    assert declared["cat"] == "libtask9.deadlock" and declared["args"]["seq"] == decl_ev["seq"]
    runs = {e["name"]: (e["pid"], e["s"]) for e in of(out, "i", "libtask9.run")}
    assert runs == {f"RunStart (run {run})": (ids["proc"], "p"),
                    "RunEnding (deadlock)": (ids["proc"], "p"),
                    "RunEnd (Deadlock)": (ids["proc"], "p")}
    (b,) = blocks(out, ids["main"])
    assert b["args"]["ended_by"].startswith(
        "not woken by a recorded event: unwound when its run ended (deadlock, RunEnding seq")
    # The declaring ProcIdle is an idle slice too, ended by the ProcWake that follows.
    (idle,) = [e for e in of(out, "X", "libtask9.idle") if e["args"]["declared"]]
    assert idle["ts"] == declared["ts"] and idle["args"]["ended_by"].startswith("ProcWake")
    text = tt.summary(events)
    assert (f"run {run}: 1 proc (p{ids['proc']}), 1 task; ending: deadlock; outcome: "
            f"Deadlock; deadlock: declared (seq {decl_ev['seq']}, ProcIdle of "
            f"p{ids['proc']})") in text


def test_close_wakes_blocked_receivers_with_arrows() -> None:
    ids: dict[str, Any] = {}

    def main() -> None:
        c: Channel[int] = Channel()

        def receiver() -> None:
            with pytest.raises(ChannelClosed):
                c.recv()

        ids["receivers"] = [new_task(receiver).id for _ in range(3)]
        ids["main"], ids["c"] = libtask9.curtask().id, c.id
        yield_()  # the three receivers block
        c.close()
        yield_()

    out = assert_valid(tt.to_chrome(record(main)))
    pairs = flow_pairs(out, "libtask9.close")
    assert [(s["tid"], f["tid"]) for s, f in pairs] == [
        (ids["main"], r) for r in ids["receivers"]]
    assert {s["name"] for s, _ in pairs} == {f"Close c{ids['c']}"}
    for r in ids["receivers"]:
        (b,) = blocks(out, r)
        assert b["args"]["ended_by"].startswith(f"Close c{ids['c']} by t{ids['main']}")
    assert flow_pairs(out, "libtask9.value") == []


def test_kill_of_a_blocked_task_ends_its_block_with_an_arrow() -> None:
    ids: dict[str, int] = {}

    def main() -> None:
        c: Channel[int] = Channel()
        victim = new_task(c.recv)
        early = new_task(c.recv)
        early.kill()  # not started yet: KillPending, then Killed when it would run
        yield_()  # the victim blocks
        victim.kill()  # KillBlocked
        yield_()
        assert not c.nbsend(0)  # (an event of main's own: its track's proc is known)
        sleeper = new_task(libtask9.sleep, 60_000)
        yield_()
        sleeper.kill()  # KillBlocked of a sleep
        yield_()
        ids["main"], ids["victim"], ids["early"] = libtask9.curtask().id, victim.id, early.id
        ids["sleeper"] = sleeper.id

    out = assert_valid(tt.to_chrome(record(main)))
    pairs = flow_pairs(out, "libtask9.kill")
    assert [(s["tid"], f["tid"]) for s, f in pairs] == [(ids["main"], ids["victim"]),
                                                        (ids["main"], ids["sleeper"])]
    (b,) = blocks(out, ids["victim"])
    assert b["args"]["ended_by"].startswith(f"KillBlocked by t{ids['main']}")
    (b,) = blocks(out, ids["sleeper"], "sleep")
    assert b["args"]["ended_by"].startswith(f"KillBlocked by t{ids['main']}")
    ops = {e["name"]: e["tid"] for e in of(out, "X", "libtask9.op")}
    assert ops[f"KillPending t{ids['early']}"] == ids["main"]  # on the killer's track
    assert ops[f"KillBlocked t{ids['victim']}"] == ids["main"]
    killed = [e for e in of(out, "i") if e["name"] == "Killed"]
    assert [(e["tid"], e["s"]) for e in killed] == [(ids["early"], "t")]


def test_kill_by_a_task_whose_proc_the_trace_does_not_show() -> None:
    evs = [
        {"seq": 0, "action": "AltBlock", "task": 2, "proc": 1, "ops": [["recv", 9]],
         "vals": [None], "block": True, "index": -1, "value": None},
        {"seq": 1, "action": "KillBlocked", "task": 2, "proc": 1, "by": 5},
    ]
    out = assert_valid(tt.to_chrome(evs))
    (b,) = blocks(out)
    assert b["args"]["ended_by"] == "KillBlocked by t5 (seq 1)"
    assert [(e["name"], e["tid"]) for e in of(out, "i")] == [("KillBlocked", 2)]
    assert flow_pairs(out, "libtask9.kill") == []


# --------------------------------------------------------------------------- synthetic events

# The events of a small run as the runtime records them (the constructors of
# libtask9/_trace.py), with "t" (monotonic seconds), "run", a "name" (which the runtime
# does not record yet) and an action this converter does not know.
LIFECYCLE = [
    {"seq": 10, "action": "RunStart", "run": 7, "proc": 1, "task": None, "t": 100.0},
    {"seq": 11, "action": "TaskCreate", "run": 7, "proc": 1, "task": 1, "by": None,
     "t": 100.00001, "name": "main"},
    {"seq": 12, "action": "ProcStart", "run": 7, "proc": 1, "task": 1, "t": 100.00002},
    {"seq": 13, "action": "ChanCreate", "run": 7, "task": None, "proc": None, "chan": 4,
     "cap": 0, "t": 100.00003},
    {"seq": 14, "action": "TaskCreate", "run": 7, "proc": 1, "task": 2, "by": 1,
     "t": 100.0005},
    {"seq": 15, "action": "AltBlock", "run": 7, "task": 1, "proc": 1, "ops": [["recv", 4]],
     "vals": [None], "block": True, "index": -1, "value": None, "t": 100.001},
    {"seq": 16, "action": "AltRendezvous", "run": 7, "task": 2, "proc": 1,
     "ops": [["send", 4]], "vals": [42], "block": True, "index": 0, "value": None,
     "partner": 1, "pindex": 0, "t": 100.003},
    {"seq": 17, "action": "TaskExit", "run": 7, "proc": 1, "task": 2, "woken": [],
     "t": 100.003},
    {"seq": 18, "action": "SomethingNew", "run": 7, "task": 1, "proc": 1, "t": 100.005,
     "payload": {"nested": [1, 2.5, None]}},
    {"seq": 19, "action": "TaskExit", "run": 7, "proc": 1, "task": 1, "woken": [],
     "t": 100.006},
    {"seq": 20, "action": "RunEnding", "run": 7, "proc": None, "task": None,
     "reason": "main returned", "t": 100.007},
    {"seq": 21, "action": "ProcExit", "run": 7, "proc": 1, "task": None, "woken": [],
     "declared": False, "t": 100.008},
    {"seq": 22, "action": "RunEnd", "run": 7, "proc": None, "task": None,
     "outcome": "returned", "t": 100.01},
]


def test_lifecycle_events_t_and_run() -> None:
    out = assert_valid(tt.to_chrome(LIFECYCLE))
    runtime = max(e["pid"] for e in out["traceEvents"])
    sched = sched_tid(out)
    assert sched == runtime  # one more than every task and proc id
    assert names(out, "process_name") == {1: "run 7 · proc 1",
                                          runtime: "libtask9: channels and runtime"}
    assert names(out, "thread_name") == {(1, 1): "task 1 (main)", (1, 2): "task 2",
                                         (1, sched): "scheduler"}
    (b,) = blocks(out)
    # "t" is used: microseconds since the first event.
    assert (b["ts"], b["dur"]) == (1000.0, 2000.0 + tt.OP_SLICE_US)
    assert b["args"]["ended_by"] == "AltRendezvous by t2 (seq 16)"
    # Two events at the same "t" are kept 1 µs apart.
    (exit2,) = [e for e in of(out, "X", "libtask9.op")
                if e["name"] == "TaskExit" and e["tid"] == 2]
    assert exit2["ts"] == 3001.0
    inst = {e["name"]: (e["pid"], e["tid"], e["s"]) for e in of(out, "i")}
    assert inst["RunStart (run 7)"] == (1, sched, "p")
    assert inst["RunEnding (main returned)"] == (1, sched, "p")
    assert inst["RunEnd (returned)"] == (1, sched, "p")
    assert inst["ProcStart (first task t1)"] == (1, sched, "t")
    assert inst["ChanCreate c4 (cap 0)"] == (runtime, runtime, "p")
    assert inst["SomethingNew"] == (1, 1, "t")
    new = next(e for e in of(out, "i") if e["name"] == "SomethingNew")
    assert new["args"]["payload"] == {"nested": [1, 2.5, None]}
    # Lifetimes: each task from its TaskCreate to its TaskExit, the proc from RunStart to
    # its ProcExit, each enclosing what happens on its track.
    life = {e["name"]: (e["pid"], e["tid"], e["ts"], ends(e))
            for e in of(out, "X", "libtask9.lifetime")}
    assert life == {"task 1": (1, 1, 10.0, 6000.5), "task 2": (1, 2, 500.0, 3001.5),
                    "proc 1": (1, sched, 0.0, 8000.5)}
    ((s, f),) = flow_pairs(out, "libtask9.spawn")
    assert (s["tid"], f["tid"], f["ts"]) == (1, 2, 500.25)
    assert "milliseconds" in tt.summary(LIFECYCLE)


def test_summary_with_t_and_run() -> None:
    text = tt.summary(LIFECYCLE)
    assert text.splitlines()[:3] == [
        "libtask9 trace: 13 events (seq 10..22), 1 proc, 2 tasks, 1 channel",
        "run 7: 1 proc (p1), 2 tasks; ending: main returned; outcome: returned; "
        "deadlock: not declared",
        'time blocked: milliseconds, from the events\' "t"',
    ]
    assert "t1       1     0         1        1      2.000 ms  AltBlock 1" in text
    assert "p1      7  run()           2     0   0.000 ms  seq 21" in text
    assert "t2    t1               0     0.000 ms      0      0.000 ms        0" in text
    assert text.rstrip().endswith(
        "lifecycle events: RunStart 1, ProcStart 1, TaskCreate 2, TaskExit 2, ProcExit 1, "
        "RunEnding 1, RunEnd 1\n\nother events: SomethingNew 1")


def _ev(seq: int, action: str, **fields: Any) -> dict[str, Any]:
    return {"seq": seq, "action": action, "run": 1, "task": None, "proc": None, **fields}


def test_cross_proc_wakes_handed_over_timers_and_interrupts() -> None:
    """Synthetic, exact: a proc idles until another proc's send readies its task; a
    timer armed on a proc that exits fires on the run's main proc; an interrupt."""
    evs = [
        _ev(0, "RunStart", proc=1),
        _ev(1, "TaskCreate", proc=1, task=1, by=None),
        _ev(2, "ProcCreate", proc=2, by=1),
        _ev(3, "TaskCreate", proc=2, task=2, by=None),
        _ev(4, "ProcStart", proc=2, task=2),
        _ev(5, "AltBlock", proc=2, task=2, ops=[["recv", 9]], vals=[None], block=True,
            index=-1, value=None),
        _ev(6, "ProcIdle", proc=2, declared=False),
        _ev(7, "AltRendezvous", proc=1, task=1, ops=[["send", 9]], vals=[5], block=True,
            index=0, value=None, partner=2, pindex=0),
        _ev(8, "TimerArm", proc=2, task=2, timer=4, kind="Timer", deadline=1.0),
        _ev(9, "TaskExit", proc=2, task=2, woken=[]),
        _ev(10, "ProcExit", proc=2, woken=[], declared=False),
        _ev(11, "ProcIdle", proc=1, declared=False),
        _ev(12, "ProcWake", proc=1),
        _ev(13, "TimerFire", timer=4, woken=None),
        _ev(14, "TimerStop", timer=4, why="stop"),
        _ev(15, "Interrupt", proc=1, where="scheduler", exc="KeyboardInterrupt"),
        _ev(16, "RunEnding", reason="interrupt"),
        _ev(17, "TaskExit", proc=1, task=1, woken=[]),
        _ev(18, "ProcExit", proc=1, woken=[], declared=False),
        _ev(19, "RunEnd", outcome="KeyboardInterrupt"),
    ]
    out = assert_valid(tt.to_chrome(evs))
    sched = sched_tid(out)
    idle = {e["pid"]: (e["ts"], e["dur"], e["args"]["ended_by"])
            for e in of(out, "X", "libtask9.idle")}
    assert idle == {2: (6.0, 1.5, "t2 readied by AltRendezvous (seq 7)"),
                    1: (11.0, 1.0, "ProcWake (seq 12)")}
    (fire,) = [e for e in of(out, "X", "libtask9.op") if e["name"].startswith("TimerFire")]
    assert (fire["pid"], fire["tid"], fire["name"]) == (1, sched, "TimerFire timer 4 (Timer)")
    (stop,) = [e for e in of(out, "i") if e["name"].startswith("TimerStop")]
    assert (stop["pid"], stop["tid"], stop["name"]) == (1, sched, "TimerStop timer 4 (stop)")
    inst = {e["name"]: (e["pid"], e["s"]) for e in of(out, "i", "libtask9.run")}
    assert inst["Interrupt (KeyboardInterrupt in scheduler)"] == (1, "p")
    text = tt.summary(evs)
    assert ("run 1: 2 procs (p1, p2), 2 tasks; ending: interrupt; outcome: "
            "KeyboardInterrupt; deadlock: not declared; interrupts: 1") in text
    assert "p2      1  t1              1     1     1 step  seq 10" in text


def test_lifecycle_actions_are_the_runtimes() -> None:
    from libtask9 import _trace

    assert tt.LIFECYCLE_ACTIONS == _trace.LIFECYCLE_ACTIONS
    assert tt.CONTRACT_ACTIONS == _trace.CHANNEL_ACTIONS


def test_timestamps_are_on_an_exact_grid() -> None:
    """Two slices that meet must not overlap by a rounding error.  The old failure:
    an AltBlock at 186.81 µs ended by the AltNone at 20312.157 µs had ``ts + dur`` =
    186.81 + round(20312.157 - 186.81, 3) = 20312.157000000003."""
    def alt_ev(seq: int, action: str, t: float) -> dict[str, Any]:
        block = action == "AltBlock"
        return {"seq": seq, "action": action, "task": 1, "proc": 1,
                "ops": [["recv" if block else "send", 9]], "vals": [None if block else 0],
                "block": block, "index": -1, "value": None, "t": t}

    t0 = 2673.5
    evs = [{"seq": 0, "action": "ChanCreate", "chan": 9, "cap": 0, "t": t0},
           alt_ev(1, "AltBlock", t0 + 186.81e-6), alt_ev(2, "AltNone", t0 + 20312.157e-6),
           alt_ev(3, "AltBlock", t0 + 20400.298e-6), alt_ev(4, "AltNone", t0 + 40535.915e-6)]
    out = assert_valid(tt.to_chrome(evs))
    b1, b2 = blocks(out)
    n1, n2 = of(out, "X", "libtask9.op")
    assert ends(b1) == n1["ts"] and ends(b2) == n2["ts"]
    assert "does not record" in b1["args"]["ended_by"]
    for e in out["traceEvents"]:
        for k in ("ts", "dur"):
            if k in e:
                assert e[k] * 8 == int(e[k] * 8)  # multiples of 1/8 µs


def test_blocked_at_the_end_and_untraced_wake_by_a_later_event() -> None:
    evs = [
        {"seq": 0, "action": "AltBlock", "task": 1, "proc": 1, "ops": [["recv", 9]],
         "vals": [None], "block": True, "index": -1, "value": None},
        {"seq": 1, "action": "AltBlock", "task": 2, "proc": 1, "ops": [["recv", 8]],
         "vals": [None], "block": True, "index": -1, "value": None},
        {"seq": 5, "action": "TaskExit", "task": 1, "proc": 1},  # woken by a helper
    ]
    out = assert_valid(tt.to_chrome(evs))
    b1, b2 = blocks(out)
    assert (b1["tid"], b1["ts"], b1["dur"]) == (1, 0.0, 5.0)
    assert (b2["tid"], b2["ts"], b2["args"]["ended_by"]) == (
        2, 1.0, "still blocked at the end of the trace")
    assert "still blocked at the end: t2 (recv c8, since seq 1)" in tt.summary(evs)


def test_nothing_in_the_input_makes_it_fail() -> None:
    garbage: list[Any] = [
        {"action": 5},
        {"seq": "x", "task": "y", "proc": -3},
        "not an event",
        {"action": "AltRendezvous", "task": 1, "partner": "?", "ops": "bad", "index": 0},
        {"action": "AltRendezvous", "task": 1, "proc": 1, "partner": 2, "pindex": 0,
         "ops": [["recv", 3]], "vals": [None], "index": 0, "value": {"a": float("nan")}},
        {"action": "Close", "task": 2, "chan": 3, "woken": [[None], "x", [3], []]},
        {"action": "AltBuffer", "task": 2, "ops": [["recv", 9]], "index": 0,
         "value": object()},
        {"action": "AltHandover", "task": 2, "ops": [["recv", 9]], "index": 0, "partner": 7},
        {"action": "KillBlocked", "task": None, "by": 99},
        {"action": "KillPending", "task": 4, "by": 1, "proc": 1},
        {"action": "AltBlock", "task": 3, "ops": [["send"], None, ["recv", None]]},
        {"action": "ChanCreate", "chan": "c", "cap": None},
        {"action": "AltBlock", "task": None, "proc": None, "ops": []},
        {"action": "AltNone", "task": 2, "ops": [["send", 1]] * 5, "index": -1},
        {"seq": 3, "action": "ProcWake", "proc": 2, "t": float("inf")},
        # Lifecycle events out of order, with missing or malformed fields.
        {"action": "ProcExit", "proc": 5, "woken": [1, "x", None, -1], "declared": True},
        {"action": "TaskExit", "task": 3, "proc": 5, "woken": "all"},
        {"action": "TaskCreate", "task": 3, "proc": 5, "by": 3},
        {"action": "ProcCreate", "proc": 5, "by": 2},
        {"action": "ProcCreate", "proc": None, "by": 2},
        {"action": "TimerFire", "timer": "t", "woken": 4},
        {"action": "TimerArm", "timer": 0, "task": None, "proc": None, "kind": 3},
        {"action": "TimerFire", "timer": 0, "woken": None},
        {"action": "TimerArm", "timer": 1, "task": 2, "proc": 1, "kind": "sleep"},
        {"action": "TimerArm", "timer": 2, "task": 2, "proc": 1, "kind": "join"},
        {"action": "IoDone", "task": 2, "io": None, "delivered": True, "declared": True},
        {"action": "IoStart", "task": None, "proc": 1},
        {"action": "JoinBlock", "task": None},
        {"action": "ProcIdle", "proc": None, "declared": "yes"},
        {"action": "ProcIdle", "proc": 1},
        {"action": "RunEnding", "run": [1]},
        {"action": "RunEnd", "run": 9, "outcome": None},
        {"action": "Interrupt", "run": 9, "proc": 77},
        {"action": "TimerStop", "timer": 99},
    ]
    out = assert_valid(tt.to_chrome(garbage))
    assert any(e["name"].startswith("AltNone alt(send c1, send c1, send c1, +2)")
               for e in out["traceEvents"])
    assert isinstance(tt.summary(garbage), str)
    for k in range(len(garbage)):  # and every prefix, every suffix
        assert_valid(tt.to_chrome(garbage[:k]))
        assert_valid(tt.to_chrome(garbage[k:]))
        assert isinstance(tt.summary(garbage[k:]), str)
    assert_valid(tt.to_chrome([]))
    assert tt.summary([]).startswith("libtask9 trace: 0 events, 0 procs, 0 tasks, 0 channels")


def test_the_checker_catches_broken_timelines() -> None:
    """``check_chrome_trace`` is the oracle above: make sure it can say no."""
    meta = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "p"}},
            {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "t"}}]

    def x(ts: float, dur: float) -> dict[str, Any]:
        return {"name": "x", "ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": 1}

    def fl(ph: str, ts: float, fid: int = 1, cat: str = "c") -> dict[str, Any]:
        return {"name": "v", "cat": cat, "ph": ph, "id": fid, "ts": ts, "pid": 1, "tid": 1,
                "bp": "e"}

    def check(evs: list[dict[str, Any]]) -> str:
        return "\n".join(check_chrome_trace({"traceEvents": meta + evs}))

    assert check([x(0, 4), fl("s", 0.5), x(1, 1), fl("f", 1.5)]) == ""
    assert "overlaps" in check([x(0, 2), x(1, 2)])
    assert "goes back" in check([x(2, 1), x(0, 1)])
    assert "1 start(s) and 0 end(s)" in check([x(0, 4), fl("s", 1)])
    assert "disagree on cat" in check([x(0, 4), fl("s", 1), fl("f", 2, cat="d")])
    assert "binds to no slice" in check([x(0, 1), fl("s", 0.5), fl("f", 3)])
    assert "ends at" in check([x(0, 4), fl("s", 2), fl("f", 1)])
    assert "missing ['dur']" in check([{"name": "x", "ph": "X", "ts": 0, "pid": 1, "tid": 1}])
    assert "B without E" in check([{"name": "b", "ph": "B", "ts": 0, "pid": 1, "tid": 1}])
    assert "no thread_name" in check([{**x(0, 1), "tid": 2}])
    assert "no process_name" in check([{**x(0, 1), "pid": 2}])
    assert "not strict JSON" in check([{**x(0, 1), "args": {"v": float("nan")}}])


# --------------------------------------------------------------------------- the command


SUMMARY_PROGRAM = textwrap.dedent("""
    import sys
    from libtask9 import (Channel, ChannelClosed, Runner, TraceRecorder, alt, alt_recv,
                          alt_send, new_task, tracing)

    def main():
        jobs = Channel(2)
        results = Channel()
        spare = Channel(1)

        def worker():
            for j in jobs:
                results.send(j * j)
            results.close()

        new_task(worker)
        for j in range(3):
            jobs.send(j)
        jobs.close()
        assert list(results) == [0, 1, 4]
        try:  # both cases are ready: the seeded choice picks one
            alt(alt_recv(jobs), alt_send(spare, 9))
        except ChannelClosed:
            pass

    with open(sys.argv[1], "w") as f, tracing(TraceRecorder(f)):
        Runner(seed=1).run(main)
""")

# One proc, deterministic (hand-checked against the events): tasks t1 (main) and t2
# (worker), channels c1 (jobs, cap 2), c2 (results), c3 (spare, cap 1).  main buffers 0
# and 1 and blocks sending 2 (seq 5) until the worker takes 0 (AltHandover, seq 6); each
# result is a rendezvous, the worker blocking on c2 twice (2 + 1 steps) and main twice
# (2 + 2 steps) before the Close of c2 wakes it; the seeded alt picks the closed case.
SUMMARY_EXPECTED = "\n".join([
    "libtask9 trace: 20 events (seq 0..19), 1 proc, 2 tasks, 3 channels",
    'time blocked: seq steps (the events carry no "t")',
    "",
    "channel  cap  sent  delivered  blocked  time blocked  operations by action",
    "c1         2     3          3        1        1 step  "
    "AltBuffer 4, AltHandover 1, AltClosed 2, AltBlock 1, Close 1",
    "c2         0     3          3        4       7 steps  AltRendezvous 3, AltBlock 4, Close 1",
    "c3         1     0          0        0       0 steps  -",
    "",
    "task  proc  sent  received  blocked  time blocked  operations by action",
    "t1       1     3         3        3       5 steps  "
    "AltBuffer 2, AltRendezvous 2, AltClosed 1, AltBlock 3, Close 1",
    "t2       1     3         3        2       3 steps  "
    "AltBuffer 2, AltRendezvous 1, AltHandover 1, AltClosed 1, AltBlock 2, Close 1",
    "",
])


def test_summary_of_a_small_deterministic_program(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    prog, raw, trace = tmp_path / "prog.py", tmp_path / "raw.ndjson", tmp_path / "t.ndjson"
    prog.write_text(SUMMARY_PROGRAM)
    # A fresh interpreter: task, proc and channel ids start at 1.
    subprocess.run([sys.executable, str(prog), str(raw)], check=True, timeout=60, cwd=ROOT)
    # Only the channel-level events of docs/CONTRACT.md, without "t" and "run": the
    # lifecycle events and wall-clock times of newer traces would vary the counts.
    events = [{k: v for k, v in e.items() if k not in ("t", "run")}
              for e in tt.read_events(raw) if e.get("action") in tt.CONTRACT_ACTIONS]
    for i, e in enumerate(events):  # numbered as if the channel events were all there is
        e["seq"] = i
    with open(trace, "w") as f:
        f.write(json.dumps({"format": "libtask9-trace", "version": 1}) + "\n")
        f.writelines(json.dumps(e) + "\n" for e in events)
    assert tt.main([str(trace), "--summary"]) == 0
    assert capsys.readouterr().out == SUMMARY_EXPECTED


LIFECYCLE_PROGRAM = textwrap.dedent("""
    import sys
    import time

    from libtask9 import (Channel, Deadlock, IOProc, Runner, TraceRecorder, after, alt,
                          alt_recv, new_task, sleep, tracing)

    def main():
        c = Channel()
        w = new_task(sleep, 20)
        w.join()                                  # until the worker's sleep ends
        idx, _ = alt(alt_recv(c), alt_recv(after(10)))  # the timer wins
        assert idx == 1
        with IOProc("io") as io:
            io.iocall(time.sleep, 0.01)

    def stuck():
        Channel().recv()                          # nobody sends: a deadlock

    with open(sys.argv[1], "w") as f, tracing(TraceRecorder(f)):
        Runner(seed=1).run(main)
        try:
            Runner(seed=1).run(stuck)
        except Deadlock:
            pass
""")

# Two runs on one proc each, deterministic once the events that depend on thread timing
# (a proc going idle, or not, before a timer is due or an iocall returns: ProcIdle
# without a declaration, ProcWake) are left out (hand-checked against the events).
# Run 1: t1 joins t2 (JoinBlock seq 5 .. TaskExit seq 8 that wakes it, 3 steps) while t2
# sleeps (TimerArm 6 .. TimerFire 7); an alt on c1 and an after() channel (c2, untraced)
# ends with the TimerFire of the timer t1 armed (seq 10 .. 11); an iocall (12 .. 13).
# Run 2: t3 blocks on c4 (seq 22), the deadlock is declared in p2's ProcIdle (seq 23,
# before the RunEnding it causes),
# and t3 is unwound (TaskExit seq 25); p2's declaring idle period lasts to then.
LIFECYCLE_EXPECTED = "\n".join([
    "libtask9 trace: 28 events (seq 0..27), 2 procs, 3 tasks, 3 channels",
    "run 1: 1 proc (p1), 2 tasks; ending: main returned; outcome: returned; "
    "deadlock: not declared",
    "run 2: 1 proc (p2), 1 task; ending: deadlock; outcome: Deadlock; "
    "deadlock: declared (seq 23, ProcIdle of p2)",
    'time blocked: seq steps (the events carry no "t")',
    "",
    "channel  cap  sent  delivered  blocked  time blocked  operations by action",
    "c1         0     0          0        1        1 step  AltBlock 1",
    "c2         ?     0          0        1        1 step  AltBlock 1",
    "c4         0     0          0        1       3 steps  AltBlock 1",
    "",
    "task  proc  sent  received  blocked  time blocked  operations by action",
    "t1       1     0         0        1        1 step  AltBlock 1",
    "t2       1     0         0        0       0 steps  -",
    "t3       2     0         0        1       3 steps  AltBlock 1",
    "",
    "proc  run  created by  tasks  idle  time idle  exit",
    "p1      1  run()           2     0    0 steps  seq 16",
    "p2      2  run()           1     1    2 steps  seq 26",
    "",
    "task  created by  sleeps  time asleep  joins  time joining  iocalls  time in iocalls  exit",
    "t1    -                0      0 steps      1       3 steps        1           1 step  seq 14",
    "t2    t1               1       1 step      0       0 steps        0          0 steps  seq 8",
    "t3    -                0      0 steps      0       0 steps        0          0 steps  seq 25",
    "",
    "lifecycle events: RunStart 2, ProcStart 2, TaskCreate 3, TaskExit 3, ProcIdle 1, "
    "TimerArm 2, TimerFire 2, IoStart 1, IoDone 1, JoinBlock 1, ProcExit 2, RunEnding 2, "
    "RunEnd 2",
    "",
])


def test_lifecycle_summary_of_a_small_deterministic_program(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog, raw, trace = tmp_path / "prog.py", tmp_path / "raw.ndjson", tmp_path / "t.ndjson"
    prog.write_text(LIFECYCLE_PROGRAM)
    # A fresh interpreter: run, task, proc, channel and timer ids start at 1 (timers 0).
    subprocess.run([sys.executable, str(prog), str(raw)], check=True, timeout=60, cwd=ROOT)
    events = [{k: v for k, v in e.items() if k != "t"} for e in tt.read_events(raw)
              if not (e["action"] == "ProcWake"
                      or (e["action"] == "ProcIdle" and e["declared"] is not True))]
    for i, e in enumerate(events):  # numbered as if these were all there is
        e["seq"] = i
    with open(trace, "w") as f:
        f.write(json.dumps({"format": "libtask9-trace", "version": 2}) + "\n")
        f.writelines(json.dumps(e) + "\n" for e in events)
    assert tt.main([str(trace), "--summary"]) == 0
    assert capsys.readouterr().out == LIFECYCLE_EXPECTED
    assert_valid(tt.to_chrome(events))


def test_command_line(tmp_path: Path) -> None:
    trace, out = tmp_path / "t.ndjson", tmp_path / "t.json"
    with open(trace, "w") as f, tracing(TraceRecorder(f)):
        def main() -> None:
            c: Channel[int] = Channel(1)
            c.send(1)
            c.recv()

        Runner().run(main)
    with open(trace, "a") as f:
        f.write('{"seq": 99, "action": "AltBuf')  # a program that died mid-line
    r = subprocess.run([sys.executable, "-m", "libtask9.trace", str(trace), "-o", str(out),
                        "--summary"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                       check=True)
    assert "ignored a truncated last line" in r.stderr
    assert r.stdout.startswith("libtask9 trace: ")
    assert "AltBuffer 2" in r.stdout and "RunStart 1" in r.stdout
    obj = assert_valid(json.loads(out.read_text()))
    assert len(flow_pairs(obj, "libtask9.value")) == 1

    not_trace = tmp_path / "x.ndjson"
    not_trace.write_text('{"hello": 1}\n')
    r = subprocess.run([sys.executable, "-m", "libtask9.trace", str(not_trace), "-o", "-"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "not a libtask9 trace" in r.stderr
    r = subprocess.run([sys.executable, "-m", "libtask9.trace", str(trace)],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "nothing to do" in r.stderr


def test_read_events_is_strict_only_where_it_must_be() -> None:
    head = '{"format": "libtask9-trace", "version": 3}\n'
    notes: list[str] = []
    evs = tt.read_events(io.StringIO(head + '\n{"seq": 0, "action": "X"}\n[1]\n'), notes)
    assert evs == [{"seq": 0, "action": "X"}]
    assert len(notes) == 2 and "version 3" in notes[0] and "list" in notes[1]
    with pytest.raises(tt.TraceReadError, match="line 2: malformed JSON"):
        tt.read_events(io.StringIO(head + "{oops\n{}\n"))
    with pytest.raises(tt.TraceReadError, match="no libtask9 trace header"):
        tt.read_events(io.StringIO(""))


def test_the_example_program_and_its_picture(tmp_path: Path) -> None:
    trace = tmp_path / "ex.ndjson"
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "trace_timeline.py"),
                        str(trace)], capture_output=True, text=True, timeout=60, check=True)
    assert r.stdout.strip() == "6"  # sum of the jobs 0..3
    out = assert_valid(tt.to_chrome(tt.read_events(trace)))
    cats = Counter(e["cat"] for e in of(out, "s"))
    # 3 pings + 3 pongs + the last word + 4 jobs; the close of the jobs channel may find
    # main blocked or not; one kill; the alt's timer and the ponger's nap; the other
    # proc and two tasks created by main.  (Main's join usually blocks until the other
    # proc's ProcExit, but on a loaded machine the nap can end first.)
    assert cats["libtask9.value"] == 11 and cats["libtask9.kill"] == 1
    assert cats["libtask9.timer"] == 2 and cats["libtask9.spawn"] == 3
    assert cats["libtask9.join"] <= 1
    kinds = Counter(e["name"].split()[0] for e in blocks(out, prefix=""))
    assert kinds["sleep"] == 1 and kinds["iocall"] == 1 and kinds["AltBlock"] >= 8
    assert len({e["pid"] for e in of(out, "X")}) == 2
    assert of(out, "X", "libtask9.idle") and len(of(out, "X", "libtask9.lifetime")) == 6

    pytest.importorskip("matplotlib")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import draw_trace_timeline
    finally:
        sys.path.remove(str(ROOT / "tools"))
    png = tmp_path / "t.png"
    draw_trace_timeline.draw(out, png, "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
