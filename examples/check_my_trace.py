"""Recipe: record your own program's channel trace and check it against the oracle.

Run it: ``python examples/check_my_trace.py [trace.ndjson]``.

``libtask9.tracing()`` installs a recorder that receives one event per channel action
(``AltBuffer``, ``AltRendezvous``, ``Close``, ``KillBlocked``, ...) at the moment it
takes effect, under the channel lock, so the events are in their true global order even
across procs.  ``libtask9.testing.check_trace`` replays the events through the oracle
(``libtask9.model``, an executable copy of the TLA+ spec ``spec/Channels.tla``) and says
whether every step was one the spec allows, and whether every value sent was received,
is still buffered, or belonged to an operation that was killed or closed out.

Use it in your own tests: wrap a run of your program in ``with tracing() as rec:`` and
assert ``check_trace(rec.events).ok``; on failure ``str(report)`` names the first event
the spec does not allow, the oracle's state before it, and what it would have allowed.

Install the recorder *before* creating the channels you want checked: channels created
while no tracer is installed are not traced, and neither are libtask9's own channels
(timers, IOProc replies).  So the checker cannot check an ``alt`` that mixes your
channels with an ``after`` channel (it reports such an alt instead of guessing): check
the parts of a program that have no timeout cases, as this one.  With a file name, the
trace is also written as NDJSON (``TraceRecorder(stream)``) and read back with
``read_trace`` -- a trace from another machine is checked the same way.

The second half shows what a failure looks like: the same trace with one received value
altered is rejected at that event.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from typing import IO

from libtask9 import (
    Channel,
    ChannelClosed,
    TraceRecorder,
    alt,
    alt_send,
    new_proc,
    new_task,
    run,
    tracing,
)
from libtask9.testing import check_trace, read_trace


def producer(out: Channel[int], n: int) -> None:
    for i in range(n):
        out.send(i)
    out.close()


def relay(inp: Channel[int], evens: Channel[int], odds: Channel[int]) -> None:
    """Runs on its own proc: route each value by parity (an alt with a nil case)."""
    try:
        for v in inp:
            even = v % 2 == 0
            alt(alt_send(evens if even else None, v), alt_send(None if even else odds, v))
    finally:
        evens.close()
        odds.close()


def program() -> tuple[list[int], list[int]]:
    """The program under test: a producer, a relay on another proc, two consumers."""
    numbers: Channel[int] = Channel(3)
    evens: Channel[int] = Channel()
    odds: Channel[int] = Channel(2)
    new_task(producer, numbers, 10)
    relay_proc = new_proc(relay, numbers, evens, odds)
    got_odds: list[int] = []
    new_task(lambda: got_odds.extend(odds))
    got_evens = list(evens)
    with contextlib.suppress(ChannelClosed):
        evens.close()  # a second close raises ChannelClosed (the CloseClosed action)
    if not relay_proc.join(timeout=10.0):  # wait for the other proc before returning
        raise RuntimeError("the relay proc did not finish")
    return got_evens, got_odds


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    stream: IO[str] | None = open(args[0], "w") if args else None  # noqa: SIM115
    try:
        with tracing(TraceRecorder(stream)) as rec:  # before the channels exist
            evens, odds = run(program)
    finally:
        if stream is not None:
            stream.close()
    assert isinstance(rec, TraceRecorder)
    print("evens:", evens, "odds:", odds)

    report = check_trace(rec.events)
    print("trace accepted by the oracle:", report.ok)
    if not report.ok:  # (never, unless libtask9 has a bug)
        print(report)
    if args:  # the same check, on the NDJSON file
        print("trace file accepted by the oracle:", check_trace(read_trace(args[0])).ok)

    # A corrupted trace: the first value received is altered.
    bad = copy.deepcopy(rec.events)
    k = next(i for i, e in enumerate(bad)
             if e["action"] in ("AltBuffer", "AltRendezvous", "AltHandover")
             and e["ops"][e["index"]][0] == "recv")
    bad[k]["value"] = 999
    report = check_trace(bad)
    print("corrupted trace accepted:", report.ok)
    print("rejected at the altered event:", report.index == k)
    print("the checker says:", report.message)  # str(report) has the full account


if __name__ == "__main__":
    main()
