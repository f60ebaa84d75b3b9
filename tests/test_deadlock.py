"""Deadlock detection: reported exactly when nothing can wake the blocked tasks."""

from __future__ import annotations

import threading
import time

import pytest

from libtask9 import (
    Channel,
    Deadlock,
    IOProc,
    after,
    alt,
    alt_recv,
    new_task,
    run,
    sleep,
)


def test_simple_deadlock() -> None:
    def main() -> None:
        Channel().recv()

    with pytest.raises(Deadlock, match="blocked in recv") as ei:
        run(main)
    assert ei.value.blocked[0][0].name == "main"


def test_deadlock_of_spawned_tasks_after_main_returns() -> None:
    def main() -> None:
        new_task(Channel().send, 1)

    with pytest.raises(Deadlock, match="blocked in send"):
        run(main)


def test_deadlock_is_detected_promptly() -> None:
    t0 = time.monotonic()
    with pytest.raises(Deadlock):
        run(lambda: Channel(1).send(1) or Channel().recv())
    assert time.monotonic() - t0 < 30  # "within a second"; generous bound, not a benchmark


def test_pending_timer_is_not_a_deadlock() -> None:
    def main() -> str:
        i, _ = alt(alt_recv(Channel()), alt_recv(after(30)))
        sleep(5)
        return f"woken by {i}"

    assert run(main) == "woken by 1"


def test_abandoned_timer_does_not_hide_a_deadlock() -> None:
    def main() -> None:
        c: Channel[int] = Channel(1)
        c.send(1)
        alt(alt_recv(c), alt_recv(after(60_000)))  # c wins; the timer is garbage now
        Channel().recv()

    t0 = time.monotonic()
    with pytest.raises(Deadlock):
        run(main)
    assert time.monotonic() - t0 < 30


def test_iocall_in_flight_is_not_a_deadlock() -> None:
    gate = threading.Event()

    def main() -> str:
        with IOProc("io") as io:
            def opener() -> None:
                time.sleep(0.05)
                gate.set()

            threading.Thread(target=opener).start()
            io.iocall(gate.wait, 10)
        return "ok"

    assert run(main) == "ok"


def test_deadlock_unwinds_blocked_tasks() -> None:
    unwound: list[str] = []

    def main() -> None:
        def waiter() -> None:
            try:
                Channel().recv()
            finally:
                unwound.append("waiter")

        new_task(waiter)
        Channel().recv()

    with pytest.raises(Deadlock):
        run(main)
    assert unwound == ["waiter"]
