"""Case 2: buffered(128) producer -> consumer in one OS thread (items/s).

A producer task sends ``n`` integers into a channel/queue of capacity 128, a consumer
task receives them. The time covers starting both tasks and joining them.
``greenlet-deque`` is a floor, not a peer: a ``collections.deque`` bounded to 128 by hand
and two raw greenlets switching only when it is full/empty (no scheduler, no waiters).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from bench import compiled
from bench.core import Case, Impl, Metric

CAP = 128


def greenlet_deque(n: int, _p: Any = None) -> float:
    from collections import deque

    from greenlet import getcurrent, greenlet

    q: deque[int] = deque()
    main = getcurrent()
    state: dict[str, Any] = {}

    def producer() -> None:
        app = q.append
        cons = state["cons"]
        for i in range(n):
            if len(q) >= CAP:
                cons.switch()
            app(i)
        cons.switch()

    def consumer() -> None:
        pop = q.popleft
        prod = state["prod"]
        got = 0
        while got < n:
            while q:
                pop()
                got += 1
            if got < n:
                prod.switch()
        main.switch()

    t0 = perf_counter()
    state["prod"] = greenlet(producer)
    state["cons"] = greenlet(consumer)
    state["prod"].switch()
    return perf_counter() - t0


def libtask9(n: int, _p: Any = None) -> float:
    from libtask9 import Channel, new_task, run

    out: list[float] = []

    def producer(c: Any) -> None:
        send = c.send
        for i in range(n):
            send(i)

    def main() -> None:
        t0 = perf_counter()
        c = Channel(CAP)
        new_task(producer, c)
        recv = c.recv
        for _ in range(n):
            recv()
        out.append(perf_counter() - t0)

    run(main)
    return out[0]


def gevent_queue(n: int, _p: Any = None) -> float:
    import gevent
    from gevent.queue import Queue

    t0 = perf_counter()
    q = Queue(CAP)

    def producer() -> None:
        put = q.put
        for i in range(n):
            put(i)

    g = gevent.spawn(producer)
    get = q.get
    for _ in range(n):
        get()
    g.join()
    return perf_counter() - t0


def asyncio_queue(n: int, _p: Any = None) -> float:
    import asyncio

    async def main() -> float:
        t0 = perf_counter()
        q: asyncio.Queue[int] = asyncio.Queue(CAP)

        async def producer() -> None:
            put = q.put
            for i in range(n):
                await put(i)

        task = asyncio.ensure_future(producer())
        get = q.get
        for _ in range(n):
            await get()
        await task
        return perf_counter() - t0

    return asyncio.run(main())


def trio_channel(n: int, _p: Any = None) -> float:
    import trio

    async def main() -> float:
        t0 = perf_counter()
        s, r = trio.open_memory_channel[int](CAP)

        async def producer() -> None:
            send = s.send
            for i in range(n):
                await send(i)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            receive = r.receive
            for _ in range(n):
                await receive()
        return perf_counter() - t0

    return trio.run(main)


CASE = Case(
    id=2,
    title="buffered(128) producer -> consumer",
    short="buffered",
    kind="ops",
    metrics=(Metric("rate", "items/s", "higher", "rate", "{:,.0f}"),
             Metric("us", "µs/item", "lower", "us", "{:.3f}")),
    impls=(
        Impl("libtask9", "libtask9 Channel(128), producer task -> main task", libtask9,
             role="libtask9", quick=True),
        compiled.impl(libtask9, "Channel(128), producer task -> main task"),
        Impl("greenlet-deque", "raw greenlets + deque bounded to 128 (floor, no scheduler)",
             greenlet_deque, role="floor"),
        Impl("gevent-queue", "gevent.queue.Queue(128)", gevent_queue, quick=True),
        Impl("asyncio-queue", "asyncio.Queue(128)", asyncio_queue, quick=True),
        Impl("trio-channel", "trio open_memory_channel(128)", trio_channel),
    ),
)
