"""Procs and their schedulers.

A *proc* is one OS thread running a scheduler loop in its main greenlet; its *tasks* are
child greenlets that run one at a time, in FIFO order of readiness, and give the
processor back only at switch points (thread(3): "threads ... are cooperatively
scheduled").  Procs preempt each other arbitrarily (the OS and the GIL decide).

Locking discipline (plan9port ``channel.c`` keeps one global ``chanlock`` for the same
reason: per-channel locks would also need per-alt locks, "not worth the extra effort"):

* ``chanlock`` (one ``threading.Lock`` for the whole process) guards every channel, every
  pending alt, ``Task._alt``/``_kill_pending``/``_killed``, every proc's ``_remote`` queue
  and ``_idle`` flag, the timer heap, the IOProc request queues and the ``world``
  counters below.  One critical section of ``chanlock`` = one action of
  ``spec/Channels.tla``.
* Nothing blocks or switches greenlets while holding ``chanlock``.  An idle proc decides
  to sleep under ``chanlock`` and sleeps on its own parker (``Proc._parker``, a
  semaphore whose state chanlock guards) after releasing it, so a wake-up can never be
  lost between "queue empty" and "wait".
* ``Proc.runq`` belongs to the proc's own thread and is touched without a lock.  Another
  thread readies a task only by appending it to the owner's ``_remote`` list under
  ``chanlock`` (``ready_locked``); the owner moves it to ``runq``.  So a greenlet is only
  ever switched to from its own thread (greenlet raises "cannot switch to a different
  thread" otherwise), and a task readied before it has finished parking is harmless: its
  owner cannot pick it until the parking switch has happened.

Invariants (asserted where they are kept):

* S1 a task is in at most one run queue, at most once: only ``ready_locked`` makes a
  BLOCKED/HELD task RUNNABLE, and it refuses any other state ("resumed exactly once").
* S2 only the scheduler greenlet switches into a task (``Proc._dispatch``); a task only
  switches to its scheduler (``park``).
* W1 ``world.nidle`` = number of registered procs waiting in ``_wait_for_work``.
  ``Deadlock`` is declared iff every registered proc is idle, no timer is pending and no
  iocall is in flight; all three are read under ``chanlock``.
"""

from __future__ import annotations

import itertools
import random
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import greenlet

from . import _trace
from ._task import BLOCKED, DONE, HELD, NEW, RUNNABLE, RUNNING, Task
from .errors import ChannelClosed, Deadlock, InternalError, NotInTask, TaskKilled, WrongProc

if TYPE_CHECKING:
    from ._chan import Channel

__all__ = [
    "Proc",
    "Runner",
    "Stepper",
    "chanlock",
    "curproc",
    "curtask",
    "new_proc",
    "new_task",
    "run",
    "set_excepthook",
    "yield_",
]

R = TypeVar("R")

# Final: a compiled core (make compiled) reads these as C statics, not dict lookups.
chanlock: Final = threading.Lock()
_get_ident: Final = threading.get_ident
_getcurrent: Final = greenlet.getcurrent
_monotonic: Final = time.monotonic
_tls: Final = threading.local()
_proc_ids = itertools.count(1)

CaseChooser = Callable[[Sequence[int]], int]


class _Parker:
    """Where an idle proc's thread sleeps: a binary semaphore whose state is guarded by
    chanlock (Go's ``note``).  It replaces a ``threading.Condition`` on chanlock, whose
    wait/notify run ~20 lines of interpreted Python and allocate a lock per wait: with
    the compiled core this is ~2 µs less per cross-proc round trip (one CPU).

    ``wait_locked`` is called with chanlock held, releases it while asleep and returns
    with it held again; a ``wake_locked`` made after ``wait_locked`` released the lock is
    never lost (the semaphore keeps it), and at most one is pending at a time.
    """

    def __init__(self) -> None:
        self._sem = threading.Lock()
        self._sem.acquire()  # held = no wake-up pending
        self._sleeping = False

    def wait_locked(self, timeout: float | None) -> None:
        self._sleeping = True
        chanlock.release()
        try:
            woken = self._sem.acquire(True, -1 if timeout is None else max(timeout, 0.0))
        finally:
            chanlock.acquire()
        if self._sleeping:  # timed out and nobody woke us
            self._sleeping = False
        elif not woken:  # a waker came after the timeout: take its wake-up (no wait)
            self._sem.acquire()

    def wake_locked(self) -> None:
        if self._sleeping:
            self._sleeping = False
            self._sem.release()


class _World:
    """Process-wide counters for deadlock detection.  Every field is guarded by chanlock."""

    def __init__(self) -> None:
        self.procs: set[Proc] = set()  # registered procs (their loops run or will run)
        self.nidle = 0  # W1
        self.iocalls = 0  # iocalls queued or running in IOProcs
        self.deadlock: Deadlock | None = None
        # Set by _timer: True while a live timer may still fire; fire a heap's due timers;
        # take over the live timers of an ending proc.
        self.timers_pending: Callable[[], bool] = lambda: False
        self.fire_timers_locked: Callable[[list[Any], float], None] = lambda heap, now: None
        self.adopt_timers_locked: Callable[[list[Any]], None] = lambda entries: None

    def quiescent_locked(self) -> bool:
        return self.iocalls == 0 and not self.timers_pending()

    def check_deadlock_locked(self) -> bool:
        """Declare a deadlock if every registered proc is idle and nothing can wake them.

        Called whenever the last possible waker may have gone: a proc going idle or
        exiting, a timer firing or being stopped, an iocall finishing, an IOProc stopping.
        """
        if (self.deadlock is None and self.procs and self.nidle == len(self.procs)
                and self.quiescent_locked()):
            self.declare_deadlock_locked()
            return True
        return False

    def declare_deadlock_locked(self) -> None:
        blocked: list[tuple[Any, str]] = []
        for p in sorted(self.procs, key=lambda q: q.id):
            for t in sorted(p._tasks, key=lambda u: u.id):
                if t._alt is not None:
                    blocked.append((t, t._alt.describe()))
        self.deadlock = Deadlock(blocked)
        for p in self.procs:
            p._parker.wake_locked()


world: Final = _World()


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
    previous = _excepthook
    _excepthook = hook if hook is not None else _default_excepthook
    return previous


class Proc:
    """One OS thread with its own scheduler (libthread's *proc*).

    Create one with :func:`new_proc`, or make the calling thread a proc with :func:`run`.
    """

    def __init__(self, name: str, seed: int | None = None) -> None:
        self.id: int = next(_proc_ids)
        self.name = name
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
        self._tasks: set[Task] = set()  # live tasks (mutated by owner, read under chanlock)
        self._main_task: Task | None = None
        self._ident: int | None = None
        self._sched_glet: greenlet.greenlet | None = None
        self._remote: list[Task] = []  # guarded by chanlock
        self._idle = False  # guarded by chanlock
        self._parker = _Parker()  # where the idle scheduler sleeps
        self._finished = threading.Event()
        self._fatal: BaseException | None = None
        self._done_ch: Channel[None] | None = None
        self._direct = True  # park() may switch straight to the next task (not in a Stepper)
        #: Heap of the timers armed by this proc's tasks (``_timer._Entry``; chanlock).
        self.timers: list[Any] = []

    def __repr__(self) -> str:
        return f"<Proc {self.id} {self.name!r} tasks={len(self._tasks)}>"

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
               name: str | None = None) -> Task:
        if not callable(fn):
            raise TypeError(f"new_task() needs a callable, got {fn!r}")
        t = Task(self, fn, args, kwargs, name)
        self._tasks.add(t)
        t._state = NEW
        self.runq.append(t)
        return t

    def _dispatch(self, t: Task) -> None:
        """Run ``t`` until it parks, yields or exits (S2: the only switch into a task)."""
        t._state = RUNNING
        self.current = t
        self.nswitch += 1
        g = t._glet
        if g is None:
            g = greenlet.greenlet(self._task_main, parent=self._sched_glet)
            t._glet = g
            g.switch(t)
        else:
            g.switch()
        self.current = None

    def _task_main(self, t: Task) -> None:
        try:
            if t._kill_pending:
                take_kill(t)
            fn, args, kwargs = t._fn, t._args, t._kwargs
            # A one-argument call is made without unpacking: CPython then runs fn in
            # this C frame instead of a nested one, so a parked task's saved C stack
            # (greenlet copies it to the heap) is ~370 bytes smaller.
            if kwargs:
                t._result = fn(*args, **kwargs)
            elif len(args) == 1:
                t._result = fn(args[0])
            else:
                t._result = fn(*args)
        except TaskKilled:
            pass
        except BaseException as e:
            self._task_failed(t, e)
        finally:
            t._state = DONE
            t._args, t._kwargs = (), None  # let the arguments go while the Task lives on
            self._tasks.discard(t)

    def _task_failed(self, t: Task, e: BaseException) -> None:
        # (Not inline in _task_main: every parked task's saved stack holds _task_main's
        # frame, so a compiled core keeps that frame small.)
        t._exc = e
        if t is not self._main_task:
            if isinstance(e, Exception):
                try:
                    _excepthook(t, e)
                except Exception:  # a broken hook must not kill the scheduler
                    traceback.print_exc()
            else:  # SystemExit, KeyboardInterrupt, ...: end the proc
                self._fatal = e

    # -- the scheduler loop --------------------------------------------------------------

    def _run_here(self, fn: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any], report: bool = False) -> Any:
        """Make the calling thread this proc, run ``fn`` as the first task, schedule.

        With ``report`` (procs made by new_proc, whose result nobody re-raises), an
        exception of the first task goes to the excepthook before ``join()`` returns."""
        self._bind()
        try:
            with chanlock:
                world.procs.add(self)
            self._main_task = self._spawn(fn, args, kwargs, name="main")
            self._loop()
        finally:
            self._unbind()
            main = self._main_task
            # What run() re-raises, in order of precedence; kept in Proc.exception.
            main_exc = None if main is None else main._exc
            self.exception = self._fatal or main_exc or self.exception
            if report and isinstance(main_exc, Exception) and main is not None:
                try:
                    _excepthook(main, main_exc)
                except Exception:
                    traceback.print_exc()
            with chanlock:
                world.procs.discard(self)
                if self.timers:  # still live: the fallback timer thread fires them now
                    world.adopt_timers_locked(self.timers)
                    self.timers = []
                if not world.procs:
                    world.deadlock = None
                else:  # we may have been the last proc that could wake the others
                    world.check_deadlock_locked()
                if self._done_ch is not None:
                    from ._chan import close_internal_locked

                    close_internal_locked(self._done_ch)
                # Set in the same critical section in which join() looks at it before
                # creating _done_ch: a joiner either sees "finished" or gets the close.
                self._finished.set()
        if self.exception is not None:
            raise self.exception
        assert main is not None
        return main._result

    def _loop(self) -> None:
        runq = self.runq
        timers = self.timers
        while self._tasks:
            if self._remote:  # unlocked peek; tasks readied by other threads join the queue
                with chanlock:
                    runq.extend(self._remote)
                    self._remote.clear()
            if timers and timers[0].deadline <= _monotonic():
                with chanlock:
                    world.fire_timers_locked(timers, _monotonic())
            if runq:
                t = runq.popleft()
                self._dispatch(t)
                if (self._fatal is not None or (self._main_task is not None
                        and self._main_task._exc is not None)) and self._tasks:
                    self._kill_all()
                continue
            self._wait_for_work()
            if not runq and world.deadlock is not None:
                self.exception = world.deadlock
                self._kill_all()
                return

    def _wait_for_work(self) -> None:
        """Sleep until another thread readies one of our tasks (or a deadlock is declared).

        W1: ``_idle`` is set, and counted in ``world.nidle``, exactly while this proc has
        nothing to run; ``ready_locked`` clears it in the same critical section in which it
        hands us a task, so the count never includes a proc that has work waiting.
        """
        timers = self.timers
        with chanlock:
            while not self._remote:
                if world.deadlock is not None:
                    return
                if timers and timers[0].deadline <= _monotonic():
                    world.fire_timers_locked(timers, _monotonic())
                    if self.runq:  # a local task was woken
                        return
                    continue
                self._idle = True
                world.nidle += 1
                if world.check_deadlock_locked():
                    self._idle = False
                    world.nidle -= 1
                    return
                # Sleep until another thread hands us a task, or our next timer is due.
                self._parker.wait_locked(timers[0].deadline - _monotonic() if timers else None)
                if self._idle:  # woken without work: deadlock declared elsewhere
                    self._idle = False
                    world.nidle -= 1
            self.runq.extend(self._remote)
            self._remote.clear()

    def _kill_all(self) -> None:
        """Unwind every remaining task of this proc with TaskKilled (bounded rounds)."""
        from ._chan import kill_task

        for _ in range(100):
            if not self._tasks:
                return
            for t in sorted(self._tasks, key=lambda u: u.id):
                kill_task(t, traced=False)
            with chanlock:
                self.runq.extend(self._remote)
                self._remote.clear()
            while self.runq:
                self._dispatch(self.runq.popleft())
        if self._tasks:  # tasks that keep blocking after 100 kills are abandoned
            print(f"libtask9: {self!r} abandoned tasks that ignore TaskKilled: "
                  f"{sorted(self._tasks, key=lambda u: u.id)}", file=sys.stderr)

    # -- public --------------------------------------------------------------------------

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the proc's tasks have all finished; True if it has.

        From a plain thread this blocks the thread.  From a task it blocks only the task
        (other tasks of its proc keep running).
        """
        me = getattr(_tls, "proc", None)
        if me is self:
            raise WrongProc(f"{self!r}.join() called from one of its own tasks")
        if me is None or me.current is None:
            return self._finished.wait(timeout)
        from ._chan import Channel, alt, alt_recv  # (import cycle: _chan uses this module)
        from ._timer import after

        with chanlock:  # closed by the proc's thread when it finishes (_run_here)
            if self._finished.is_set():
                return True
            if self._done_ch is None:
                self._done_ch = Channel._internal(0, f"proc{self.id}.done")
            done = self._done_ch
        try:
            if timeout is None:
                done.recv()
            else:
                idx, _ = alt(alt_recv(done), alt_recv(after(timeout * 1000.0)))
                return idx == 0 or self._finished.is_set()
        except ChannelClosed:
            return True
        return True

    @property
    def finished(self) -> bool:
        return self._finished.is_set()


def _thread_main(p: Proc, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
    try:
        p.result = p._run_here(fn, args, kwargs, report=True)
    except BaseException as e:
        p.exception = e


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


def new_proc(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Proc:
    """Start a new OS thread with its own scheduler, running ``fn`` as its first task.

    Procs are daemon threads (as in Go, the program does not wait for them): use
    ``Proc.join()`` to wait.  An exception escaping ``fn`` is reported through the task
    excepthook and kept in ``Proc.exception``.  In a seeded run, the new proc's random
    choices are seeded from its creator's generator.
    """
    if not callable(fn):
        raise TypeError(f"new_proc() needs a callable, got {fn!r}")
    parent: Proc | None = getattr(_tls, "proc", None)
    seed = parent.rng.getrandbits(64) if parent is not None and parent.seed is not None else None
    p = Proc(getattr(fn, "__name__", "proc"), seed=seed)
    with chanlock:
        world.procs.add(p)  # registered (and active) before the thread starts: W1
    th = threading.Thread(target=_thread_main, args=(p, fn, args, kwargs),
                          name=f"libtask9-proc-{p.id}", daemon=True)
    p.thread = th
    try:
        th.start()
    except BaseException:
        with chanlock:
            world.procs.discard(p)
        raise
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
    waiting to be moved into the run queue or a Stepper drives the proc; then control
    goes back to the scheduler greenlet.  Whoever switches to ``t`` later has already
    set ``proc.current = t``.
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
    timers = p.timers
    if (runq and p._direct and not p._remote and runq[0]._glet is not None
            and not (timers and timers[0].deadline <= _monotonic())):
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
    if t._state is not BLOCKED and t._state is not HELD:
        raise InternalError(f"S1 violated: {t!r} readied while {t._state} (resumed twice?)")
    t._state = RUNNABLE
    p = t.proc
    if p._ident == _get_ident():
        p.runq.append(t)
    else:
        p._remote.append(t)
        if p._idle:  # W1: it has work now
            p._idle = False
            world.nidle -= 1
            p._parker.wake_locked()


def killed_error(t: Task) -> TaskKilled:
    """The exception a killed task receives."""
    return TaskKilled(f"task {t.id} ({t.name}) was killed")


def killed_locked(t: Task) -> TaskKilled:
    """Spec action Killed: the pending kill of ``t`` takes effect at this switch point or
    operation.  Caller holds chanlock and raises the returned exception."""
    t._kill_pending = False
    t._killed = True
    tr = _trace.tracer
    if tr is not None:
        tr({"seq": _trace.next_seq(), "action": "Killed", "task": t.id, "proc": t.proc.id})
    return killed_error(t)


def take_kill(t: Task) -> None:
    """Deliver a pending kill to the running task ``t`` (at yield_, hold, task start)."""
    with chanlock:
        if not t._kill_pending:
            return
        exc = killed_locked(t)
    raise exc


class Runner:
    """Run options.  ``Runner(seed=42).run(main)`` makes one proc's alt choices and
    scheduling reproducible (procs it creates are seeded from it in turn)."""

    def __init__(self, seed: int | None = None, choose_case: CaseChooser | None = None,
                 name: str = "main") -> None:
        self.seed = seed
        self.choose_case = choose_case
        self.name = name

    def run(self, main: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        p = Proc(self.name, seed=self.seed)
        if self.choose_case is not None:
            p.choose_case = self.choose_case
        result: R = p._run_here(main, args, kwargs)
        return result


def run(main: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Make the calling thread a proc and run ``main(*args, **kwargs)`` as its first task.

    Schedules until ``main`` and every other task of this proc have finished, then
    returns ``main``'s result or re-raises its exception (if ``main`` raises, the proc's
    other tasks are killed first).  Raises :class:`Deadlock` if every task of every proc
    gets blocked with nothing left to wake them.  Several plain threads may each call
    ``run`` and become independent procs.
    """
    return Runner().run(main, *args, **kwargs)


class Stepper:
    """A proc driven by hand, for deterministic tests (``libtask9.testing``).

    The calling thread becomes a proc whose scheduler is the test itself: ``spawn``
    creates tasks, ``step(task)`` runs one runnable task until it parks or yields,
    ``hold()`` (called by a task) parks it outside any channel operation until
    ``release(task)``.  The proc is not registered for deadlock detection.
    """

    def __init__(self, seed: int = 0, choose_case: CaseChooser | None = None) -> None:
        self.proc = Proc("stepper", seed=seed)
        self.proc._direct = False  # every park returns to the test
        if choose_case is not None:
            self.proc.choose_case = choose_case
        self.proc._bind()

    def spawn(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        return self.proc._spawn(fn, args, kwargs)

    def runnable(self) -> list[Task]:
        p = self.proc
        with chanlock:
            p.runq.extend(p._remote)
            p._remote.clear()
        return list(p.runq)

    def step(self, t: Task) -> None:
        p = self.proc
        self.runnable()
        try:
            p.runq.remove(t)
        except ValueError:
            raise InternalError(f"{t!r} is not runnable") from None
        p._dispatch(t)
        if p._fatal is not None:
            raise p._fatal

    def run_until_idle(self, limit: int = 100000) -> int:
        n = 0
        while self.runnable() and n < limit:
            self.step(self.proc.runq[0])
            n += 1
        return n

    @staticmethod
    def hold() -> None:
        """Park the calling task until ``release`` (no channel involved)."""
        t = curtask()
        t._state = HELD
        park(t)
        if t._kill_pending:
            take_kill(t)

    def release(self, t: Task) -> None:
        with chanlock:
            ready_locked(t)

    def close(self) -> None:
        try:
            self.proc._kill_all()
        finally:
            self.proc._unbind()

    def __enter__(self) -> Stepper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

