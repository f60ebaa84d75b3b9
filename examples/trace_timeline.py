"""A small program to look at as a trace timeline (see docs/TRACE_TIMELINE.md).

    python examples/trace_timeline.py trace.ndjson           # record its trace
    python -m libtask9.trace trace.ndjson -o trace.json      # open in ui.perfetto.dev
    python -m libtask9.trace trace.ndjson --summary          # counts per channel and task

Two procs play ping-pong over unbuffered channels (each message is an arrow between the
procs' tracks), a producer fills a buffered channel that main drains (arrows cross the
buffer, and its length is a counter), main waits on an alt that only a timer ends (the
timer's arrow), a task blocked forever is killed, main waits for a blocking call on an
IOProc (an iocall block), then for the other proc, which naps before it exits (a join
block, and an arrow from its ProcExit).  ``tools/draw_trace_timeline.py`` draws this
program's timeline as ``docs/trace-timeline.png``.
"""

from __future__ import annotations

import sys
import time

from libtask9 import (
    Channel,
    IOProc,
    TraceRecorder,
    after,
    alt,
    alt_recv,
    new_proc,
    new_task,
    run,
    sleep,
    tracing,
    yield_,
)


def ponger(ping: Channel[int], pong: Channel[int], rounds: int) -> None:
    for _ in range(rounds):
        pong.send(2 * ping.recv())
    ping.recv()  # the last word
    sleep(3)  # a nap before the proc exits: main waits for it in join()


def producer(jobs: Channel[int], n: int) -> None:
    for i in range(n):
        jobs.send(i)
    jobs.close()


def main(rounds: int = 3, jobs_n: int = 4) -> int:
    ping: Channel[int] = Channel()
    pong: Channel[int] = Channel()
    p = new_proc(ponger, ping, pong, rounds)
    for i in range(rounds):
        ping.send(i)
        assert pong.recv() == 2 * i
    jobs: Channel[int] = Channel(2)
    new_task(producer, jobs, jobs_n)
    total = sum(jobs)
    idle: Channel[int] = Channel()
    idx, _ = alt(alt_recv(idle), alt_recv(after(5)))  # nobody sends: the timer ends it
    assert idx == 1
    stuck = new_task(idle.recv)
    yield_()  # it blocks
    stuck.kill()
    yield_()
    with IOProc("disk") as io:
        io.iocall(time.sleep, 0.002)  # only main's task waits, not its proc
    ping.send(-1)
    assert p.join(timeout=10)
    return total


def record(path: str) -> int:
    """Run :func:`main` with its trace written to ``path`` (NDJSON)."""
    with open(path, "w", encoding="utf-8") as f, tracing(TraceRecorder(f)):
        return run(main)


if __name__ == "__main__":
    print(record(sys.argv[1] if len(sys.argv) > 1 else "trace.ndjson"))
