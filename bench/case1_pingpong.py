"""Case 1: same-proc unbuffered ping-pong (round trips/s).

Two tasks in one OS thread; a round trip = ping sends ``i`` to pong, pong sends it back.
Every implementation uses two one-way unbuffered (rendezvous) channels unless stated.
The ``greenlet`` implementation is the run's reference: the raw ``greenlet.switch``
round trip (two switches, one value each way) that every other number is divided by.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any

from bench import compiled
from bench.core import Case, Impl, Metric


def greenlet_switch(n: int, _p: Any = None) -> float:
    from greenlet import getcurrent, greenlet

    main = getcurrent()

    def pong(v: Any) -> None:
        sw = main.switch
        while v is not None:
            v = sw(v)

    g = greenlet(pong)
    sw = g.switch
    sw(-1)
    t0 = perf_counter()
    for i in range(n):
        sw(i)
    t = perf_counter() - t0
    sw(None)
    return t


def echo(get: Callable[[], Any], put: Callable[[Any], Any], n: int) -> None:
    """The pong side of a ping-pong: send back the hand-shake and ``n`` values."""
    for _ in range(n + 1):
        put(get())


def ping(put: Callable[[Any], Any], get: Callable[[], Any], n: int) -> float:
    """The ping side: one untimed hand-shake round trip, then ``n`` timed ones; seconds.
    (One loop for every synchronous implementation, so they are timed alike.)"""
    put(-1)
    get()
    t0 = perf_counter()
    for i in range(n):
        put(i)
        get()
    return perf_counter() - t0


def libtask9_pingpong(n: int, cross_proc: bool) -> float:
    """Seconds for ``n`` libtask9 round trips over two Channel(0)s; the partner is a task
    of the same proc (case 1) or the first task of another proc (case 3)."""
    from libtask9 import Channel, new_proc, new_task, run

    out: list[float] = []
    procs: list[Any] = []

    def main() -> None:
        a, b = Channel(0), Channel(0)
        if cross_proc:
            procs.append(new_proc(echo, a.recv, b.send, n))
        else:
            new_task(echo, a.recv, b.send, n)
        out.append(ping(a.send, b.recv, n))

    run(main)
    for p in procs:
        p.join(10)
    return out[0]


def libtask9(n: int, _p: Any = None) -> float:
    return libtask9_pingpong(n, cross_proc=False)


def gevent_channel(n: int, _p: Any = None) -> float:
    import gevent
    from gevent.queue import Channel

    a, b = Channel(), Channel()
    g = gevent.spawn(echo, a.get, b.put, n)
    t = ping(a.put, b.get, n)
    g.join()
    return t


def asyncio_future(n: int, _p: Any = None) -> float:
    import asyncio

    async def main() -> float:
        loop = asyncio.get_running_loop()
        st: dict[str, Any] = {"req": loop.create_future(), "rep": None}

        async def pong() -> None:
            while True:
                v = await st["req"]
                if v is None:
                    return
                st["req"] = loop.create_future()
                st["rep"].set_result(v)

        task = asyncio.ensure_future(pong())
        t0 = 0.0
        for i in range(-1, n):
            if i == 0:
                t0 = perf_counter()
            rep = st["rep"] = loop.create_future()
            st["req"].set_result(i)
            await rep
        t = perf_counter() - t0
        st["req"].set_result(None)
        await task
        return t

    return asyncio.run(main())


def asyncio_queue1(n: int, _p: Any = None) -> float:
    import asyncio

    async def main() -> float:
        a: asyncio.Queue[int] = asyncio.Queue(1)
        b: asyncio.Queue[int] = asyncio.Queue(1)

        async def pong() -> None:
            get, put = a.get, b.put
            for _ in range(n + 1):
                await put(await get())

        task = asyncio.ensure_future(pong())
        put, get = a.put, b.get
        await put(-1)
        await get()
        t0 = perf_counter()
        for i in range(n):
            await put(i)
            await get()
        t = perf_counter() - t0
        await task
        return t

    return asyncio.run(main())


def trio_channel0(n: int, _p: Any = None) -> float:
    import trio

    async def main() -> float:
        a_s, a_r = trio.open_memory_channel[int](0)
        b_s, b_r = trio.open_memory_channel[int](0)
        out: list[float] = []

        async def pong() -> None:
            for _ in range(n + 1):
                await b_s.send(await a_r.receive())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(pong)
            await a_s.send(-1)
            await b_r.receive()
            t0 = perf_counter()
            for i in range(n):
                await a_s.send(i)
                await b_r.receive()
            out.append(perf_counter() - t0)
        return out[0]

    return trio.run(main)


RT = (Metric("rate", "round trips/s", "higher", "rate", "{:,.0f}"),
      Metric("us", "µs/round trip", "lower", "us", "{:.3f}"))

CASE = Case(
    id=1,
    title="same-proc unbuffered ping-pong",
    short="ping-pong",
    kind="ops",
    metrics=RT,
    impls=(
        Impl("greenlet", "raw greenlet.switch round trip (reference)", greenlet_switch,
             role="ref", quick=True),
        Impl("libtask9", "libtask9 Channel(0) pair, two tasks", libtask9,
             role="libtask9", quick=True),
        compiled.impl(libtask9, "Channel(0) pair, two tasks"),
        Impl("gevent-channel", "gevent.queue.Channel pair", gevent_channel, quick=True),
        Impl("asyncio-future", "asyncio future hand-off (one new Future per message)",
             asyncio_future, quick=True),
        Impl("asyncio-queue1", "asyncio.Queue(1) pair", asyncio_queue1),
        Impl("trio-channel0", "trio open_memory_channel(0) pair", trio_channel0),
    ),
)
