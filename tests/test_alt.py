"""alt: exactly one case, uniform choice, blocking and non-blocking, nil and closed cases."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from libtask9 import (
    Channel,
    ChannelClosed,
    Deadlock,
    Runner,
    alt,
    alt_recv,
    alt_send,
    new_task,
    run,
    yield_,
)


def test_alt_ready_recv_and_send() -> None:
    def main() -> None:
        a: Channel[int] = Channel(1)
        b: Channel[int] = Channel(1)
        a.send(10)
        b.send(20)  # b full: a send on b is not ready
        assert alt(alt_send(b, 1), alt_recv(a)) == (1, 10)
        assert alt(alt_send(a, 5), alt_send(b, 6), canblock=False) == (0, None)
        assert a.recv() == 5

    run(main)


def test_nonblocking_alt_returns_minus_one_without_side_effects() -> None:
    def main() -> None:
        a: Channel[int] = Channel()
        b: Channel[int] = Channel(1)
        b.send(1)
        assert alt(alt_recv(a), alt_send(b, 2), canblock=False) == (-1, None)
        assert a.snapshot() == ([], [], [], False)
        assert b.snapshot() == ([1], [], [], False)

    run(main)


def test_blocked_alt_completes_exactly_one_and_withdraws_the_rest() -> None:
    def main() -> None:
        chans: list[Channel[int]] = [Channel() for _ in range(4)]
        result: list[Any] = []
        new_task(lambda: result.append(alt(*[alt_recv(c) for c in chans])))
        yield_()
        for c in chans:
            assert len(c.snapshot()[2]) == 1  # queued on all four
        chans[2].send(42)
        for c in chans:
            assert c.snapshot()[2] == []  # withdrawn from all four in the same step
        assert not chans[0].nbsend(1)
        yield_()
        assert result == [(2, 42)]

    run(main)


def test_mixed_send_recv_alt_with_partners() -> None:
    def main() -> None:
        out: Channel[str] = Channel()
        inp: Channel[str] = Channel()
        got: list[Any] = []
        new_task(lambda: got.append(alt(alt_send(out, "x"), alt_recv(inp))))
        yield_()
        assert out.recv() == "x"
        yield_()
        assert got == [(0, None)]
        assert inp.snapshot()[2] == []

    run(main)


def test_nil_cases_are_never_ready() -> None:
    def main() -> None:
        c: Channel[int] = Channel(1)
        c.send(3)
        assert alt(alt_recv(None), alt_send(None, 1), alt_recv(c)) == (2, 3)
        assert alt(alt_recv(None), alt_send(None, 1), canblock=False) == (-1, None)

    run(main)


def test_alt_with_only_nil_cases_blocks_forever_and_is_a_deadlock() -> None:
    def main() -> None:
        alt(alt_recv(None))

    with pytest.raises(Deadlock, match="alt"):
        run(main)


def test_alt_rejects_non_ops() -> None:
    def main() -> None:
        c: Channel[int] = Channel()
        with pytest.raises(TypeError, match="alt_send"):
            alt(c)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="Channel or None"):
            alt_recv(3)  # type: ignore[arg-type]

    run(main)


def test_closed_case_is_ready_and_reports_its_index() -> None:
    def main() -> None:
        a: Channel[int] = Channel()
        b: Channel[int] = Channel()
        b.close()
        with pytest.raises(ChannelClosed) as ei:
            alt(alt_recv(a), alt_recv(b))
        assert ei.value.index == 1 and ei.value.channel is b
        with pytest.raises(ChannelClosed) as ei:
            alt(alt_recv(a), alt_send(b, 1), canblock=False)
        assert ei.value.index == 1

    run(main)


def test_close_wakes_blocked_alt_with_smallest_index_on_that_channel() -> None:
    def main() -> None:
        a: Channel[int] = Channel()
        b: Channel[int] = Channel()
        caught: list[int] = []

        def waiter() -> None:
            try:
                alt(alt_recv(a), alt_recv(b), alt_send(b, 9))
            except ChannelClosed as e:
                caught.append(e.index)

        new_task(waiter)
        yield_()
        b.close()
        assert a.snapshot()[2] == []  # withdrawn from a too
        yield_()
        assert caught == [1]

    run(main)


def test_reusing_an_op_and_duplicate_channels_are_safe() -> None:
    """Original libtask9 bug 8: a reused op was queued twice and removed once."""

    def main() -> None:
        c: Channel[int] = Channel()
        op = alt_recv(c)
        got: list[Any] = []
        new_task(lambda: got.append(alt(op, op)))
        yield_()
        assert len(c.snapshot()[2]) == 2
        c.send(1)
        assert c.snapshot()[2] == []
        yield_()
        assert got == [(0, 1)]  # FIFO: the first queued case fires
        new_task(lambda: got.append(alt(op)))
        yield_()
        c.send(2)
        yield_()
        assert got[-1] == (0, 2)

    run(main)


def _chi_squared_uniform(counts: Counter[int], k: int, n: int) -> float:
    expected = n / k
    return sum((counts.get(i, 0) - expected) ** 2 / expected for i in range(k))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_choice_among_ready_cases_is_uniform(k: int) -> None:
    """Chi-squared over the chosen index of an alt whose k cases are all ready.

    Seeded, so the statistic is a fixed number; the bound is the 0.999 quantile of the
    chi-squared distribution with k-1 degrees of freedom (a biased chooser that always
    takes the first ready case gives a statistic of n*(k-1), far above it).
    """
    n = 3000
    quantile_999 = {1: 10.83, 2: 13.82, 4: 18.47}[k - 1]

    def main() -> Counter[int]:
        chans: list[Channel[int]] = [Channel(1) for _ in range(k)]
        counts: Counter[int] = Counter()
        for _ in range(n):
            for c in chans:
                if len(c) == 0:
                    c.send(0)
            i, _ = alt(*[alt_recv(c) for c in chans])
            counts[i] += 1
        return counts

    counts = Runner(seed=1234 + k).run(main)
    stat = _chi_squared_uniform(counts, k, n)
    assert stat < quantile_999, (counts, stat)
    assert math.isfinite(stat)


def test_seeded_runs_agree_and_unseeded_runs_differ() -> None:
    def main() -> list[int]:
        chans: list[Channel[int]] = [Channel(1) for _ in range(4)]
        seq = []
        for _ in range(64):
            for c in chans:
                c.nbsend(0)
            seq.append(alt(*[alt_recv(c) for c in chans])[0])
        return seq

    assert Runner(seed=7).run(main) == Runner(seed=7).run(main)
    runs = {tuple(run(main)) for _ in range(5)}
    assert len(runs) > 1


def test_withdrawing_from_the_middle_of_a_queue_keeps_fifo_and_invariants() -> None:
    """Waiter queues are linked lists: withdrawal from the middle (a kill, or another case
    of the alt winning) must keep the order of the rest and every queue invariant."""
    from libtask9 import Channel, alt, alt_recv, new_task, run, yield_

    def main() -> list[int]:
        a, b = Channel[int](), Channel[int]()
        got: list[int] = []

        def waiter(k: int) -> None:
            got.append(k * 100 + alt(alt_recv(a), alt_recv(b))[1])

        tasks = [new_task(waiter, k) for k in range(5)]
        yield_()
        ids = [t.id for t in tasks]
        assert [tid for tid, _ in a.snapshot()[2]] == ids
        tasks[2].kill()  # middle
        tasks[0].kill()  # head
        yield_()
        a.check_invariants()
        b.check_invariants()
        assert [tid for tid, _ in b.snapshot()[2]] == [ids[1], ids[3], ids[4]]
        b.send(7)  # wakes task 1 and withdraws its case from a's queue
        a.check_invariants()
        assert [tid for tid, _ in a.snapshot()[2]] == [ids[3], ids[4]]
        tasks[4].kill()  # tail
        a.check_invariants()
        assert [tid for tid, _ in a.snapshot()[2]] == [ids[3]]
        a.send(8)
        yield_()
        assert a.snapshot()[2] == [] and b.snapshot()[2] == []
        a.check_invariants()
        b.check_invariants()
        return got

    assert run(main) == [107, 308]
