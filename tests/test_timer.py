"""Timers: after, sleep, Timer, Ticker, tick.  Bounds here are correctness bounds (the
original libtask9 fired after(50) ~25.7 s late), never performance thresholds."""

from __future__ import annotations

import time

import pytest

from libtask9 import (
    Channel,
    Hour,
    Millisecond,
    Minute,
    NotInTask,
    Second,
    Ticker,
    Timer,
    after,
    alt,
    alt_recv,
    init_timers,
    new_task,
    run,
    sleep,
    tick,
    yield_,
)

LATE = 5.0  # seconds: far above any scheduling noise, far below the original's 25.7 s


def test_units() -> None:
    assert (Millisecond, Second, Minute, Hour) == (1, 1000, 60_000, 3_600_000)
    init_timers()  # compatibility no-op


@pytest.mark.parametrize("ms", [0, 1, 7, 50, 150])
def test_after_fires_no_earlier_than_asked_and_not_a_wheel_late(ms: int) -> None:
    def main() -> float:
        t0 = time.monotonic()
        c = after(ms)
        fired = c.recv()
        assert fired >= t0 + ms / 1000.0 - 1e-6  # the delivered time is the firing time
        return time.monotonic() - t0

    elapsed = run(main)
    assert ms / 1000.0 <= elapsed + 1e-6
    assert elapsed < LATE


def test_sleep_blocks_only_the_task() -> None:
    log: list[str] = []

    def main() -> None:
        def other() -> None:
            for i in range(3):
                log.append(f"other {i}")
                yield_()

        new_task(other)
        t0 = time.monotonic()
        sleep(20)
        assert time.monotonic() - t0 >= 0.02
        log.append("slept")

    run(main)
    assert log == ["other 0", "other 1", "other 2", "slept"]


def test_sleep_zero_yields() -> None:
    log: list[str] = []

    def main() -> None:
        new_task(log.append, "child")
        sleep(0)
        log.append("main")

    run(main)
    assert log == ["child", "main"]


def test_timeout_case_in_alt() -> None:
    def main() -> int:
        i, _ = alt(alt_recv(Channel()), alt_recv(after(10)))
        return i

    assert run(main) == 1


def test_timer_stop_and_reset() -> None:
    def main() -> None:
        t = Timer(10_000)
        assert t.stop() is True
        assert t.stop() is False
        t.reset(5)
        t.c.recv()
        t2 = Timer(5)
        t2.c.recv()
        assert t2.stop() is False  # already fired

    run(main)


def test_ticker_ticks_until_stopped() -> None:
    def main() -> int:
        tk = Ticker(5)
        times = [tk.c.recv() for _ in range(4)]
        tk.stop()
        assert times == sorted(times)
        return len(times)

    assert run(main) == 4
    with pytest.raises(ValueError):
        Ticker(0)


def test_tick_channel() -> None:
    def main() -> None:
        c = tick(2)
        a = c.recv()
        b = c.recv()
        assert b > a

    run(main)


def test_bad_durations() -> None:
    with pytest.raises(TypeError):
        after("10")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        after(float("nan"))
    with pytest.raises(NotInTask):
        sleep(1)


def test_many_concurrent_sleeps_all_wake() -> None:
    def main() -> int:
        done: Channel[int] = Channel(1000)
        for i in range(1000):
            new_task(lambda i=i: (sleep(i % 20), done.send(i)))
        return len({done.recv() for _ in range(1000)})

    assert run(main) == 1000


def test_timers_fire_while_the_proc_is_busy() -> None:
    """A proc fires its own timers between task switches, even if it never goes idle."""

    def main() -> int:
        stop = [False]
        spins = [0]

        def spinner() -> None:
            while not stop[0]:
                spins[0] += 1
                yield_()

        new_task(spinner)
        sleep(20)  # the spinner keeps the run queue non-empty the whole time
        stop[0] = True
        return spins[0]

    assert run(main) > 0


def test_timer_outlives_the_proc_that_armed_it() -> None:
    """A timer still live when its proc ends is taken over by the fallback timer thread."""
    from libtask9 import new_proc

    def main() -> float:
        box: Channel[Channel[float]] = Channel(1)
        p = new_proc(lambda: box.send(after(30)))
        c = box.recv()
        assert p.join(10)
        return c.recv()

    assert run(main) > 0


def test_kill_while_asleep_resumes_the_task_at_once() -> None:
    """sleep parks on no channel; a kill completes it immediately, and the dead timer no
    longer keeps the proc alive (a 60 s sleep would hit the test timeout)."""
    from libtask9 import TaskKilled

    seen: list[str] = []

    def sleeper() -> None:
        try:
            sleep(60 * Second)
        except TaskKilled:
            seen.append("killed")
            raise

    def main() -> None:
        t = new_task(sleeper)
        yield_()
        assert t.state == "blocked"
        assert t.kill()
        yield_()
        assert t.done and t.killed

    run(main)
    assert seen == ["killed"]


def test_pending_kill_lands_at_sleep() -> None:
    from libtask9 import TaskKilled, curtask

    def main() -> None:
        curtask().kill()  # running: the kill is pending until the next switch point
        with pytest.raises(TaskKilled):
            sleep(60 * Second)

    run(main)


def test_a_killed_sleeper_does_not_hold_off_deadlock_detection() -> None:
    from libtask9 import Deadlock

    def main() -> None:
        t = new_task(sleep, 60 * Second)
        yield_()
        t.kill()
        Channel[int]().recv()  # nothing can wake us: the sleeper's timer is dead

    with pytest.raises(Deadlock, match="blocked in recv"):
        run(main)


def test_a_dropped_timer_channel_is_collected_and_no_longer_pending() -> None:
    """Go 1.23: a timer nobody can receive from any more is garbage and cannot wake
    anybody, so it does not hold off deadlock detection (a 60 s timer would otherwise
    make this test hit its timeout)."""
    import gc
    import weakref

    from libtask9 import Deadlock

    def main() -> None:
        c = after(60 * Second)
        r = weakref.ref(c)
        del c
        gc.collect()
        assert r() is None
        Channel[int]().recv()

    with pytest.raises(Deadlock):
        run(main)


def test_a_batch_of_nearly_due_timers_never_fires_early() -> None:
    """Many timers with deadlines 0.25 ms apart, armed together: each fires no earlier
    than its own deadline (a heap that fired "nearly due" entries in one batch, or a proc
    that woke a little early and fired everything close, would deliver some early)."""
    n = 40

    def main() -> list[tuple[float, float]]:
        t0 = time.monotonic()
        chans = [(t0 + (2 + i * 0.25) / 1000.0, after(2 + i * 0.25)) for i in range(n)]
        sleepers: Channel[tuple[float, float]] = Channel(n)

        def sleeper(ms: float) -> None:
            start = time.monotonic()
            sleep(ms)
            sleepers.send((start + ms / 1000.0, time.monotonic()))

        for i in range(n):
            new_task(sleeper, 2 + i * 0.25)
        got = [(deadline, c.recv()) for deadline, c in chans]
        got += [sleepers.recv() for _ in range(n)]
        return got

    for deadline, fired in run(main):
        assert fired >= deadline - 1e-6, f"fired {1000 * (deadline - fired):.3f} ms early"
