"""The replay file, shared by the channel programs (``replay.py``) and the lifecycle
programs (``lc_replay.py``): its header, its layout on disk (one trace event per line, so
that an error can name the line), the field checks of the readers, and how a verdict is
shown.  What each kind stores beyond the header is its own module's business."""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import libtask9
from libtask9.testing.tracecheck import TraceFormatError, validate_event

from .checks import Verdict
from .program import FormatError

__all__ = ["FORMAT", "VERSION", "header", "need", "short", "trace_events", "verdict_text",
           "write"]

FORMAT = "libtask9-stress-replay"
VERSION = 1


def header() -> dict[str, Any]:
    """The fields every replay file starts with."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "libtask9": f"{libtask9.__version__} ({Path(libtask9.__file__).parent})",
        "python": platform.python_version(),
    }


def write(directory: str | os.PathLike[str], name: str, head: Mapping[str, Any],
          events: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``head`` and then ``"trace"`` (one event per line) to ``directory/name``,
    atomically (a reader never sees half a file); return the path."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / name
    lines = ["{"] + [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append(' "trace": [')
    lines.append(",\n".join(f"  {json.dumps(ev, separators=(',', ':'), default=repr)}"
                            for ev in events))
    lines += [" ]", "}"]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def short(v: Any) -> str:
    """``v`` as JSON, cut for an error message."""
    s = json.dumps(v)
    return s if len(s) < 60 else s[:57] + "..."


def need(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``obj[key]``, which must be a ``kind`` (``what`` says so in the error; a bool is
    not an int here)."""
    if key not in obj:
        raise FormatError(f"field {key!r} is missing")
    v = obj[key]
    if (isinstance(v, bool) and kind is not bool) or not isinstance(v, kind):
        raise FormatError(f"field {key!r} must be {what}, got {short(v)}")
    return v


def trace_events(raw: list[Any], text: str) -> list[dict[str, Any]]:
    """Validate each event; an error names ``trace[k]`` and, when the file has the layout
    :func:`write` gives it (one event per line), the line it is on."""
    lines = text.splitlines()
    start = text.find('\n "trace": [\n')
    first = text.count("\n", 0, start) + 3 if start >= 0 else None  # 1-based line of event 0
    events = []
    for k, ev in enumerate(raw):
        try:
            events.append(validate_event(ev))
        except TraceFormatError as e:
            line = ""
            if first is not None and first + k <= len(lines):
                row = lines[first + k - 1].strip().rstrip(",")
                if row.startswith("{") and json.loads(row) == ev:
                    line = f" (line {first + k})"
            raise FormatError(f"field trace[{k}]{line}: {e}") from None
    return events


def verdict_text(v: Verdict, max_lines: int = 30) -> str:
    """One verdict for a human: OK, or the first failure (and at which event) with the
    other failing checks named."""
    if v.ok:
        return f"OK ({v.events} events, every check passed)"
    f = v.failures[0]
    where = "" if f.index is None else f" at event #{f.index}"
    lines = f.message.splitlines()
    body = "\n".join("    " + x for x in lines[:max_lines])
    if len(lines) > max_lines:
        body += f"\n    ... ({len(lines) - max_lines} more lines)"
    others = sorted({x.check for x in v.failures[1:]} - {f.check})
    also = f" (also failing: {', '.join(others)})" if others else ""
    return f"FAILED: check {f.check!r}{where}{also}\n{body}"
