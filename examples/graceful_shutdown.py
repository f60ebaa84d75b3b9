"""Recipe: graceful shutdown -- one close stops every task, every ``finally`` runs.

Run it: ``python examples/graceful_shutdown.py``.

Closing a channel wakes *every* task blocked on it, and a closed channel stays ready
forever, so a ``stop`` channel that nobody ever sends on is a broadcast: each service
loop waits with ``alt`` on its work *and* on ``stop``, and leaves when the ``stop`` case
completes (``alt`` raises ``ChannelClosed`` with ``.index`` naming that case).

The services here run in two procs (the main one and a second OS thread).  Shutdown is:

1. ``stop.close()`` -- every service loop sees it at its next ``alt`` and returns; its
   ``finally`` block reports on the ``reports`` channel (a ``finally`` may still use
   channels).
2. A task that does not listen to ``stop`` (here, one stuck in a ``recv`` nobody will
   ever answer) is stopped with ``Task.kill()``: it receives ``TaskKilled`` at its
   switch point, is withdrawn from the channel atomically, and its ``finally`` runs too.
3. The main task waits for every report and joins the second proc, so nothing is still
   running when ``run`` returns.

``TaskKilled`` is a ``BaseException``: ``except Exception`` in a task does not swallow a
kill.  Do not catch it to carry on; let ``finally`` (or ``with``) do the cleanup.
"""

from __future__ import annotations

from libtask9 import (
    Channel,
    ChannelClosed,
    TaskKilled,
    alt,
    alt_recv,
    new_proc,
    new_task,
    run,
)


def service(name: str, work: Channel[int], stop: Channel[None],
            reports: Channel[str]) -> None:
    """Handle work until ``stop`` is closed; always report how much was done."""
    done = 0
    try:
        while True:
            try:
                _, job = alt(alt_recv(stop), alt_recv(work))
            except ChannelClosed as e:
                if e.index == 0:  # the stop case: shut down
                    return
                raise
            done += job  # "handle" the job
    finally:
        reports.send(f"{name}: stopped cleanly after {done} units of work")


def stubborn(never: Channel[int], reports: Channel[str]) -> None:
    """Ignores ``stop``: blocked in a recv that nobody will ever answer."""
    try:
        never.recv()
    except TaskKilled:
        reports.send("stubborn: killed while blocked in recv")
        raise  # let the kill finish unwinding the task
    finally:
        reports.send("stubborn: finally ran")


def second_proc(work: Channel[int], stop: Channel[None], reports: Channel[str]) -> None:
    """Another OS thread running two services; it ends when both have returned."""
    new_task(service, "proc2-a", work, stop, reports)
    new_task(service, "proc2-b", work, stop, reports)


def shutdown_demo() -> list[str]:
    work: Channel[int] = Channel()
    stop: Channel[None] = Channel()  # never sent on: only closed
    reports: Channel[str] = Channel()

    for name in ("main-a", "main-b"):
        new_task(service, name, work, stop, reports)
    other = new_proc(second_proc, work, stop, reports)
    never: Channel[int] = Channel()
    stuck = new_task(stubborn, never, reports)

    for _ in range(10):  # some work; each unit is taken by one of the four services
        work.send(1)

    stop.close()  # 1. the broadcast: all four services leave their loops
    stuck.kill()  # 2. the task that does not listen is killed

    got = [reports.recv() for _ in range(4 + 2)]  # 3. one report per service, two stuck
    if not other.join(timeout=10.0):
        raise RuntimeError("the second proc did not stop")
    return got


def main() -> None:
    reports = run(shutdown_demo)
    for line in sorted(r for r in reports if r.startswith("stubborn")):
        print(line)
    services = sorted(r for r in reports if not r.startswith("stubborn"))
    for line in services:
        print(line.rsplit(" after ", 1)[0])  # how the work was shared varies per run
    total = sum(int(r.rsplit(" after ", 1)[1].split()[0]) for r in services)
    print(f"work done before the stop: {total} units")


if __name__ == "__main__":
    main()
