"""Opt-in tracing of the runtime's actions at their linearization points.

Every action of ``spec/Channels.tla`` (``AltBuffer``, ``AltRendezvous``, ``AltHandover``,
``AltClosed``, ``AltBlock``, ``AltNone``, ``Close``, ``CloseClosed``, ``KillBlocked``,
``KillPending``, ``Killed``, plus ``ChanCreate``) and every lifecycle action of
``spec/Procs.tla`` (``RunStart`` ... ``RunEnd``, see :data:`LIFECYCLE_ACTIONS`) is
handed to the installed tracer as a plain ``dict`` *while the global channel lock is
held*, so the ``seq`` numbers give the true global order of actions across procs and
runs.  Each event is built by the one constructor of its action below (no event is
written by hand elsewhere), carries ``run`` (the id of the run it belongs to, or None)
and ``t`` (``time.monotonic()`` when it was recorded).  The format is documented in
``docs/CONTRACT.md`` and consumed by ``libtask9.model`` and ``libtask9.testing``.

Cost when off: one module-global ``is None`` test per operation.  A tracer must be fast
and must not call back into libtask9 (it runs under the channel lock).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Final

__all__ = [
    "CHANNEL_ACTIONS",
    "LIFECYCLE_ACTIONS",
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "TraceRecorder",
    "Tracer",
    "get_tracer",
    "set_tracer",
    "tracing",
]

TRACE_FORMAT = "libtask9-trace"
TRACE_VERSION = 2  # 2: "run" and "t" on every event; lifecycle events

#: The channel actions of ``spec/Channels.tla`` (and ``ChanCreate``).
CHANNEL_ACTIONS: Final = (
    "ChanCreate", "AltBuffer", "AltRendezvous", "AltHandover", "AltClosed", "AltBlock",
    "AltNone", "Close", "CloseClosed", "KillBlocked", "KillPending", "Killed",
)
_ALT_ACTIONS: Final = frozenset(
    ("AltBuffer", "AltRendezvous", "AltHandover", "AltClosed", "AltBlock", "AltNone"))

#: The lifecycle actions of ``spec/Procs.tla`` that the runtime records.
LIFECYCLE_ACTIONS: Final = (
    "RunStart", "ProcCreate", "ProcStart", "TaskCreate", "TaskExit", "ProcIdle", "ProcWake",
    "TimerArm", "TimerFire", "TimerStop", "IoStart", "IoDone", "JoinBlock", "ProcExit",
    "Interrupt", "RunEnding", "RunEnd",
)

Tracer = Callable[[dict[str, Any]], None]

#: The installed tracer; read by the runtime under the channel lock.
tracer: Tracer | None = None

#: Global sequence numbers; only advanced under the channel lock.
_seq = itertools.count()
_monotonic: Final = time.monotonic


def set_tracer(fn: Tracer | None) -> Tracer | None:
    """Install ``fn`` as the tracer (``None`` turns tracing off); return the previous one.

    Channels created while no tracer is installed are not announced with ``ChanCreate``
    and their operations are not recorded; install the tracer before creating the
    channels you want to check.
    """
    global tracer
    if fn is not None and not callable(fn):
        raise TypeError(f"set_tracer() takes a callable(event) or None, got {fn!r}")
    previous = tracer
    tracer = fn
    return previous


def get_tracer() -> Tracer | None:
    """Return the installed tracer, or ``None``."""
    return tracer


def _emit(ev: dict[str, Any]) -> None:
    """Number, time-stamp and hand ``ev`` to the tracer (caller holds the channel lock)."""
    tr = tracer
    if tr is not None:
        ev["seq"] = next(_seq)
        ev["t"] = _monotonic()
        tr(ev)


# -- channel actions (spec/Channels.tla) ------------------------------------------------


def chan_create(run: int | None, chan: int, cap: int) -> None:
    _emit({"action": "ChanCreate", "run": run, "task": None, "proc": None, "chan": chan,
           "cap": cap})


class AltRequest:
    """What an alt (or a one-case send/recv) asked for, recorded before it is decided;
    :func:`alt_action` completes it with the action that happened."""

    __slots__ = ("block", "ops", "proc", "run", "task", "vals")

    def __init__(self, run: int | None, task: int, proc: int, ops: list[list[Any]],
                 vals: list[Any], block: bool) -> None:
        self.run = run
        self.task = task
        self.proc = proc
        self.ops = ops
        self.vals = vals
        self.block = block


def alt_action(req: AltRequest, action: str, index: int = -1, value: Any = None,
               partner: int | None = None, pindex: int | None = None,
               sleep: bool = False) -> None:
    """``AltBuffer``, ``AltRendezvous``, ``AltHandover``, ``AltClosed`` (case ``index``
    executed, ``value`` received or None), ``AltBlock`` or ``AltNone`` (index -1).
    ``sleep``: an ``AltBlock`` with no case made by ``sleep(math.inf)`` (field ``sleep``
    true), which blocks forever like ``alt()`` with no case."""
    if action not in _ALT_ACTIONS:
        raise ValueError(f"not an alt action: {action!r}")
    ev = {"action": action, "run": req.run, "task": req.task, "proc": req.proc,
          "ops": req.ops, "vals": req.vals, "block": req.block, "index": index,
          "value": value}
    if partner is not None:
        ev["partner"] = partner
        ev["pindex"] = pindex
    if sleep:
        ev["sleep"] = True
    _emit(ev)


def close(run: int | None, task: int, proc: int, chan: int, woken: list[list[int]]) -> None:
    _emit({"action": "Close", "run": run, "task": task, "proc": proc, "chan": chan,
           "woken": woken})


def close_closed(run: int | None, task: int, proc: int, chan: int) -> None:
    _emit({"action": "CloseClosed", "run": run, "task": task, "proc": proc, "chan": chan})


def kill_blocked(run: int | None, task: int, proc: int, by: int | None,
                 reason: str | None = None) -> None:
    """``reason``: None for ``Task.kill()``; "group" for a TaskGroup cancelling its
    members; "timeout" for an expired timeout scope (the task then lives on)."""
    ev = {"action": "KillBlocked", "run": run, "task": task, "proc": proc, "by": by}
    if reason is not None:
        ev["reason"] = reason
    _emit(ev)


def kill_pending(run: int | None, task: int, proc: int, by: int | None,
                 reason: str | None = None) -> None:
    ev = {"action": "KillPending", "run": run, "task": task, "proc": proc, "by": by}
    if reason is not None:
        ev["reason"] = reason
    _emit(ev)


def killed(run: int | None, task: int, proc: int, reason: str | None = None) -> None:
    ev = {"action": "Killed", "run": run, "task": task, "proc": proc}
    if reason is not None:
        ev["reason"] = reason
    _emit(ev)


# -- lifecycle actions (spec/Procs.tla) --------------------------------------------------


def run_start(run: int, proc: int) -> None:
    _emit({"action": "RunStart", "run": run, "proc": proc, "task": None})


def proc_create(run: int, proc: int, by: int | None, name: str) -> None:
    _emit({"action": "ProcCreate", "run": run, "proc": proc, "task": None, "by": by,
           "name": name})


def proc_start(run: int, proc: int, task: int) -> None:
    _emit({"action": "ProcStart", "run": run, "proc": proc, "task": task})


def task_create(run: int, proc: int, task: int, by: int | None, name: str) -> None:
    _emit({"action": "TaskCreate", "run": run, "proc": proc, "task": task, "by": by,
           "name": name})


def task_exit(run: int, proc: int, task: int, woken: list[int], outcome: str) -> None:
    """``outcome``: "returned", "raised" or "killed"."""
    _emit({"action": "TaskExit", "run": run, "proc": proc, "task": task, "woken": woken,
           "outcome": outcome})


def proc_idle(run: int, proc: int, declared: bool) -> None:
    _emit({"action": "ProcIdle", "run": run, "proc": proc, "task": None,
           "declared": declared})


def proc_wake(run: int, proc: int) -> None:
    _emit({"action": "ProcWake", "run": run, "proc": proc, "task": None})


def timer_arm(run: int | None, proc: int | None, timer: int, task: int | None,
              kind: str, deadline: float) -> None:
    _emit({"action": "TimerArm", "run": run, "proc": proc, "task": task, "timer": timer,
           "kind": kind, "deadline": deadline})


def timer_fire(run: int | None, proc: int | None, timer: int, woken: int | None) -> None:
    _emit({"action": "TimerFire", "run": run, "proc": proc, "task": None, "timer": timer,
           "woken": woken})


def timer_stop(run: int | None, timer: int, why: str) -> None:
    _emit({"action": "TimerStop", "run": run, "proc": None, "task": None, "timer": timer,
           "why": why})


def io_start(run: int, proc: int, task: int, io: str) -> None:
    _emit({"action": "IoStart", "run": run, "proc": proc, "task": task, "io": io})


def io_done(run: int, task: int, io: str, delivered: bool, declared: bool) -> None:
    _emit({"action": "IoDone", "run": run, "proc": None, "task": task, "io": io,
           "delivered": delivered, "declared": declared})


def join_block(run: int, proc: int, task: int, target: str, kind: str, target_id: int) -> None:
    """``target`` describes what is joined; ``kind`` ("proc" or "task") and ``target_id``
    identify it."""
    _emit({"action": "JoinBlock", "run": run, "proc": proc, "task": task, "target": target,
           "kind": kind, "target_id": target_id})


def proc_exit(run: int, proc: int, woken: list[int], declared: bool) -> None:
    _emit({"action": "ProcExit", "run": run, "proc": proc, "task": None, "woken": woken,
           "declared": declared})


def interrupt(run: int, proc: int, where: str, exc: str) -> None:
    _emit({"action": "Interrupt", "run": run, "proc": proc, "task": None, "where": where,
           "exc": exc})


def run_ending(run: int, reason: str) -> None:
    _emit({"action": "RunEnding", "run": run, "proc": None, "task": None,
           "reason": reason})


def run_end(run: int, outcome: str) -> None:
    _emit({"action": "RunEnd", "run": run, "proc": None, "task": None, "outcome": outcome})


# -- recorders ---------------------------------------------------------------------------


class TraceRecorder:
    """A tracer that keeps every event in memory (``events``), optionally also as NDJSON.

    Thread-safe: events arrive under the channel lock, and ``events`` is only appended to.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self._stream = stream
        self._lock = threading.Lock()
        if stream is not None:
            stream.write(json.dumps({"format": TRACE_FORMAT, "version": TRACE_VERSION}) + "\n")

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self._stream is not None:
            with self._lock:
                self._stream.write(json.dumps(event, default=repr) + "\n")


@contextmanager
def tracing(recorder: Tracer | None = None) -> Iterator[Tracer]:
    """Install ``recorder`` (a new ``TraceRecorder`` by default) for the ``with`` block."""
    rec: Tracer = recorder if recorder is not None else TraceRecorder()
    previous = set_tracer(rec)
    try:
        yield rec
    finally:
        set_tracer(previous)
