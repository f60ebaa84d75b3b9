"""Procs, their schedulers, and the deadlock decision of a run.

A *proc* is one OS thread running a scheduler loop in its main greenlet; its *tasks* are
child greenlets that run one at a time, in FIFO order of readiness, and give the
processor back only at switch points (thread(3): "threads ... are cooperatively
scheduled").  Procs preempt each other arbitrarily (the OS and the GIL decide).  Every
proc belongs to one run (its :class:`~libtask9._world.World`); the lifecycle of procs
and runs is specified in ``spec/Procs.tla``, whose action names the trace events below
carry.

The scheduler knows nothing of channels (Go's ``proc.go`` below ``chan.go``; plan9port's
``thread.c`` below ``channel.c``).  A blocked task waits in a :class:`Blocker`, the wait
record of whatever it blocked in: a channel alt (``_chan._Waiter``), a sleep, a join.
The scheduler parks and readies tasks, kills them through ``Blocker.abort_locked``
(trio's ``abort_fn``) and wakes joiners through its own wait lists.

Locking discipline (see ``_world``): ``chanlock`` guards every field marked so below;
``Proc.runq`` belongs to the proc's own thread and is touched without a lock.  Another
thread readies a task only by appending it to the owner's ``_remote`` list under
``chanlock`` (``ready_locked``); the owner moves it to ``runq``.  So a greenlet is only
ever switched to from its own thread, and a task readied before it has finished parking
is harmless: its owner cannot pick it until the parking switch has happened.

Invariants (asserted where they are kept):

* S1 a task is in at most one run queue, at most once: only ``ready_locked`` makes a
  BLOCKED task RUNNABLE, and it refuses any other state ("resumed exactly once").
* S2 only the scheduler greenlet switches into a task (``Proc._dispatch``), or a parking
  or normally ending task hands the processor straight to the next runnable one
  (``park``, ``Proc._hand_off``), which it takes from the run queue.
* W1-W4 of ``_world``: idle procs are counted exactly; a Deadlock is declared only by
  :func:`check_deadlock_locked`, only while the run is running, and only when every
  registered proc of the run is idle and no timer or iocall of the run is live.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from types import FrameType
from typing import Any, Final

import greenlet
from mypy_extensions import mypyc_attr

from . import _trace
from ._task import BLOCKED, DONE, RUNNABLE, RUNNING, Task
from ._timerheap import MAX_DELAY, TimerEntry, TimerHeap, disarm_collected_locked
from ._world import ENDED, ENDING, Parker, World, chanlock, live_worlds_locked
from ._world import RUNNING as RUN_RUNNING
from .errors import (
    BlockedTask,
    Deadlock,
    InternalError,
    NotInTask,
    TaskKilled,
    WrongProc,
    WrongRun,
)

__all__ = [
    "Blocker",
    "Proc",
    "check_deadlock_locked",
    "curproc",
    "curtask",
    "end_run_locked",
    "new_proc",
    "new_task",
    "set_excepthook",
    "yield_",
]

# Final: a compiled core (make compiled) reads these as C statics, not dict lookups.
_get_ident: Final = threading.get_ident
_getcurrent: Final = greenlet.getcurrent
_tls: Final = threading.local()
_monotonic: Final = time.monotonic
_proc_ids = itertools.count(1)

#: Rounds of kills a proc makes to unwind its tasks before abandoning the ones that keep
#: swallowing TaskKilled (with one RuntimeWarning naming them).
UNWIND_ROUNDS: Final = 10

# Blocker outcomes (set exactly once, by whoever completes the wait, under chanlock)
OK: Final = "ok"
CLOSED: Final = "closed"
KILLED: Final = "killed"
TIMEDOUT: Final = "timedout"

CaseChooser = Callable[[Sequence[int]], int]


# -- durations -------------------------------------------------------------------------


def delay_seconds(value: object, what: str, scale: float) -> float | None:
    """Validate a duration (``value * scale`` seconds); None means never.

    ``inf`` (and anything beyond ``MAX_DELAY`` seconds) is never, NaN is a ValueError,
    a negative duration is zero, a non-number a TypeError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} takes a number, got {value!r}")
    secs = float(value) * scale
    if secs != secs:
        raise ValueError(f"{what}: the duration is NaN")
    if secs > MAX_DELAY:
        return None
    return secs if secs > 0.0 else 0.0


def timeout_seconds(timeout: object, what: str) -> float | None:
    """A ``timeout=`` argument in seconds (None or inf: wait for ever)."""
    return None if timeout is None else delay_seconds(timeout, what, 1.0)


# -- owners of tasks ----------------------------------------------------------------------


# allow_interpreted_subclasses: TaskGroup (not compiled) subclasses it.
@mypyc_attr(allow_interpreted_subclasses=True)
class TaskOwner:
    """What owns the outcome of some tasks (a ``TaskGroup``): told, in the critical
    section in which a member ends (TaskExit), that it ended; it takes the member's
    exception (the excepthook never sees it).  ``cancelled``: tasks spawned into it
    start with a pending kill."""

    cancelled = False

    def member_added_locked(self, t: Task) -> None:
        """``t`` was just created as a member (in the critical section that creates it:
        a cancellation cannot fall between its creation and its listing)."""
        raise NotImplementedError

    def member_proc_added_locked(self, q: Proc) -> None:
        """``q`` was just created (ProcCreate) with its first task owned by this."""
        raise NotImplementedError

    def task_exited_locked(self, t: Task) -> None:
        """``t`` (a member) is done; its ``_exc`` is its exception or None."""
        raise NotImplementedError


# -- wait records ------------------------------------------------------------------------


class Blocker:
    """What a blocked task waits in (Go's ``sudog``; trio's ``abort_fn`` is
    :meth:`abort_locked`).  Its ``outcome`` is set exactly once, by whoever completes the
    wait, under chanlock (AtMostOneCommit); then the task is readied.  ``timer`` is the
    timer entry that will complete it (sleep, a join's timeout), disarmed with it.
    """

    __slots__ = ("kind", "outcome", "result", "result_index", "task", "timer")

    def __init__(self, task: Task, kind: str) -> None:
        self.task = task
        self.kind = kind  # "send", "recv", "alt", "sleep", "join", "hold": diagnostics
        self.outcome: str | None = None
        self.result_index = -1
        self.result: Any = None
        self.timer: TimerEntry | None = None

    def describe(self) -> str:
        """What the task waits in, for Deadlock reports."""
        return f"blocked in {self.kind}"

    def finish_locked(self, outcome: str, index: int, value: Any) -> None:
        """Complete the wait and ready the task (the one way a wait ends)."""
        if self.outcome is not None:
            raise InternalError(f"AtMostOneCommit violated: wait of {self.task!r} "
                                "completed twice")
        self.outcome = outcome
        self.result_index = index
        self.result = value
        tm = self.timer
        if tm is not None:
            self.timer = None
            if tm.disarm_locked() and _trace.tracer is not None:
                _trace.timer_stop(self.task.proc.world.id, tm.id, "wait completed")
        t = self.task
        t._blocker = None
        ready_locked(t)

    def abort_locked(self) -> None:
        """A kill: withdraw the wait from wherever it is registered and complete it with
        KILLED.  Subclasses withdraw, then call this."""
        self.finish_locked(KILLED, -1, None)

    def expire_locked(self, now: float) -> None:
        """Its timer fired: complete the wait (a sleep resumes with ``now``)."""
        self.finish_locked(OK, 0, now)


class JoinWait(Blocker):
    """A task blocked in ``Proc.join``/``Task.join``: queued on the target's joiner list
    until the target ends (``wake_joiners_locked``), its timeout fires or it is killed."""

    __slots__ = ("target", "waitlist")

    def __init__(self, task: Task, target: str, waitlist: list[Any]) -> None:
        super().__init__(task, "join")
        self.target = target
        self.waitlist = waitlist

    def describe(self) -> str:
        return f"blocked in join({self.target})"

    def _withdraw(self) -> None:
        try:
            self.waitlist.remove(self)
        except ValueError:
            raise InternalError(f"{self.task!r} not on the joiner list of "
                                f"{self.target}") from None

    def abort_locked(self) -> None:
        self._withdraw()
        self.finish_locked(KILLED, -1, None)

    def expire_locked(self, now: float) -> None:
        self._withdraw()
        self.finish_locked(TIMEDOUT, -1, None)


def wake_joiners_locked(waitlist: list[Any] | None) -> list[int]:
    """The target of ``waitlist`` ended: ready every task joined on it (a
    :class:`JoinWait`) and wake every plain thread (a ``threading.Event``); the ids of
    the tasks readied."""
    if not waitlist:
        return []
    woken = []
    for b in waitlist:
        if isinstance(b, Blocker):
            woken.append(b.task.id)
            b.finish_locked(OK, 0, None)
        else:
            b.set()
    waitlist.clear()
    return woken


class WakeEntry(TimerEntry):
    """A timer that completes a wait when it fires: ``sleep``, a join's timeout."""

    __slots__ = ("blocker",)

    def __init__(self, deadline: float, blocker: Blocker, world: World) -> None:
        super().__init__(deadline, 0.0, world)
        self.blocker = blocker

    def fire_locked(self, now: float, by: int | None) -> None:
        b = self.blocker
        b.timer = None
        woken = None
        if b.outcome is None:
            woken = b.task.id
            b.expire_locked(now)
        if _trace.tracer is not None:
            w = self.counter
            _trace.timer_fire(w.id if isinstance(w, World) else None, by, self.id, woken)


def arm_wait_timer_locked(t: Task, b: Blocker, secs: float, kind: str) -> None:
    """Arm a timer that completes ``b`` (``t``'s wait) ``secs`` seconds from now."""
    p = t.proc
    w = p.world
    e = WakeEntry(w.clock() + secs, b, w)
    b.timer = e
    arm_locked(p, e)
    if _trace.tracer is not None:
        _trace.timer_arm(w.id, p.id, e.id, t.id, kind, e.deadline)


class FallbackTimers:
    """The heap and thread that fire timers armed where no scheduler loop runs (a plain
    thread, a test stepper).  The thread is started on first use and sleeps on a parker;
    every field is guarded by chanlock."""

    def __init__(self) -> None:
        self.heap = TimerHeap()
        self.parker = Parker()
        self.thread: threading.Thread | None = None

    def push_locked(self, e: TimerEntry) -> None:
        self.heap.push_locked(e)
        if self.thread is None:
            self.restart_locked()
        elif self.heap.entries[0] is e:
            self.parker.wake_locked()

    def restart_locked(self) -> None:
        self.thread = threading.Thread(target=self._run, name="libtask9-timers", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        heap = self.heap
        clock = _monotonic
        with chanlock:
            while True:
                heap.fire_due_locked(clock())
                nd = heap.next_deadline()
                self.parker.wait_locked(None if nd is None else nd - clock())


fallback_timers: Final = FallbackTimers()


def arm_locked(p: Proc | None, e: TimerEntry) -> None:
    """Arm ``e`` on the heap of ``p``'s scheduler (it is running this code, so it is not
    idle and sees the new deadline), or on the fallback heap outside a scheduler loop."""
    disarm_collected_locked()  # (amortized: timers dropped since the last arm leave)
    if p is not None and p._looping:
        p.timers.push_locked(e)
    else:
        fallback_timers.push_locked(e)


# -- excepthook ----------------------------------------------------------------------------


def _default_excepthook(task: Task, exc: BaseException) -> None:
    print(f"Exception in {task!r}:", file=sys.stderr)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


_excepthook: Callable[[Task, BaseException], None] = _default_excepthook


def set_excepthook(
    hook: Callable[[Task, BaseException], None] | None,
) -> Callable[[Task, BaseException], None]:
    """Replace the reporter of exceptions escaping spawned tasks; return the previous one.

    ``hook(task, exc)`` runs in the task's proc right after the task died; ``None``
    restores the default, which prints the traceback to stderr (like
    ``threading.excepthook``).  The exception of a proc's *first* task is not reported
    here: ``run()`` re-raises it, and ``Proc.exception`` holds it for ``new_proc``.
    """
    global _excepthook
    if hook is not None and not callable(hook):
        raise TypeError(f"set_excepthook() takes a callable(task, exc) or None, got {hook!r}")
    previous = _excepthook
    _excepthook = hook if hook is not None else _default_excepthook
    return previous


def _report(t: Task, e: BaseException) -> BaseException | None:
    """Hand ``e`` to the excepthook; a hook that raises a BaseException returns it."""
    try:
        _excepthook(t, e)
    except Exception:  # a broken hook must not kill the scheduler
        traceback.print_exc()
    except BaseException as fatal:  # (KeyboardInterrupt inside the hook)
        return fatal
    return None


# -- procs -----------------------------------------------------------------------------------


class Proc:
    """One OS thread with its own scheduler (libthread's *proc*), in one run.

    Create one with :func:`new_proc`, or make the calling thread a proc with :func:`run`.
    """

    # (slots: the scheduler and the channel fast paths read these on every operation)
    __slots__ = (
        "_abandoned",
        "_exited",
        "_fatal",
        "_finished",
        "_handed",
        "_ident",
        "_idle",
        "_joiners",
        "_looping",
        "_main_task",
        "_parker",
        "_remote",
        "_sched_glet",
        "_tasks",
        "choose_case",
        "current",
        "defer_interrupts",
        "exception",
        "id",
        "name",
        "nswitch",
        "result",
        "rng",
        "runq",
        "seed",
        "switch_direct",
        "thread",
        "timers",
        "world",
    )

    def __init__(self, world: World, name: str, seed: int | None = None) -> None:
        self.id: int = next(_proc_ids)
        self.name = name
        self.world: World = world
        self.thread: threading.Thread | None = None
        self.rng = random.Random(seed)
        self.seed = seed
        #: Picks which ready case an alt executes: given the ready case indices (in case
        #: order), return one of them.  Default: uniform (plan9port ``rand() % ncan``).
        self.choose_case: CaseChooser = self._uniform_choice
        self.runq: deque[Task] = deque()  # owner thread only
        self.current: Task | None = None
        self.nswitch = 0
        self.exception: BaseException | None = None
        self.result: Any = None
        self._tasks: set[Task] = set()  # live tasks (chanlock; the owner reads it freely)
        self._main_task: Task | None = None
        self._ident: int | None = None
        self._sched_glet: greenlet.greenlet | None = None
        self._remote: list[Task] = []  # chanlock
        self._idle = False  # chanlock; W1
        self._parker = Parker()  # where the idle scheduler sleeps
        self._finished = threading.Event()  # for joins from plain threads
        self._exited = False  # chanlock: set in the ProcExit critical section
        self._joiners: list[Any] | None = None  # chanlock: JoinWaits of tasks in join()
        self._fatal: BaseException | None = None  # a BaseException raised by a task
        self._looping = False  # the scheduler loop runs (it fires self.timers)
        self._abandoned: list[Task] = []  # tasks that would not unwind (kept referenced)
        #: park() may switch straight to the next runnable task; False sends every park
        #: through the scheduler greenlet (a test stepper, or an interrupt to act on).
        self.switch_direct = True
        #: The greenlet of the task that last ended by handing the processor on
        #: (``_hand_off``): dead, its parent the task it handed to (owner thread only).
        self._handed: greenlet.greenlet | None = None
        #: > 0 while this proc's thread is in a multi-step runtime operation that calls
        #: Python code (starting a proc's thread): a SIGINT there is only recorded, never
        #: raised.  The SIGINT handler tells runtime code from user code by its frames,
        #: and the compiled core has none.
        self.defer_interrupts = 0
        #: Heap of the timers armed by this proc's tasks (chanlock).
        self.timers = TimerHeap(self.id)

    def __repr__(self) -> str:
        return f"<Proc {self.id} {self.name!r} run={self.world.id} tasks={len(self._tasks)}>"

    def _uniform_choice(self, ready: Sequence[int]) -> int:
        return ready[self.rng.randrange(len(ready))]

    # -- binding to an OS thread -------------------------------------------------------

    def _bind(self) -> None:
        if getattr(_tls, "proc", None) is not None:
            raise RuntimeError(
                "this thread is already a libtask9 proc; create tasks with new_task() "
                "or another OS thread with new_proc() instead of calling run() again"
            )
        _tls.proc = self
        self._ident = threading.get_ident()
        self._sched_glet = greenlet.getcurrent()

    def _unbind(self) -> None:
        _tls.proc = None

    # -- tasks ---------------------------------------------------------------------------

    def _spawn(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
               name: str | None = None, owner: TaskOwner | None = None) -> Task:
        if not callable(fn):
            raise TypeError(f"new_task() needs a callable, got {fn!r}")
        t = Task(self, fn, args, kwargs, name)
        if owner is None and _trace.tracer is None:
            # The lock-free TaskCreate (J1's twin): with no owner to list the task and no
            # tracer to record it, the task joins _tasks without chanlock (the critical
            # section cost a spawn ~0.25 us, measured).  Other threads read _tasks only
            # through one C-level snapshot, and gain nothing from the lock: an
            # end_run_locked whose snapshot misses the task has already set the phase
            # that _task_main tests before the task's first line (R6: killed before it
            # runs), and this proc's _unwind kills whatever is left.
            self._tasks.add(t)
        else:
            chanlock.acquire()
            try:
                self._tasks.add(t)
                if _trace.tracer is not None:
                    by = current_task_or_none()
                    _trace.task_create(self.world.id, self.id, t.id,
                                       None if by is None else by.id, t.name)
                if owner is not None:
                    t._owner = owner
                    owner.member_added_locked(t)  # (a cancelled group kills it here)
            finally:
                chanlock.release()
        self.runq.append(t)
        return t

    def _dispatch(self, t: Task) -> None:
        """Run ``t`` until it parks, yields or exits (S2: the only switch into a task)."""
        t._state = RUNNING
        self.current = t
        self.nswitch += 1
        g = t._glet
        try:
            if g is None:
                g = greenlet.greenlet(self._task_main, parent=self._sched_glet)
                t._glet = g
                g.switch(t)
            else:
                g.switch()
        except BaseException as e:  # escaped the task's own handling (an interrupt
            self._escaped(t, e)     # landing in its bottom frame, outside its try)
        self.current = None

    def _escaped(self, t: Task, e: BaseException) -> None:
        """A BaseException came out of a task's greenlet: it ends the run (it is fatal),
        and a task that died of it is done."""
        if self._fatal is None:
            self._fatal = e
        g = t._glet
        if t._state is not DONE and (g is None or g.dead):
            t._exc = e
            self._task_exit(t)

    def _task_main(self, t: Task) -> None:
        try:
            if t._kill_pending:
                take_kill(t)
            if self.world.phase is not RUN_RUNNING:  # the run is ending: start nothing
                raise killed_error(t)
            fn, args = t._fn, t._args
            assert fn is not None  # (let go only below)
            # A one-argument call is made without unpacking: CPython then runs fn in
            # this C frame instead of a nested one, so a parked task's saved C stack
            # (greenlet copies it to the heap) is ~370 bytes smaller.
            if len(args) == 1:
                t._result = fn(args[0])
            else:
                t._result = fn(*args)
        except TaskKilled as e:
            t._exc = e
        except BaseException as e:
            self._task_failed(t, e)
        finally:
            t._fn, t._args = None, ()  # let the call go while the Task lives on
            # J1, the lock-free TaskExit: a task with no owner, no joiner and no tracer
            # to record its exit ends without chanlock (the critical section cost a woken
            # task's exit ~0.7 us, measured: a lock right after a greenlet switch is
            # slow).  The exit takes effect at the DONE store: a joiner appends itself to
            # _joiners under chanlock and only then reads _state again (join_wait,
            # join_task), while this thread stores DONE and only then reads _joiners.
            # Under the GIL (every hand-off between threads orders memory; libtask9
            # refuses to import without it) every interleaving has one see the other:
            # the joiner finds the task done and withdraws, or this thread finds the
            # joiner and wakes it in _task_exit.  _tasks may shrink here without the
            # lock: other threads read it only through one C-level snapshot (list,
            # sorted).
            if t._owner is None and _trace.tracer is None:
                t._state = DONE
                self._tasks.discard(t)
                if t._joiners:
                    self._task_exit(t)
            else:
                self._task_exit(t)
            if t._exc is None and t is not self._main_task:
                self._hand_off(t)

    def _hand_off(self, t: Task) -> None:
        """The task ``t`` is ending normally (its last step, in its own greenlet): let it
        hand the processor straight to the next runnable task, as ``park`` does, on the
        same conditions -- the next task has started, nothing waits in ``_remote``, no
        timer is due and ``switch_direct`` is on.  The hand-off is greenlet's own: the
        next task's greenlet becomes the ending one's parent, which a greenlet switches
        to when it ends (one switch instead of two through the scheduler: a woken task's
        exit 7.6 -> 6.7 us, measured).  A task that raised, was killed, or is the proc's
        first task ends through the scheduler, which acts on it.

        The dead greenlet's parent is set back to the scheduler's at the next hand-off:
        otherwise every ended task would keep the next one's greenlet alive, a chain as
        long as the run whose release would recurse once per task."""
        runq = self.runq  # (the test and the take of park(), kept alike)
        if not runq or not self.switch_direct or self._remote:
            return
        nxt = runq[0]
        g = nxt._glet
        if g is None:  # (never ran: the scheduler greenlet starts it; see park)
            return
        timers = self.timers.entries
        if timers and timers[0].deadline <= self.world.clock():
            return
        sched, me = self._sched_glet, t._glet
        assert sched is not None and me is not None
        prev = self._handed
        if prev is not None:
            prev.parent = sched
        # From here on nothing can fail (and the SIGINT handler never raises in runtime
        # code): nxt, taken off the run queue, is resumed when this greenlet ends.
        runq.popleft()
        self.nswitch += 1
        nxt._state = RUNNING
        self.current = nxt
        me.parent = g
        self._handed = me

    def _task_failed(self, t: Task, e: BaseException) -> None:
        # (Not inline in _task_main: every parked task's saved stack holds _task_main's
        # frame, so a compiled core keeps that frame small.)
        t._exc = e
        if not isinstance(e, Exception):  # SystemExit, KeyboardInterrupt: end the run
            if self._fatal is None:
                self._fatal = e
        elif t is not self._main_task and t._owner is None:  # (an owner takes it)
            fatal = _report(t, e)
            if fatal is not None and self._fatal is None:
                self._fatal = fatal

    def _task_exit(self, t: Task) -> None:
        """TaskExit under chanlock: the task is done, and its joiners are readied (and its
        owner told) in the same critical section in which join() would see it done.  A
        task with no owner, no joiner and no tracer to record its exit ends without the
        lock instead (J1, in ``_task_main``)."""
        chanlock.acquire()
        try:
            t._state = DONE
            self._tasks.discard(t)
            woken = wake_joiners_locked(t._joiners)
            if t._owner is not None:
                t._owner.task_exited_locked(t)
            if _trace.tracer is not None:
                e = t._exc
                _trace.task_exit(self.world.id, self.id, t.id, woken,
                                 "returned" if e is None else
                                 "killed" if isinstance(e, TaskKilled) else "raised")
        finally:
            chanlock.release()

    # -- the scheduler loop --------------------------------------------------------------

    def _start(self, fn: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any], name: str, owner: TaskOwner | None = None) -> None:
        """ProcStart: bind the calling thread and create the first task."""
        self._bind()
        self._looping = True
        self._main_task = self._spawn(fn, args, kwargs, name=name, owner=owner)
        if _trace.tracer is not None:
            with chanlock:
                _trace.proc_start(self.world.id, self.id, self._main_task.id)

    def _schedule(self) -> None:
        """Run tasks until none is left: the loop, then the unwinding if the run or the
        proc is ending.  A KeyboardInterrupt that escapes into the scheduler (the idle
        wait) is recorded as the run's fatal exception, never lost."""
        try:
            self._loop()
        finally:
            self._looping = False
            self._handed = None

    def _loop(self) -> None:
        w = self.world
        runq = self.runq
        timers = self.timers
        clock = w.clock
        pk = self._parker
        mt = self._main_task
        while self._tasks:
            if self._remote:  # unlocked peek; tasks readied by other threads join the queue
                chanlock.acquire()
                runq.extend(self._remote)
                self._remote.clear()
                chanlock.release()
            if timers.entries and timers.due(clock()):
                chanlock.acquire()
                try:
                    timers.fire_due_locked(clock())
                finally:
                    chanlock.release()
            if pk.interrupt is not None:
                self._take_interrupt("scheduler")
            if w.phase is not RUN_RUNNING:
                self._unwind()
                return
            if runq:
                self._dispatch(runq.popleft())
                if (self._fatal is not None or (mt is not None and mt._exc is not None
                                                and self._tasks)) and self._failed():
                    return
                continue
            self._wait_for_work()

    def _failed(self) -> bool:
        """A task raised a BaseException (the run ends), or the first task raised: in
        the run's main proc the run ends, in another proc (an Exception) the proc ends.
        Returns True if the proc has been unwound."""
        if self._fatal is not None:
            with chanlock:
                end_run_locked(self.world, "fatal", self._fatal)
            return False
        if self.world.main is self:
            with chanlock:
                end_run_locked(self.world, "main raised", None)
            return False
        mt = self._main_task
        if mt is not None and isinstance(mt._exc, Exception):
            self._unwind()
            return True
        return False  # (its first task was killed: the proc's other tasks go on)

    def _take_interrupt(self, where: str) -> None:
        """An interrupt (KeyboardInterrupt) reached this proc: it ends the run."""
        pk = self._parker
        with chanlock:
            exc = pk.interrupt
            pk.interrupt = None
            self.switch_direct = True
            if exc is not None:
                if _trace.tracer is not None:
                    _trace.interrupt(self.world.id, self.id, where, type(exc).__name__)
                end_run_locked(self.world, "interrupt", exc)

    def _wait_for_work(self) -> None:
        """Sleep until another thread readies one of our tasks, a timer of ours is due, or
        the run ends (ProcIdle, ProcWake).

        W1: ``_idle`` is set, and counted in ``world.nidle``, exactly while this proc has
        nothing to run; ``ready_locked`` clears it in the same critical section in which it
        hands us a task, so the count never includes a proc that has work waiting.  A
        KeyboardInterrupt raised while asleep (the parker) restores the count and is
        handed to the scheduler loop as an interrupt.
        """
        w = self.world
        timers = self.timers
        clock = w.clock
        pk = self._parker
        chanlock.acquire()
        try:
            while not self._remote:
                if w.phase is not RUN_RUNNING or pk.interrupt is not None:
                    return
                if timers.entries:  # (the clock is read only when a timer is armed)
                    now = clock()
                    if timers.due(now):
                        timers.fire_due_locked(now)
                        if self.runq:  # a local task was woken
                            return
                        continue
                self._idle = True
                w.nidle += 1
                # (The deadlock decision needs every proc idle; without a tracer to tell
                # of this ProcIdle, the call is skipped while some other proc is busy.)
                declared = ((w.nidle == len(w.procs) or _trace.tracer is not None)
                            and check_deadlock_locked(w, None if _trace.tracer is None else
                                                      self._record_idle))
                if not declared and not (timers.entries and timers.due(clock())):
                    # (a virtual clock may just have jumped to one of our deadlines)
                    nd = None if w.virtual else timers.next_deadline()
                    try:
                        pk.wait_locked(None if nd is None else nd - clock())
                    except BaseException as e:  # (KeyboardInterrupt; chanlock is held)
                        pk.keep_interrupt(e)
                self._leave_idle_locked()  # (nobody handed us work: a timer, the end...)
            self.runq.extend(self._remote)
            self._remote.clear()
        finally:
            chanlock.release()

    def _leave_idle_locked(self) -> None:
        """ProcWake: if still idle (nobody handed us work), stop counting as idle."""
        if self._idle:
            self._idle = False
            w = self.world
            w.nidle -= 1
            if _trace.tracer is not None:
                _trace.proc_wake(w.id, self.id)

    def _record_idle(self, declared: bool) -> None:
        _trace.proc_idle(self.world.id, self.id, declared)

    def _unwind(self) -> None:
        """Unwind every remaining task with TaskKilled, in bounded rounds; tasks that keep
        swallowing it are abandoned with one RuntimeWarning naming them."""
        for _ in range(UNWIND_ROUNDS):
            if not self._tasks:
                return
            with chanlock:
                for t in sorted(self._tasks, key=lambda u: u.id):
                    kill_task_locked(t, traced=False, force=True)
                self.runq.extend(self._remote)
                self._remote.clear()
            while self.runq:
                self._dispatch(self.runq.popleft())
        if self._tasks:
            with chanlock:
                left = sorted(self._tasks, key=lambda u: u.id)
                self._abandoned.extend(left)
                self._tasks.clear()
            warnings.warn(
                f"libtask9: {self!r} abandoned {len(left)} task(s) that ignored "
                f"{UNWIND_ROUNDS} kills (a task must let TaskKilled propagate): "
                + ", ".join(f"{t!r}" for t in left), RuntimeWarning, stacklevel=1)

    def _exit_locked(self) -> bool:
        """ProcExit: deregister, wake the joiners, hand live timers to the run's main proc,
        then re-check for deadlock (after the joiners are readied: they are not idle).
        Returns whether a deadlock was declared."""
        w = self.world
        if self._idle:
            raise InternalError(f"W1 violated: {self!r} exits while idle")
        w.procs.discard(self)
        self._exited = True
        woken = wake_joiners_locked(self._joiners)
        main = w.main
        if self.timers.entries:
            if w.phase is RUN_RUNNING and main is not None and main is not self \
                    and main._looping:
                main.timers.adopt_locked(self.timers.take_all_locked())
                main._parker.wake_locked()  # it may sleep until a later deadline
            else:
                self.timers.disarm_all_locked()
        if _trace.tracer is None:
            declared = check_deadlock_locked(w)
        else:
            declared = check_deadlock_locked(w, partial(_trace.proc_exit, w.id, self.id,
                                                        woken))
        self._finished.set()
        return declared

    # -- public --------------------------------------------------------------------------

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the proc has exited; True if it has (False: ``timeout`` seconds
        passed first).

        From a plain thread this blocks the thread.  From a task it blocks only the task
        (other tasks of its proc keep running); a task cannot join its own proc
        (``WrongProc``).  ``None`` or ``inf`` waits for ever; NaN is a ValueError.
        """
        secs = timeout_seconds(timeout, "Proc.join()")
        me = current_proc_or_none()
        if me is self:
            raise WrongProc(f"{self!r}.join() called from one of its own tasks")
        t = None if me is None else me.current
        if t is None:
            return self._finished.wait(secs)
        return join_wait(t, self.world, f"proc {self.id}", self, secs)

    def join_task(self, task: Task, timeout: float | None) -> bool:
        """``Task.join``: wait for ``task`` (one of this proc's tasks) to finish."""
        secs = timeout_seconds(timeout, "Task.join()")
        t = current_task_or_none()
        if t is task:
            raise WrongProc(f"{task!r}.join() called from the task itself")
        if t is None:  # a plain thread (or a scheduler) waits on an Event
            with chanlock:
                if task._state is DONE:
                    return True
                ev = threading.Event()
                lst = task._joiners
                if lst is None:
                    lst = task._joiners = []
                lst.append(ev)
                if task._state is DONE:  # J1: it ended without the lock meanwhile
                    lst.remove(ev)
                    return True
            if ev.wait(secs):
                return True
            with chanlock:
                if ev in lst:
                    lst.remove(ev)
                return task._state is DONE
        return join_wait(t, self.world, f"task {task.id}", task, secs)

    def kill_task(self, task: Task) -> bool:
        """``Task.kill``: spec actions KillBlocked / KillPending."""
        with chanlock:
            return kill_task_locked(task, traced=True, force=False)

    def pending_timers(self) -> int:
        """How many armed timers this proc's heap holds (diagnostics)."""
        with chanlock:
            return len(self.timers)

    @property
    def finished(self) -> bool:
        """True once the proc has exited."""
        return self._finished.is_set()


def join_wait(t: Task, world: World, what: str, target: Proc | Task,
              secs: float | None) -> bool:
    """Block task ``t`` until ``target`` ends (JoinBlock), ``secs`` pass, or a kill."""
    if world is not t.proc.world and world.phase is not ENDED:
        raise WrongRun(f"{what} belongs to another run; a task can only join procs and "
                       "tasks of its own run")
    with chanlock:
        if t._kill_pending:
            raise killed_locked(t)
        if target._exited if isinstance(target, Proc) else target._state is DONE:
            return True
        if secs == 0.0:
            return False
        lst = target._joiners
        if lst is None:
            lst = target._joiners = []
        b = JoinWait(t, what, lst)
        lst.append(b)
        if not isinstance(target, Proc) and target._state is DONE:
            lst.remove(b)  # J1: the task ended without the lock meanwhile
            return True
        t._blocker = b
        t._state = BLOCKED
        if secs is not None:
            arm_wait_timer_locked(t, b, secs, "join")
        if _trace.tracer is not None:
            _trace.join_block(t.proc.world.id, t.proc.id, t.id, what,
                              "proc" if isinstance(target, Proc) else "task", target.id)
    park(t)
    outcome = b.outcome
    if outcome is OK:
        return True
    if outcome is TIMEDOUT:
        return False
    if outcome is None:
        raise InternalError(f"spurious wakeup of {t!r}: its join has no outcome")
    raise killed_error(t)


# -- stacks ------------------------------------------------------------------------------

_PKG_DIR: Final = os.path.dirname(os.path.abspath(__file__))


def is_runtime_file(path: str) -> bool:
    """Is ``path`` one of libtask9's runtime modules (whose frames stacks leave out)?"""
    return os.path.dirname(path) == _PKG_DIR and os.path.basename(path).startswith("_")


def frames_summary(f: FrameType | None) -> list[traceback.FrameSummary]:
    """The frames from ``f`` outwards, innermost first, runtime frames left out; source
    lines are not read here (callable under chanlock)."""
    out = []
    while f is not None:
        code = f.f_code
        if not is_runtime_file(code.co_filename):
            out.append(traceback.FrameSummary(code.co_filename, f.f_lineno or 0, code.co_name,
                                              lookup_line=False))
        f = f.f_back
    return out


def task_stack(t: Task) -> list[traceback.FrameSummary]:
    """The stack of a parked (or not yet started) task, innermost user frame first."""
    g = t._glet
    return frames_summary(None if g is None else g.gr_frame)


# -- the deadlock decision and the end of a run -----------------------------------------


def check_deadlock_locked(w: World, record: Callable[[bool], None] | None = None) -> bool:
    """Declare a deadlock if every registered proc of run ``w`` is idle and nothing can
    wake them (no live timer, no iocall in flight); True if declared.

    Called in every critical section after which the last possible waker may be gone: a
    proc going idle, a proc exiting (after waking its joiners), an iocall finishing, an
    IOProc stopping, a timer stopped from outside the run.  (spec/Procs.tla:
    NoFalseDeadlock, DeadlockDeclared.)  ``record(declared)`` records the caller's own
    event (ProcIdle, ProcExit, IoDone) before the RunEnding a declaration causes.
    """
    declared = _decide_deadlock_locked(w)
    if record is not None:
        record(declared)
    if declared:
        end_run_locked(w, "deadlock", None)
    return declared


def _decide_deadlock_locked(w: World) -> bool:
    if (w.phase is not RUN_RUNNING or w.deadlock is not None or w.iocalls
            or w.nidle != len(w.procs) or not w.procs):
        return False
    if w.ntimers:
        disarm_collected_locked()  # timers whose channel was garbage collected
        if w.ntimers:
            jump = w.autojump
            if jump is not None:  # a virtual clock: the next deadline is now
                jump(_next_deadline_locked(w))
            return False
    blocked: list[BlockedTask] = []
    for p in sorted(w.procs, key=lambda q: q.id):
        for t in sorted(p._tasks, key=lambda u: u.id):
            b = t._blocker
            if b is not None:  # (every proc is idle: every task is parked, frames still)
                blocked.append(BlockedTask(t, b.describe(), task_stack(t)))
    w.deadlock = Deadlock(blocked)
    return True


def _next_deadline_locked(w: World) -> float:
    """The earliest deadline of the run's live timers (there is one: ``w.ntimers > 0``)."""
    best = float("inf")
    for p in w.procs:
        e = p.timers.first_armed_locked()
        if e is not None and e.deadline < best:
            best = e.deadline
    return best


def wake_due_locked(w: World) -> None:
    """The run's clock moved: wake every idle proc with a timer now due (it un-idles and
    fires it)."""
    now = w.clock()
    for p in w.procs:
        if p.timers.due(now):
            p._parker.wake_locked()


def end_run_locked(w: World, reason: str, fatal: BaseException | None) -> None:
    """RunEnding: the run stops (main's proc is done, main raised, a fatal exception, an
    interrupt, or a deadlock).  Every task of every proc is killed (untraced: these kills
    are the scheduler's, not the program's), and every idle proc woken to unwind."""
    if fatal is not None and w.fatal is None:
        w.fatal = fatal
    if w.phase is not RUN_RUNNING:
        return
    w.phase = ENDING
    w.reason = reason
    if _trace.tracer is not None:
        _trace.run_ending(w.id, reason)
    for p in w.procs:
        for t in list(p._tasks):
            kill_task_locked(t, traced=False, force=False)
        p._parker.wake_locked()


# -- public functions ----------------------------------------------------------------------


def curproc() -> Proc:
    """The proc of the calling thread (raises NotInTask outside a proc)."""
    p: Proc | None = getattr(_tls, "proc", None)
    if p is None:
        raise NotInTask("curproc()")
    return p


def curtask() -> Task:
    """The running task (raises NotInTask outside a task)."""
    p: Proc | None = getattr(_tls, "proc", None)
    if p is None or p.current is None:
        raise NotInTask("curtask()")
    return p.current


def current_proc_or_none() -> Proc | None:
    """The proc bound to this thread, or None."""
    p: Proc | None = getattr(_tls, "proc", None)
    return p


def current_task_or_none() -> Task | None:
    """The running task, or None outside a task (the hot-path version of curtask)."""
    try:
        p: Proc | None = _tls.proc
    except AttributeError:  # no proc bound to this thread
        return None
    return None if p is None else p.current  # (None: unbound after its run)


def task_for(what: str) -> Task:
    """The running task, or NotInTask naming ``what``."""
    t = current_task_or_none()
    if t is None:
        raise NotInTask(what)
    return t


def new_task(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
    """Create a task in the current proc running ``fn(*args, **kwargs)``.

    The new task does not run yet: it first runs when its creator blocks or yields
    (thread(3) threadcreate).  Returns the :class:`Task` (its ``id`` is libthread's
    thread id).
    """
    p: Proc | None = getattr(_tls, "proc", None)
    if p is None:
        raise NotInTask("new_task()")
    return p._spawn(fn, args, kwargs)


def _thread_main(p: Proc, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], name: str, owner: TaskOwner | None) -> None:
    """The body of a proc made by new_proc: ProcStart, schedule, ProcExit."""
    try:
        p._start(fn, args, kwargs, name, owner)
        p._schedule()
    except BaseException as e:  # (a failure of the scheduler itself: keep it)
        p._fatal = p._fatal or e
    finally:
        p._unbind()
        main = p._main_task
        main_exc = None if main is None else main._exc
        if isinstance(main_exc, TaskKilled):  # unwound with its run: not a failure
            main_exc = None
        p.exception = p._fatal or main_exc
        p.result = None if main is None or main._exc is not None else main._result
        if isinstance(main_exc, Exception) and main is not None and main._owner is None:
            fatal = _report(main, main_exc)
            if fatal is not None and p._fatal is None:
                p._fatal = fatal
        with chanlock:
            if p._fatal is not None:
                end_run_locked(p.world, "fatal", p._fatal)
            p._exit_locked()


def new_proc(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Proc:
    """Start a new OS thread with its own scheduler, running ``fn`` as its first task.

    The proc belongs to the caller's run: ``run()`` returns only after it has exited,
    and if it is still running when the run ends (main's proc has finished, main raised,
    a Deadlock), its tasks are killed first.  Use ``Proc.join()`` to wait for it.  An
    exception escaping ``fn`` is reported through the task excepthook and kept in
    ``Proc.exception``.  In a seeded run, the new proc's random choices are seeded from
    its creator's generator.
    """
    return spawn_proc(fn, args, kwargs, None)


def spawn_proc(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
               owner: TaskOwner | None) -> Proc:
    """new_proc, with the first task owned by ``owner`` (a TaskGroup) if not None."""
    if not callable(fn):
        raise TypeError(f"new_proc() needs a callable, got {fn!r}")
    parent = current_proc_or_none()
    if parent is None:
        raise NotInTask("new_proc()")
    w = parent.world
    seed = parent.rng.getrandbits(64) if parent.seed is not None else None
    name = getattr(fn, "__name__", "proc")
    p = Proc(w, name, seed=seed)
    th = threading.Thread(target=_thread_main, args=(p, fn, args, kwargs, name, owner),
                          name=f"libtask9-proc-{p.id}", daemon=True)
    p.thread = th
    # ProcCreate and the thread's start are one step for interrupts: a KeyboardInterrupt
    # raised inside Thread.start() (Python code, waiting for the new thread to run) would
    # come after the thread exists, and the proc would run unregistered, never unwound.
    parent.defer_interrupts += 1
    try:
        with chanlock:  # ProcCreate: registered (and active) before the thread starts: W1
            if w.phase is not RUN_RUNNING:  # (ProcCreate is enabled only while running)
                me = current_task_or_none()
                if me is not None and me._kill_pending:
                    raise killed_locked(me)
                raise TaskKilled(f"new_proc() refused: run {w.id} is ending ({w.reason})")
            w.procs.add(p)
            w.all_procs.append(p)
            if owner is not None:
                owner.member_proc_added_locked(p)
            if _trace.tracer is not None:
                by = current_task_or_none()
                _trace.proc_create(w.id, p.id, None if by is None else by.id, name)
        try:
            th.start()
        except RuntimeError:  # (can't start new thread: it never ran)
            with chanlock:
                w.procs.discard(p)
                p._exited = True
                p._finished.set()
                check_deadlock_locked(w)
            raise
    finally:
        parent.defer_interrupts -= 1
    return p


def yield_() -> int:
    """Let the other runnable tasks of this proc run; return how many ran meanwhile.

    Like plan9port's ``yield``, which returns the number of dispatches in between (0
    means no other task was ready).  A switch point: a pending kill is delivered here.
    """
    p: Proc | None = getattr(_tls, "proc", None)
    if p is None or p.current is None:
        raise NotInTask("yield_()")
    t = p.current
    if t._kill_pending:
        take_kill(t)
    n = p.nswitch
    t._state = RUNNABLE
    p.runq.append(t)
    park(t)
    if t._kill_pending:
        take_kill(t)
    return p.nswitch - n - 1


def park(t: Task) -> None:
    """Switch away from the running task ``t`` until something readies it (S2).

    The next runnable task of the proc gets the processor directly (one greenlet switch
    instead of two through the scheduler), unless tasks readied by other threads are
    waiting to be moved into the run queue, a timer is due, or ``switch_direct`` is off
    (a test stepper, an interrupt to act on); then control goes back to the scheduler
    greenlet.  Whoever switches to ``t`` later has already set ``proc.current = t``.
    """
    p = t.proc
    if _getcurrent() is not t._glet:
        raise WrongProc(
            f"a blocking libtask9 call was made from a greenlet that is not task {t.id}; "
            "create tasks with new_task() instead of raw greenlets"
        )
    runq = p.runq
    # A task that never ran is started by the scheduler greenlet, not from here: a new
    # greenlet inherits the recursion depth of the one that starts it.
    # Due timers are fired by the scheduler loop, so they also stop the direct switch.
    # (Proc._hand_off repeats this test and take, inline too: one helper for both, a
    # call, cost the run and exit of a woken task 0.3 us and a ping-pong 1%, measured.)
    timers = p.timers.entries
    if (runq and p.switch_direct and not p._remote and runq[0]._glet is not None
            and not (timers and timers[0].deadline <= p.world.clock())):
        nxt = runq.popleft()
        p.nswitch += 1
        nxt._state = RUNNING
        p.current = nxt
        if nxt is not t:  # (t itself: yield_ with nobody else ready)
            nxt._glet.switch()  # type: ignore[union-attr]  # checked: runq[0]._glet
        return
    sched = p._sched_glet
    assert sched is not None
    sched.switch()


def ready_locked(t: Task) -> None:
    """Make a parked task runnable again.  Caller holds chanlock; any thread (S1)."""
    if t._state is not BLOCKED:
        raise InternalError(f"S1 violated: {t!r} readied while {t._state} (resumed twice?)")
    t._state = RUNNABLE
    p = t.proc
    if p._ident == _get_ident():
        p.runq.append(t)
    else:
        p._remote.append(t)
        if p._idle:  # W1: it has work now
            p._idle = False
            p.world.nidle -= 1
            p._parker.wake_locked()


def killed_error(t: Task) -> TaskKilled:
    """The exception a killed (or interrupted) task receives: the expired timeout scope's
    ``Cancelled`` if that is what interrupted it, else ``TaskKilled`` (naming why, if its
    run is ending)."""
    sc = t._scopes
    if sc is not None and sc.interrupted is not None:
        exc: TaskKilled = sc.interrupted.exception()
        sc.interrupted = None
        return exc
    w = t.proc.world
    why = "" if w.phase is RUN_RUNNING else f": its run is ending ({w.reason})"
    return TaskKilled(f"task {t.id} ({t.name}) was killed{why}")


def killed_locked(t: Task) -> TaskKilled:
    """Spec action Killed: the pending kill of ``t`` takes effect at this switch point or
    operation.  Caller holds chanlock and raises the returned exception.

    A pending interruption by an expired timeout scope is recorded here as KillPending
    and Killed together (``reason`` "timeout"): until now it was only pending, and a
    scope left before this point withdrew it unrecorded."""
    t._kill_pending = False
    sc = t._scopes
    if sc is not None and sc.pending is not None:
        c = sc.pending
        sc.pending = None
        if _trace.tracer is not None:
            w = t.proc.world.id
            _trace.kill_pending(w, t.id, t.proc.id, None, "timeout")
            _trace.killed(w, t.id, t.proc.id, "timeout")
        exc: TaskKilled = c.exception()
        return exc
    t._killed = True
    if _trace.tracer is not None and not t._kill_silent:
        _trace.killed(t.proc.world.id, t.id, t.proc.id)
    return killed_error(t)


def interrupt_locked(t: Task, cancel: Any) -> None:
    """An expired timeout scope of ``t`` interrupts it exactly as a kill does (a blocked
    operation is withdrawn atomically, KillBlocked; otherwise it lands at the next switch
    point), but the task lives on: it receives ``cancel.exception()``, which the scope
    catches.  A real kill pending, or a task already unwinding from one, is left alone.
    (``cancel`` is one of the task's scopes: its TaskScopes record exists.)"""
    sc = t._scopes
    assert sc is not None
    if (t._state is DONE or t._killed or sc.interrupted is not None
            or (t._kill_pending and sc.pending is None)):
        return
    b = t._blocker
    if b is not None and t._state is BLOCKED:
        sc.interrupted = cancel
        if _trace.tracer is not None:
            _trace.kill_blocked(t.proc.world.id, t.id, t.proc.id, None, "timeout")
        b.abort_locked()
    else:
        sc.pending = cancel
        t._kill_pending = True  # (recorded when it lands: killed_locked)


def take_kill(t: Task) -> None:
    """Deliver a pending kill to the running task ``t`` (at yield_, task start, ...)."""
    with chanlock:
        if not t._kill_pending:
            return
        exc = killed_locked(t)
    raise exc


def kill_task_locked(t: Task, traced: bool, force: bool, reason: str | None = None) -> bool:
    """Spec actions KillBlocked and KillPending.  ``force`` (the scheduler unwinding a
    proc) kills again a task that swallowed an earlier kill and blocked again (a task
    still unwinding from its kill, e.g. in a ``finally``, is left to finish).  A kill
    replaces a timeout scope's pending interruption."""
    sc = t._scopes
    if t._kill_pending and sc is not None and sc.pending is not None:
        sc.pending = None  # (unrecorded so far: see killed_locked)
        t._kill_pending = False
    if t._state is DONE or t._kill_pending or (t._killed and not (force and
                                                                     t._state is BLOCKED)):
        return False
    tr = _trace.tracer if traced else None
    b = t._blocker
    if b is not None and t._state is BLOCKED:
        # KillBlocked: the wait is withdrawn from everything it is registered in
        # (nothing it offered is delivered, nothing is lost) and completed KILLED.
        t._killed = True
        if tr is not None:
            me = current_task_or_none()
            _trace.kill_blocked(t.proc.world.id, t.id, t.proc.id,
                                None if me is None else me.id, reason)
        b.abort_locked()
    else:
        # KillPending: t is running, runnable (perhaps woken with a completed op, which
        # stands) or not started; the kill lands at its next switch point.
        t._kill_pending = True
        t._kill_silent = tr is None  # (a scheduler kill: its Killed is not recorded)
        if tr is not None:
            me = current_task_or_none()
            _trace.kill_pending(t.proc.world.id, t.id, t.proc.id,
                                None if me is None else me.id, reason)
    return True


# -- fork ------------------------------------------------------------------------------

FORK_MESSAGE: Final = (
    "os.fork() was called inside a libtask9 run: the child process has only the forking "
    "thread, so it cannot continue the run (its other procs, timers and IOProcs are not "
    "there); in the child, exec a program or call os._exit(), or start processes with "
    "subprocess or multiprocessing's 'spawn' method")


def _before_fork() -> None:
    chanlock.acquire()  # no thread is inside a critical section at the fork


def _after_fork_in_parent() -> None:
    chanlock.release()


def _after_fork_in_child() -> None:
    """In the child, every run alive at the fork ends: the forking proc's tasks are
    killed (``TaskKilled`` names the fork), its ``run()`` raises RuntimeError, and the
    procs that stayed behind in the parent are forgotten."""
    chanlock.release()
    me = current_proc_or_none()
    with chanlock:
        for w in live_worlds_locked():
            w.procs = {p for p in w.procs if p is me}
            for p in w.procs:
                p._idle = False
            w.nidle = 0
            w.iocalls = 0
            end_run_locked(w, "os.fork() in the run", RuntimeError(FORK_MESSAGE))
            if not w.procs:
                w.ended_locked()
        fallback_timers.thread = None  # (it stayed in the parent)
        if fallback_timers.heap.entries:
            fallback_timers.restart_locked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
