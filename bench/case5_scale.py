"""Case 5: scale -- create, block and wake N = 10k and 100k tasks.

Each of N tasks blocks receiving one value from a shared queue/channel, then exits.
Phases, timed separately (µs per task):
* ``spawn_us``  create the N tasks and run each until it blocks;
* ``wake_us``   the main task hands one value to each blocked task (in FIFO order) and
  lets all N run to completion;
* ``total_us``  both.
``rss_kb`` is the growth of the resident set (``/proc/self/statm``) from before creating
the tasks to when all N are blocked, divided by N (KB = 1024 bytes).

Every repetition runs in its own fresh subprocess (freed memory is not returned to the
OS, so a second repetition in the same process would see no RSS growth); each
subprocess first warms the code paths with N = 1000 in the same way.

The libtask9 wake is an unbuffered ``send`` to a waiting receiver. gevent's equivalent is
``gevent.queue.Channel().put`` (a rendezvous: the waker blocks until the getter has the
value); ``gevent-event`` gives each greenlet its own ``Event`` (the cheapest gevent wake).
``gevent.queue.Queue`` is deliberately not used: a woken getter runs
``_safe_remove(self.getters, waiter)``, an O(N) deque scan, so waking N blocked getters is
O(N^2) (measured: ~85 µs/task at 10k, ~760 µs/task at 100k, gevent 26.9).
asyncio: tasks blocked in ``asyncio.Queue().get()`` woken by ``put_nowait``. The
bare-greenlet floor switches into each greenlet (which switches straight back: that is its
"block") and once more to finish it.
"""

from __future__ import annotations

import gc
from time import perf_counter
from typing import Any

from bench import compiled
from bench.core import Case, Impl, Metric, rss_bytes

WARM_N = 1000


def _result(n: int, t0: float, t1: float, t2: float, r0: int, r1: int) -> dict[str, float]:
    return {
        "wake_us": (t2 - t1) / n * 1e6,
        "spawn_us": (t1 - t0) / n * 1e6,
        "total_us": (t2 - t0) / n * 1e6,
        "rss_kb": (r1 - r0) / n / 1024,
    }


def greenlet_bare(n: int, warmup: bool) -> dict[str, float]:
    from greenlet import getcurrent, greenlet

    n = WARM_N if warmup else n
    main = getcurrent()
    done = [0]

    def body() -> None:
        main.switch()
        done[0] += 1

    gc.collect()
    r0 = rss_bytes()
    t0 = perf_counter()
    gs = [greenlet(body) for _ in range(n)]
    for g in gs:
        g.switch()
    t1 = perf_counter()
    r1 = rss_bytes()
    for g in gs:
        g.switch()
    t2 = perf_counter()
    assert done[0] == n
    return _result(n, t0, t1, t2, r0, r1)


def libtask9(n: int, warmup: bool) -> dict[str, float]:
    from libtask9 import Channel, new_task, run, yield_

    n = WARM_N if warmup else n
    res: list[dict[str, float]] = []
    started, done = [0], [0]

    def body(c: Any) -> None:
        started[0] += 1
        c.recv()
        done[0] += 1

    def main() -> None:
        c = Channel(0)
        gc.collect()
        r0 = rss_bytes()
        t0 = perf_counter()
        for _ in range(n):
            new_task(body, c)
        while started[0] < n:
            yield_()
        t1 = perf_counter()
        r1 = rss_bytes()
        send = c.send
        for i in range(n):
            send(i)
        while done[0] < n:
            yield_()
        t2 = perf_counter()
        res.append(_result(n, t0, t1, t2, r0, r1))

    run(main)
    return res[0]


def _gevent(n: int, warmup: bool, kind: str) -> dict[str, float]:
    import gevent
    from gevent.event import Event
    from gevent.queue import Channel

    n = WARM_N if warmup else n
    started, done = [0], [0]
    ch: Channel = Channel()
    evs = [Event() for _ in range(n)] if kind == "event" else []

    def body_channel() -> None:
        started[0] += 1
        ch.get()
        done[0] += 1

    def body_event(e: Any) -> None:
        started[0] += 1
        e.wait()
        done[0] += 1

    gc.collect()
    r0 = rss_bytes()
    t0 = perf_counter()
    if kind == "event":
        for e in evs:
            gevent.spawn(body_event, e)
    else:
        for _ in range(n):
            gevent.spawn(body_channel)
    while started[0] < n:
        gevent.sleep(0)
    t1 = perf_counter()
    r1 = rss_bytes()
    if kind == "event":
        for e in evs:
            e.set()
    else:
        put = ch.put
        for i in range(n):
            put(i)
    while done[0] < n:
        gevent.sleep(0)
    t2 = perf_counter()
    return _result(n, t0, t1, t2, r0, r1)


def gevent_channel(n: int, warmup: bool) -> dict[str, float]:
    return _gevent(n, warmup, "channel")


def gevent_event(n: int, warmup: bool) -> dict[str, float]:
    return _gevent(n, warmup, "event")


def asyncio_queue(n: int, warmup: bool) -> dict[str, float]:
    import asyncio

    n = WARM_N if warmup else n
    started, done = [0], [0]

    async def main() -> dict[str, float]:
        q: asyncio.Queue[int] = asyncio.Queue()

        async def body() -> None:
            started[0] += 1
            await q.get()
            done[0] += 1

        gc.collect()
        r0 = rss_bytes()
        t0 = perf_counter()
        tasks = [asyncio.ensure_future(body()) for _ in range(n)]
        while started[0] < n:
            await asyncio.sleep(0)
        t1 = perf_counter()
        r1 = rss_bytes()
        put = q.put_nowait
        for i in range(n):
            put(i)
        while done[0] < n:
            await asyncio.sleep(0)
        t2 = perf_counter()
        del tasks
        return _result(n, t0, t1, t2, r0, r1)

    return asyncio.run(main())


CASE = Case(
    id=5,
    title="scale: create, block and wake N tasks",
    short="scale",
    kind="custom",
    param_name="N",
    metrics=(
        Metric("wake_us", "µs/task wake", "lower", "us", "{:.2f}"),
        Metric("spawn_us", "µs/task create+block", "lower", "us", "{:.2f}"),
        Metric("total_us", "µs/task total", "lower", "us", "{:.2f}"),
        Metric("rss_kb", "KB/blocked task", "lower", None, "{:.2f}"),
    ),
    params=(10_000, 100_000),
    quick_params=(10_000,),
    impls=(
        Impl("libtask9", "libtask9 tasks blocked in Channel(0).recv()", libtask9,
             role="libtask9", quick=True),
        compiled.impl(libtask9, "tasks blocked in Channel(0).recv()"),
        Impl("greenlet", "bare suspended greenlet (floor)", greenlet_bare, role="floor",
             quick=True),
        Impl("gevent-channel", "gevent.spawn, blocked in gevent.queue.Channel().get()",
             gevent_channel),
        Impl("gevent-event", "gevent.spawn, each blocked in its own Event.wait()",
             gevent_event),
        Impl("asyncio", "asyncio tasks blocked in asyncio.Queue().get()", asyncio_queue),
    ),
    reps=3,
    quick_reps=2,
    proc_per_rep=True,
    timeout=120.0,
)
