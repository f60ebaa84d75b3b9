"""The virtual clock (issue 12): timers read the run's clock; autojump moves it to the
next deadline when nothing else can happen; advance() moves it by hand.

Every test here waits minutes or hours of timer time; run on the real clock they would
all hit the test timeout."""

from __future__ import annotations

import random
import threading

import pytest

from libtask9 import (
    Channel,
    Deadlock,
    IOProc,
    Runner,
    Ticker,
    Timeout,
    Timer,
    VirtualClock,
    after,
    alt,
    alt_recv,
    move_on_after,
    new_proc,
    new_task,
    sleep,
    timeout,
    yield_,
)

HOUR_MS = 3_600_000


def vrun(main, *args, clock: VirtualClock | None = None):  # type: ignore[no-untyped-def]
    return Runner(clock=clock or VirtualClock(autojump=True)).run(main, *args)


def test_a_one_hour_ticker_program_gets_exactly_3600_ticks() -> None:
    clock = VirtualClock(autojump=True)

    def main() -> tuple[int, list[float]]:
        t = Ticker(1000)
        ticks = [t.c.recv() for _ in range(3600)]
        t.stop()
        return len(ticks), ticks[:3] + ticks[-1:]

    n, sample = vrun(main, clock=clock)
    assert n == 3600 and sample == [1.0, 2.0, 3.0, 3600.0]
    assert clock.now() == 3600.0


def test_timers_fire_in_deadline_order_at_their_exact_virtual_times() -> None:
    rng = random.Random(7)
    delays = [rng.randrange(1, 100_000) for _ in range(200)]

    def main() -> list[tuple[float, float]]:
        out: Channel[tuple[float, float]] = Channel(len(delays))

        def sleeper(ms: int) -> None:
            sleep(ms)
            out.send((ms / 1000.0, clock.now()))

        for ms in delays:
            new_task(sleeper, ms)
        return [out.recv() for _ in delays]

    clock = VirtualClock(autojump=True)
    got = vrun(main, clock=clock)
    assert [w for w, _ in got] == sorted(w for w, _ in got)  # in deadline order
    assert all(woke == pytest.approx(want, abs=1e-9) for want, woke in got)  # on time


def test_after_timer_stop_reset_and_alt_timeouts() -> None:
    def main() -> list[object]:
        log: list[object] = []
        c: Channel[int] = Channel()
        i, when = alt(alt_recv(c), alt_recv(after(HOUR_MS)))
        log.append((i, when))
        t = Timer(10_000)
        assert t.stop()
        t.reset(5_000)
        log.append(t.c.recv())
        return log

    assert vrun(main) == [(1, 3600.0), 3605.0]


def test_join_with_timeout_and_timeout_scopes_read_the_virtual_clock() -> None:
    clock = VirtualClock(autojump=True)

    def main() -> list[object]:
        log: list[object] = []
        gate: Channel[None] = Channel()
        t = new_task(gate.recv)
        log.append((t.join(timeout=60.0), clock.now()))
        p = new_proc(gate.recv)
        log.append((p.join(timeout=30.0), clock.now()))
        with pytest.raises(Timeout), timeout(HOUR_MS):
            Channel[int]().recv()
        log.append(clock.now())
        with move_on_after(1000) as s:
            sleep(500)
        log.append((s.expired, clock.now()))
        gate.send(None)
        gate.send(None)
        return log

    assert vrun(main, clock=clock) == [(False, 60.0), (False, 90.0), 3690.0, (False, 3690.5)]


def test_a_slow_ticker_reader_drops_ticks_in_virtual_time() -> None:
    def main() -> list[float]:
        t = Ticker(100)
        got = []
        for _ in range(3):
            got.append(t.c.recv())
            sleep(350)  # three ticks pass: one waits in the 1-slot channel, two are dropped
        t.stop()
        return got

    # 0.2 waits in the channel while 0.3 and 0.4 are dropped; then 0.5 waits.
    assert vrun(main) == pytest.approx([0.1, 0.2, 0.5])


def test_timers_across_procs() -> None:
    clock = VirtualClock(autojump=True)

    def worker(ms: int, out: Channel[float]) -> None:
        sleep(ms)
        out.send(clock.now())

    def main() -> list[float]:
        out: Channel[float] = Channel(3)
        procs = [new_proc(worker, ms, out) for ms in (3000, 1000, 2000)]
        got = sorted(out.recv() for _ in procs)
        for p in procs:
            p.join()
        return got

    assert vrun(main, clock=clock) == [1.0, 2.0, 3.0]


def test_without_autojump_time_moves_only_when_advanced() -> None:
    clock = VirtualClock()

    def main() -> list[float]:
        woke: list[float] = []

        def sleeper() -> None:
            sleep(100)
            woke.append(clock.now())

        s = new_task(sleeper)
        yield_()  # the sleeper arms its timer at virtual time 0
        clock.advance(40)
        clock.advance(40)
        assert woke == []
        th = threading.Thread(target=clock.advance, args=(40,))  # from a plain thread
        th.start()
        s.join()
        th.join()
        return woke

    assert vrun(main, clock=clock) == [pytest.approx(0.12)]


def test_no_jump_while_an_iocall_is_in_flight() -> None:
    clock = VirtualClock(autojump=True)
    seen: list[float] = []
    release = threading.Event()

    def main() -> float:
        new_task(lambda: (sleep(HOUR_MS), seen.append(clock.now())))
        with IOProc("io") as io:
            threading.Timer(0.05, release.set).start()
            io.iocall(release.wait, 10)  # every task idle, but the iocall runs: no jump
            seen.append(clock.now())
        return clock.now()

    assert vrun(main, clock=clock) == 0.0
    assert seen == [0.0, 3600.0]  # after the iocall, the sleeper's hour passed at once


def test_a_real_deadlock_is_still_declared() -> None:
    with pytest.raises(Deadlock, match="blocked in recv"):
        vrun(lambda: (sleep(HOUR_MS), Channel[int]().recv()))


def test_a_clock_serves_one_run_at_a_time_and_types_are_checked() -> None:
    with pytest.raises(TypeError):
        VirtualClock(autojump="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Runner(clock=123)  # type: ignore[arg-type]
    clock = VirtualClock(autojump=True)
    assert vrun(lambda: sleep(1000), clock=clock) is None
    assert vrun(lambda: sleep(1000), clock=clock) is None  # the first run has ended
    assert clock.now() == 2.0
