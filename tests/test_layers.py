"""The runtime's modules import one way only, and never inside a function.

Like Go's ``chan.go`` -> ``proc.go`` and plan9port's ``channel.c`` -> ``thread.c``: a
lower layer never imports a higher one, so no function-local import is needed to dodge a
cycle.  Imports under ``if TYPE_CHECKING:`` are annotations only and may name any layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import libtask9

#: The sources of the package under test: the repo's, or an installed wheel's (which ships
#: every module's .py, also next to its compiled extension).
PKG = Path(libtask9.__file__).resolve().parent

#: The runtime, lowest layer first.  A module may import only modules listed before it.
LAYERS = [
    "_pure",
    "_signals",
    "errors",
    "_trace",
    "_timerheap",
    "_world",
    "_task",
    "_sched",
    "_chan",
    "_timer",
    "_ioproc",
    "_scope",
    "_group",
    "_debug",
    "_clock",
    "_run",
    "__init__",
]


def _runtime_imports(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(imported runtime module, line, at module level) for every import in ``tree``,
    leaving out those under ``if TYPE_CHECKING:``."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.level == 1:
                if child.module:
                    found.append((child.module.split(".")[0], child.lineno, top))
                else:  # from . import x, y
                    found.extend((a.name, child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and (child.module or "").startswith(
                    "libtask9"):
                found.append(((child.module or "").split(".")[1] if "." in (child.module or "")
                              else "__init__", child.lineno, top))
            elif isinstance(child, ast.Import):
                for a in child.names:
                    if a.name.startswith("libtask9."):
                        found.append((a.name.split(".")[1], child.lineno, top))
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                     ast.Lambda))
            visit(child, inner)

    visit(tree, True)
    return found


@pytest.mark.parametrize("module", LAYERS)
def test_imports_go_one_way_and_only_at_module_level(module: str) -> None:
    tree = ast.parse((PKG / f"{module}.py").read_text())
    below = set(LAYERS[:LAYERS.index(module)])
    for name, line, top in _runtime_imports(tree):
        assert top, f"{module}.py:{line} imports {name} inside a function"
        if name in LAYERS:
            assert name in below, (f"{module}.py:{line} imports {name}, a layer above it "
                                   f"(order: {' -> '.join(LAYERS)})")


def test_every_runtime_module_has_a_layer() -> None:
    runtime = {p.stem for p in PKG.glob("_*.py")} | {"errors"}
    assert runtime == set(LAYERS), "add new runtime modules to LAYERS in their place"


def test_no_function_local_imports_anywhere_in_the_runtime() -> None:
    for module in LAYERS:
        tree = ast.parse((PKG / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    assert not isinstance(inner, (ast.Import, ast.ImportFrom)), (
                        f"{module}.py:{inner.lineno}: import inside {node.name}()")


def test_the_checker_sees_a_violation() -> None:
    """The walk itself: an upward import and a local import are both found."""
    tree = ast.parse("from ._chan import Channel\n"
                     "def f():\n    from ._sched import park\n")
    assert _runtime_imports(tree) == [("_chan", 1, True), ("_sched", 3, False)]
