"""Recipe: a pipeline whose stages shut each other down by closing channels.

Run it: ``python examples/pipeline.py``.

A pipeline is a chain of stages connected by channels; each stage receives from the
channel on its left and sends to the channel on its right.  Closing is how a stage says
"no more", and it travels both ways:

* **Forward (end of input).**  The source closes its output when it has sent
  everything.  ``for v in inp`` in the next stage ends once ``inp`` is closed *and*
  drained, and that stage then closes its own output, and so on down the line.
* **Backward (the consumer has had enough).**  The sink closes the channel it reads
  from.  The stage blocked sending into it is woken with ``ChannelClosed`` (closing wakes
  every blocked sender), closes *its* input in turn, and so on up to the source, which
  may be producing an endless stream.

No value is ever lost or duplicated on the way: a value is either received, or still in
a closed channel's buffer, or was never sent (the send that met the closed channel
raised instead).  The middle stage runs on a proc of its own (another OS thread) to show
that closing works across procs the same way; the program joins it before it ends.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable

from libtask9 import Channel, ChannelClosed, Proc, new_proc, new_task, run


def close_quietly(ch: Channel[int]) -> None:
    """Close ``ch`` unless it is closed already (by the other side of the pipeline)."""
    with contextlib.suppress(ChannelClosed):
        ch.close()


def source(values: Iterable[int], out: Channel[int]) -> None:
    """Send ``values`` (possibly endless) until done or until ``out`` is closed on us."""
    try:
        for v in values:
            out.send(v)
    except ChannelClosed:
        print("source: downstream closed, stopping")
        return
    out.close()  # forward: tell the next stage there is no more


def stage(fn: Callable[[int], int], inp: Channel[int], out: Channel[int]) -> None:
    """Apply ``fn`` to every value of ``inp`` and send the result on ``out``."""
    try:
        for v in inp:  # ends when inp is closed and drained
            out.send(fn(v))
    except ChannelClosed as e:
        if e.channel is not out:
            raise
        close_quietly(inp)  # backward: downstream hung up, so hang up upstream
        return
    close_quietly(out)  # forward: our input ended, so does our output


def build(values: Iterable[int]) -> tuple[Channel[int], Proc]:
    """Start source -> square (on its own proc) -> plus one.  Returns the last channel
    of the chain and the proc running the middle stage (to be joined)."""
    a: Channel[int] = Channel()  # rendezvous channels: every stage runs in lockstep
    b: Channel[int] = Channel(4)  # a buffered one works the same way
    c: Channel[int] = Channel()
    new_task(source, values, a)
    squarer = new_proc(stage, lambda v: v * v, a, b)  # another OS thread
    new_task(stage, lambda v: v + 1, b, c)
    return c, squarer


def join(p: Proc) -> None:
    if not p.join(timeout=10.0):  # seconds; from a task it blocks only that task
        raise RuntimeError(f"{p!r} did not finish")


def pipeline_demo() -> tuple[list[int], list[int]]:
    # 1. Forward: a finite source; the sink reads until everything is closed.
    out, squarer = build(range(1, 8))
    everything = list(out)  # iterating ends when `out` is closed and drained
    join(squarer)

    # 2. Backward: an endless source; the sink takes three values, then hangs up.
    out, squarer = build(itertools.count(1))
    first_three = [out.recv() for _ in range(3)]
    out.close()  # wakes the +1 stage's send with ChannelClosed; it closes b; ...
    join(squarer)
    # The stages on this proc end by themselves, and run() waits for every task of
    # its own proc; other procs must be joined (above) before the main task returns.
    return everything, first_three


def main() -> None:
    everything, first_three = run(pipeline_demo)
    print("squares plus one:", everything)
    print("first three of an endless stream:", first_three)


if __name__ == "__main__":
    main()
