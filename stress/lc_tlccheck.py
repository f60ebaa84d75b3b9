"""Lifecycle traces for ``python -m stress check-trace``: fresh lifecycle-stress traces
validated against ``spec/Procs.tla`` by the Python checker
(:func:`libtask9.testing.lctracecheck.check_lifecycle_trace`) and by TLC
(:func:`libtask9.testing.lctlctrace.tlc_validate_lifecycle`), and planted lifecycle bugs
that both must reject at the same event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .lc_program import LcProgram

__all__ = ["scope_problems"]


def _steps(prog: LcProgram) -> Iterator[list[Any]]:
    for script in prog.tasks:
        yield from script
    for g in prog.groups:
        yield from g.get("body", [])


def scope_problems(prog: LcProgram) -> list[str]:
    """The steps of ``prog`` that leave ``spec/Procs.tla``'s scope (its README, "Not
    modelled"): Tickers and timeout scopes (races), ``Task.join`` with a finite timeout,
    and ``sleep(inf)`` (it blocks the task without a trace event: the spec's "block
    forever", which the runtime does not record)."""
    out = []
    for st in _steps(prog):
        kind = st[0]
        if kind in ("ticker", "race", "hold"):
            out.append(kind)
        elif kind == "join_task" and st[2] not in (None, "inf"):
            out.append("join_task with a timeout")
        elif kind == "block" and st[1] == "sleep":
            out.append("sleep(inf)")
    return out
