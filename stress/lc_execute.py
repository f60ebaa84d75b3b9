"""Run lifecycle programs on the real runtime: alone or several at once on plain threads,
under a watchdog, or (interrupt programs) in the process's main thread.

The main task (program task 0) sets the run up before its script, without blocking:
it creates the channels, the run's IOProc (if a script uses one), spawns the main
proc's other tasks and starts the extra procs with ``new_proc(bootstrap, q)``.  Proc
q's first task, ``bootstrap``, spawns q's program tasks and closes ``ready[q]``; a
task that needs the ``Task`` object of another proc's task (to join or kill it) first
waits for that close (a wait on a task that never blocks).  Main closes ``setup`` once
every proc exists; a task that needs a ``Proc`` object waits for that.

Each program task records, in JSON form, what each step returned (``res[g][s]``),
whether it started, reached its final block, and ran its ``finally``, and how it ended
(``"done"``, ``"TaskKilled"``, ``"KeyboardInterrupt"``, ``"failed"`` (the planted
failure of a group member), ``"error"``).  Every channel operation that completes is
also recorded at once, before the task's next switch point (``obs``: who, ``sent`` or
``recv``, the channel's key, the value), and so is every timeout interruption a task
catches (``tmo``): a kill landing later cannot hide them.  After the run, the runtime's
own view is added (each task's state and exception), every channel's id and what is left
in it (``chans``), ``run()``'s outcome (its result, or the exception and for
``Deadlock`` the ids it lists), whether the run left anything behind (its procs'
threads, its IOProc's thread, its world), with a virtual clock its reading at the end,
and the run's trace events (the events whose ``run`` is the run's world id).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import libtask9
from libtask9 import (
    Channel,
    ChannelClosed,
    Deadlock,
    IOProc,
    Proc,
    Runner,
    Task,
    TaskGroup,
    Ticker,
    Timeout,
    TraceRecorder,
    VirtualClock,
    after,
    alt,
    alt_recv,
    curproc,
    curtask,
    move_on_after,
    new_proc,
    new_task,
    set_excepthook,
    set_tracer,
    sleep,
    yield_,
)
from libtask9 import timeout as timeout_scope

from .lc_program import MAIN_RESULT, PLANTED, LcProgram, timeout_value

if sys.version_info >= (3, 11):
    from builtins import ExceptionGroup
else:  # pragma: no cover - the backport on 3.10
    from exceptiongroup import ExceptionGroup

__all__ = [
    "KNOWN_ABANDONED_OWNER",
    "KNOWN_BUGS",
    "KNOWN_ESCAPED_INTERRUPT",
    "KNOWN_LATE_THREAD",
    "KNOWN_LOST_INTERRUPT",
    "KNOWN_MISSED_MEMBER",
    "KNOWN_SWALLOWED_INTERRUPT",
    "OPEN_BUGS",
    "LcOutcome",
    "LcRun",
    "PlantedFailure",
    "execute_batch",
    "execute_in_main_thread",
    "execute_lc",
    "join_stragglers",
    "leftover_threads",
]


#: A runtime bug this stress found (stress/README.md, "Findings"; the strict-xfail test
#: tests/test_stress_lifecycle.py::test_run_returns_only_after_every_proc_thread_ended):
#: Runner._end joins only the threads of procs still registered, so a proc that has
#: exited (ProcExit, deregistered) but whose thread has not finished yet is not waited
#: for, and run() can return while that thread is still alive (~1 run in 150 here).
#: Such threads are recorded in LcOutcome.late_threads and joined; the check
#: ``leftovers`` fails on them only with ``strict``.
KNOWN_LATE_THREAD = ("a proc's thread outlived run(): the proc had exited (ProcExit) but "
                     "Runner._end does not join the threads of deregistered procs")

#: The second (tests/test_stress_lifecycle.py::
#: test_an_interrupt_deferred_during_the_last_task_exit_is_not_lost): a SIGINT whose
#: handler runs inside runtime code is deferred (``Parker.interrupt``) to the scheduler's
#: next step; when that code is the main proc's last task exiting (or the run's final
#: unwinding), the loop ends without another step and run() returns (or raises) as if
#: nothing happened.  Recognised by the interrupt still pending on the main proc's
#: parker after run() (LcOutcome.lost_interrupt); ``outcome`` fails on it only with
#: ``strict``.
KNOWN_LOST_INTERRUPT = ("the KeyboardInterrupt was deferred inside runtime code and never "
                        "acted on: the main proc's scheduler loop ended first")

#: The third (tests/test_stress_lifecycle.py::
#: test_an_interrupt_at_the_start_of_a_task_still_unwinds_the_run): a SIGINT whose
#: handler runs in a task's bottom frame (``Proc._task_main``) outside its ``try`` --
#: as the task starts, or in its ``finally`` before ``_task_exit`` -- is raised there
#: (``_in_runtime`` treats that frame as task code), escapes the task and the scheduler
#: loop, and the main proc exits without unwinding its tasks: their ``finally`` blocks
#: never run, they stay blocked or runnable, and the interrupted task stays "running".
#: Recognised by a main-proc task still "running" after run() raised KeyboardInterrupt;
#: ``unwound`` and ``trace`` then skip the main proc's tasks unless ``strict``.
KNOWN_ESCAPED_INTERRUPT = ("the KeyboardInterrupt was raised in a task's bottom frame "
                           "outside its try, escaped the scheduler loop, and the main proc "
                           "exited without unwinding its tasks")

#: The fourth (tests/test_stress_lifecycle.py::
#: test_an_interrupt_landing_in_a_finalizer_is_not_lost): a SIGINT whose handler runs in
#: a finalizer called from task code -- here the weakref callback with which
#: ``threading``'s ``WeakSet`` forgets a collected ``Thread`` (an earlier run's proc) --
#: is raised there (not runtime code), and CPython reports it as "Exception ignored" and
#: drops it: run() never sees it.  Recognised by the KeyboardInterrupt arriving at
#: ``sys.unraisablehook`` (LcOutcome.swallowed); ``outcome`` is then not checked
#: unless ``strict``.
KNOWN_SWALLOWED_INTERRUPT = ("the KeyboardInterrupt was raised inside a finalizer (a "
                             "weakref callback) in task code, where CPython ignores it")
#: A bug NOT fixed yet (tests/test_stress_lifecycle.py::
#: test_the_run_end_waits_for_a_group_owner_waiting_for_a_proc_member, a strict xfail):
#: when a run ends (main killed or interrupted) while a TaskGroup's owner waits in its
#: block for a member started with ``new_proc``, the scheduler's unwinding
#: (``Proc._unwind``) kills the owner, whose ``TaskGroup.__exit__`` catches the kill,
#: cancels the members and waits for them again, as documented; but the unwinding does
#: not wait for the member's proc to end: it kills again at once, ten times within
#: microseconds, and then abandons the owner with a RuntimeWarning ("abandoned 1 task(s)
#: that ignored 10 kills"): the owner never ends and its ``finally`` never runs.
#: Recognised by that warning naming only such owners (lc_checks.abandoned_owners);
#: counted, not a failure, unless ``--strict-open``.
KNOWN_ABANDONED_OWNER = ("the run-end unwinding abandoned a TaskGroup owner that was "
                         "waiting for a member proc to end (Proc._unwind kills it ten "
                         "times without waiting for other procs)")
#: Another bug NOT fixed yet (tests/test_stress_lifecycle.py::
#: test_a_group_cancelled_while_a_member_is_being_added_kills_it_too, strict xfails):
#: ``TaskGroup.new_task``/``new_proc`` spawn the member (``_spawn`` starts it killed if
#: the group is cancelled *then*) and only afterwards, in another critical section, append
#: it to ``_tasks``/``_procs``; a cancellation in between (another member failing in
#: another proc, or ``cancel()``) kills the members listed so far and misses this one:
#: it runs on, and the group waits for it -- for ever if it blocks (a Deadlock here).
#: The same happens to a member proc whose first task has been spawned but not yet
#: recorded as the proc's ``_main_task`` (set after ``_spawn`` returns, outside the
#: critical section): ``_cancel_locked`` reads None there and skips it.  Recognised right
#: after ``new_task``/``new_proc`` returns and as the member starts: the group is
#: cancelled but the member is neither done, nor killed, nor has a kill pending
#: (LcOutcome.missed_members); counted, not a failure, unless ``--strict-open``.
KNOWN_MISSED_MEMBER = ("a TaskGroup cancelled while new_task/new_proc was adding a member "
                       "missed that member: it was spawned before the cancel and listed "
                       "after it, so it was never killed")
KNOWN_BUGS = {"late_thread": KNOWN_LATE_THREAD, "lost_interrupt": KNOWN_LOST_INTERRUPT,
              "escaped_interrupt": KNOWN_ESCAPED_INTERRUPT,
              "swallowed_interrupt": KNOWN_SWALLOWED_INTERRUPT,
              "abandoned_owner": KNOWN_ABANDONED_OWNER, "missed_member": KNOWN_MISSED_MEMBER}
#: the known bugs not fixed yet (counted by default, not failures)
OPEN_BUGS = {"abandoned_owner": KNOWN_ABANDONED_OWNER, "missed_member": KNOWN_MISSED_MEMBER}


class PlantedFailure(Exception):
    """The designated exception of a ``fail`` group's failing member."""


def leftover_threads() -> list[str]:
    """The libtask9 proc and IOProc threads alive now."""
    return sorted(t.name for t in threading.enumerate()
                  if t.name.startswith(("libtask9-proc", "libtask9-io")))


@dataclasses.dataclass
class LcOutcome:
    """Everything one run of a lifecycle program produced (all fields are JSON values)."""

    events: list[dict[str, Any]]
    res: list[list[Any]]  # per task, per completed step: its result
    started: list[bool]
    blocked: list[bool]  # reached its final block step
    fin: list[bool]  # its finally block ran
    ended: list[str | None]  # "done" | "TaskKilled" | "KeyboardInterrupt" | "error" | None
    task_ids: list[int | None]
    task_states: list[str | None]  # the runtime's Task.state after the run
    task_excs: list[str | None]  # the runtime's view of the task's exception (type name)
    proc_ids: list[int | None]
    chan_ids: list[int]
    chan_lens: list[int]  # values left in each channel after the run
    run: dict[str, Any]  # {"kind": "returned", "value": ...} | {"kind": "raised", ...}
    world: int | None
    errors: list[str]
    leftovers: list[str]  # what the run left behind (threads, its world)
    hang: bool
    seconds: float
    traced: bool = True
    where: str = "helper"  # "helper" thread, "batch" of N, or "main" thread
    hang_info: str = ""
    late_interrupt: bool = False  # a KeyboardInterrupt surfaced after run() returned
    #: threads of procs that had exited (ProcExit) but were still alive when run()
    #: returned: the runtime bug KNOWN_LATE_THREAD (joined by the harness, then counted)
    late_threads: list[str] = dataclasses.field(default_factory=list)
    #: an interrupt still pending on the main proc's parker after run(): KNOWN_LOST_INTERRUPT
    lost_interrupt: bool = False
    #: exceptions CPython ignored (sys.unraisablehook) during the run: a KeyboardInterrupt
    #: here is KNOWN_SWALLOWED_INTERRUPT; anything else is also an error
    swallowed: list[str] = dataclasses.field(default_factory=list)
    #: every completed channel operation, recorded before the task's next switch point:
    #: [who ("t3", or "p3.2" for the partner of t3's race step 2), "sent" | "recv",
    #: channel key ("c0", or "r3.2" for that race's channel), value]
    obs: list[list[Any]] = dataclasses.field(default_factory=list)
    #: per task, the timeout interruptions it caught (recorded at once)
    tmo: list[int] = dataclasses.field(default_factory=list)
    #: per channel key: {"id": runtime id, "buf": the values left in it after the run}
    chans: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    #: the run's VirtualClock reading (seconds) after run(); None: the real clock
    vclock: float | None = None
    #: members a cancelled group missed, seen as they were added or as they started
    #: (KNOWN_MISSED_MEMBER)
    missed_members: list[int] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """All fields but ``events`` (stored separately as the trace)."""
        d = dataclasses.asdict(self)
        del d["events"]
        return d

    def run_name(self) -> str:
        """``returned``, or the name of the exception ``run()`` raised (``hang``)."""
        if self.hang:
            return "hang"
        return "returned" if self.run.get("kind") == "returned" else str(self.run.get("exc"))


def _io_work(ms: float, token: list[int]) -> list[int]:
    time.sleep(ms / 1000.0)
    return token


class LcRun:
    """The shared state of one execution (written by the tasks of every proc)."""

    def __init__(self, prog: LcProgram, seed: int, *, name: str = "lc",
                 shutdown_grace: float = 5.0, gate: threading.Event | None = None,
                 virtual: bool = False) -> None:
        n = len(prog.tasks)
        self.prog = prog
        self.seed = seed
        self.name = name
        self.grace = shutdown_grace
        self.gate = gate
        self.clock = VirtualClock(autojump=True) if virtual else None
        self.obs: list[list[Any]] = []
        self.tmo = [0] * n
        self.race_chans: dict[str, Channel[Any]] = {}
        self.member_procs: dict[int, Proc] = {}
        self.missed: list[int] = []
        self.group_objs: dict[int, TaskGroup] = {}
        self.group_of = prog.group_of()
        self.res: list[list[Any]] = [[] for _ in range(n)]
        self.started = [False] * n
        self.blocked = [False] * n
        self.fin = [False] * n
        self.ended: list[str | None] = [None] * n
        self.tasks: list[Task | None] = [None] * n
        self.procs: list[Proc | None] = [None] * len(prog.procs)
        self.chans: list[Channel[Any]] = []
        self.ready: list[Channel[None] | None] = []
        self.setup: Channel[None] | None = None
        self.io: IOProc | None = None
        self.world: Any = None
        self.errors: list[str] = []
        self.outcome: dict[str, Any] = {}
        self.leftovers: list[str] = []
        self.late_threads: list[str] = []
        self.finished = threading.Event()
        self.late_interrupt = False
        self.lost_interrupt = False
        self.main_ident = threading.main_thread().ident or 0

    # -- the program ------------------------------------------------------------------

    def main(self) -> Any:
        """The main task: set the run up (without blocking), then run task 0's script."""
        prog = self.prog
        self.tasks[0] = curtask()
        me = curproc()
        self.procs[0] = me
        self.world = me.world
        self.chans = [Channel(cap, name=f"c{c}") for c, cap in enumerate(prog.caps)]
        self.ready = [None] + [Channel(0, name=f"ready{q}") for q in range(1, len(prog.procs))]
        self.setup = Channel(0, name="setup")
        if prog.uses_io():
            self.io = IOProc(f"{self.name}").start()
        for g in prog.procs[0][1:]:
            self.tasks[g] = new_task(self.task_body, g)
        for q in range(1, len(prog.procs)):
            self.procs[q] = new_proc(self.bootstrap, q)
        self.setup.close()
        return self.task_body(0)

    def bootstrap(self, q: int) -> None:
        """The first task of proc q: spawn its program tasks, then close ready[q]."""
        for g in self.prog.procs[q]:
            self.tasks[g] = new_task(self.task_body, g)
        ch = self.ready[q]
        assert ch is not None
        ch.close()

    def task_body(self, g: int) -> Any:
        """Run task g's script, recording each step's result; the finally is recorded."""
        self.started[g] = True
        if self.tasks[g] is None:  # (a group member started as a proc)
            self.tasks[g] = curtask()
        k = self.group_of.get(g)
        if k is not None:
            self._note_missed(self.group_objs[k], g, curtask())
        try:
            try:
                for s, step in enumerate(self.prog.tasks[g]):
                    self.res[g].append(self.perform(g, s, step))
                if g == 0 and self.prog.stop_io and self.io is not None:
                    self.io.stop()
            finally:
                self.fin[g] = True
        except PlantedFailure:  # (the group's business)
            self.ended[g] = "failed"
            raise
        except Exception:
            self.errors.append(f"t{g} step {len(self.res[g])}: {traceback.format_exc()}")
            self.ended[g] = "error"
            return None
        except BaseException as e:  # TaskKilled, KeyboardInterrupt: the runtime's business
            self.ended[g] = type(e).__name__
            raise
        self.ended[g] = "done"
        return MAIN_RESULT if g == 0 else None

    def _await(self, ch: Channel[None] | None) -> None:
        """Wait for a close of ``ch`` (ready[q] or setup)."""
        assert ch is not None
        try:
            ch.recv()
        except ChannelClosed:
            return
        raise AssertionError(f"{ch!r} delivered a value")

    def task_obj(self, h: int) -> Task:
        t = self.tasks[h]
        if t is None:
            self._await(self.ready[self.prog.proc_of()[h]])
            t = self.tasks[h]
        assert t is not None, f"t{h} has no Task after its proc's bootstrap"
        return t

    def proc_obj(self, q: int) -> Proc:
        p = self.procs[q]
        if p is None:
            self._await(self.setup)
            p = self.procs[q]
        assert p is not None, f"proc {q} does not exist after setup"
        return p

    def perform(self, g: int, s: int, step: list[Any]) -> list[Any]:
        """Execute one step; return its result as JSON."""
        kind = step[0]
        if kind == "sleep":
            sleep(step[1])
            return ["ok"]
        if kind == "alt_after":
            private: Channel[Any] = Channel(0, name=f"private t{g}")
            i, _ = alt(alt_recv(private), alt_recv(after(step[1])))
            return ["alt", i]
        if kind == "ticker":
            tk = Ticker(1)
            try:
                ticks = [tk.c.recv() for _ in range(step[1])]
            finally:
                tk.stop()
            return ["ticks", len(ticks), all(a < b for a, b in itertools.pairwise(ticks))]
        if kind == "iocall":
            assert self.io is not None
            return ["io", self.io.iocall(_io_work, step[1], [g, s])]
        if kind == "send":
            self.chans[step[1]].send([g, s])
            self.obs.append([f"t{g}", "sent", f"c{step[1]}", [g, s]])
            return ["ok"]
        if kind == "recv":
            v = self.chans[step[1]].recv()
            self.obs.append([f"t{g}", "recv", f"c{step[1]}", v])
            return ["got", v]
        if kind == "group":
            return self.group(g, step[1])
        if kind == "race":
            return self.race(g, s, step)
        if kind == "fail":
            raise PlantedFailure(PLANTED.format(g))
        if kind == "join_proc":
            p = self.proc_obj(step[1])
            ok = p.join(timeout=timeout_value(step[2]))
            return ["joined", ok, p.finished]
        if kind == "join_task":
            t = self.task_obj(step[1])
            ok = t.join(timeout=timeout_value(step[2]))
            return ["joined", ok, t.done]
        if kind == "kill":
            return ["kill", self.task_obj(step[1]).kill()]
        if kind == "yield":
            return ["yield", yield_()]
        if kind == "interrupt":
            signal.pthread_kill(self.main_ident, signal.SIGINT)
            return ["ok"]
        if kind == "block":
            self.blocked[g] = True
            if step[1] == "chan":
                Channel(0, name=f"forever t{g}").recv()
            else:
                sleep(math.inf)
            raise AssertionError("returned from a block for ever")
        if kind == "hold":
            assert self.gate is not None, "a hold step needs a gate"
            self.gate.wait()
            return ["ok"]
        raise ValueError(f"unknown step {kind!r}")

    def group(self, g: int, k: int) -> list[Any]:
        """Run group k (task g is its owner): ``["group", "ok" | "raised", the
        ExceptionGroup's exceptions as [type, message], whether each member had finished
        when the block ended]``."""
        spec = self.prog.groups[k]
        status, excs = "ok", []
        try:
            with TaskGroup() as grp:
                self.group_objs[k] = grp
                for h in spec["members"]:
                    if h in spec["procs"]:
                        self.member_procs[h] = grp.new_proc(self.task_body, h)
                    else:
                        self.tasks[h] = grp.new_task(self.task_body, h)
                    self._note_missed(grp, h)
                for b, step in enumerate(spec["body"]):
                    self.perform(g, -1 - b, step)
                if spec["kind"] == "cancel":
                    grp.cancel()
        except ExceptionGroup as eg:
            status = "raised"
            excs = [[type(e).__name__, str(e)] for e in eg.exceptions]
        done = []
        for h in spec["members"]:
            t = self.tasks[h]
            q = self.member_procs.get(h)
            done.append((t is not None and t.done) if q is None else q.finished)
        return ["group", status, excs, done]

    def _note_missed(self, grp: TaskGroup, h: int, t: Task | None = None) -> None:
        """The fingerprint of KNOWN_MISSED_MEMBER, right after member h was added, and as
        it starts (``t``): the group is cancelled, but h is not done, not killed and has
        no kill pending (a member listed before the cancel is killed by it; one spawned
        after it starts killed)."""
        with libtask9._world.chanlock:
            if not grp.cancelled:
                return  # (a later cancel finds h in the group's lists)
            if t is None:
                q = self.member_procs.get(h)
                t = q._main_task if q is not None else self.tasks[h]
            if t is not None and not (t.done or t._killed or t._kill_pending) \
                    and h not in self.missed:
                self.missed.append(h)

    def race(self, g: int, s: int, step: list[Any]) -> list[Any]:
        """A timeout scope racing a partner (lc_program's module docstring): returns
        ``["race", completed, interrupted, scope.expired, Timeout raised, the value
        received (or None), the partner's result]``."""
        _, how, d, partner, where, deadline, p, hold, yld = step
        key = f"r{g}.{s}"
        ch: Channel[Any] = Channel(1 if partner == "send" else 0, name=key)
        self.race_chans[key] = ch
        mine, theirs = [g, s], [g, s, 1]
        who = f"p{g}.{s}"
        presult: list[Any] = []

        def partner_body() -> None:
            try:
                partner_step()
            except BaseException as e:  # (killed with its run, or an interrupt landed)
                if not presult:
                    presult.append(["raised", type(e).__name__])
                raise

        def partner_step() -> None:
            if hold:
                time.sleep(p / 1000.0)  # holds the proc: no switch point
            else:
                sleep(p)
            if partner == "send":
                ch.send(theirs)
                self.obs.append([who, "sent", key, theirs])
                presult.append(["sent"])
            elif partner == "nbsend":
                ok = ch.nbsend(theirs)
                if ok:
                    self.obs.append([who, "sent", key, theirs])
                presult.append(["nbsend", ok])
            else:
                ok, v = ch.nbrecv()
                if ok:
                    self.obs.append([who, "recv", key, v])
                presult.append(["nbrecv", ok, v])

        helper: Task | Proc = new_task(partner_body) if where == "task" \
            else new_proc(partner_body)
        completed = reached = timed_out = False
        got = None
        scope = move_on_after(deadline) if how == "move_on" else timeout_scope(deadline)
        try:
            with scope:
                if d == "recv":
                    got = ch.recv()
                    self.obs.append([f"t{g}", "recv", key, got])
                else:
                    ch.send(mine)
                    self.obs.append([f"t{g}", "sent", key, mine])
                completed = True
                if yld:
                    yield_()
                reached = True
        except Timeout:
            timed_out = True
        if not reached:
            self.tmo[g] += 1
        helper.join()
        return ["race", completed, not reached, scope.expired, timed_out, got,
                presult[0] if presult else None]

    # -- running ------------------------------------------------------------------------

    def drive(self) -> None:
        """Call run() (in this thread) and record its outcome and what it left behind."""
        try:
            try:
                v = Runner(seed=self.seed, name="main", shutdown_grace=self.grace,
                           clock=self.clock).run(self.main)
                self.outcome = {"kind": "returned", "value": v if isinstance(v, str) else repr(v)}
            except Deadlock as e:
                self.outcome = {"kind": "raised", "exc": "Deadlock",
                                "blocked": [t.id for t, _ in e.blocked],
                                "why": [why for _, why in e.blocked]}
            except BaseException as e:
                self.outcome = {"kind": "raised", "exc": type(e).__name__,
                                "message": str(e)[:300]}
                if not isinstance(e, (libtask9.TaskKilled, KeyboardInterrupt)):
                    self.errors.append("run() raised: " + "".join(
                        traceback.format_exception(type(e), e, e.__traceback__))[-3000:])
            p0 = self.procs[0]
            self.lost_interrupt = p0 is not None and p0._parker.interrupt is not None
            self._check_left()
        except KeyboardInterrupt:  # (after run() returned: the runtime let one through)
            self.late_interrupt = True
        finally:
            self.finished.set()

    def _check_left(self) -> None:
        """Right after run(): none of the run's procs or IOProc threads may be alive, and
        its world must have ended."""
        me = threading.current_thread()
        for q, p in enumerate(self.procs):
            th = None if p is None else p.thread
            if p is None or th is None or th is me or not th.is_alive():
                continue
            if p.finished:  # ProcExit done, the thread not yet ended (KNOWN_LATE_THREAD)
                self.late_threads.append(th.name)
                th.join(self.grace)
                if not th.is_alive():
                    continue
            self.leftovers.append(f"proc {q} ({th.name}, "
                                  f"{'exited' if p.finished else 'not exited'}) is still "
                                  "alive after run()")
        if self.io is not None and not self.io.join(0):
            self.leftovers.append(f"{self.io!r}'s thread is still alive after run()")
        w = self.world
        if w is not None and (w.phase != "ended" or w in libtask9._world.live_worlds()):
            self.leftovers.append(f"run {w.id} is still live after run() ({w!r})")

    def outcome_record(self, events: list[dict[str, Any]], hang: bool, seconds: float,
                       traced: bool, where: str) -> LcOutcome:
        wid = None if self.world is None else self.world.id
        tasks = list(self.tasks)
        for h, q in self.member_procs.items():  # (a member proc killed before it started)
            if tasks[h] is None:
                tasks[h] = q._main_task
        chans = {f"c{c}": ch for c, ch in enumerate(self.chans)}
        chans.update(self.race_chans)
        return LcOutcome(
            events=[ev for ev in events if wid is not None and ev.get("run") == wid],
            res=[list(r) for r in self.res],
            started=list(self.started),
            blocked=list(self.blocked),
            fin=list(self.fin),
            ended=list(self.ended),
            task_ids=[None if t is None else t.id for t in tasks],
            task_states=[None if t is None else t.state for t in tasks],
            task_excs=[None if t is None or t._exc is None else type(t._exc).__name__
                       for t in tasks],
            proc_ids=[None if p is None else p.id for p in self.procs],
            chan_ids=[ch.id for ch in self.chans],
            chan_lens=[len(ch._buf) for ch in self.chans],
            run=dict(self.outcome),
            world=wid,
            errors=list(self.errors) + self._proc_errors(),
            leftovers=list(self.leftovers),
            late_threads=list(self.late_threads),
            lost_interrupt=self.lost_interrupt,
            hang=hang,
            seconds=seconds,
            traced=traced,
            where=where,
            late_interrupt=self.late_interrupt,
            obs=[list(o) for o in self.obs],
            tmo=list(self.tmo),
            chans={key: {"id": ch.id, "buf": list(ch._buf)} for key, ch in chans.items()},
            vclock=None if self.clock is None else self.clock.now(),
            missed_members=list(self.missed),
        )

    def _proc_errors(self) -> list[str]:
        out = []
        for q, p in enumerate(self.procs):
            if q and p is not None and p.finished and p.exception is not None:
                out.append(f"proc {q}: {p.exception!r}")
        return out


# --------------------------------------------------------------------------- sessions


class _Session:
    """Tracer, excepthook and warnings of one execution (a batch or a main-thread run)."""

    def __init__(self, traced: bool) -> None:
        self.rec = TraceRecorder() if traced else None
        self.hooked: list[str] = []
        self._warn = warnings.catch_warnings(record=True)
        self.warnings: list[warnings.WarningMessage] = []

    def __enter__(self) -> _Session:
        self.unraisable: list[tuple[str, str]] = []
        self._unraisable_hook = sys.unraisablehook
        sys.unraisablehook = self._on_unraisable
        log = self._warn.__enter__()
        assert log is not None
        self.warnings = log
        warnings.simplefilter("always")
        self._hook = set_excepthook(self._excepthook)
        if self.rec is not None:
            set_tracer(self.rec)
        return self

    def __exit__(self, *exc: object) -> None:
        set_tracer(None)
        set_excepthook(self._hook)
        self._warn.__exit__(None, None, None)
        sys.unraisablehook = self._unraisable_hook

    def _on_unraisable(self, u: Any) -> None:
        where = f"{u.err_msg or 'Exception ignored in'}: {u.object!r}"
        self.unraisable.append((getattr(u.exc_type, "__name__", "?"), where))

    def swallowed(self) -> list[str]:
        """KeyboardInterrupts CPython ignored (in finalizers)."""
        return [w for name, w in self.unraisable if name == "KeyboardInterrupt"]

    def _excepthook(self, task: Task, exc: BaseException) -> None:
        self.hooked.append(f"excepthook: {task!r}: {exc!r}")

    @property
    def events(self) -> list[dict[str, Any]]:
        return [] if self.rec is None else self.rec.events

    def problems(self) -> list[str]:
        return self.hooked + [f"{w.category.__name__}: {w.message}" for w in self.warnings] + [
            f"{name} ignored by CPython ({where})" for name, where in self.unraisable
            if name != "KeyboardInterrupt"]


def _hang_info(run: LcRun) -> str:
    """What each proc of the run is doing (taken under chanlock if it can be had)."""
    world = libtask9._world
    w = run.world
    if w is None:
        return "the run's world was never created (main never ran)"
    locked = world.chanlock.acquire(timeout=1.0)
    try:
        lines = [f"run {w.id} ({w.phase}): {len(w.procs)} procs registered, {w.nidle} idle, "
                 f"{w.ntimers} timers, {w.iocalls} iocalls, "
                 f"deadlock={'declared' if w.deadlock else 'no'}"
                 + ("" if locked else " (chanlock is held by someone: read unlocked)")]
        for p in sorted(w.procs, key=lambda q: q.id):
            tasks = ", ".join(f"{t.id}:{t.state}" for t in sorted(p._tasks, key=lambda u: u.id))
            alive = p.thread.is_alive() if p.thread is not None else None
            lines.append(f"  proc {p.id} {p.name!r}: idle={p._idle} runq={len(p.runq)} "
                         f"remote={len(p._remote)} thread alive={alive} "
                         f"current={p.current!r} tasks [{tasks}]")
        return "\n".join(lines)
    finally:
        if locked:
            world.chanlock.release()


#: Runs a watchdog gave up on (their threads are still running); see join_stragglers.
_stragglers: list[threading.Thread] = []


def join_stragglers(timeout: float) -> bool:
    """Wait for the threads of runs that hung (after the test released them); True if
    they all ended."""
    deadline = time.monotonic() + timeout
    for th in list(_stragglers):
        th.join(max(0.0, deadline - time.monotonic()))
        if not th.is_alive():
            _stragglers.remove(th)
    return not _stragglers


def _problems_by_run(runs: Sequence[LcRun], problems: list[str]) -> list[list[str]]:
    """Attribute excepthook reports and warnings to the run they name (``run=ID`` /
    ``run ID``); those that name none go to every run of the batch."""
    out: list[list[str]] = [[] for _ in runs]
    for text in problems:
        hit = [k for k, r in enumerate(runs) if r.world is not None and (
            f"run={r.world.id}" in text or f"run {r.world.id} " in text)]
        for k in hit or range(len(runs)):
            out[k].append(text)
    return out


def execute_batch(progs: Sequence[LcProgram], seeds: Sequence[int], timeout: float = 10.0,
                  traced: bool = True, gate: threading.Event | None = None,
                  names: Sequence[str] | None = None,
                  virtual: bool = False) -> list[LcOutcome]:
    """Run the programs at once, each on its own plain thread (one program: alone), and
    wait at most ``timeout`` seconds for each; a run still going then is a hang (its
    thread is left running: see :func:`join_stragglers`).  With ``virtual`` each run
    reads its own ``VirtualClock(autojump=True)``."""
    grace = max(0.5, timeout / 2)
    names = names or [f"lc{k}" for k in range(len(progs))]
    runs = [LcRun(p, s, name=nm, shutdown_grace=grace, gate=gate, virtual=virtual)
            for p, s, nm in zip(progs, seeds, names, strict=True)]
    where = "helper" if len(runs) == 1 else f"batch of {len(runs)}"
    with _Session(traced) as session:
        t0 = time.monotonic()
        threads = [threading.Thread(target=r.drive, name=f"stress-{r.name}", daemon=True)
                   for r in runs]
        for th in threads:
            th.start()
        hung = []
        secs = []
        for th in threads:
            th.join(max(0.0, t0 + timeout - time.monotonic()))
            hung.append(th.is_alive())
            secs.append(time.monotonic() - t0)
            if th.is_alive():
                _stragglers.append(th)
        infos = [_hang_info(r) if h else "" for r, h in zip(runs, hung, strict=True)]
        events = list(session.events)
    problems = _problems_by_run(runs, session.problems())
    outs = []
    for r, h, sec, info, extra in zip(runs, hung, secs, infos, problems, strict=True):
        out = r.outcome_record(events, h, sec, traced, where)
        out.hang_info = info
        out.errors += extra
        out.swallowed = session.swallowed()
        outs.append(out)
    if not any(hung):
        after = leftover_threads()
        live = libtask9._world.live_worlds()
        if after or live:
            for out in outs:
                out.leftovers.append(f"after the {where}: threads {after}, live runs {live}")
    return outs


def execute_lc(prog: LcProgram, seed: int, timeout: float = 10.0, traced: bool = True,
               gate: threading.Event | None = None, virtual: bool = False) -> LcOutcome:
    """Run one program on a helper thread under the watchdog (interrupt programs: use
    :func:`execute_in_main_thread`)."""
    return execute_batch([prog], [seed], timeout, traced, gate, virtual=virtual)[0]


def execute_in_main_thread(prog: LcProgram, seed: int, timeout: float = 10.0,
                           traced: bool = True,
                           on_hang: Callable[[LcOutcome], None] | None = None,
                           virtual: bool = False) -> LcOutcome:
    """Run one program with run() in this thread, which must be the main thread (SIGINT
    is delivered there).  A watchdog thread reports a hang through ``on_hang(outcome)``
    (it cannot stop this thread; the default prints the state and ends the process)."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("interrupt programs must run in the main thread")
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:  # (e.g. SIG_IGN in a background job)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    r = LcRun(prog, seed, name="lcmain", shutdown_grace=max(0.5, timeout / 2),
              virtual=virtual)
    t0 = time.monotonic()
    try:
        with _Session(traced) as session:
            def watchdog() -> None:
                if r.finished.wait(timeout):
                    return
                out = r.outcome_record(list(session.events), True, time.monotonic() - t0,
                                       traced, "main")
                out.hang_info = _hang_info(r)
                (on_hang or _default_on_hang)(out)

            dog = threading.Thread(target=watchdog, name="stress-watchdog", daemon=True)
            dog.start()
            try:
                r.drive()
            except KeyboardInterrupt:  # (landed in drive's own bookkeeping)
                r.late_interrupt = True
                r.finished.set()
            dog.join()
            events = list(session.events)
        out = r.outcome_record(events, False, time.monotonic() - t0, traced, "main")
        out.errors += session.problems()
        out.swallowed = session.swallowed()
    finally:
        signal.signal(signal.SIGINT, previous)
    if not out.leftovers:
        after, live = leftover_threads(), libtask9._world.live_worlds()
        if after or live:
            out.leftovers.append(f"after the run: threads {after}, live runs {live}")
    return out


def _default_on_hang(out: LcOutcome) -> None:
    import os

    print(f"\nHANG in the main thread (interrupt program), {out.seconds:.1f} s:\n"
          f"{out.hang_info}", file=sys.stderr, flush=True)
    os._exit(70)
