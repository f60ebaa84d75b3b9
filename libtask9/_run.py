"""Runs: ``run()``, ``Runner``, how a run ends, and interrupts.

A run is one call of :func:`run` (or :meth:`Runner.run`): the calling thread becomes the
run's *main proc*, ``main`` its first task, and every proc its tasks create belongs to
the run (``spec/Procs.tla``).  The run ends when main's proc has no task left, when main
raises, when a task raises a ``BaseException`` that is not ``TaskKilled``
(``SystemExit``, ``KeyboardInterrupt``), or when a deadlock is declared.  Then every task
of every proc of the run is unwound with ``TaskKilled`` (its ``finally`` blocks run),
and ``run()`` returns or raises only after every proc's thread has ended and every IOProc
the run started has stopped (RunEndsClean), waiting at most ``shutdown_grace`` seconds
for procs that cannot finish (a task stuck in a blocking call): those are named in a
``RuntimeWarning``, never waited on for ever.

Interrupts.  When ``run()`` is called in the main thread and SIGINT has Python's default
handler, the run installs its own for its duration (trio does the same): a
``KeyboardInterrupt`` is raised at once in task code, raised in the idle wait (where the
scheduler restores its state and unwinds the run), and deferred to the scheduler's next
step when it arrives inside the runtime itself, so no runtime state is ever left half
updated.  Either way the run ends: every task is unwound and ``run()`` raises
``KeyboardInterrupt``.
"""

from __future__ import annotations

import signal
import threading
import time
import warnings
from collections.abc import Callable
from types import FrameType
from typing import Any, Final, TypeVar

import greenlet

from . import _trace
from ._clock import VirtualClock
from ._sched import (
    CaseChooser,
    Proc,
    _tls,
    current_proc_or_none,
    end_run_locked,
    is_runtime_file,
)
from ._world import World, chanlock
from .errors import TaskKilled

__all__ = ["Runner", "run"]

R = TypeVar("R")

# The bottom frame of every task (None in a compiled core, whose functions have no
# frames: there a task's frame chain simply ends).
_TASK_MAIN_CODE: Final = getattr(Proc._task_main, "__code__", None)


class Runner:
    """Run options.

    * ``seed``: makes the main proc's alt choices reproducible (procs it creates are
      seeded from it in turn).
    * ``choose_case``: replaces the main proc's choice among ready alt cases.
    * ``name``: the name of the main task.
    * ``shutdown_grace``: seconds ``run()`` waits, once the run is ending, for procs
      that do not finish (a task in a blocking call cannot be unwound); they are then
      named in a ``RuntimeWarning`` and left behind.
    * ``clock``: a :class:`~libtask9.VirtualClock` for the run's timers (default: the
      real monotonic clock).
    """

    def __init__(self, seed: int | None = None, choose_case: CaseChooser | None = None,
                 name: str = "main", shutdown_grace: float = 10.0,
                 clock: VirtualClock | None = None) -> None:
        if clock is not None and not isinstance(clock, VirtualClock):
            raise TypeError(f"clock must be a VirtualClock or None, got {clock!r}")
        self.clock = clock
        if choose_case is not None and not callable(choose_case):
            raise TypeError(f"choose_case must be callable, got {choose_case!r}")
        if isinstance(shutdown_grace, bool) or not isinstance(shutdown_grace, (int, float)) \
                or not shutdown_grace >= 0:
            raise ValueError(f"shutdown_grace must be seconds >= 0, got {shutdown_grace!r}")
        self.seed = seed
        self.choose_case = choose_case
        self.name = name
        self.shutdown_grace = float(shutdown_grace)

    def run(self, main: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``main(*args, **kwargs)`` as the first task of a new run in this thread;
        return its result or raise (see :func:`run`)."""
        if not callable(main):
            raise TypeError(f"run() needs a callable, got {main!r}")
        if current_proc_or_none() is not None:
            raise RuntimeError(
                "this thread is already a libtask9 proc; create tasks with new_task() "
                "or another OS thread with new_proc() instead of calling run() again")
        w = World()
        if self.clock is not None:
            self.clock._attach(w)
        p = Proc(w, self.name, seed=self.seed)
        if self.choose_case is not None:
            p.choose_case = self.choose_case
        with chanlock:  # RunStart
            w.procs.add(p)
            w.main = p
            if _trace.tracer is not None:
                _trace.run_start(w.id, p.id)
        previous = _install_sigint()
        try:
            try:
                p._start(main, args, kwargs, self.name)
                p._schedule()
            except BaseException as e:  # the scheduler itself failed (or an interrupt)
                with chanlock:
                    p._leave_idle_locked()  # (it may have failed in its idle wait)
                    end_run_locked(w, "fatal", e)
            self._end(w, p)
        finally:
            _restore_sigint(previous)
        result: R = _outcome(w, p)
        return result

    def _end(self, w: World, p: Proc) -> None:
        """The main proc is done: end the run, wait for its procs, stop its IOProcs."""
        main = p._main_task
        _take_late_interrupt(w, p)  # (deferred while its last task was ending)
        try:
            with chanlock:
                end_run_locked(w, "main returned" if main is None or main._exc is None
                               else "main raised", None)
                p._exit_locked()
        finally:  # (even after an InternalError: this thread may run() again)
            p._unbind()
        # The last one: unbound, the thread's SIGINT handler no longer records interrupts
        # for this proc (it raises them plainly), so none can arrive after this.
        _take_late_interrupt(w, p)
        deadline = time.monotonic() + self.shutdown_grace
        stuck: list[str] = []
        while True:
            # Every proc ever created: one that has exited may not have ended its thread.
            with chanlock:
                threads = [q.thread for q in w.all_procs
                           if q.thread is not None and q.thread.is_alive()]
            if not threads:
                break
            for th in threads:
                try:
                    th.join(max(deadline - time.monotonic(), 0.0))
                except BaseException as e:  # an interrupt while we wait: keep waiting
                    with chanlock:
                        if w.fatal is None:
                            w.fatal = e
            if time.monotonic() >= deadline:
                with chanlock:
                    left = [q for q in w.all_procs
                            if q.thread is not None and q.thread.is_alive()]
                    w.procs.clear()
                stuck.extend(_describe_stuck(q) for q in left)
                break
        for close in reversed(w.closers):
            what = close(max(deadline - time.monotonic(), 0.0))
            if what is not None:
                stuck.append(what)
        if stuck:
            warnings.warn(
                f"libtask9: run {w.id} ended but could not stop, within "
                f"{self.shutdown_grace:g} s: " + "; ".join(stuck)
                + " (a task blocked in a system call cannot be unwound; use an IOProc)",
                RuntimeWarning, stacklevel=3)
        with chanlock:  # RunEnd
            if _trace.tracer is not None:
                _trace.run_end(w.id, _outcome_name(w, p))
            w.ended_locked()


def _take_late_interrupt(w: World, p: Proc) -> None:
    """An interrupt deferred while the main proc's scheduler was ending (there is no next
    scheduler step to act on it): it becomes the run's fatal exception."""
    pk = p._parker
    with chanlock:
        exc = pk.interrupt
        pk.interrupt = None
        if exc is not None:
            if w.fatal is None:
                w.fatal = exc
            end_run_locked(w, "interrupt", exc)


def _describe_stuck(q: Proc) -> str:
    cur = q.current
    return f"{q!r}" + (f" running {cur!r}" if cur is not None else "")


def _outcome_name(w: World, p: Proc) -> str:
    main = p._main_task
    if w.fatal is not None:
        return type(w.fatal).__name__
    if w.deadlock is not None:
        return "Deadlock"
    if main is not None and main._exc is not None:
        return type(main._exc).__name__
    return "returned"


def _outcome(w: World, p: Proc) -> Any:
    """What run() gives back: a fatal exception (KeyboardInterrupt, SystemExit, ...),
    else the Deadlock, else main's exception (``TaskKilled`` if it was killed), else
    main's result."""
    main = p._main_task
    if w.fatal is not None:
        raise w.fatal
    if w.deadlock is not None:
        raise w.deadlock
    if main is None:
        raise TaskKilled("the run ended before main started")
    if main._exc is not None:
        raise main._exc
    return main._result


def run(main: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Make the calling thread a proc and run ``main(*args, **kwargs)`` as its first task.

    Schedules until ``main`` and every other task of this proc have finished, then
    unwinds the procs of the run that are still running (``TaskKilled``), waits for
    their threads, and returns ``main``'s result or re-raises its exception (if ``main``
    raises, every other task of the run is killed first).  Raises :class:`Deadlock` if
    every task of every proc of the run gets blocked with nothing left to wake them.
    Several plain threads may each call ``run``: the runs are independent (each detects
    its own deadlocks), and a channel in use by one run cannot be used by another
    (``WrongRun``).
    """
    return Runner().run(main, *args, **kwargs)


# -- interrupts ------------------------------------------------------------------------


def _install_sigint() -> Any:
    """Install the run's SIGINT handler (main thread, default handler only); returns
    what to restore, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return None
        signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # (an embedded interpreter without signals)
        return None
    return signal.default_int_handler


def _restore_sigint(previous: Any) -> None:
    if previous is not None and signal.getsignal(signal.SIGINT) is _on_sigint:
        signal.signal(signal.SIGINT, previous)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    p: Proc | None = getattr(_tls, "proc", None)
    if p is None:  # between runs, or the run is ending: a plain KeyboardInterrupt
        raise KeyboardInterrupt
    pk = p._parker
    exc = KeyboardInterrupt()
    # Always recorded for the scheduler, which ends the run with it at its next step:
    # raised where it lands, it might be swallowed there (a finalizer, a weakref
    # callback, a task that catches it), and an interrupt ends the run regardless.
    pk.keep_interrupt(exc)
    p.switch_direct = False  # (so that the next park goes through the scheduler)
    if pk.parking or (p.defer_interrupts == 0 and not _in_runtime(p, frame)):
        raise exc


def _in_runtime(p: Proc, frame: FrameType | None) -> bool:
    """Is the interrupted thread inside libtask9's own code (where raising could leave
    a critical section half done)?  The scheduler greenlet always is; a task is if any
    frame between the innermost and the task's bottom frame is a runtime module's.

    The compiled core's functions have no frames: there the check sees only the Python
    code they call (``threading``, ``random``); a runtime operation that must not be
    cut in the middle of such a call sets ``Proc.defer_interrupts``."""
    if greenlet.getcurrent() is p._sched_glet:
        return True
    f = frame
    while f is not None:
        code = f.f_code
        if code is _TASK_MAIN_CODE:  # the task's bottom frame: runtime code if innermost
            return f is frame
        if is_runtime_file(code.co_filename):
            return True
        f = f.f_back
    return False
