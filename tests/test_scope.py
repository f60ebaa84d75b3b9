"""Timeout scopes: timeout(ms), move_on_after(ms) (issue 11)."""

from __future__ import annotations

import math
import time

import pytest

from libtask9 import (
    Cancelled,
    Channel,
    TaskKilled,
    Timeout,
    TraceRecorder,
    after,
    alt,
    alt_recv,
    curtask,
    move_on_after,
    new_proc,
    new_task,
    run,
    sleep,
    timeout,
    tracing,
    yield_,
)
from libtask9.testing import check_trace


def test_timeout_raises_timeout_out_of_a_blocked_block() -> None:
    def main() -> str:
        c: Channel[int] = Channel()
        t0 = time.monotonic()
        with pytest.raises(Timeout), timeout(20):
            c.recv()
        assert time.monotonic() - t0 >= 0.02 - 1e-3
        assert c.statistics().receivers_waiting == 0  # withdrawn atomically
        return "after"

    assert run(main) == "after"


def test_timeout_is_a_timeout_error_and_the_task_lives_on() -> None:
    def main() -> int:
        n = 0
        for _ in range(3):
            try:
                with timeout(1):
                    sleep(1000)
            except TimeoutError:
                n += 1
        assert not curtask().killed
        return n

    assert run(main) == 3


def test_move_on_after_swallows_and_sets_expired() -> None:
    def main() -> tuple[bool, bool]:
        with move_on_after(5) as s1:
            Channel[int]().recv()
        with move_on_after(5000) as s2:
            yield_()
        return s1.expired, s2.expired

    assert run(main) == (True, False)


def test_a_block_that_finishes_in_time_is_untouched_and_the_timer_disarmed() -> None:
    def main() -> int:
        c: Channel[int] = Channel(1)
        with timeout(10_000):
            c.send(1)
            v = c.recv()
        sleep(1)  # nothing arrives later: leaving disarmed it
        return v

    assert run(main) == 1


def test_a_computing_task_is_interrupted_at_its_next_switch_point() -> None:
    def main() -> int:
        spins = 0
        with move_on_after(5):
            t0 = time.monotonic()
            while time.monotonic() - t0 < 0.03:  # no switch point for 30 ms
                spins += 1
            assert spins > 0
            yield_()  # the interruption lands here
            raise AssertionError("not reached")
        return 1

    assert run(main) == 1


def test_a_timeout_racing_a_committed_receive_keeps_the_value() -> None:
    """The partner completes the receive; the deadline passes before the receiver runs
    again: the commit stands, the value is returned, and leaving the scope at once
    withdraws the interruption that had not landed yet."""

    def main() -> tuple[int, bool]:
        c: Channel[int] = Channel()

        def partner() -> None:
            time.sleep(0.03)  # blocks the proc past the deadline ...
            c.send(7)  # ... then completes the receive (the receiver is readied)

        new_task(partner)
        with move_on_after(10) as scope:
            v = c.recv()  # readied with 7, then the deadline is found passed
        yield_()  # a switch point after the block: the withdrawn interruption must not land
        return v, scope.expired

    v, expired = run(main)
    assert v == 7 and expired


def test_a_timeout_racing_a_committed_send_keeps_it_delivered() -> None:
    def main() -> list[int]:
        c: Channel[int] = Channel()
        got: list[int] = []

        def receiver() -> None:
            time.sleep(0.03)
            got.append(c.recv())

        new_task(receiver)
        with pytest.raises(Timeout), timeout(10):
            c.send(5)  # committed by the receiver after the deadline passed
            yield_()  # the interruption lands at the next switch point
        return got

    assert run(main) == [5]


def test_a_timeout_inside_an_alt() -> None:
    def main() -> tuple[int, list[int]]:
        a: Channel[int] = Channel()
        b: Channel[int] = Channel(1)
        b.send(1)
        b.send  # noqa: B018 - b stays full: its send case is not ready
        with move_on_after(5):
            alt(alt_recv(a), alt_recv(Channel[int]()))
        st = a.statistics()
        return st.receivers_waiting, [b.recv()]

    assert run(main) == (0, [1])


def test_nested_scopes_innermost_expired_fires() -> None:
    def main() -> list[str]:
        log = []
        with move_on_after(10) as outer:
            with move_on_after(5) as inner:
                sleep(1000)
            log.append(f"inner expired={inner.expired}")
            sleep(1000)  # the outer one fires here
            log.append("not reached")
        log.append(f"outer expired={outer.expired}")
        return log

    assert run(main) == ["inner expired=True", "outer expired=True"]


def test_an_outer_scope_expiring_first_passes_through_the_inner_one() -> None:
    def main() -> tuple[bool, bool]:
        with move_on_after(5) as outer, move_on_after(10_000) as inner:
            Channel[int]().recv()
        return outer.expired, inner.expired

    assert run(main) == (True, False)


def test_both_expired_before_delivery_innermost_first_then_outer() -> None:
    def main() -> list[str]:
        log = []
        with move_on_after(5) as outer:
            with move_on_after(5) as inner:
                time.sleep(0.02)  # both deadlines pass while no switch point is reached
                yield_()
            log.append(f"inner caught, outer expired={outer.expired}")
            yield_()  # the outer one lands at the next switch point
            log.append("not reached")
        log.append(f"inner={inner.expired} outer={outer.expired}")
        return log

    assert run(main) == ["inner caught, outer expired=True", "inner=True outer=True"]


def test_inf_never_expires_and_nan_is_refused() -> None:
    def main() -> None:
        with timeout(math.inf):
            sleep(2)
        with pytest.raises(ValueError):
            timeout(float("nan"))

    run(main)


def test_scopes_work_in_every_proc() -> None:
    def worker() -> bool:
        with move_on_after(5) as s:
            Channel[int]().recv()
        return s.expired

    def main() -> object:
        p = new_proc(worker)
        p.join()
        return p.result

    assert run(main) is True


def test_a_kill_inside_a_scope_is_a_kill() -> None:
    def main() -> None:
        def victim() -> None:
            with move_on_after(10_000):
                Channel[int]().recv()
            raise AssertionError("a kill is not a timeout")

        t = new_task(victim)
        yield_()
        t.kill()
        t.join()
        assert isinstance(t._exc, TaskKilled) and not isinstance(t._exc, Cancelled)

    run(main)


def test_a_kill_pending_replaces_an_undelivered_interruption() -> None:
    def main() -> None:
        def victim() -> None:
            with move_on_after(1):
                time.sleep(0.02)  # expired, interruption pending
                curtask().kill()  # a real kill replaces it
                yield_()
            raise AssertionError("not reached")

        t = new_task(victim)
        t.join()
        assert isinstance(t._exc, TaskKilled) and not isinstance(t._exc, Cancelled)
        assert t.killed

    run(main)


def test_a_scope_is_entered_once_and_only_in_a_task() -> None:
    from libtask9 import NotInTask

    with pytest.raises(NotInTask):
        timeout(1).__enter__()

    def main() -> None:
        s = move_on_after(1)
        with s:
            pass
        with pytest.raises(RuntimeError, match="already entered"), s:
            pass

    run(main)


def test_timeouts_are_traced_as_kill_actions_and_the_trace_checks() -> None:
    rec = TraceRecorder()

    def main() -> None:
        c: Channel[int] = Channel()
        with move_on_after(2):
            c.recv()  # KillBlocked(reason=timeout)
        c2: Channel[int] = Channel(1)
        c2.send(1)
        assert c2.recv() == 1
        with move_on_after(1):
            time.sleep(0.01)  # expired while computing; found at the next switch point,
            yield_()  # where it lands: KillPending + Killed
            c2.send(2)
        assert c2.nbrecv() == (False, None)  # the send did not happen
        c2.send(3)
        assert c2.recv() == 3

    with tracing(rec):
        run(main)
    kills = [(e["action"], e.get("reason")) for e in rec.events
             if e["action"] in ("KillBlocked", "KillPending", "Killed")]
    assert kills == [("KillBlocked", "timeout"), ("KillPending", "timeout"),
                     ("Killed", "timeout")]
    report = check_trace(rec.events)
    assert report.ok, str(report)


def test_after_used_with_a_scope() -> None:
    def main() -> int:
        with move_on_after(10_000):
            return int(alt(alt_recv(after(1)), alt_recv(Channel[int]()))[0])

    assert run(main) == 0
