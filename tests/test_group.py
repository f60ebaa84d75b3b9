"""Structured concurrency: Task.join, TaskGroup (issue 11)."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest

import libtask9
from libtask9 import (
    Channel,
    Deadlock,
    TaskGroup,
    TaskKilled,
    WrongProc,
    _sched,
    curtask,
    new_proc,
    new_task,
    run,
    sleep,
    yield_,
)

if sys.version_info >= (3, 11):
    from builtins import ExceptionGroup
else:  # pragma: no cover
    from exceptiongroup import ExceptionGroup


# -- Task.join -------------------------------------------------------------------------


def test_task_join_from_a_task_waits_and_returns_true() -> None:
    def main() -> tuple[bool, int]:
        t = new_task(lambda: (sleep(5), 42)[1])
        ok = t.join()
        return ok, t.result()

    assert run(main) == (True, 42)


def test_task_join_timeout_from_a_task_is_in_seconds() -> None:
    def main() -> tuple[bool, float, bool]:
        gate: Channel[None] = Channel()
        t = new_task(gate.recv)
        t0 = time.monotonic()
        early = t.join(timeout=0.05)
        waited = time.monotonic() - t0
        gate.send(None)
        return early, waited, t.join(timeout=5)

    early, waited, late = run(main)
    assert early is False and waited >= 0.05 - 1e-3 and late is True


def test_task_join_itself_is_refused_and_from_a_plain_thread_works() -> None:
    box: dict[str, Any] = {}

    def main() -> None:
        with pytest.raises(WrongProc):
            curtask().join()
        gate: Channel[None] = Channel()
        t = new_task(gate.recv)
        box["t"] = t
        th = threading.Thread(target=lambda: box.setdefault("joined", t.join(10)))
        th.start()
        box["early"] = t.join(0)
        gate.send(None)
        assert t.join()
        libtask9.IOProc("w").start().iocall(th.join, 10)

    run(main)
    assert box["early"] is False and box["joined"] is True


def test_task_result_of_a_killed_task_raises_task_killed() -> None:
    def main() -> None:
        t = new_task(Channel[int]().recv)
        yield_()
        t.kill()
        assert t.join()
        with pytest.raises(TaskKilled):
            t.result()

    run(main)


def test_a_task_killed_while_joining_is_withdrawn() -> None:
    def main() -> None:
        gate: Channel[None] = Channel()
        target = new_task(gate.recv)
        joiner = new_task(target.join)
        yield_()
        assert joiner.state == "blocked"
        assert joiner.kill()
        yield_()
        assert joiner.done and isinstance(joiner._exc, TaskKilled)
        gate.send(None)
        assert target.join()
        assert target._joiners == []

    run(main)


# A task with no owner and no joiner ends without chanlock (J1 in _sched.Proc._task_main).
# These two tests make its end fall exactly between a joiner's first look at the task and
# its registration (the hook runs there, in the joiner's critical section, and lets the
# target end); the joiner must then find it done on its second look, not wait for a
# wake-up that the lock-free exit will never send.


def _end_target_inside_the_joiners_critical_section(go: threading.Event,
                                                    box: dict[str, Any]) -> None:
    go.set()  # the target task (blocked in go.wait, holding no lock) returns
    deadline = time.monotonic() + 10
    while box["target"].state != "done":  # it ends without chanlock, which we hold
        assert time.monotonic() < deadline, "the target never ended"
        time.sleep(0.001)


def test_plain_thread_join_racing_a_lock_free_task_exit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    go = threading.Event()
    box: dict[str, Any] = {}
    real_event = threading.Event

    def event_then_end_target() -> threading.Event:
        # join_task makes the joiner's Event between its two looks at the target
        if box.get("racing"):
            box["racing"] = False
            _end_target_inside_the_joiners_critical_section(go, box)
        return real_event()

    def joiner() -> None:
        box["racing"] = True
        monkeypatch.setattr(threading, "Event", event_then_end_target)
        box["joined"] = box["target"].join(5)

    def main() -> None:
        box["target"] = new_task(go.wait, 10)
        th = threading.Thread(target=joiner)
        th.start()
        yield_()  # the target runs: it waits for go, then returns without the lock
        th.join(20)

    run(main)
    assert box["joined"] is True, "the joiner missed the end of the task"


@pytest.mark.skipif(libtask9.COMPILED, reason="patches _sched.JoinWait, a class the "
                    "compiled core binds statically")
def test_task_join_racing_a_lock_free_task_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    go = threading.Event()
    box: dict[str, Any] = {}

    class EndTargetFirst(_sched.JoinWait):
        # join_wait makes the JoinWait between its two looks at the target
        def __init__(self, *args: Any) -> None:
            if box.get("racing"):
                box["racing"] = False
                _end_target_inside_the_joiners_critical_section(go, box)
            super().__init__(*args)

    monkeypatch.setattr(_sched, "JoinWait", EndTargetFirst)

    def target_proc() -> None:
        box["target"] = new_task(go.wait, 10)  # the proc's second task: no owner
        box["ready"].send(None)

    def main() -> bool:
        box["ready"] = Channel[None]()
        new_proc(target_proc)
        box["ready"].recv()
        box["racing"] = True
        return box["target"].join(5)

    assert run(main) is True, "the joiner missed the end of the task"


# -- TaskGroup -----------------------------------------------------------------------------


def test_group_waits_for_every_member() -> None:
    def main() -> list[int]:
        out: list[int] = []
        with TaskGroup() as g:
            for i in range(5):
                g.new_task(lambda i=i: (sleep(5 - i), out.append(i)))
        assert len(out) == 5
        return sorted(out)

    assert run(main) == [0, 1, 2, 3, 4]


def test_a_failing_member_kills_the_others_and_raises_an_exception_group() -> None:
    unwound: list[str] = []
    hooked: list[BaseException] = []
    previous = libtask9.set_excepthook(lambda t, e: hooked.append(e))

    def blocked() -> None:
        try:
            Channel[int]().recv()
        finally:
            unwound.append("blocked")

    def failing() -> None:
        sleep(1)
        raise ValueError("member failed")

    def main() -> None:
        with TaskGroup() as g:
            g.new_task(blocked)
            g.new_task(failing)
            g.new_task(blocked)

    try:
        with pytest.raises(ExceptionGroup) as ei:
            run(main)
    finally:
        libtask9.set_excepthook(previous)
    assert [type(e) for e in ei.value.exceptions] == [ValueError]
    assert unwound == ["blocked", "blocked"]
    assert hooked == []  # members' exceptions go to the group, not to the excepthook


def test_a_member_failing_while_others_send_across_procs_loses_nothing() -> None:
    """Members blocked in cross-proc sends are withdrawn when a sibling fails: every value
    that was sent was received exactly once, and everyone is unwound."""
    received: list[int] = []
    sent: list[int] = []
    unwound: list[str] = []

    def main() -> None:
        c: Channel[int] = Channel()
        stop: Channel[None] = Channel()

        def consumer() -> None:
            # Another proc receives a few values, then stops receiving for ever.
            for _ in range(6):
                received.append(c.recv())
            stop.recv()

        cons = new_proc(consumer)

        def producer(k: int) -> None:
            try:
                for i in range(100):
                    c.send(k * 1000 + i)
                    sent.append(k * 1000 + i)
            finally:
                unwound.append(f"producer{k}")

        def failing() -> None:
            sleep(20)  # by then the producers are blocked: the consumer stopped
            raise RuntimeError("boom")

        with pytest.raises(ExceptionGroup) as ei, TaskGroup() as g:
            for k in range(3):
                g.new_task(producer, k)
            g.new_task(failing)
        assert [str(e) for e in ei.value.exceptions] == ["boom"]
        assert not cons.finished  # (the consumer proc is unwound when the run ends)

    run(main)
    assert sorted(unwound) == ["producer0", "producer1", "producer2"]
    assert sorted(received) == sorted(sent) and len(received) == 6


def test_an_exception_in_the_body_kills_the_members_and_is_raised_with_theirs() -> None:
    def main() -> None:
        with TaskGroup() as g:
            g.new_task(Channel[int]().recv)
            g.new_task(lambda: (_ for _ in ()).throw(KeyError("member")))
            yield_()
            raise ValueError("body")

    with pytest.raises(ExceptionGroup) as ei:
        run(main)
    assert [type(e) for e in ei.value.exceptions] == [ValueError, KeyError]


def test_cancel_kills_every_member_and_the_group_ends_cleanly() -> None:
    def main() -> list[bool]:
        with TaskGroup() as g:
            ts = [g.new_task(Channel[int]().recv) for _ in range(3)]
            q = g.new_proc(Channel[int]().recv)
            yield_()
            g.cancel()
            late = g.new_task(sleep, 1000)  # a member added after cancel starts killed
        assert q.finished
        return [t.killed or isinstance(t._exc, TaskKilled) for t in [*ts, late]]

    assert run(main) == [True, True, True, True]


def test_a_group_with_procs_waits_for_them() -> None:
    def main() -> list[str]:
        out: list[str] = []
        with TaskGroup() as g:
            for i in range(3):
                g.new_proc(lambda i=i: (time.sleep(0.01), out.append(f"p{i}")))
        return sorted(out)

    assert run(main) == ["p0", "p1", "p2"]


def test_a_failing_proc_member_is_reported_by_the_group() -> None:
    hooked: list[BaseException] = []
    previous = libtask9.set_excepthook(lambda t, e: hooked.append(e))

    def main() -> None:
        with TaskGroup() as g:
            g.new_proc(lambda: (_ for _ in ()).throw(OSError("in proc")))
            g.new_task(Channel[int]().recv)

    try:
        with pytest.raises(ExceptionGroup) as ei:
            run(main)
    finally:
        libtask9.set_excepthook(previous)
    assert [type(e) for e in ei.value.exceptions] == [OSError] and hooked == []


def test_nested_groups() -> None:
    def main() -> list[str]:
        out: list[str] = []
        with TaskGroup() as outer:
            def inner_work() -> None:
                with TaskGroup() as inner:
                    inner.new_task(lambda: out.append("a"))
                    inner.new_task(lambda: out.append("b"))
                out.append("inner done")

            outer.new_task(inner_work)
            outer.new_task(lambda: out.append("c"))
        return out

    out = run(main)
    assert sorted(out) == ["a", "b", "c", "inner done"]
    assert out.index("inner done") > max(out.index("a"), out.index("b"))


def test_a_nested_group_failure_propagates_as_a_nested_exception_group() -> None:
    def main() -> None:
        with TaskGroup() as outer:
            def inner_work() -> None:
                with TaskGroup() as inner:
                    inner.new_task(lambda: (_ for _ in ()).throw(ValueError("deep")))

            outer.new_task(inner_work)

    with pytest.raises(ExceptionGroup) as ei:
        run(main)
    (inner,) = ei.value.exceptions
    assert isinstance(inner, ExceptionGroup)
    assert [str(e) for e in inner.exceptions] == ["deep"]


def test_the_waiting_task_killed_kills_the_members_and_goes_on_being_killed() -> None:
    unwound: list[str] = []

    def main() -> None:
        def parent() -> None:
            with TaskGroup() as g:
                def member() -> None:
                    try:
                        Channel[int]().recv()
                    finally:
                        unwound.append("member")

                g.new_task(member)
            unwound.append("not reached")

        p = new_task(parent)
        yield_()
        yield_()
        p.kill()
        assert p.join()
        assert isinstance(p._exc, TaskKilled)

    run(main)
    assert unwound == ["member"]


def test_a_deadlock_while_a_group_waits_names_the_members() -> None:
    def main() -> None:
        with TaskGroup() as g:
            g.new_task(Channel[int]().recv)
            g.new_task(Channel[int]().send, 1)

    with pytest.raises(Deadlock) as ei:
        run(main)
    (_, w0), (recv, w1), (_, w2) = ei.value.blocked
    assert w0 == f"blocked in join(TaskGroup member task {recv.id} 'recv')"
    assert w1.startswith("blocked in recv on <Channel ")
    assert w2.startswith("blocked in send on <Channel ")
    assert f"join(TaskGroup member task {recv.id} 'recv')" in str(ei.value)


def test_members_cannot_be_added_outside_the_block() -> None:
    def main() -> None:
        g = TaskGroup()
        with pytest.raises(RuntimeError, match="inside its `with` block"):
            g.new_task(yield_)
        with g:
            pass
        with pytest.raises(RuntimeError, match="closed"):
            g.new_task(yield_)

    run(main)


def test_leaving_a_group_of_an_ending_run_raises_the_owners_kill() -> None:
    """When the run ends, a group waits only for its members in its own proc (the others
    are unwound by their procs, and run() waits for those).  The owner, killed with the
    run while runnable with a completed receive, left the block normally with a member
    proc still unwinding, as if every member had finished (found by the lifecycle
    stress: "members had not finished when the block ended")."""
    seen: list[str] = []
    release: Channel[None] = Channel()

    def member() -> None:
        release.recv()  # in its own proc: unwound by it when the run ends

    def fatal(c: Channel[int]) -> None:
        c.send(1)  # the owner's receive completes ...
        raise SystemExit(3)  # ... and the run ends: the owner gets a pending kill

    def main() -> None:
        c: Channel[int] = Channel()
        try:
            with TaskGroup() as g:
                g.new_proc(member)
                new_task(fatal, c)
                c.recv()  # completed by fatal: the kill that follows is only pending
            seen.append("left the block normally")
        except TaskKilled:
            seen.append("TaskKilled")
            raise

    with pytest.raises(SystemExit):
        run(main)
    assert seen == ["TaskKilled"]
