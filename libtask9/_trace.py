"""Opt-in tracing of channel operations at their linearization points.

Every completed channel action (the names of ``spec/Channels.tla``: ``AltBuffer``,
``AltRendezvous``, ``AltHandover``, ``AltClosed``, ``AltBlock``, ``AltNone``, ``Close``,
``CloseClosed``, ``KillBlocked``, ``KillPending``, ``Killed``, plus ``ChanCreate``) is
handed to the installed tracer as a plain ``dict`` *while the global channel lock is
held*, so the ``seq`` numbers give the true global order of actions across procs.  The
format is documented in ``docs/CONTRACT.md`` and consumed by ``libtask9.model``.

Cost when off: one module-global ``is None`` test per operation.  A tracer must be fast
and must not call back into libtask9 (it runs under the channel lock).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = [
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "TraceRecorder",
    "Tracer",
    "get_tracer",
    "set_tracer",
    "tracing",
]

TRACE_FORMAT = "libtask9-trace"
TRACE_VERSION = 1

Tracer = Callable[[dict[str, Any]], None]

#: The installed tracer; read by ``_chan`` under the channel lock.
tracer: Tracer | None = None

#: Global sequence numbers; only advanced under the channel lock.
_seq = itertools.count()


def next_seq() -> int:
    """Return the next global event number (caller holds the channel lock)."""
    return next(_seq)


def set_tracer(fn: Tracer | None) -> Tracer | None:
    """Install ``fn`` as the tracer (``None`` turns tracing off); return the previous one.

    Channels created while no tracer is installed are not announced with ``ChanCreate``;
    install the tracer before creating the channels you want to check.
    """
    global tracer
    previous = tracer
    tracer = fn
    return previous


def get_tracer() -> Tracer | None:
    """Return the installed tracer, or ``None``."""
    return tracer


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
