"""Recipe: a worker pool as a TaskGroup, with a deadline per job.

Run it: ``python examples/task_group_pool.py [nworkers] [njobs]``.

The workers are procs started with ``TaskGroup.new_proc``, so leaving the ``with`` block
waits for every one of them (no ``Proc.join`` to forget), and if one of them failed, the
others would be killed and the block would raise an ``ExceptionGroup`` of the failures.
Each job runs under ``timeout(50)``: a job still running 50 ms after it started is
interrupted at its current switch point exactly as a kill is (a blocked operation is
withdrawn atomically, nothing is lost) and ``Timeout`` comes out of the block; the worker
reports it and takes the next job.  A feeder task, also a member, fills the job channel
and closes it, which is how the workers' ``for job in jobs`` loops end.
"""

from __future__ import annotations

import sys

from libtask9 import Channel, TaskGroup, Timeout, run, sleep, timeout


def compute(job: int) -> int:
    """One job: every 5th one waits far too long (say, on a server that never answers)."""
    sleep(10_000 if job % 5 == 4 else 1)
    return job * job


def worker(jobs: Channel[int], results: Channel[tuple[int, str]]) -> None:
    for job in jobs:
        try:
            with timeout(50):
                outcome = f"{job}**2 = {compute(job)}"
        except Timeout:
            outcome = "timed out"
        results.send((job, outcome))


def main(nworkers: int = 3, njobs: int = 10) -> None:
    jobs: Channel[int] = Channel(4)
    results: Channel[tuple[int, str]] = Channel(njobs)

    def feed() -> None:
        for job in range(njobs):
            jobs.send(job)
        jobs.close()

    with TaskGroup() as g:
        for _ in range(nworkers):
            g.new_proc(worker, jobs, results)
        g.new_task(feed)
    # Every member has finished here: all the results are in the buffer.
    for job, outcome in sorted(results.recv() for _ in range(njobs)):
        print(f"job {job}: {outcome}")
    print(f"all {nworkers} workers done")


if __name__ == "__main__":
    run(main, *(int(a) for a in sys.argv[1:3]))
