"""Run one stress program on the real runtime, with tracing on, under a watchdog.

Proc 0 is the thread calling :class:`libtask9.Runner` (a helper thread here, so that the
watchdog can give up on it); its first task creates the other procs with
:func:`libtask9.new_proc`, and each proc's first task spawns that proc's program tasks and
returns.  The tracer is installed *before* the channels are created, so every channel is
announced with ``ChanCreate``.

Each task records what it observed, step by step (:class:`Outcome` ``obs``), in the same
normalized form that :mod:`stress.checks` derives from the trace:

* ``["ok", index, value]``  an operation completed (``index`` -1 for ``close``);
* ``["closed", index]``     ``ChannelClosed`` with that ``.index`` (-1 for ``close``);
* ``["none"]``              a non-blocking operation found nothing ready;
* ``["killed"]``            ``TaskKilled`` (the task stops there);
* ``["kill", r]``           ``Task.kill()`` returned ``r`` (``"absent"``: not spawned yet).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import traceback
from typing import Any

import libtask9
from libtask9 import (
    Channel,
    ChannelClosed,
    Deadlock,
    Proc,
    Runner,
    Task,
    TaskKilled,
    TraceRecorder,
    alt,
    alt_recv,
    alt_send,
    new_proc,
    new_task,
    set_excepthook,
    set_tracer,
    sleep,
    yield_,
)
from libtask9._trace import LIFECYCLE_ACTIONS

from .program import Program, send_value

__all__ = ["Outcome", "execute", "world_is_idle"]

Result = list[Any]


@dataclasses.dataclass
class Outcome:
    """Everything one run of a program produced (all fields are JSON values)."""

    events: list[dict[str, Any]]
    obs: list[list[dict[str, Any]]]  # per task: {"step": s, "res": Result}
    started: list[bool]
    ended: list[str | None]  # "done" | "killed" | "error" | None (never finished)
    task_ids: list[int | None]  # runtime task id of each program task
    chan_ids: list[int]
    deadlock: list[int] | None  # runtime ids of the tasks Deadlock lists as blocked
    errors: list[str]
    hang: bool
    buffers: list[list[Any]]  # each channel's buffer at the end
    seconds: float
    traced: bool = True  # False: run without a tracer (the runtime's fast paths)
    held: bool = False  # run with hold_procs
    hang_info: str = ""  # the procs' scheduler state when the watchdog fired

    def to_json(self) -> dict[str, Any]:
        """All fields but ``events`` (stored separately as the trace)."""
        d = dataclasses.asdict(self)
        del d["events"]
        return d


class _Run:
    """The shared state of one execution (written by the tasks of every proc)."""

    def __init__(self, prog: Program, hold: Channel[Any] | None) -> None:
        n = len(prog.tasks)
        self.prog = prog
        self.hold = hold
        self.holders: list[Task] = []
        self.obs: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        self.started = [False] * n
        self.ended: list[str | None] = [None] * n
        self.tasks: list[Task | None] = [None] * n
        self.procs: list[Proc] = []
        self.errors: list[str] = []
        self.chans: list[Channel[Any]] = []
        self.lock = threading.Lock()
        self.deadlock: Deadlock | None = None

    # -- the program's tasks ------------------------------------------------------------

    def proc_main(self, p: int) -> None:
        """The first task of proc ``p``: spawn its program tasks (proc 0 also the procs)."""
        for g in self.prog.procs[p]:
            self.tasks[g] = new_task(self.task_main, g)
        if p == 0:
            for q in range(1, len(self.prog.procs)):
                self.procs.append(new_proc(self.proc_main, q))
        if p == 0 and self.hold is None:
            # The run ends (and kills what still runs) when proc 0 has no task left:
            # proc 0's first task waits for the other procs, as a program should.
            with self.lock:
                self.holders.append(libtask9.curtask())
            for other in self.procs:
                other.join()
        if self.hold is not None:  # keep this proc registered until every proc is idle
            with self.lock:
                self.holders.append(libtask9.curtask())
            with contextlib.suppress(TaskKilled):  # Deadlock's teardown ends the hold
                self.hold.recv()

    def task_main(self, g: int) -> None:
        """Run task ``g``'s steps, recording each observed result."""
        self.started[g] = True
        s = -1
        try:
            for s, step in enumerate(self.prog.tasks[g]):
                res = self.perform(g, s, step)
                if res is not None:
                    self.obs[g].append({"step": s, "res": res})
        except TaskKilled:
            self.obs[g].append({"step": s, "res": ["killed"]})
            self.ended[g] = "killed"
            return
        except Exception:
            with self.lock:
                self.errors.append(f"task t{g} step {s}: {traceback.format_exc()}")
            self.ended[g] = "error"
            return
        self.ended[g] = "done"

    def perform(self, g: int, s: int, step: list[Any]) -> Result | None:
        """Execute one step; return its normalized result (None: nothing to record)."""
        name = step[0]
        try:
            if name == "yield":
                yield_()
                return None
            if name == "sleep0":
                sleep(0)
                return None
            if name == "kill":
                victim = self.tasks[step[1]]
                return ["kill", "absent" if victim is None else victim.kill()]
            if name == "alt":
                return self._alt(g, s, step[1], step[2])
            return self._op1(g, s, name, self.chans[step[1]])
        except ChannelClosed as e:
            return ["closed", e.index]

    def _op1(self, g: int, s: int, name: str, ch: Channel[Any]) -> Result:
        if name == "send":
            ch.send(send_value(g, s, 0))
            return ["ok", 0, None]
        if name == "recv":
            return ["ok", 0, ch.recv()]
        if name == "nbsend":
            return ["ok", 0, None] if ch.nbsend(send_value(g, s, 0)) else ["none"]
        if name == "nbrecv":
            ok, v = ch.nbrecv()
            return ["ok", 0, v] if ok else ["none"]
        if name == "close":
            ch.close()
            return ["ok", -1, None]
        raise ValueError(f"unknown step {name!r}")

    def _alt(self, g: int, s: int, cases: list[list[Any]], block: bool) -> Result:
        ops = []
        for i, (d, c) in enumerate(cases):
            ch = None if c is None else self.chans[c]
            ops.append(alt_send(ch, send_value(g, s, i)) if d == "send" else alt_recv(ch))
        i, v = alt(*ops, canblock=block)
        return ["none"] if i < 0 else ["ok", i, v]

    # -- running ------------------------------------------------------------------------

    def drive(self, seed: int) -> None:
        """Body of the proc-0 thread: run proc 0, keep a Deadlock, report other errors."""
        try:
            Runner(seed=seed, name="stress0").run(self.proc_main, 0)
        except Deadlock as e:
            self.deadlock = e
        except BaseException:
            with self.lock:
                self.errors.append(f"proc 0: {traceback.format_exc()}")

    def excepthook(self, task: Task, exc: BaseException) -> None:
        with self.lock:
            self.errors.append(f"excepthook {task!r}: {exc!r}")


def world_is_idle() -> bool:
    """True if no earlier run is still live (a hang leaves one)."""
    return not libtask9._world.live_worlds()


def execute(prog: Program, seed: int, timeout: float = 10.0, traced: bool = True,
            hold_procs: bool = False) -> Outcome:
    """Run ``prog`` once with ``Runner(seed=seed)``; give up after ``timeout`` seconds.

    ``traced=False`` runs without a tracer: the runtime then takes its inline send/recv
    fast paths, which tracing turns off, and only the observation checks apply.

    ``hold_procs`` keeps each proc's first task blocked on an untraced channel, so that no
    proc exits while others are idle: a workaround for runtimes before cfe121b, which did
    not re-check for a deadlock when a proc exited (stress/README.md, "Findings").  Every
    program then ends in ``Deadlock``; the holders are left out of ``Outcome.deadlock``,
    which is None when no program task was blocked.

    After a hang (``Outcome.hang``) the stuck procs are still registered and the process
    should not run further programs (``world_is_idle`` tells)."""
    hold: Channel[Any] | None = Channel(0, name="hold") if hold_procs else None  # untraced
    run = _Run(prog, hold)
    rec = TraceRecorder()
    previous_hook = set_excepthook(run.excepthook)
    if traced:
        set_tracer(rec)  # before the channels exist: each gets its ChanCreate event
    t0 = time.monotonic()
    try:
        run.chans = [Channel(c, name=f"c{i}") for i, c in enumerate(prog.caps)]
        driver = threading.Thread(target=run.drive, args=(seed,), name="stress-proc0",
                                  daemon=True)
        driver.start()
        hang = not _join_all(run, driver, t0 + timeout)
    finally:
        set_tracer(None)
        set_excepthook(previous_hook)
    seconds = time.monotonic() - t0
    out = _outcome(run, rec.events, hang, seconds)
    if hang:
        out.hang_info = _proc_states(run)
    out.traced = traced
    out.held = hold_procs
    return out


def _join_all(run: _Run, driver: threading.Thread, deadline: float) -> bool:
    """Wait for proc 0 and every proc it created; False on timeout (a hang)."""
    driver.join(max(0.0, deadline - time.monotonic()))
    if driver.is_alive():
        return False
    for p in list(run.procs):
        if not p.join(max(0.0, deadline - time.monotonic())):
            return False
        if isinstance(p.exception, Deadlock):
            run.deadlock = run.deadlock or p.exception
        elif p.exception is not None:
            run.errors.append(f"proc {p.id}: {p.exception!r}")
    return True


def _proc_states(run: _Run) -> str:
    """What each registered proc is doing (taken under chanlock if it can be had)."""
    world = libtask9._world
    locked = world.chanlock.acquire(timeout=1.0)
    try:
        lines = []
        for w in world.live_worlds_locked():
            lines.append(f"run {w.id} ({w.phase}): {len(w.procs)} procs registered, "
                         f"{w.nidle} idle, {w.ntimers} timers, {w.iocalls} iocalls, "
                         f"deadlock={'declared' if w.deadlock else 'no'}"
                         + ("" if locked else " (chanlock is held by someone: read unlocked)"))
            for p in sorted(w.procs, key=lambda q: q.id):
                tasks = ", ".join(f"{t.id}:{t.state}"
                                  for t in sorted(p._tasks, key=lambda u: u.id))
                lines.append(f"  proc {p.id} {p.name!r}: idle={p._idle} runq={len(p.runq)} "
                             f"remote={len(p._remote)} current={p.current!r} tasks [{tasks}]")
        return "\n".join(lines)
    finally:
        if locked:
            world.chanlock.release()


def _outcome(run: _Run, events: list[dict[str, Any]], hang: bool, seconds: float) -> Outcome:
    deadlock = None
    if run.deadlock is not None:
        holders = {t.id for t in run.holders}
        deadlock = sorted(t.id for t, _ in run.deadlock.blocked if t.id not in holders)
        if not deadlock and run.hold is not None:
            deadlock = None
    buffers = [ch.snapshot()[0] for ch in run.chans] if not hang else [
        list(ch._buf) for ch in run.chans
    ]
    return Outcome(
        events=[ev for ev in events if ev["action"] not in LIFECYCLE_ACTIONS],
        obs=[list(o) for o in run.obs],
        started=list(run.started),
        ended=list(run.ended),
        task_ids=[None if t is None else t.id for t in run.tasks],
        chan_ids=[ch.id for ch in run.chans],
        deadlock=deadlock,
        errors=list(run.errors),
        hang=hang,
        buffers=[list(b) for b in buffers],
        seconds=seconds,
    )
