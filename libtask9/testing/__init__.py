"""Testing helpers for libtask9 and for other runtimes checked against its spec.

* :class:`Stepper` -- deterministic scheduling: a proc driven by your test (spawn, step
  a chosen task, run until blocked, choose alt cases); see
  ``examples/every_interleaving.py`` for every interleaving of a small program.
* :mod:`libtask9.model` -- the oracle (an executable copy of ``spec/Channels.tla``).
* :func:`check_trace`, :func:`read_trace`, :func:`write_trace` -- replay a recorded
  trace through the oracle (:mod:`.tracecheck`).
* :func:`tlc_validate`, :func:`export_trace` -- the same question asked of TLC, with the
  trace as a generated TLA+ module (:mod:`.tlctrace`).
* :mod:`.tla` -- TLC's value syntax (parser and printer) and a TLC driver;
  :mod:`.equiv` -- the oracle-vs-TLC state-graph comparison;
  :mod:`.tracegen` -- fabricated traces (random oracle runs, planted bugs).

Only the standard library is used.
"""

from __future__ import annotations

from .stepper import Stepper
from .tlctrace import ValidationResult, export_trace, tlc_validate
from .tracecheck import (
    TraceFormatError,
    TraceReport,
    check_trace,
    read_trace,
    write_trace,
)

__all__ = [
    "Stepper",
    "TraceFormatError",
    "TraceReport",
    "ValidationResult",
    "check_trace",
    "export_trace",
    "read_trace",
    "tlc_validate",
    "write_trace",
]
