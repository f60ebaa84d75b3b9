"""Showing the oracles equal to the specs: ``libtask9.model`` to ``spec/Channels.tla``,
``libtask9.procmodel`` to ``spec/Procs.tla``.

For a bounded configuration, both sides enumerate the reachable graph: the oracle by its
own breadth-first search (:func:`libtask9.model.explore`), TLC by model checking with
``-dump`` (the states) and ``-dump dot,actionlabels`` (the transitions, labelled with the
innermost action operator name).  :func:`compare` parses TLC's output and compares

* the two state sets, and
* the two sets of labelled edges ``(src, dst, action)``.

Both systems are finite with one initial state, so equal labelled graphs mean the two
transition relations agree on every reachable state of that configuration (every trace,
deadlock and invariant verdict carries over).  TLC writes one edge per *generated*
successor, and it generates a successor once per true disjunct of an enabling condition
(``AltClosed``'s ``k.dir = "send" \\/ buf[c] = <<>>`` is generated twice when both hold),
so edge *multisets* legitimately differ; the sets must not.

:func:`compare_graphs` does the comparison for any oracle; :func:`compare` (channels)
and :func:`compare_procs` (the lifecycle) explore their oracle and call it.

The lifecycle configurations are the models of ``spec/MCProcs.tla`` themselves: TLC runs
on the constants of their ``MCProcs_<Name>.cfg`` under ``Spec`` (:func:`procs_cfg`), the
oracle on the same constants (:data:`libtask9.procmodel.MC_CONFIGS`), and
:data:`PROCS_EQUIV` adds the generated ``spec/MCProcsEquiv.tla`` (:func:`procs_mc_module`)
for what the CI-sized models never do (a timer stopped).

Channel configurations are written in a small program notation (:func:`parse_program`)
and the ``spec/MCEquiv*.tla``/``.cfg`` files are generated from them (:func:`mc_module`,
:func:`mc_cfg`); ``tests/test_model_vs_tlc.py`` checks that the committed files are
current.  Notation, one string per operation::

    a!        send(a)              a?       recv(a)
    a!nb      nbsend(a)            a?nb     nbrecv(a)
    {a!,b?,nil!}   alt (blocking)  {a?,b?}nb   non-blocking alt   {}  select {}
    close(a)  close(a)             nil      the nil channel
"""

from __future__ import annotations

import collections
import dataclasses
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import model as M
from .. import procmodel as P
from . import tla

__all__ = [
    "EQUIV_CONFIGS",
    "EQUIV_PROCS_CONFIG",
    "PROCS_EQUIV",
    "EquivConfig",
    "EquivReport",
    "ProcsEquiv",
    "TLCDumps",
    "TLCGraph",
    "compare",
    "compare_graphs",
    "compare_procs",
    "load_tlc_graph",
    "mc_cfg",
    "mc_module",
    "parse_op",
    "parse_program",
    "procs_cfg",
    "procs_mc_cfg",
    "procs_mc_module",
    "run_dumps",
    "run_equivalence",
    "run_procs_dumps",
    "run_procs_equivalence",
    "write_mc_files",
    "write_procs_mc_files",
]

_ALT = re.compile(r"\{(.*)\}(nb)?\Z")
_ONE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)([!?])(nb)?\Z")
_CLOSE = re.compile(r"close\(([A-Za-z_][A-Za-z0-9_]*)\)\Z")


def _case(text: str) -> M.Case:
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)([!?])", text.strip())
    if m is None:
        raise ValueError(f"bad alt case {text!r} (want e.g. 'a!' or 'b?')")
    ch = None if m.group(1) == "nil" else m.group(1)
    return M.Case(M.SEND if m.group(2) == "!" else M.RECV, ch)


def parse_op(text: str) -> M.Op:
    """One operation in the notation of the module docstring (values filled in later)."""
    s = text.strip()
    if m := _CLOSE.match(s):
        return M.CloseOp(m.group(1))
    if m := _ALT.match(s):
        body = m.group(1).strip()
        cases = tuple(_case(x) for x in body.split(",")) if body else ()
        return M.AltOp(cases, m.group(2) is None)
    if m := _ONE.match(s):
        ch = None if m.group(1) == "nil" else m.group(1)
        d = M.SEND if m.group(2) == "!" else M.RECV
        return M.AltOp((M.Case(d, ch),), m.group(3) is None)
    raise ValueError(f"bad operation {text!r}")


def parse_program(t: int, ops: Sequence[str]) -> tuple[M.Op, ...]:
    """Task ``t``'s program, with the spec's message ids as send values."""
    return M.spec_program(t, [parse_op(x) for x in ops])


@dataclasses.dataclass(frozen=True)
class EquivConfig:
    """A configuration for the equivalence check; tasks are ``1..len(prog)``."""

    name: str
    caps: Mapping[str, int]
    prog: Sequence[Sequence[str]]
    killable: frozenset[int]
    note: str = ""
    slow: bool = False  # too big for `make test`: tests run it only with LIBTASK9_SLOW=1

    def config(self) -> M.Config:
        tasks = tuple(range(1, len(self.prog) + 1))
        return M.Config(
            tasks=tasks,
            chans=tuple(sorted(self.caps)),
            caps=dict(self.caps),
            prog={t: parse_program(t, self.prog[t - 1]) for t in tasks},
            killable_set=self.killable,
        )


#: The committed equivalence configurations (spec/MCEquiv<X>.tla/.cfg).
EQUIV_CONFIGS: dict[str, EquivConfig] = {
    c.name: c
    for c in [
        EquivConfig(
            name="MCEquivA",
            caps={"a": 0, "b": 1},
            prog=[
                ["a!", "{b!,a?,nil!}", "b!nb", "close(b)"],
                ["a?", "b?", "close(b)"],
                ["{a?,b?}", "b?nb", "b!"],
            ],
            killable=frozenset({3}),
            note="3 tasks x 2 chans (a: 0, b: 1): every action, incl. a double close",
        ),
        EquivConfig(
            name="MCEquivB",
            caps={"a": 0, "b": 2, "c": 1},
            prog=[
                ["b!", "b!", "b!", "close(a)"],
                ["b?", "{a?,c?}", "c?nb", "close(c)"],
                ["c?nb", "a?", "close(c)", "{}nb"],
                ["{a!,a?}", "c!", "{nil?}"],
            ],
            killable=frozenset({2, 4}),
            note="4 tasks x 3 chans (a: 0, b: 2, c: 1): hand-over on a full cap-2 buffer, "
            "FIFO receivers, a self-paired alt closed while blocked, select {} killed",
        ),
        EquivConfig(
            name="MCEquivC",
            caps={"a": 0, "b": 1, "c": 2},
            prog=[
                ["c!", "{a!,b?}", "b!", "close(c)"],
                ["{a?,c?}", "b!nb", "c?", "close(c)"],
                ["c!", "c!", "{b?,a!}nb", "a?"],
                ["b?", "{c?,a?,nil!}", "c!nb", "{}"],
            ],
            killable=frozenset({3, 4}),
            note="4 tasks x 3 chans (a: 0, b: 1, c: 2), 4 steps each: the large model "
            "(about 7e4 states), mixed alts over all three capacities",
            slow=True,
        ),
    ]
}

# --------------------------------------------------------------------------- MC files

_HEADER = """\
\\* GENERATED by libtask9.testing.equiv.write_mc_files() -- do not edit by hand.
\\* {note}
\\* Used by tests/test_model_vs_tlc.py: the oracle's BFS must reach exactly TLC's
\\* states and labelled transitions on this model.
"""


def _tla_case(k: M.Case) -> str:
    ch = "Nil" if k.ch is None else tla.format_value(str(k.ch))
    return f"{'S' if k.dir == M.SEND else 'R'}({ch})"


def _tla_op(op: M.Op) -> str:
    if isinstance(op, M.CloseOp):
        return f"Cls({tla.format_value(str(op.ch))})"
    cases = ", ".join(_tla_case(k) for k in op.cases)
    return f"{'Alt' if op.block else 'NbAlt'}(<<{cases}>>)"


def mc_module(ec: EquivConfig, extends: str = "Channels") -> str:
    """The text of ``spec/<name>.tla`` for ``ec``."""
    cfg = ec.config()
    progs = " @@\n".join(
        f"    {t} :> << {', '.join(_tla_op(op) for op in cfg.prog[t])} >>" for t in cfg.tasks
    )
    caps = " @@ ".join(f"{tla.format_value(c)} :> {n}" for c, n in sorted(ec.caps.items()))
    kill = ", ".join(str(t) for t in sorted(ec.killable))
    src = ", ".join(f"{t}: {' '.join(ops)}" for t, ops in enumerate(ec.prog, start=1))
    return (
        f"{'-' * 28} MODULE {ec.name} {'-' * 28}\n"
        + _HEADER.format(note=ec.note)
        + f"\\* Programs: {src}\n"
        + f"EXTENDS {extends}, TLC\n\n"
        + 'S(c)      == [dir |-> "send", ch |-> c]\n'
        + 'R(c)      == [dir |-> "recv", ch |-> c]\n'
        + 'Alt(cs)   == [kind |-> "alt", cases |-> cs, block |-> TRUE]\n'
        + 'NbAlt(cs) == [kind |-> "alt", cases |-> cs, block |-> FALSE]\n'
        + 'Cls(c)    == [kind |-> "close", ch |-> c]\n\n'
        + f"EqTasks    == 1..{len(cfg.tasks)}\n"
        + f"EqChans    == {tla.format_value(frozenset(ec.caps))}\n"
        + f"EqCap      == ({caps})\n"
        + f"EqProg     ==\n{progs}\n"
        + f"EqKillable == {{{kill}}}\n"
        + "EqNoVal    == <<>>\n"
        + "=" * 77
        + "\n"
    )


def mc_cfg(ec: EquivConfig, spec: str = "Spec", extra: str = "") -> str:
    """The text of ``spec/<name>.cfg`` for ``ec`` (no invariants: the graph only)."""
    return (
        f"\\* GENERATED by libtask9.testing.equiv.write_mc_files(): {ec.name}, the state graph\n"
        "\\* only (run with -deadlock: terminated and deadlocked states are both legal).\n"
        "CONSTANTS\n"
        "    Tasks    <- EqTasks\n"
        "    Chans    <- EqChans\n"
        "    Cap      <- EqCap\n"
        "    Prog     <- EqProg\n"
        "    Killable <- EqKillable\n"
        "    NoVal    <- EqNoVal\n"
        "    Nil      =  Nil\n"
        f"{extra}"
        f"SPECIFICATION {spec}\n"
    )


def write_mc_files(spec_dir: str | Path) -> list[Path]:
    """(Re)write ``spec/MCEquiv*.tla``/``.cfg`` from :data:`EQUIV_CONFIGS`."""
    out = []
    for ec in EQUIV_CONFIGS.values():
        for suffix, text in ((".tla", mc_module(ec)), (".cfg", mc_cfg(ec))):
            p = Path(spec_dir) / f"{ec.name}{suffix}"
            p.write_text(text, encoding="utf-8")
            out.append(p)
    return out


# --------------------------------------------------------------------------- comparing

CanonState = tuple[tuple[str, Any], ...]


def canon(state: Mapping[str, Any]) -> CanonState:
    return tuple(sorted(state.items()))


@dataclasses.dataclass
class EquivReport:
    """The outcome of :func:`compare` (``equal`` is the verdict)."""

    name: str
    oracle_states: int
    tlc_states: int
    oracle_edges: int
    tlc_edges: int
    oracle_edge_set: int
    tlc_edge_set: int
    states_only_oracle: list[CanonState]
    states_only_tlc: list[CanonState]
    edges_only_oracle: list[tuple[CanonState, CanonState, str]]
    edges_only_tlc: list[tuple[CanonState, CanonState, str]]
    action_counts: dict[str, int]
    tlc_generated: int | None = None
    dot_nodes_equal_dump: bool = True
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return (
            not self.states_only_oracle
            and not self.states_only_tlc
            and not self.edges_only_oracle
            and not self.edges_only_tlc
            and self.dot_nodes_equal_dump
        )

    def summary(self) -> str:
        lines = [
            f"{self.name}: oracle {self.oracle_states} states / {self.oracle_edge_set} "
            f"labelled edges ({self.oracle_edges} generated); TLC {self.tlc_states} states / "
            f"{self.tlc_edge_set} labelled edges ({self.tlc_edges} in dot, "
            f"{self.tlc_generated} states generated) -> {'EQUAL' if self.equal else 'DIFFERENT'}",
            f"  actions fired: {dict(sorted(self.action_counts.items()))}",
        ]
        if not self.dot_nodes_equal_dump:
            lines.append("  TLC's dot nodes and -dump states differ")
        for label, xs in (
            ("states only in the oracle", self.states_only_oracle),
            ("states only in TLC", self.states_only_tlc),
        ):
            if xs:
                lines.append(f"  {len(xs)} {label}, e.g.:")
                lines.append("    " + tla.format_state(dict(xs[0])).replace("\n", "\n    "))
        for label, es in (
            ("edges only in the oracle", self.edges_only_oracle),
            ("edges only in TLC", self.edges_only_tlc),
        ):
            if es:
                src, dst, act = es[0]
                lines.append(f"  {len(es)} {label}, e.g. {act}:")
                lines.append("    from " + tla.format_state(dict(src)).replace("\n", "\n         "))
                lines.append("    to   " + tla.format_state(dict(dst)).replace("\n", "\n         "))
        return "\n".join(lines)


def _normalize_label(label: str) -> str:
    # The mutant modules name their variants MAltBuffer, MProcExit, ...: compare them as
    # the spec's actions.
    if label.startswith("M") and (label[1:] in M.ACTIONS or label[1:] in P.ACTIONS):
        return label[1:]
    return label


@dataclasses.dataclass
class TLCGraph:
    """TLC's reachable graph, parsed from its two dumps (canonical states)."""

    states: set[CanonState]
    edges: set[tuple[CanonState, CanonState, str]]
    edge_count: int
    dot_nodes_equal_dump: bool
    seconds: float


def load_tlc_graph(dump_file: str | Path, dot_file: str | Path) -> TLCGraph:
    """Parse ``-dump`` and ``-dump dot,actionlabels`` output."""
    t0 = time.monotonic()
    dump_states = {canon(s) for s in tla.read_dump(dump_file)}
    g = tla.read_dot(dot_file)
    node = {k: canon(v) for k, v in g.nodes.items()}
    edges = {(node[a], node[b], _normalize_label(lab)) for a, b, lab in g.edges}
    return TLCGraph(
        states=dump_states,
        edges=edges,
        edge_count=len(g.edges),
        dot_nodes_equal_dump=set(node.values()) == dump_states,
        seconds=time.monotonic() - t0,
    )


def compare_graphs(
    my_states: Sequence[CanonState],
    my_edges: Sequence[tuple[int, int, str]],
    tlc_graph: TLCGraph,
    *,
    name: str = "",
    limit: int = 20,
    seconds: float = 0.0,
) -> EquivReport:
    """Compare an oracle's reachable graph (canonical states, edges as ``(src index, dst
    index, action)`` into ``my_states``, one per generated successor) with TLC's."""
    edge_set = {(my_states[a], my_states[b], act) for a, b, act in my_edges}
    state_set = set(my_states)
    g = tlc_graph
    return EquivReport(
        name=name,
        oracle_states=len(state_set),
        tlc_states=len(g.states),
        oracle_edges=len(my_edges),
        tlc_edges=g.edge_count,
        oracle_edge_set=len(edge_set),
        tlc_edge_set=len(g.edges),
        states_only_oracle=list(state_set - g.states)[:limit],
        states_only_tlc=list(g.states - state_set)[:limit],
        edges_only_oracle=list(edge_set - g.edges)[:limit],
        edges_only_tlc=list(g.edges - edge_set)[:limit],
        action_counts=dict(collections.Counter(a for _, _, a in my_edges)),
        dot_nodes_equal_dump=g.dot_nodes_equal_dump,
        seconds={"oracle": seconds, "parse_tlc": g.seconds},
    )


def compare(
    cfg: M.Config,
    tlc_graph: TLCGraph,
    *,
    name: str = "",
    limit: int = 20,
) -> EquivReport:
    """Compare the channel oracle's reachable graph of ``cfg`` (explored now, so a
    monkeypatched action takes effect) with TLC's."""
    t0 = time.monotonic()
    ex = M.explore(cfg, cfg.initial())
    mine = [canon(M.to_tla(s)) for s in ex.states]
    edges = [(a, b, act) for a, b, act, _ in ex.edges]
    return compare_graphs(mine, edges, tlc_graph, name=name, limit=limit,
                          seconds=time.monotonic() - t0)


def compare_procs(
    cfg: P.Config,
    tlc_graph: TLCGraph,
    *,
    name: str = "",
    limit: int = 20,
    impl: Mapping[str, P.ActionFn] | None = None,
) -> EquivReport:
    """The same for the lifecycle oracle (``impl`` replaces actions by name)."""
    t0 = time.monotonic()
    ex = P.explore(cfg, impl=impl)
    mine = [canon(P.to_tla(cfg, s)) for s in ex.states]
    edges = [(a, b, act) for a, b, act, _ in ex.edges]
    return compare_graphs(mine, edges, tlc_graph, name=name, limit=limit,
                          seconds=time.monotonic() - t0)


@dataclasses.dataclass
class TLCDumps:
    """The two dump files of one model, and TLC's figures."""

    dump: Path
    dot: Path
    generated: int | None
    distinct: int | None
    seconds: float


def run_dumps(
    spec_dir: str | Path,
    module: str,
    out_dir: str | Path,
    *,
    cfg_file: str | None = None,
    stem: str | None = None,
) -> TLCDumps:
    """Run TLC twice on ``module`` (``-dump`` and ``-dump dot,actionlabels``), each with
    ``-deadlock`` and a fresh ``-metadir``; the dumps go to ``out_dir`` as
    ``<stem>_states.dump`` and ``<stem>_graph.dot`` (``stem`` defaults to the module)."""
    out = Path(out_dir)
    base_dump = out / f"{stem or module}_states"
    base_dot = out / f"{stem or module}_graph"
    opts = ["-deadlock"]
    cfg = cfg_file or f"{module}.cfg"
    r1 = tla.run_tlc(
        module, directory=spec_dir, config=cfg, options=[*opts, "-dump", str(base_dump)]
    )
    if not r1.ok:
        raise tla.TLCError(f"TLC -dump on {module} failed:\n{r1.tail()}")
    r2 = tla.run_tlc(
        module,
        directory=spec_dir,
        config=cfg,
        options=[*opts, "-dump", "dot,actionlabels", str(base_dot)],
    )
    if not r2.ok:
        raise tla.TLCError(f"TLC -dump dot on {module} failed:\n{r2.tail()}")
    if (r1.generated, r1.distinct) != (r2.generated, r2.distinct):
        raise tla.TLCError(f"the two TLC runs on {module} disagree: {r1.distinct} vs {r2.distinct}")
    return TLCDumps(
        dump=base_dump.with_suffix(".dump"),
        dot=base_dot.with_suffix(".dot"),
        generated=r1.generated,
        distinct=r1.distinct,
        seconds=r1.seconds + r2.seconds,
    )


def run_equivalence(
    name: str,
    spec_dir: str | Path,
    *,
    out_dir: str | Path | None = None,
    cfg: M.Config | None = None,
) -> EquivReport:
    """Run TLC on ``spec/<name>`` and compare with the oracle's BFS of its config."""
    conf = cfg if cfg is not None else EQUIV_CONFIGS[name].config()
    with tempfile.TemporaryDirectory(prefix="equiv-") as tmp:
        d = run_dumps(spec_dir, name, out_dir if out_dir is not None else tmp)
        graph = load_tlc_graph(d.dump, d.dot)
    rep = compare(conf, graph, name=name)
    rep.tlc_generated = d.generated
    rep.seconds["tlc"] = d.seconds
    return rep


# --------------------------------------------------------------------------- Procs


@dataclasses.dataclass(frozen=True)
class ProcsEquiv:
    """A lifecycle configuration: TLC checks ``module`` with the constants of ``cfg`` (a
    committed ``spec/*.cfg``) under ``Spec``; the oracle explores ``config``."""

    name: str
    module: str
    cfg: str
    config: P.Config
    note: str = ""
    slow: bool = False  # run by the tests only with LIBTASK9_SLOW=1


#: One run A: main proc M (m1 = main, m2), proc Q (q1); a kill of q1, an interrupt.  The
#: smallest model found in which every action of Procs fires (TimerStop and a non-spinner
#: Yield included, which no CI-sized model of MCProcs.tla does).
EQUIV_PROCS_CONFIG = P.Config(
    runs=("A",), procs=("M", "Q"), tasks=("m1", "m2", "q1"),
    proc_run={"M": "A", "Q": "A"}, main_proc={"A": "M"},
    task_proc={"m1": "M", "m2": "M", "q1": "Q"}, first_task={"M": "m1", "Q": "q1"},
    budget={"m1": 3, "m2": 1, "q1": 1},
    can={"m1": frozenset({"newproc", "after", "stop", "spawn", "yield"}),
         "m2": frozenset({"ready", "io"}), "q1": frozenset({"block", "after", "join"})},
    killable=frozenset({"q1"}), intr_runs=frozenset({"A"}),
)


def _procs_equiv() -> dict[str, ProcsEquiv]:
    mc = P.MC_CONFIGS
    rows = [
        ProcsEquiv("Equiv", "MCProcsEquiv", "MCProcsEquiv.cfg", EQUIV_PROCS_CONFIG,
                   "1 run, 2 procs, 3 tasks; kill, interrupt: every action fires"),
        ProcsEquiv("Two", "MCProcs", "MCProcs_Two.cfg", mc["Two"],
                   "2 concurrent runs (B's main spins)"),
        ProcsEquiv("Seq", "MCProcs", "MCProcs_Seq.cfg", mc["Seq"],
                   "2 runs back to back, a kill in each, an interrupt"),
    ]
    slow = ["Io", "Teeth", "Live", "Duo", "TwoBig", "LiveBig", "Safety", "Full", "SafetyBig"]
    rows += [ProcsEquiv(n, "MCProcs", f"MCProcs_{n}.cfg", mc[n], slow=True) for n in slow]
    return {r.name: r for r in rows}


#: The lifecycle equivalence configurations, by name (``tests/test_procmodel_vs_tlc.py``).
PROCS_EQUIV: dict[str, ProcsEquiv] = _procs_equiv()

_PROCS_MODULES = ("Procs.tla", "ProcsIsolation.tla", "MCProcs.tla", "MCProcsEquiv.tla")


def procs_cfg(text: str, source: str) -> str:
    """The TLC configuration of a state-graph comparison: the ``CONSTANTS`` block of the
    committed ``.cfg`` ``text`` under ``SPECIFICATION Spec``, no invariant or property."""
    lines = text.splitlines()
    try:
        start = lines.index("CONSTANTS")
    except ValueError:
        raise ValueError(f"{source}: no CONSTANTS line") from None
    end = next((k for k in range(start + 1, len(lines))
                if lines[k] and not lines[k].startswith((" ", "\t"))), len(lines))
    return (f"\\* GENERATED by libtask9.testing.equiv from {source}: its constants, the state "
            "graph of Spec only.\n" + "\n".join(lines[start:end]) + "\nSPECIFICATION Spec\n")


def procs_mc_module(cfg: P.Config = EQUIV_PROCS_CONFIG, name: str = "MCProcsEquiv") -> str:
    """The text of ``spec/MCProcsEquiv.tla``: ``cfg``'s constants as TLA+ definitions."""
    def fn(m: Mapping[Any, Any]) -> str:
        return tla.format_value(tla.fn({k: _set(v) for k, v in m.items()}))

    def _set(v: Any) -> Any:
        return frozenset(v) if isinstance(v, (set, frozenset)) else v

    def fset(xs: Iterable[Any]) -> str:
        return tla.format_value(frozenset(xs))

    defs = [
        ("EqRuns", fset(cfg.runs)),
        ("EqProcs", fset(cfg.procs)),
        ("EqTasks", fset(cfg.tasks)),
        ("EqProcRun", fn(cfg.proc_run)),
        ("EqMainProc", fn(cfg.main_proc)),
        ("EqTaskProc", fn(cfg.task_proc)),
        ("EqFirst", fn(cfg.first_task)),
        ("EqBudget", fn(cfg.budget)),
        ("EqCan", fn(cfg.can)),
        ("EqSpinners", fset(cfg.spinners)),
        ("EqKillable", fset(cfg.killable)),
        ("EqIntrRuns", fset(cfg.intr_runs)),
        ("EqAfter", fset(cfg.after)),
    ]
    body = "".join(f"{k:<10} == {v}\n" for k, v in defs)
    return (
        f"{'-' * 28} MODULE {name} {'-' * 28}\n"
        "\\* GENERATED by libtask9.testing.equiv.write_procs_mc_files() -- do not edit by hand.\n"
        "\\* The constants of equiv.EQUIV_PROCS_CONFIG: one run A, main proc M (m1 = main,\n"
        "\\* m2), proc Q (q1); a kill of q1, an interrupt.  Every action of Procs fires.\n"
        "\\* Used by tests/test_procmodel_vs_tlc.py: the oracle's BFS must reach exactly TLC's\n"
        "\\* states and labelled transitions on this model.\n"
        "EXTENDS Procs, TLC\n\n" + body + "=" * 77 + "\n"
    )


def procs_mc_cfg(name: str = "MCProcsEquiv") -> str:
    """The text of ``spec/MCProcsEquiv.cfg``."""
    consts = ("Runs", "Procs", "Tasks", "ProcRun", "MainProc", "TaskProc", "FirstTask",
              "Budget", "Can", "Spinners", "Killable", "IntrRuns", "After")
    defs = ("EqRuns", "EqProcs", "EqTasks", "EqProcRun", "EqMainProc", "EqTaskProc", "EqFirst",
            "EqBudget", "EqCan", "EqSpinners", "EqKillable", "EqIntrRuns", "EqAfter")
    return (
        f"\\* GENERATED by libtask9.testing.equiv.write_procs_mc_files(): {name}, the state\n"
        "\\* graph only (run with -deadlock).\nCONSTANTS\n"
        + "".join(f"    {c:<9} <- {d}\n" for c, d in zip(consts, defs, strict=True))
        + "SPECIFICATION Spec\n"
    )


def write_procs_mc_files(spec_dir: str | Path) -> list[Path]:
    """(Re)write ``spec/MCProcsEquiv.tla``/``.cfg`` from :data:`EQUIV_PROCS_CONFIG`."""
    out = []
    for suffix, text in ((".tla", procs_mc_module()), (".cfg", procs_mc_cfg())):
        path = Path(spec_dir) / f"MCProcsEquiv{suffix}"
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def run_procs_dumps(name: str, spec_dir: str | Path, out_dir: str | Path) -> TLCDumps:
    """TLC's two dumps of the lifecycle configuration ``name`` (the spec modules are
    copied into ``out_dir`` with the generated configuration)."""
    pe = PROCS_EQUIV[name]
    src, out = Path(spec_dir), Path(out_dir)
    for f in _PROCS_MODULES:
        shutil.copy(src / f, out / f)
    cfg_name = f"{name}_equiv.cfg"
    (out / cfg_name).write_text(procs_cfg((src / pe.cfg).read_text(encoding="utf-8"), pe.cfg),
                                encoding="utf-8")
    return run_dumps(out, pe.module, out, cfg_file=cfg_name, stem=name)


def run_procs_equivalence(name: str, spec_dir: str | Path) -> EquivReport:
    """Run TLC on the lifecycle configuration ``name`` and compare with the oracle."""
    with tempfile.TemporaryDirectory(prefix="equiv-procs-") as tmp:
        d = run_procs_dumps(name, spec_dir, tmp)
        graph = load_tlc_graph(d.dump, d.dot)
    rep = compare_procs(PROCS_EQUIV[name].config, graph, name=name)
    rep.tlc_generated = d.generated
    rep.seconds["tlc"] = d.seconds
    return rep


def _main() -> int:
    import argparse

    ap = argparse.ArgumentParser(
        description="Compare the oracles with TLC: the channel models spec/MCEquiv*, or "
        "(--procs) the lifecycle configurations; --write regenerates the generated files."
    )
    ap.add_argument("names", nargs="*")
    ap.add_argument("--procs", action="store_true", help="the lifecycle oracle (PROCS_EQUIV)")
    ap.add_argument("--spec-dir", default=str(Path(__file__).resolve().parents[2] / "spec"))
    ap.add_argument("--write", action="store_true",
                    help="rewrite spec/MCEquiv*.tla/.cfg and spec/MCProcsEquiv.tla/.cfg")
    ns = ap.parse_args()
    if ns.write:
        for p in write_mc_files(ns.spec_dir) + write_procs_mc_files(ns.spec_dir):
            print(f"wrote {p}")
        return 0
    bad = 0
    names = ns.names or list(PROCS_EQUIV if ns.procs else EQUIV_CONFIGS)
    for n in names:
        rep = (run_procs_equivalence(n, ns.spec_dir) if ns.procs
               else run_equivalence(n, ns.spec_dir))
        print(rep.summary())
        print("  seconds: " + ", ".join(f"{k}={v:.1f}" for k, v in rep.seconds.items()))
        bad += not rep.equal
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(_main())
