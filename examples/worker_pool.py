"""Recipe: a pool of worker procs (OS threads); results collected, workers joined.

Run it: ``python examples/worker_pool.py [nworkers] [njobs]``.

Each worker is a *proc*: an OS thread with its own scheduler, started by ``new_proc``.
All of them receive jobs from one buffered channel and send results on another; a
feeder task fills the job channel and closes it, so each worker's ``for job in jobs``
loop ends when the work runs out.  The collector (``pool``) knows how many results to
expect, and after the last one it joins every worker with ``Proc.join`` -- which, called
from a task, blocks only that task.

Two rules this recipe follows:

* **Join your procs.**  When main's proc is done, ``run(main)`` unwinds the procs still
  running (``TaskKilled``), so whatever they are still doing is cut short.  So ``main``
  waits for what it needs -- on a channel, or with ``Proc.join`` -- before it returns.
* **An exception in a worker is data.**  A worker catches the failure of one job and
  sends it back as a result, so one bad job neither kills the worker nor leaves the
  collector waiting for a result that never comes.  (An exception escaping a proc's
  first task is reported by the excepthook and kept in ``Proc.exception``.)

Procs share the GIL: a pool of procs helps when the work blocks (I/O on an IOProc,
``sleep``) or releases the GIL, not for pure-Python number crunching.
"""

from __future__ import annotations

import sys

from libtask9 import Channel, new_proc, new_task, run

Result = tuple[int, str]  # (job, outcome)


def work(job: int) -> str:
    if job % 7 == 3:
        raise ValueError(f"job {job} is cursed")
    return f"{job}**2 = {job * job}"


def worker(jobs: Channel[int], results: Channel[Result]) -> None:
    for job in jobs:  # until the feeder closes `jobs` and it is drained
        try:
            outcome = work(job)
        except ValueError as e:
            outcome = f"failed: {e}"
        results.send((job, outcome))


def feed(jobs: Channel[int], njobs: int) -> None:
    for job in range(njobs):
        jobs.send(job)
    jobs.close()


def pool(nworkers: int, njobs: int) -> list[Result]:
    jobs: Channel[int] = Channel(nworkers)  # a little slack between feeder and workers
    results: Channel[Result] = Channel()
    procs = []
    for _ in range(nworkers):
        procs.append(new_proc(worker, jobs, results))  # starts at once
    new_task(feed, jobs, njobs)

    collected = [results.recv() for _ in range(njobs)]  # exactly one result per job

    for p in procs:
        if not p.join(timeout=10.0):  # seconds; True once the proc has finished
            raise RuntimeError(f"{p!r} did not finish")
        assert p.exception is None
    return collected


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    nworkers = int(args[0]) if args else 4
    njobs = int(args[1]) if len(args) > 1 else 10
    results = run(pool, nworkers, njobs)
    for job, outcome in sorted(results):  # (they arrive in any order)
        print(f"job {job}: {outcome}")
    print(f"all {nworkers} workers joined")


if __name__ == "__main__":
    main()
