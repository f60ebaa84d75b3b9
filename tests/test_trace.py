"""Tracing: one event per spec action at its linearization point; free when off."""

from __future__ import annotations

import contextlib
import io
import json

from libtask9 import (
    Channel,
    ChannelClosed,
    TraceRecorder,
    alt,
    alt_recv,
    alt_send,
    get_tracer,
    new_task,
    run,
    tracing,
    yield_,
)
from libtask9._trace import LIFECYCLE_ACTIONS


def test_events_name_spec_actions_in_order() -> None:
    buf = io.StringIO()
    rec = TraceRecorder(buf)
    with tracing(rec):
        def main() -> None:
            a: Channel[int] = Channel()
            b: Channel[int] = Channel(1)
            t = new_task(alt, alt_recv(a), alt_send(b, 5), alt_recv(None))
            b.send(1)  # AltBuffer: b is now full, so t's send case is not ready
            yield_()  # t: AltBlock on a (recv) and b (send)
            assert b.recv() == 1  # AltHandover: t's send value refills b
            assert b.nbrecv() == (True, 5)  # AltBuffer
            assert not b.nbrecv()[0]  # AltNone
            a.close()  # Close (nobody waiting)
            with contextlib.suppress(ChannelClosed):
                a.close()  # CloseClosed
            k = new_task(a.send, 1)
            k.kill()  # KillPending (not started)
            yield_()  # Killed
            yield_()
            del t

        run(main)
    actions = [e["action"] for e in rec.events if e["action"] not in LIFECYCLE_ACTIONS]
    assert actions == ["ChanCreate", "ChanCreate", "AltBuffer", "AltBlock", "AltHandover",
                       "AltBuffer", "AltNone", "Close", "CloseClosed", "KillPending",
                       "Killed"]
    seqs = [e["seq"] for e in rec.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    events = [e for e in rec.events if e["action"] not in LIFECYCLE_ACTIONS]
    assert {e["run"] for e in rec.events} == {rec.events[0]["run"]}
    block = events[3]
    assert block["ops"] == [["recv", events[0]["chan"]], ["send", events[1]["chan"]],
                            ["recv", None]]
    assert block["vals"] == [None, 5, None] and block["block"] is True
    handover = events[4]
    assert handover["partner"] == block["task"] and handover["pindex"] == 1
    assert handover["value"] == 1
    lines = buf.getvalue().splitlines()
    assert json.loads(lines[0]) == {"format": "libtask9-trace", "version": 2}
    assert [json.loads(x)["action"] for x in lines[1:]] == [e["action"] for e in rec.events]
    assert get_tracer() is None


def test_no_events_without_tracer_and_channels_made_before_are_untraced() -> None:
    rec = TraceRecorder()

    def main() -> None:
        c: Channel[int] = Channel(1)
        with tracing(rec):
            c.send(1)  # c was created with tracing off: not traced
            d: Channel[int] = Channel(1)
            d.send(2)
        c.recv()

    run(main)
    assert [e["action"] for e in rec.events] == ["ChanCreate", "AltBuffer"]


def test_sleep_forever_is_traced_as_an_empty_alt_block_and_validated() -> None:
    """sleep(math.inf) blocks forever, like an alt with no case: it records AltBlock
    (ops [], ``sleep`` true) in the critical section in which the task blocks, so both
    checkers see the block that a later kill ends."""
    import math

    from libtask9 import sleep
    from libtask9.testing.lctracecheck import check_lifecycle_trace
    from libtask9.testing.tracecheck import check_trace
    from libtask9.trace import to_chrome

    rec = TraceRecorder()
    with tracing(rec):
        def main() -> None:
            t = new_task(sleep, math.inf)
            c: Channel[int] = Channel()
            u = new_task(c.recv)
            yield_()  # t and u block; main goes on
            t.kill()  # KillBlocked: t was asleep for ever
            yield_()  # t unwinds
            c.send(1)
            del u

        run(main)
    blocks = [e for e in rec.events if e["action"] == "AltBlock" and e.get("sleep")]
    assert len(blocks) == 1
    b = blocks[0]
    assert b["ops"] == [] and b["vals"] == [] and b["block"] is True and b["index"] == -1
    k = next(i for i, e in enumerate(rec.events) if e["action"] == "KillBlocked")
    assert rec.events.index(b) < k and rec.events[k]["task"] == b["task"]
    r = check_lifecycle_trace(rec.events)
    assert r.ok, str(r)
    assert check_trace(rec.events).ok
    names = [e.get("name", "") for e in to_chrome(rec.events)["traceEvents"]]
    assert "sleep(inf)" in names  # the timeline's slice for the block, not "AltBlock"
