"""Case 6: timers -- 1,000 concurrent sleeps, lateness p50/p99 (ms).

1,000 tasks start together; task i sleeps a pseudo-random whole number of milliseconds
in [1, 100] (the same sequence for every implementation) and records
``lateness = (wake time - time just before the sleep call) - requested duration``.
Per repetition: p50, p99, max and min over the 1,000 samples; the report gives the median
over repetitions. A negative ``min`` means some sleep returned *early*.
"""

from __future__ import annotations

import random
from time import perf_counter
from typing import Any

from bench import compiled
from bench.core import Case, Impl, Metric, percentile

NTASKS = 1000


def _durations(n: int) -> list[int]:
    rnd = random.Random(6)
    return [rnd.randint(10, 100) for _ in range(n)]


def _summary(late: list[float]) -> dict[str, float]:
    ms = [x * 1e3 for x in late]
    return {
        "p99_ms": percentile(ms, 99),
        "p50_ms": percentile(ms, 50),
        "max_ms": max(ms),
        "min_ms": min(ms),
    }


def libtask9(_p: Any, warmup: bool) -> dict[str, float]:
    from libtask9 import new_task, run, sleep

    ds = _durations(100 if warmup else NTASKS)
    late: list[float] = []

    def body(d: int) -> None:
        t0 = perf_counter()
        sleep(d)
        late.append(perf_counter() - t0 - d / 1000)

    def main() -> None:
        for d in ds:
            new_task(body, d)

    run(main)
    assert len(late) == len(ds)
    return _summary(late)


def asyncio_sleep(_p: Any, warmup: bool) -> dict[str, float]:
    import asyncio

    ds = _durations(100 if warmup else NTASKS)
    late: list[float] = []

    async def body(d: int) -> None:
        t0 = perf_counter()
        await asyncio.sleep(d / 1000)
        late.append(perf_counter() - t0 - d / 1000)

    async def main() -> None:
        await asyncio.gather(*(body(d) for d in ds))

    asyncio.run(main())
    return _summary(late)


def gevent_sleep(_p: Any, warmup: bool) -> dict[str, float]:
    import gevent

    ds = _durations(100 if warmup else NTASKS)
    late: list[float] = []

    def body(d: int) -> None:
        t0 = perf_counter()
        gevent.sleep(d / 1000)
        late.append(perf_counter() - t0 - d / 1000)

    gevent.joinall([gevent.spawn(body, d) for d in ds])
    return _summary(late)


def trio_sleep(_p: Any, warmup: bool) -> dict[str, float]:
    import trio

    ds = _durations(100 if warmup else NTASKS)
    late: list[float] = []

    async def body(d: int) -> None:
        t0 = perf_counter()
        await trio.sleep(d / 1000)
        late.append(perf_counter() - t0 - d / 1000)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for d in ds:
                nursery.start_soon(body, d)

    trio.run(main)
    return _summary(late)


CASE = Case(
    id=6,
    title="timers: 1k concurrent sleeps, lateness",
    short="timers",
    kind="custom",
    metrics=(
        Metric("p99_ms", "p99 lateness ms", "lower", None, "{:.3f}"),
        Metric("p50_ms", "p50 lateness ms", "lower", None, "{:.3f}"),
        Metric("max_ms", "max lateness ms", "lower", None, "{:.3f}"),
        Metric("min_ms", "min lateness ms", "higher", None, "{:.3f}"),
    ),
    impls=(
        Impl("libtask9", "libtask9 sleep(ms) in 1k tasks", libtask9, role="libtask9",
             quick=True),
        compiled.impl(libtask9, "sleep(ms) in 1k tasks"),
        Impl("asyncio", "asyncio.sleep in 1k tasks", asyncio_sleep, quick=True),
        Impl("gevent", "gevent.sleep in 1k greenlets", gevent_sleep),
        Impl("trio", "trio.sleep in 1k tasks", trio_sleep),
    ),
    reps=5,
    quick_reps=3,
)
