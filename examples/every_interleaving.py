"""Recipe: test every interleaving of a small concurrent program (stateless model checking).

Run it: ``python examples/every_interleaving.py``.

``libtask9.testing.Stepper`` makes the calling thread a proc whose scheduler is *you*:
``spawn`` creates tasks, ``runnable()`` lists the tasks that can run, ``step(task)``
runs one of them until its next switch point, and ``choose_case`` decides which ready
case an ``alt`` takes.  So a test can drive a program through one chosen schedule -- and,
re-running it from the start with every other choice at every step, through all of them.

The program: three tasks each add 1 to a shared counter.  ``unsafe`` reads the counter,
switches (``yield_``), then writes: some interleavings lose updates.  ``safe`` does the
same while holding a lock made of a 1-slot channel (send = acquire, recv = release): no
interleaving loses one.  The explorer below tries every schedule of each (depth-first,
re-running the program for each branch) and reports how many there are and how many
break the property "the counter ends at 3".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from libtask9 import Channel, yield_
from libtask9.testing import Stepper

Program = Callable[[Stepper, dict[str, Any]], None]


def unsafe(st: Stepper, shared: dict[str, Any]) -> None:
    shared["counter"] = 0

    def add() -> None:
        x = shared["counter"]
        yield_()  # another task may run here
        shared["counter"] = x + 1

    for _ in range(3):
        st.spawn(add)


def safe(st: Stepper, shared: dict[str, Any]) -> None:
    shared["counter"] = 0
    lock: Channel[None] = Channel(1)

    def add() -> None:
        lock.send(None)  # acquire: blocks while another task holds the lock
        x = shared["counter"]
        yield_()
        shared["counter"] = x + 1
        lock.recv()  # release

    for _ in range(3):
        st.spawn(add)


def run_schedule(program: Program, prefix: list[int]) -> tuple[int, list[int], list[int]]:
    """Run ``program`` taking choice ``prefix[k]`` (an index into the runnable tasks, in
    FIFO order) at step k and the first runnable task after the prefix.  Returns the
    final counter, the choices made, and how many tasks were runnable at each step."""
    shared: dict[str, Any] = {}
    choices: list[int] = []
    widths: list[int] = []
    with Stepper(seed=0) as st:
        program(st, shared)
        while True:
            ready = st.runnable()
            if not ready:
                break
            k = prefix[len(choices)] if len(choices) < len(prefix) else 0
            choices.append(k)
            widths.append(len(ready))
            st.step(ready[k])
    return shared["counter"], choices, widths


def explore(program: Program) -> tuple[int, int]:
    """Every schedule of ``program``: (schedules, schedules where counter != 3)."""
    schedules = bad = 0
    stack: list[list[int]] = [[]]
    while stack:
        prefix = stack.pop()
        counter, choices, widths = run_schedule(program, prefix)
        schedules += 1
        bad += counter != 3
        # Branch on every alternative after the prefix (depth-first, each exactly once).
        for depth in range(len(prefix), len(choices)):
            for alt in range(1, widths[depth]):
                stack.append([*choices[:depth], alt])
    return schedules, bad


def main() -> None:
    for name, program in (("unsafe", unsafe), ("safe", safe)):
        schedules, bad = explore(program)
        print(f"{name}: {schedules} schedules, {bad} lose an update")


if __name__ == "__main__":
    main()
