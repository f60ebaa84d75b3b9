"""Seeing concurrent programs: stacks in Deadlock, dump_tasks (issue 12)."""

from __future__ import annotations

import inspect
import io
import os
import signal
import sys
import threading

import pytest

from libtask9 import (
    BlockedTask,
    Channel,
    Deadlock,
    IOProc,
    dump_tasks,
    enable_dump_on_signal,
    new_proc,
    new_task,
    run,
    sleep,
)

HERE = os.path.abspath(__file__)


def _line_of(marker: str) -> int:
    """The line of this file that contains ``marker`` (a comment on a blocking call)."""
    lines = inspect.getsource(sys.modules[__name__]).splitlines()
    return next(i + 1 for i, line in enumerate(lines) if marker in line and "_line_of" not in line)


def waiter(c: Channel[int]) -> None:
    c.recv()  # BLOCK-waiter


def nested_outer(c: Channel[int]) -> None:
    nested_inner(c)  # CALL-inner


def nested_inner(c: Channel[int]) -> None:
    c.send(1)  # BLOCK-inner


def test_deadlock_entries_carry_the_stack_innermost_user_frame_first() -> None:
    def main() -> None:
        c: Channel[int] = Channel()
        new_task(waiter, c)
        new_proc(nested_outer, Channel[int]())
        Channel[int]().recv()  # BLOCK-main

    with pytest.raises(Deadlock) as ei:
        run(main)
    entries = {b.task.name: b for b in ei.value.blocked}
    assert all(isinstance(b, BlockedTask) for b in ei.value.blocked)
    assert entries["waiter"].where == f"{HERE}:{_line_of('BLOCK-waiter')} in waiter"
    assert entries["main"].where == f"{HERE}:{_line_of('BLOCK-main')} in main"
    inner = entries["nested_outer"]
    assert [(f.lineno, f.name) for f in inner.stack] == [
        (_line_of("BLOCK-inner"), "nested_inner"), (_line_of("CALL-inner"), "nested_outer")]
    assert not any("libtask9" in f.filename and "/_" in f.filename for f in inner.stack)
    _, what = inner  # still a (task, what) pair
    assert what.startswith("blocked in send on <Channel")
    text = str(ei.value)
    assert f"at {HERE}:{_line_of('BLOCK-waiter')} in waiter" in text


def test_dump_tasks_shows_every_run_proc_task_state_and_stack() -> None:
    out = io.StringIO()

    def main() -> None:
        c: Channel[int] = Channel()
        new_task(waiter, c)
        p = new_proc(sleep, 20)
        sleep(5)
        with IOProc("dumper") as io_:
            io_.iocall(dump_tasks, out)  # from another thread, while tasks run
        c.send(1)
        p.join()

    run(main)
    text = out.getvalue()
    assert text.startswith("libtask9: 1 run(s)\n")
    assert "run " in text and "iocalls in flight" in text
    assert "task " in text and "'waiter': blocked in recv on <Channel" in text
    assert f'File "{HERE}", line {_line_of("BLOCK-waiter")}, in waiter' in text
    assert "c.recv()  # BLOCK-waiter" in text  # the source line, read after the snapshot
    assert "'sleep': blocked in sleep" in text
    assert "'main': blocked in recv on <Channel" in text  # main waits for the iocall
    assert "without the channel lock" not in text


def test_dump_tasks_never_deadlocks_when_the_lock_is_held() -> None:
    from libtask9._world import chanlock

    out = io.StringIO()
    with chanlock:  # as a tracer or an interrupted critical section would
        dump_tasks(out)
    assert "without the channel lock" in out.getvalue()


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX only")
@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signal handlers are set in the main thread")
def test_enable_dump_on_signal() -> None:
    out = io.StringIO()
    previous = signal.getsignal(signal.SIGUSR1)
    enable_dump_on_signal(signal.SIGUSR1, out)
    try:
        def main() -> None:
            new_task(waiter, Channel[int]())
            sleep(1)
            signal.raise_signal(signal.SIGUSR1)
            sleep(1)
            raise SystemExit(0)

        with pytest.raises(SystemExit):
            run(main)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert f'line {_line_of("BLOCK-waiter")}, in waiter' in out.getvalue()
