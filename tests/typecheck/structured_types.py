"""Typed uses of TaskGroup, Task.join, timeout and move_on_after (checked by mypy)."""

from __future__ import annotations

from libtask9 import Channel, Proc, Task, TaskGroup, Timeout, move_on_after, run, timeout


def work(c: Channel[int], n: int) -> int:
    c.send(n)
    return n


def main() -> int:
    c: Channel[int] = Channel(4)
    with TaskGroup() as g:
        t: Task = g.new_task(work, c, 1)
        p: Proc = g.new_proc(work, c, 2)
    ok: bool = t.join(timeout=1.5)
    done: bool = p.join(0.5)
    try:
        with timeout(100):
            c.recv()
    except Timeout as e:
        msg: str = str(e)
        del msg
    with move_on_after(50) as scope:
        c.recv()
    expired: bool = scope.expired
    bad: str = t.join()  # E: the result of join is a bool
    g.new_task(work, c)  # (mypy does not check *args against work's signature)
    return int(ok and done and expired) + len(bad)


print(run(main))
