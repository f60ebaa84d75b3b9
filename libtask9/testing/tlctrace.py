"""TLC trace validation: is a recorded runtime trace a behaviour of ``spec/Channels.tla``?

:func:`export_trace` turns a trace (the events of ``docs/CONTRACT.md``) into a generated
TLA+ module that EXTENDS ``spec/TraceChannels.tla``: the constants (Tasks, Chans, Cap,
Killable, Prog) are derived from the trace exactly as :func:`~.tracecheck.check_trace`
derives them (:func:`~.tracecheck.prepare_trace`), and the events become a sequence
literal ``Trace`` (TLC 2.15 has no JSON module).  :func:`tlc_validate` runs TLC on it:

1. ``-deadlock`` with ``INVARIANT TraceNotAccepted`` (``l <= Len(Trace)``): a violation
   means TLC matched every event, i.e. the trace is **accepted**;
2. otherwise, a second run with deadlock checking on stops in the state after the
   longest matched prefix; its ``l`` is the first rejected event.

Each run uses a fresh temporary directory and ``-metadir``, so runs may go in parallel.
The first rejected index is an index into the event list given (as for ``check_trace``),
so the two checkers can be compared event for event.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
import time
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import model as M
from . import tla
from .tracecheck import ALT_ACTIONS, PreparedTrace, hashable, prepare_trace

__all__ = [
    "SPEC_DIR",
    "TraceExport",
    "ValidationResult",
    "export_trace",
    "tlc_validate",
    "write_example",
]

#: ``spec/`` of the source tree (Channels.tla, TraceChannels.tla); ``LIBTASK9_SPEC_DIR``
#: overrides it (for an installed package, or a copy such as the planted-bug harness's).
SPEC_DIR = Path(os.environ.get("LIBTASK9_SPEC_DIR")
                or Path(__file__).resolve().parents[2] / "spec")

_NIL = tla.ModelValue("Nil")


@dataclasses.dataclass
class TraceExport:
    """A generated trace module: ``files`` maps file names to their text; ``item_index[k]``
    is the index (into the original events) of ``Trace[k + 1]``."""

    module: str
    files: dict[str, str]
    item_index: list[int]
    prepared: PreparedTrace


def _task_ids(pt: PreparedTrace) -> dict[Hashable, int]:
    ints = [t for t in pt.tasks if isinstance(t, int) and not isinstance(t, bool)]
    nxt = max(ints, default=0) + 1
    out: dict[Hashable, int] = {}
    for t in pt.tasks:
        if isinstance(t, int) and not isinstance(t, bool):
            out[t] = t
        else:
            out[t] = nxt
            nxt += 1
    return out


def _chan_value(c: Any) -> tla.Value:
    if c is None:
        return _NIL
    if not isinstance(c, int):
        raise TypeError(f"channel ids must be ints, not {c!r}")
    return c


def _op_value(op: M.Op) -> tla.Value:
    if isinstance(op, M.CloseOp):
        return tla.record(kind="close", ch=_chan_value(op.ch))
    cases = tuple(tla.record(dir=k.dir, ch=_chan_value(k.ch)) for k in op.cases)
    return tla.record(kind="alt", cases=cases, block=op.block)


def export_trace(events: Sequence[Mapping[str, Any]], module: str = "TraceRun") -> TraceExport:
    """The TLA+ module (and .cfg) for ``events``; raises ValueError if the trace cannot be
    prepared (see :func:`~.tracecheck.prepare_trace`)."""
    pt = prepare_trace(events)
    if pt.problem is not None:
        raise ValueError(f"event #{pt.problem[0]}: {pt.problem[1]}")
    tid = _task_ids(pt)
    # runtime value -> the spec's message ids <<t, s, i>> of send cases carrying it
    cands: dict[Hashable, set[tla.Value]] = {}
    for t, ops in pt.prog.items():
        for s, op in enumerate(ops, start=1):
            if isinstance(op, M.AltOp):
                for i, k in enumerate(op.cases, start=1):
                    if k.dir == M.SEND and k.ch is not None:
                        cands.setdefault(k.val, set()).add((tid[t], s, i))
    records: list[tla.Value] = []
    for it in pt.items:
        ev = it.event
        fields: dict[str, tla.Value] = {
            "action": it.action,
            "task": tid[it.task],
            "step": it.step + 1 if it.step >= 0 else 0,
            "idx": -1,
            "vals": frozenset(),
            "haspartner": False,
            "partner": 0,
            "pidx": 0,
            "woken": frozenset(),
        }
        if it.action in ALT_ACTIONS:
            idx = ev["index"]
            fields["idx"] = idx + 1 if idx >= 0 else -1
            raw = ev.get("value")
            vals: set[tla.Value] = set(cands.get(hashable(raw), set()))
            if raw is None:
                vals.add(())  # NoVal
            fields["vals"] = frozenset(vals)
            if it.action in ("AltRendezvous", "AltHandover"):
                fields["haspartner"] = True
                fields["partner"] = tid[ev["partner"]]
                fields["pidx"] = ev["pindex"] + 1
        if it.action == "Close":
            fields["woken"] = frozenset((tid[u], j + 1) for u, j in ev["woken"])
        records.append(tla.fn(fields))

    chans: dict[int, int] = dict(pt.chans) or {-1: 0}  # Chans # {} (ASSUME)
    killable = {tid[it.task] for it in pt.items if it.action in M.ENV_ACTIONS}
    prog = {tid[t]: tuple(_op_value(op) for op in ops) for t, ops in pt.prog.items()}

    def fn_text(m: Mapping[Any, tla.Value]) -> str:
        # always as (k :> v @@ ...), even for 1..n domains: Prog and Cap are functions
        return (
            "("
            + " @@\n    ".join(
                f"{tla.format_value(k)} :> {tla.format_value(v)}" for k, v in m.items()
            )
            + ")"
        )

    trace_text = ",\n    ".join(tla.format_value(r) for r in records)
    tla_text = (
        f"---- MODULE {module} ----\n"
        "\\* GENERATED by libtask9.testing.tlctrace.export_trace() from a runtime trace.\n"
        "EXTENDS TraceChannels\n\n"
        f"TrTasks == {tla.format_value(frozenset(tid.values()))}\n"
        f"TrChans == {tla.format_value(frozenset(chans))}\n"
        f"TrCap == {fn_text(chans)}\n"
        f"TrKillable == {tla.format_value(frozenset(killable))}\n"
        f"TrProg == {fn_text(prog) if prog else '<<>>'}\n"
        "TrNoVal == <<>>\n"
        f"TrTrace == <<\n    {trace_text}\n    >>\n"
        "====\n"
    )
    cfg_common = (
        "CONSTANTS\n"
        "    Tasks <- TrTasks\n"
        "    Chans <- TrChans\n"
        "    Cap <- TrCap\n"
        "    Prog <- TrProg\n"
        "    Killable <- TrKillable\n"
        "    NoVal <- TrNoVal\n"
        "    Trace <- TrTrace\n"
        "    Nil = Nil\n"
        "INIT TraceInit\n"
        "NEXT TraceNext\n"
    )
    files = {
        f"{module}.tla": tla_text,
        f"{module}.cfg": cfg_common + "INVARIANT TraceNotAccepted\n",
        f"{module}_stuck.cfg": cfg_common,
    }
    return TraceExport(module, files, [it.index for it in pt.items], pt)


@dataclasses.dataclass
class ValidationResult:
    """``accepted``; ``first_bad_index`` (into the events) when rejected; ``detail``: what
    TLC said; ``seconds``: wall time of the TLC runs; ``states``: distinct states."""

    accepted: bool
    first_bad_index: int | None
    detail: str
    seconds: float
    states: int | None = None

    def __iter__(self) -> Any:
        return iter((self.accepted, self.first_bad_index, self.detail))


_STATE_HDR = re.compile(r"^State (\d+):.*$", re.MULTILINE)


def _last_state_l(output: str) -> int | None:
    """The value of ``l`` in the last state of TLC's error trace."""
    heads = list(_STATE_HDR.finditer(output))
    if not heads:
        return None
    body = output[heads[-1].end() :]
    m = re.search(r"^/\\ l = (\d+)\s*$", body, re.MULTILINE)
    return int(m.group(1)) if m else None


def tlc_validate(
    events: Sequence[Mapping[str, Any]],
    *,
    spec_dir: str | Path | None = None,
    keep_dir: str | Path | None = None,
    timeout: float = 600,
) -> ValidationResult:
    """Validate ``events`` with TLC; returns ``(accepted, first_bad_index, detail)`` (a
    :class:`ValidationResult`, which also unpacks as that triple)."""
    src = Path(spec_dir) if spec_dir is not None else SPEC_DIR
    pt = prepare_trace(events)
    if pt.problem is not None:
        k, why = pt.problem
        return ValidationResult(False, k, f"not exported to TLC: {why}", 0.0)
    if not pt.items:
        return ValidationResult(True, None, "no event the spec sees: trivially accepted", 0.0)
    exp = export_trace(events)
    with tempfile.TemporaryDirectory(prefix="tlctrace-") as tmp:
        work = Path(keep_dir) if keep_dir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in ("Channels.tla", "TraceChannels.tla"):
            shutil.copy(src / name, work / name)
        for name, text in exp.files.items():
            (work / name).write_text(text, encoding="utf-8")
        t0 = time.monotonic()
        r1 = tla.run_tlc(
            exp.module,
            directory=work,
            config=f"{exp.module}.cfg",
            options=["-deadlock"],
            timeout=timeout,
        )
        if r1.invariant_violated == "TraceNotAccepted":
            return ValidationResult(
                True,
                None,
                f"accepted: TLC matched all {len(exp.item_index)} events",
                time.monotonic() - t0,
                r1.distinct,
            )
        if not r1.ok:
            raise tla.TLCError(f"TLC failed on the trace module:\n{r1.tail()}")
        r2 = tla.run_tlc(
            exp.module,
            directory=work,
            config=f"{exp.module}_stuck.cfg",
            timeout=timeout,
        )
        secs = time.monotonic() - t0
        if not r2.deadlocked:
            raise tla.TLCError(f"TLC did not report the stuck prefix:\n{r2.tail()}")
        lv = _last_state_l(r2.output)
        if lv is None or not 1 <= lv <= len(exp.item_index):
            raise tla.TLCError(f"cannot read l from TLC's trace (l = {lv}):\n{r2.tail()}")
        bad = exp.item_index[lv - 1]
        return ValidationResult(
            False,
            bad,
            f"rejected: TLC matched {lv - 1} of {len(exp.item_index)} events; "
            f"event #{bad} ({exp.prepared.items[lv - 1].action}) is not a step of the spec",
            secs,
            r1.distinct,
        )


def write_example(spec_dir: str | Path | None = None) -> list[Path]:
    """(Re)write ``spec/TraceExample.tla`` and its .cfg files from
    :func:`~.tracegen.example_trace` (run by hand: ``tlc2.TLC -deadlock -config
    TraceExample.cfg TraceExample`` reports ``TraceNotAccepted`` violated = accepted)."""
    from .tracegen import example_trace

    d = Path(spec_dir) if spec_dir is not None else SPEC_DIR
    exp = export_trace(example_trace(), module="TraceExample")
    out = []
    for name, text in exp.files.items():
        p = d / name
        p.write_text(text, encoding="utf-8")
        out.append(p)
    return out
