"""The optional compiled core, the ``LIBTASK9_PURE`` switch and the installed package.

Which core the suite must be running against is said by ``LIBTASK9_EXPECT_COMPILED``:

* ``1`` (``make test-compiled``, and ``make test-wheel``'s first pass against the
  installed wheel): every module of ``tools/compiled_core.py``'s ``MODULES`` is a mypyc
  extension module and ``libtask9.COMPILED`` is True;
* ``0`` (``make test-wheel``'s second pass, with ``LIBTASK9_PURE=1``): every one is the
  ``.py`` source, although the extensions are installed next to them, and ``COMPILED`` is
  False;
* unset (``make test``): no expectation.

``LIBTASK9_EXPECT_INSTALLED=1`` (``make test-wheel``) says that ``libtask9`` must come from
the installed distribution (a wheel, not a source tree), with its ``.py`` sources and
``py.typed``.  The other tests run everywhere.
"""

from __future__ import annotations

import gc
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import weakref
from pathlib import Path
from types import ModuleType

import pytest

import libtask9
from libtask9 import _pure

ROOT = Path(__file__).resolve().parents[1]
PKG = Path(libtask9.__file__).resolve().parent
EXPECT = os.environ.get("LIBTASK9_EXPECT_COMPILED")
EXPECT_INSTALLED = os.environ.get("LIBTASK9_EXPECT_INSTALLED") == "1"


def _compiled_core() -> ModuleType:
    """tools/compiled_core.py (stdlib only), without putting tools/ on sys.path."""
    spec = importlib.util.spec_from_file_location("compiled_core",
                                                  ROOT / "tools" / "compiled_core.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MODULES: tuple[str, ...] = _compiled_core().MODULES
EXT = (".so", ".pyd")


def _is_extension(path: str | None) -> bool:
    return str(path).endswith(EXT)


def _extensions_installed() -> bool:
    """Whether a compiled extension sits next to every compiled module's source."""
    return all(any(p.name.endswith(EXT) for p in PKG.glob(f"{m}.*")) for m in MODULES)


# --------------------------------------------------------------------------- the core

needs_compiled = pytest.mark.skipif(
    EXPECT != "1",
    reason="compiled core not requested (make test-compiled / make test-wheel set "
    "LIBTASK9_EXPECT_COMPILED=1)")
needs_pure_over_compiled = pytest.mark.skipif(
    EXPECT != "0", reason="make test-wheel's LIBTASK9_PURE=1 pass sets LIBTASK9_EXPECT_COMPILED=0")


@needs_compiled
@pytest.mark.parametrize("name", MODULES)
def test_hot_modules_are_extension_modules(name: str) -> None:
    mod = sys.modules[f"libtask9.{name}"]
    assert _is_extension(mod.__file__), (
        f"libtask9.{name} was imported from {mod.__file__}: install the wheel "
        "(make test-wheel), or run `make compiled` and put build/mypyc first on the import "
        "path (PYTHONSAFEPATH=1 PYTHONPATH=build/mypyc:.)"
    )


@needs_compiled
def test_compiled_flag_says_compiled() -> None:
    assert libtask9.COMPILED is True
    assert not _pure.REQUESTED


@needs_pure_over_compiled
@pytest.mark.parametrize("name", MODULES)
def test_pure_modules_are_loaded_although_extensions_are_installed(name: str) -> None:
    assert _pure.REQUESTED, "the LIBTASK9_PURE=1 pass runs without LIBTASK9_PURE=1"
    assert _extensions_installed(), f"no compiled extensions next to the sources in {PKG}"
    mod = sys.modules[f"libtask9.{name}"]
    assert str(mod.__file__) == str(PKG / f"{name}.py")
    assert libtask9.COMPILED is False
    assert "libtask9_core__mypyc" not in sys.modules


def test_weakref_to_timer_channel_is_cleared() -> None:
    """What the mypyc#1102 fix is for (the timers hold their channels weakly); holds for
    the pure package too."""
    fired: list[int] = []
    c: libtask9.Channel[float] = libtask9.after(10**6)
    r = weakref.ref(c, lambda _r: fired.append(1))
    assert r() is c
    del c
    gc.collect()
    assert r() is None
    assert fired == [1]


# --------------------------------------------------------------------------- LIBTASK9_PURE

_CHILD = """
import json, sys
import libtask9
mods = sys.argv[1].split(",")
print(json.dumps({
    "compiled": libtask9.COMPILED,
    "files": [sys.modules["libtask9." + m].__file__ for m in mods],
    "shared_lib": "libtask9_core__mypyc" in sys.modules,
    "run": libtask9.run(lambda: libtask9.sleep(1) or 7),
}))
"""


def _child(pure: bool) -> dict[str, object]:
    env = dict(os.environ)
    env.pop("LIBTASK9_PURE", None)
    if pure:
        env["LIBTASK9_PURE"] = "1"
    p = subprocess.run([sys.executable, "-c", _CHILD, ",".join(MODULES)], env=env,
                       capture_output=True, text=True, timeout=60, check=True)
    out: dict[str, object] = json.loads(p.stdout)
    return out


def test_pure_switch_at_import_time() -> None:
    """LIBTASK9_PURE=1 loads every module from its .py, compiled extensions or not;
    without it the extensions are loaded where they are installed."""
    pure = _child(pure=True)
    assert pure["compiled"] is False
    assert pure["files"] == [str(PKG / f"{m}.py") for m in MODULES]
    assert pure["shared_lib"] is False
    assert pure["run"] == 7
    default = _child(pure=False)
    assert default["compiled"] is _extensions_installed()
    assert all(_is_extension(f) == _extensions_installed() for f in default["files"]), default
    assert default["run"] == 7


# --------------------------------------------------------------------------- installed


def _installed_distribution() -> importlib.metadata.Distribution | None:
    """The distribution whose files ``libtask9`` was imported from, if it was imported
    from a site-packages directory (not from a source tree: editable install, PYTHONPATH),
    looked up in that directory only (a source tree's ``libtask9.egg-info`` on the path
    does not count)."""
    for key in ("platlib", "purelib"):
        site = Path(sysconfig.get_paths()[key]).resolve()
        if PKG.is_relative_to(site):
            dist = next(iter(importlib.metadata.distributions(name="libtask9",
                                                               path=[str(site)])), None)
            if dist is not None and Path(str(dist.locate_file("libtask9/__init__.py"))
                                         ).resolve() == Path(libtask9.__file__).resolve():
                return dist
    return None


def test_version_is_the_installed_distributions() -> None:
    dist = _installed_distribution()
    if dist is None:
        assert not EXPECT_INSTALLED, (
            f"libtask9 was imported from {libtask9.__file__}, not from its installed "
            "distribution")
        pytest.skip("libtask9 is imported from a source tree (editable or PYTHONPATH)")
    assert libtask9.__version__ == dist.version
    if EXPECT_INSTALLED:  # make test-wheel: no source tree's metadata on the path
        assert importlib.metadata.version("libtask9") == libtask9.__version__


@pytest.mark.skipif(not EXPECT_INSTALLED, reason="make test-wheel sets LIBTASK9_EXPECT_INSTALLED=1")
def test_installed_package_has_sources_and_py_typed() -> None:
    dist = _installed_distribution()
    assert dist is not None, f"libtask9 imported from {libtask9.__file__}"
    assert not PKG.is_relative_to(ROOT), f"libtask9 imported from the tree under test: {PKG}"
    files = {str(f) for f in dist.files or ()}
    assert "libtask9/py.typed" in files
    for m in MODULES:
        assert f"libtask9/{m}.py" in files, f"the wheel lacks the source of libtask9.{m}"


def test_import_without_the_gil_is_refused_with_what_to_do() -> None:
    """A free-threaded interpreter running without the GIL would break the runtime's
    ordering assumptions (J1): importing libtask9 there is an ImportError naming the fix.
    (Simulated: sys._is_gil_enabled is what CPython 3.13+ answers.)"""
    code = ("import sys; sys._is_gil_enabled = lambda: False\n"
            "try:\n    import libtask9\nexcept ImportError as e:\n    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, check=True, cwd=str(PKG.parent))
    assert "needs the GIL" in p.stdout and "-X gil=1" in p.stdout
