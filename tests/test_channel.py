"""Channels: rendezvous, buffering, FIFO, non-blocking ops, close, iteration, errors."""

from __future__ import annotations

from typing import Any

import pytest

import libtask9
from libtask9 import (
    Channel,
    ChannelClosed,
    NotInTask,
    new_task,
    run,
    yield_,
)


def test_unbuffered_send_blocks_until_recv() -> None:
    log: list[str] = []

    def main() -> None:
        c: Channel[int] = Channel()

        def sender() -> None:
            log.append("send start")
            c.send(1)
            log.append("send done")

        new_task(sender)
        yield_()  # sender runs and blocks: no receiver yet
        assert log == ["send start"]
        assert c.snapshot()[1] == [(2, 0)] or len(c.snapshot()[1]) == 1
        assert c.recv() == 1
        log.append("recv done")
        yield_()
        assert log == ["send start", "recv done", "send done"]

    run(main)


def test_unbuffered_recv_blocks_until_send() -> None:
    def main() -> list[int]:
        c: Channel[int] = Channel()
        got: list[int] = []
        new_task(lambda: got.append(c.recv()))
        yield_()
        assert got == [] and len(c.snapshot()[2]) == 1
        c.send(7)  # completes the blocked receiver without blocking
        yield_()
        return got

    assert run(main) == [7]


def test_buffered_fifo_and_len() -> None:
    def main() -> None:
        c: Channel[int] = Channel(3)
        for i in range(3):
            c.send(i)
        assert len(c) == 3 and c.cap == 3
        assert not c.nbsend(99)
        assert [c.recv() for _ in range(3)] == [0, 1, 2]
        assert c.nbrecv() == (False, None)

    run(main)


def test_handover_keeps_fifo() -> None:
    """A receiver on a full buffer with blocked senders takes the head and the first
    blocked sender's value goes to the tail in the same step (plan9port altcopy)."""

    def main() -> None:
        c: Channel[str] = Channel(2)
        c.send("a")
        c.send("b")
        new_task(c.send, "c")
        new_task(c.send, "d")
        yield_()  # both senders block on the full buffer
        assert c.snapshot()[0] == ["a", "b"] and len(c.snapshot()[1]) == 2
        assert c.recv() == "a"
        assert c.snapshot()[0] == ["b", "c"]  # "c" appended in the same step
        assert [c.recv(), c.recv(), c.recv()] == ["b", "c", "d"]

    run(main)


def test_blocked_senders_served_fifo() -> None:
    def main() -> list[int]:
        c: Channel[int] = Channel()
        for i in range(5):
            new_task(c.send, i)
        yield_()
        return [c.recv() for _ in range(5)]

    assert run(main) == [0, 1, 2, 3, 4]


def test_nbsend_nbrecv() -> None:
    def main() -> None:
        c: Channel[int] = Channel()
        assert c.nbsend(1) is False  # no receiver
        assert c.nbrecv() == (False, None)
        got: list[Any] = []
        new_task(lambda: got.append(c.recv()))
        yield_()
        assert c.nbsend(5) is True
        yield_()
        assert got == [5]
        new_task(c.send, None)
        yield_()
        assert c.nbrecv() == (True, None)  # a None value is told apart from "nothing"

    run(main)


def test_close_drains_buffer_then_raises() -> None:
    def main() -> None:
        c: Channel[int] = Channel(2)
        c.send(1)
        c.send(2)
        c.close()
        assert c.closed
        assert c.recv() == 1
        assert c.nbrecv() == (True, 2)
        with pytest.raises(ChannelClosed):
            c.recv()
        with pytest.raises(ChannelClosed):
            c.nbrecv()
        with pytest.raises(ChannelClosed):
            c.send(3)
        with pytest.raises(ChannelClosed):
            c.nbsend(3)
        with pytest.raises(ChannelClosed) as ei:
            c.close()
        assert ei.value.index == -1 and ei.value.channel is c

    run(main)


def test_close_wakes_blocked_receivers_and_senders() -> None:
    def main() -> None:
        r: Channel[int] = Channel()
        s: Channel[int] = Channel(1)
        s.send(0)
        outcomes: list[str] = []

        def receiver() -> None:
            try:
                r.recv()
            except ChannelClosed:
                outcomes.append("recv closed")

        def sender() -> None:
            try:
                s.send(1)
            except ChannelClosed:
                outcomes.append("send closed")

        for _ in range(2):
            new_task(receiver)
            new_task(sender)
        yield_()
        r.close()
        s.close()
        yield_()
        assert sorted(outcomes) == ["recv closed"] * 2 + ["send closed"] * 2
        assert s.recv() == 0  # the value buffered before close is still there
        assert r.statistics().receivers_waiting == 0

    run(main)


def test_iteration_until_closed() -> None:
    def main() -> list[int]:
        c: Channel[int] = Channel(4)

        def producer() -> None:
            for i in range(10):
                c.send(i)
            c.close()

        new_task(producer)
        return list(c)

    assert run(main) == list(range(10))


def test_bad_buffer_sizes() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Channel(-1)
    with pytest.raises(TypeError, match="int"):
        Channel("3")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Channel(1.5)  # type: ignore[arg-type]
    if libtask9.COMPILED:  # mypyc converts a bool argument to int at the call boundary
        assert Channel(True).cap == 1
    else:
        with pytest.raises(TypeError):
            Channel(True)


def test_operations_outside_a_task_raise() -> None:
    c: Channel[int] = Channel(1)
    for call in (lambda: c.send(1), c.recv, lambda: c.nbsend(1), c.nbrecv, c.close):
        with pytest.raises(NotInTask, match=r"libtask9\.run"):
            call()


def test_statistics_and_repr() -> None:
    def main() -> None:
        c: Channel[int] = Channel(2, name="jobs")
        c.send(1)
        st = c.statistics()
        assert (st.capacity, st.buffered, st.closed) == (2, 1, False)
        assert "jobs" in repr(c) and "cap=2" in repr(c)
        c.check_invariants()

    run(main)


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_untraced_recv_from_a_full_buffer_hands_over_the_blocked_sender(cap: int) -> None:
    """The inline recv path (no tracer): taking from a full buffer while a sender is
    blocked appends that sender's value in the same step (AltHandover) and readies it."""

    def main() -> tuple[list[int], int, bool]:
        ch: Channel[int] = Channel(cap)
        for i in range(cap):
            ch.send(i)
        sender = new_task(ch.send, 100)
        yield_()
        assert sender.state == "blocked"
        first = ch.recv()
        refilled = len(ch)
        ready = sender.state in ("runnable", "done")
        rest = [ch.recv() for _ in range(cap)]
        return [first, *rest], refilled, ready

    got, refilled, ready = run(main)
    assert got == [*range(cap), 100] and refilled == cap and ready
