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
