"""Recipe: fan-out to several workers, fan-in of their outputs with alt and nil cases.

Run it: ``python examples/fan_in_fan_out.py``.

* **Fan-out.**  Several workers receive from *one* channel.  Each value is received by
  exactly one of them (blocked receivers are served first come, first served), so the
  work spreads over the workers with no dispatcher.
* **Fan-in.**  ``merge`` forwards the values of several channels into one with a single
  ``alt``.  When an input is closed, the ``alt`` raises ``ChannelClosed`` whose
  ``.index`` names the case; ``merge`` then replaces that channel by ``None`` -- a case on
  ``None`` is never ready (Go's nil channel, Plan 9's CHANNOP) -- and closes its output
  once every input is gone.

The order in which results arrive depends on scheduling (``alt`` chooses uniformly at
random among the ready cases), so the program sorts them before printing.
"""

from __future__ import annotations

from collections import Counter

from libtask9 import Channel, ChannelClosed, Op, alt, alt_recv, new_task, run


def produce(jobs: Channel[int], n: int) -> None:
    for i in range(n):
        jobs.send(i)
    jobs.close()  # every worker's `for` loop ends once the jobs are drained


def worker(name: str, jobs: Channel[int], out: Channel[tuple[str, int, int]]) -> None:
    try:
        for job in jobs:  # fan-out: the workers compete for the jobs
            out.send((name, job, job * job))
    finally:
        out.close()  # this worker's output is finished


def merge(inputs: list[Channel[tuple[str, int, int]]],
          out: Channel[tuple[str, int, int]]) -> None:
    """Fan-in: forward every value of ``inputs`` to ``out``; close ``out`` at the end."""
    cases: list[Op[tuple[str, int, int]]] = [alt_recv(c) for c in inputs]
    live = len(cases)
    while live:
        try:
            _, value = alt(*cases)
        except ChannelClosed as e:
            cases[e.index] = alt_recv(None)  # a nil case: never ready again
            live -= 1
            continue
        out.send(value)
    out.close()


def fan_demo(njobs: int, nworkers: int) -> list[tuple[str, int, int]]:
    jobs: Channel[int] = Channel()
    outputs: list[Channel[tuple[str, int, int]]] = []
    for w in range(nworkers):
        out: Channel[tuple[str, int, int]] = Channel(2)
        outputs.append(out)
        new_task(worker, f"w{w}", jobs, out)
    merged: Channel[tuple[str, int, int]] = Channel()
    new_task(merge, outputs, merged)
    new_task(produce, jobs, njobs)
    return list(merged)  # until merge closes it


def main() -> None:
    results = run(fan_demo, 12, 3)
    by_job = sorted((job, square) for _, job, square in results)
    print("results:", by_job)
    per_worker = Counter(name for name, _, _ in results)
    print("every job done exactly once:", [job for job, _ in by_job] == list(range(12)))
    print("workers used:", len(per_worker), "jobs:", sum(per_worker.values()))


if __name__ == "__main__":
    main()
