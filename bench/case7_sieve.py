"""Case 7: mixed workload -- the concurrent prime sieve (plan9port ``tprimes``).

A generator task sends 2, 3, 4, ... into an unbuffered channel; each prime task receives
its prime ``p`` first, starts the next prime task on a new channel, then forwards every
number not divisible by ``p``. The generator stops after the P-th prime (17,389 for
P = 2,000) and sends a 0 sentinel that every task forwards before exiting, so the run
ends cleanly. P = 2,000 means ~2.04 M channel transfers through a chain of 2,000 tasks.
Reported: seconds per sieve, and µs per channel transfer (normalised by the greenlet
round trip). Peers use their closest unbuffered primitive: ``gevent.queue.Channel``,
``trio`` ``open_memory_channel(0)``, and ``asyncio.Queue(1)`` (asyncio has no rendezvous
queue; a one-slot queue lets the sender run one item ahead).
"""

from __future__ import annotations

import functools
from time import perf_counter
from typing import Any

from bench import compiled
from bench.core import Case, Impl, Metric

WARM_P = 100


@functools.cache
def sieve_plan(nprimes: int) -> tuple[int, int]:
    """(limit = the nprimes-th prime, number of channel transfers incl. sentinels)."""
    primes: list[int] = []
    transfers = 0
    i = 1
    while len(primes) < nprimes:
        i += 1
        transfers += 1  # generator -> first task
        for p in primes:
            if i % p == 0:
                break
            transfers += 1
        else:
            primes.append(i)
    # the sentinel crosses every channel: generator->task 1 ... task P -> task P+1
    return i, transfers + nprimes + 1


def _result(nprimes: int, got: list[int], t: float) -> dict[str, float]:
    limit, transfers = sieve_plan(nprimes)
    assert len(got) == nprimes and got[-1] == limit, (len(got), got[-1:])
    return {"seconds": t, "us_msg": t / transfers * 1e6}


def libtask9(nprimes: int, warmup: bool) -> dict[str, float]:
    from libtask9 import Channel, new_task, run

    nprimes = WARM_P if warmup else nprimes
    limit, _ = sieve_plan(nprimes)
    got: list[int] = []

    def prime(c: Any) -> None:
        recv = c.recv
        p = recv()
        if p == 0:
            return
        got.append(p)
        nc = Channel(0)
        new_task(prime, nc)
        send = nc.send
        while True:
            i = recv()
            if i == 0:
                send(0)
                return
            if i % p:
                send(i)

    def main() -> None:
        c = Channel(0)
        new_task(prime, c)
        send = c.send
        for i in range(2, limit + 1):
            send(i)
        send(0)

    t0 = perf_counter()
    run(main)
    return _result(nprimes, got, perf_counter() - t0)


def gevent_channel(nprimes: int, warmup: bool) -> dict[str, float]:
    import gevent
    from gevent.event import Event
    from gevent.queue import Channel

    nprimes = WARM_P if warmup else nprimes
    limit, _ = sieve_plan(nprimes)
    got: list[int] = []
    done = Event()

    def prime(c: Any) -> None:
        get = c.get
        p = get()
        if p == 0:
            done.set()
            return
        got.append(p)
        nc = Channel()
        gevent.spawn(prime, nc)
        put = nc.put
        while True:
            i = get()
            if i == 0:
                put(0)
                return
            if i % p:
                put(i)

    t0 = perf_counter()
    c = Channel()
    gevent.spawn(prime, c)
    put = c.put
    for i in range(2, limit + 1):
        put(i)
    put(0)
    done.wait()
    return _result(nprimes, got, perf_counter() - t0)


def asyncio_queue1(nprimes: int, warmup: bool) -> dict[str, float]:
    import asyncio

    nprimes = WARM_P if warmup else nprimes
    limit, _ = sieve_plan(nprimes)
    got: list[int] = []

    async def main() -> float:
        done = asyncio.Event()
        tasks: list[Any] = []

        async def prime(c: Any) -> None:
            get = c.get
            p = await get()
            if p == 0:
                done.set()
                return
            got.append(p)
            nc: asyncio.Queue[int] = asyncio.Queue(1)
            tasks.append(asyncio.ensure_future(prime(nc)))
            put = nc.put
            while True:
                i = await get()
                if i == 0:
                    await put(0)
                    return
                if i % p:
                    await put(i)

        t0 = perf_counter()
        c: asyncio.Queue[int] = asyncio.Queue(1)
        tasks.append(asyncio.ensure_future(prime(c)))
        put = c.put
        for i in range(2, limit + 1):
            await put(i)
        await put(0)
        await done.wait()
        await asyncio.gather(*tasks)
        return perf_counter() - t0

    t = asyncio.run(main())
    return _result(nprimes, got, t)


def trio_channel0(nprimes: int, warmup: bool) -> dict[str, float]:
    import trio

    nprimes = WARM_P if warmup else nprimes
    limit, _ = sieve_plan(nprimes)
    got: list[int] = []

    async def main() -> float:
        t0 = perf_counter()
        async with trio.open_nursery() as nursery:

            async def prime(r: Any) -> None:
                receive = r.receive
                p = await receive()
                if p == 0:
                    return
                got.append(p)
                ns, nr = trio.open_memory_channel[int](0)
                nursery.start_soon(prime, nr)
                send = ns.send
                while True:
                    i = await receive()
                    if i == 0:
                        await send(0)
                        return
                    if i % p:
                        await send(i)

            s, r = trio.open_memory_channel[int](0)
            nursery.start_soon(prime, r)
            for i in range(2, limit + 1):
                await s.send(i)
            await s.send(0)
        return perf_counter() - t0

    t = trio.run(main)
    return _result(nprimes, got, t)


CASE = Case(
    id=7,
    title="prime sieve (tprimes), first P primes",
    short="sieve",
    kind="custom",
    param_name="P",
    metrics=(
        Metric("seconds", "s/sieve", "lower", None, "{:.2f}"),
        Metric("us_msg", "µs/transfer", "lower", "us", "{:.3f}"),
    ),
    params=(2000,),
    quick_params=(300,),
    impls=(
        Impl("libtask9", "libtask9 Channel(0), one task per prime", libtask9,
             role="libtask9", quick=True),
        compiled.impl(libtask9, "Channel(0), one task per prime"),
        Impl("gevent-channel", "gevent.queue.Channel, one greenlet per prime",
             gevent_channel),
        Impl("asyncio-queue1", "asyncio.Queue(1), one task per prime", asyncio_queue1),
        Impl("trio-channel0", "trio open_memory_channel(0), one task per prime",
             trio_channel0),
    ),
    reps=3,
    quick_reps=3,
    rep_budget=30.0,
    timeout=200.0,
)
