"""Tasks: creation, yield, ids and names, kill semantics, exceptions."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

import libtask9
from libtask9 import (
    Channel,
    ChannelClosed,
    NotInTask,
    Task,
    TaskKilled,
    alt,
    alt_recv,
    curproc,
    curtask,
    new_task,
    run,
    set_excepthook,
    yield_,
)


def test_new_task_does_not_switch() -> None:
    log: list[str] = []

    def main() -> None:
        new_task(log.append, "child")
        log.append("parent")
        assert yield_() == 1  # exactly the child ran meanwhile
        assert yield_() == 0  # nobody else is ready

    run(main)
    assert log == ["parent", "child"]


def test_round_robin_fifo() -> None:
    log: list[int] = []

    def worker(i: int) -> None:
        for _ in range(3):
            log.append(i)
            yield_()

    def main() -> None:
        for i in range(3):
            new_task(worker, i)

    run(main)
    assert log == [0, 1, 2] * 3


def test_run_returns_result_and_reraises() -> None:
    assert run(lambda x, y=1: x + y, 1, y=2) == 3

    def bad() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        run(bad)


def test_ids_are_unique_names_and_curtask() -> None:
    def main() -> None:
        me = curtask()
        assert me.name == "main" and isinstance(me, Task)
        kids = [new_task(lambda: None) for _ in range(10)]
        ids = {me.id, *(k.id for k in kids)}
        assert len(ids) == 11
        kids[0].name = "renamed"
        assert "renamed" in repr(kids[0])
        assert curproc() is me.proc
        yield_()
        assert all(k.done for k in kids)

    run(main)


def test_keyword_arguments_reach_the_task_and_a_finished_task_lets_its_call_go() -> None:
    """``new_task(fn, *args, **kwargs)`` calls ``fn(*args, **kwargs)``; the task is named
    after ``fn`` even with keyword arguments; once it ends, the Task (still referenced)
    no longer keeps its function, arguments or keyword arguments alive."""

    class Arg:
        def __init__(self, tag: str) -> None:
            self.tag = tag

    refs: list[weakref.ref[Any]] = []

    def main() -> None:
        a, k = Arg("a"), Arg("k")
        fn = lambda x, *, y: x.tag + y.tag  # noqa: E731
        refs.extend([weakref.ref(a), weakref.ref(k), weakref.ref(fn)])
        t = new_task(fn, a, y=k)
        assert t.name == "<lambda>"
        del a, k, fn
        assert t.join() and t.result() == "ak"
        gc.collect()
        assert [r() for r in refs] == [None] * 3, "the finished task still holds its call"

    run(main)


def test_tasks_that_end_one_after_another_leave_no_chain_behind() -> None:
    """A task that ends normally hands the processor straight to the next runnable task
    (its greenlet's parent becomes that task's).  Ended tasks must not keep each other
    alive through those links: holding one finished Task keeps its own greenlet, not
    the greenlets of all the tasks that ended after it (a chain as long as the run,
    whose release would recurse once per task)."""
    n = 300
    refs: list[weakref.ref[Any]] = []

    def body(c: Channel[int]) -> None:
        c.recv()

    def main() -> None:
        c = Channel[int]()
        ts = [new_task(body, c) for _ in range(n)]
        yield_()  # every task runs and blocks in recv
        for i in range(n):
            c.send(i)  # each is woken; none runs yet
        refs.extend(weakref.ref(t._glet) for t in ts)
        yield_()  # they run one after another and end
        assert all(t.done for t in ts)
        first = ts[0]
        del ts
        alive = sum(r() is not None for r in refs)
        assert alive <= 3, f"{alive} greenlets of ended tasks are still alive"
        assert first.done

    run(main)
    assert [r for r in refs if r() is not None] == [], "run() left greenlets behind"


def test_calls_outside_a_task_raise() -> None:
    for fn in (curtask, curproc, yield_, lambda: new_task(print)):
        with pytest.raises(NotInTask):
            fn()
    with pytest.raises(TypeError):
        run(lambda: new_task(42))  # type: ignore[arg-type]


def test_run_inside_a_task_is_refused() -> None:
    with pytest.raises(RuntimeError, match="already a libtask9 proc"):
        run(lambda: run(lambda: None))


def test_kill_blocked_sender_withdraws_value() -> None:
    def main() -> None:
        c: Channel[int] = Channel()
        outcome: list[str] = []

        def sender() -> None:
            try:
                c.send(1)
                outcome.append("sent")
            except TaskKilled:
                outcome.append("killed")

        t = new_task(sender)
        yield_()
        assert t.state == "blocked"
        assert t.kill() is True
        assert c.snapshot()[1] == []  # withdrawn in the same step
        assert c.nbrecv() == (False, None)  # the value is not delivered
        yield_()
        assert outcome == ["killed"] and t.done and t.killed
        assert t.kill() is False

    run(main)


def test_kill_blocked_alt_withdraws_from_every_channel() -> None:
    def main() -> None:
        chans: list[Channel[int]] = [Channel() for _ in range(3)]
        t = new_task(alt, *[alt_recv(c) for c in chans])
        yield_()
        t.kill()
        assert all(c.snapshot()[2] == [] for c in chans)
        yield_()
        assert t.done

    run(main)


def test_kill_after_partner_completed_the_op_keeps_it() -> None:
    """9front: an interrupt never loses a committed message."""

    def main() -> None:
        c: Channel[int] = Channel()
        seen: list[Any] = []

        def receiver() -> None:
            seen.append(c.recv())  # completed by main before it runs again
            try:
                c.recv()  # next switch point: the kill lands here
            except TaskKilled:
                seen.append("killed")

        t = new_task(receiver)
        yield_()
        c.send(99)  # completes receiver's recv; receiver is runnable, not yet resumed
        t.kill()  # races the completed op: KillPending
        yield_()
        assert seen == [99, "killed"]

    run(main)


def test_kill_pending_lands_at_yield() -> None:
    def main() -> None:
        log: list[str] = []

        def victim() -> None:
            log.append("start")
            try:
                yield_()
            except TaskKilled:
                log.append("killed at yield")

        t = new_task(victim)
        yield_()
        t.kill()  # victim is runnable: KillPending
        yield_()
        assert t.done and log == ["start", "killed at yield"]

    run(main)


def test_kill_pending_lands_at_a_nonblocking_operation() -> None:
    def main() -> None:
        c: Channel[int] = Channel(1)
        curtask().kill()  # a task may kill itself; nothing happens until its next op
        with pytest.raises(TaskKilled):
            c.nbsend(1)
        assert len(c) == 0  # the operation was not performed
        assert c.nbsend(2)  # the kill was delivered once

    run(main)


def test_kill_before_first_run() -> None:
    def main() -> None:
        ran: list[int] = []
        t = new_task(ran.append, 1)
        t.kill()
        yield_()
        assert t.done and ran == []

    run(main)


def test_task_killed_is_not_an_exception_subclass() -> None:
    assert not issubclass(TaskKilled, Exception)


def test_spawned_task_exception_is_reported_and_others_continue() -> None:
    reported: list[tuple[Task, BaseException]] = []
    previous = set_excepthook(lambda t, e: reported.append((t, e)))
    try:
        def main() -> str:
            c: Channel[str] = Channel()

            def bad() -> None:
                raise ValueError("task failed")

            new_task(bad)
            new_task(c.send, "still running")
            return c.recv()

        assert run(main) == "still running"
    finally:
        set_excepthook(previous)
    assert len(reported) == 1
    assert isinstance(reported[0][1], ValueError)
    assert reported[0][0].name == "bad"


def test_default_excepthook_prints_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    def main() -> None:
        def bad() -> None:
            raise ValueError("visible")

        new_task(bad)
        yield_()

    run(main)
    err = capsys.readouterr().err
    assert "ValueError: visible" in err and "Traceback" in err


def test_main_exception_kills_other_tasks() -> None:
    unwound: list[str] = []

    def main() -> None:
        c: Channel[int] = Channel()

        def waiter() -> None:
            try:
                c.recv()
            finally:
                unwound.append("waiter")

        new_task(waiter)
        yield_()
        raise RuntimeError("main failed")

    with pytest.raises(RuntimeError, match="main failed"):
        run(main)
    assert unwound == ["waiter"]


def test_finally_may_close_after_kill() -> None:
    """A killed producer can still close its channel in ``finally`` (Go ``defer close``)."""

    def main() -> None:
        c: Channel[int] = Channel()

        def producer() -> None:
            try:
                c.send(1)
            finally:
                c.close()

        t = new_task(producer)
        yield_()
        t.kill()
        yield_()
        with pytest.raises(ChannelClosed):
            c.recv()

    run(main)


def test_version_and_all() -> None:
    for name in libtask9.__all__:
        assert hasattr(libtask9, name), name
