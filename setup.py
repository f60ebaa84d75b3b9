"""Build libtask9 with its compiled core when possible, the pure-Python package otherwise.

The metadata is in ``pyproject.toml``; setuptools (its build backend) runs this file for
the one thing it cannot declare there: the mypyc extension modules, built by mypyc's
setuptools integration (``mypyc.build.mypycify``) from the same source.  The build
requirements (mypy, which ships mypyc, and what the type check of the compiled modules
imports) are in ``pyproject.toml``'s ``[build-system] requires``.

``pip install .`` and ``python -m build`` give a wheel holding, for each module in
``tools/compiled_core.py``'s ``MODULES``, the mypyc extension next to its ``.py`` source
(CPython imports the extension; ``LIBTASK9_PURE=1`` at import time the source), plus the
shared library ``libtask9_core__mypyc``.  Between mypyc's C generation and the C compiler
the generated deallocators get the mypyc#1102 weakref fix, and after the compiler the
built package is self-tested in a child interpreter (see ``tools/compiled_core.py``).

If mypyc, the C compiler or the self-test fails, the build warns loudly and produces the
pure-Python wheel instead (``pip install -v .`` shows the messages: pip hides a
successful build's output).  Environment variables, read at build time:

* ``LIBTASK9_PURE=1``: build the pure-Python package only (a ``py3-none-any`` wheel).
* ``LIBTASK9_REQUIRE_COMPILED=1``: no fallback, a failure of the compiled build is an
  error (CI sets it).

Only the commands that build binaries compile (``bdist_wheel``, ``build``, ``build_ext``,
``install``): metadata, the sdist and editable installs (``pip install -e .``, the
development venv) stay pure, so that no extension module is ever written into the source
tree to shadow the ``.py`` files being edited.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "tools"))
import compiled_core  # noqa: E402  (tools/compiled_core.py, shipped in the sdist)

BUILD_COMMANDS = {"bdist_wheel", "build", "build_ext", "install"}
C_DIR = os.path.join("build", "mypyc-setup")  # the generated C (relative: mypyc's paths)


class BuildFailed(Exception):
    """The compiled core could not be built (or failed its self-test)."""


def _flag(name: str) -> bool:
    return os.environ.get(name) == "1"


def _say(msg: str) -> None:
    print(f"libtask9 setup.py: {msg}", file=sys.stderr, flush=True)


def _mypycify() -> list[Extension]:
    """Generate the C for the compiled core and patch it; return the extensions."""
    try:
        from mypyc.build import mypycify
    except ImportError as e:
        raise BuildFailed(f"mypyc is not importable ({e}); it ships with mypy") from e
    paths = [f"libtask9/{m}.py" for m in compiled_core.MODULES]
    _say(f"mypyc {' '.join(paths)} (C in {C_DIR})")
    try:
        exts: list[Extension] = mypycify(paths, opt_level="3", target_dir=C_DIR,
                                         group_name=compiled_core.GROUP)
    except SystemExit as e:  # mypyc reports type errors and its own failures this way
        raise BuildFailed(f"mypyc failed ({e.code}); see its messages above") from e
    except Exception as e:
        raise BuildFailed(f"mypyc failed: {type(e).__name__}: {e}") from e
    n = compiled_core.patch_weakref_dealloc(Path(C_DIR))
    if n == 0:
        raise BuildFailed("the mypyc#1102 weakref fix matched no generated deallocator: "
                          "mypyc's output changed (check mypyc#1102 and the mypy pin)")
    _say(f"weakref fix (mypyc#1102) in {n} generated deallocators")
    return exts


class BuildExtSelfTested(build_ext):
    """build_ext whose failures (no compiler, a compile error) raise BuildFailed, and which
    self-tests the built package in a child interpreter."""

    def run(self) -> None:
        try:
            self._build_and_test()
        except BuildFailed:
            self.remove_outputs()  # a later (pure) build must not pick up a half-built core
            raise

    def _build_and_test(self) -> None:
        try:
            super().run()
        except (Exception, SystemExit) as e:  # CompileError, LinkError, exit from distutils
            raise BuildFailed(f"building the C extensions failed: {e}") from e
        if self.inplace:
            root = HERE
        else:
            self.run_command("build_py")  # the .py files next to the extensions
            root = Path(self.build_lib).resolve()
        r = compiled_core.self_test(root)
        sys.stderr.write(r.stdout)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            raise BuildFailed(f"the compiled core failed its self-test (exit {r.returncode})")

    def remove_outputs(self) -> None:
        for ext in self.extensions:
            path = Path(self.get_ext_fullpath(ext.name))
            if path.exists():
                path.unlink()


def _compiled_setup() -> None:
    exts = _mypycify()
    cmd: dict[str, Any] = {"build_ext": BuildExtSelfTested}
    try:
        setup(ext_modules=exts, cmdclass=cmd)
    except BuildFailed:
        shutil.rmtree(C_DIR, ignore_errors=True)
        raise


def main() -> None:
    os.chdir(HERE)
    if _flag("LIBTASK9_PURE"):
        _say("LIBTASK9_PURE=1: building the pure-Python package only")
        setup()
        return
    if not BUILD_COMMANDS & set(sys.argv[1:]):
        setup()  # metadata, sdist, editable install: no extension modules
        return
    try:
        _compiled_setup()
        return
    except BuildFailed as e:
        if _flag("LIBTASK9_REQUIRE_COMPILED"):
            raise SystemExit(f"error: libtask9: the compiled core was required "
                             f"(LIBTASK9_REQUIRE_COMPILED=1) and could not be built: {e}"
                             ) from e
        bar = "*" * 78
        _say(f"\n{bar}\nWARNING: the compiled core could not be built: {e}\n"
             "Falling back to the pure-Python package (the same behaviour, slower; "
             "libtask9.COMPILED is False).\nSet LIBTASK9_REQUIRE_COMPILED=1 to make this "
             f"an error, LIBTASK9_PURE=1 to skip the attempt.\n{bar}")
    setup()


main()
