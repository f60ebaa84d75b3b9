"""Build libtask9's optional compiled core with mypyc.

The pure-Python package stays the reference.  This script copies it (default: the repo's
``libtask9/``) to ``build/mypyc/libtask9/`` and compiles the hot modules there in place,
so that::

    PYTHONPATH=build/mypyc python -c 'import libtask9'

imports the compiled extension modules (a ``.so`` next to each ``.py``: CPython's path
finder prefers extension modules).  Nothing outside ``build/`` is touched.

    python tools/build_mypyc.py                       # make compiled
    python tools/build_mypyc.py --src /some/libtask9  # another source tree (a patched copy)
    python tools/build_mypyc.py --modules _chan,_sched,_task,_timer

Needs mypy (which ships mypyc; in the ``dev`` extras), setuptools and a C compiler.

The list of compiled modules, the mypyc#1102 weakref fix (patched into the generated C;
``--no-weakref-fix`` skips it) and the self-test (in a subprocess: the modules are the
extensions and a weak reference to a timer channel is cleared) are shared with
``setup.py``, which builds the same core into the wheel: see ``tools/compiled_core.py``.

Exit status: 0 if everything was compiled and the checks passed; 1 otherwise (loudly).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from compiled_core import GROUP, MODULES, patch_weakref_dealloc, self_test

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = ROOT / "libtask9"
DEFAULT_OUT = ROOT / "build" / "mypyc"
DEFAULT_MODULES = MODULES  # tools/compiled_core.py: the one list


def _fail(msg: str) -> int:
    print(f"build_mypyc: ERROR: {msg}", file=sys.stderr)
    return 1


def build(src: Path, out: Path, modules: list[str], weakref_fix: bool, verbose: bool) -> int:
    try:
        from mypyc.build import mypycify
        from setuptools import setup
    except ImportError as e:
        return _fail(f"{e}; install the dev extras (pip install -e '.[dev]': mypy ships mypyc)"
                     " and setuptools")
    if not (src / "__init__.py").is_file():
        return _fail(f"{src} is not the libtask9 package directory")
    for m in modules:
        if not (src / f"{m}.py").is_file():
            return _fail(f"no module {m}.py in {src}")

    t0 = time.monotonic()
    tmp = out.parent / (out.name + "-tmp")  # generated C and object files
    for d in (out, tmp):
        if d.exists():
            shutil.rmtree(d)
    pkg = out / "libtask9"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns(
        "__pycache__", "*.so", "*.pyd", "*.c", "*.pyc"))
    print(f"build_mypyc: copied {src} -> {pkg}")

    paths = [f"libtask9/{m}.py" for m in modules]
    cwd = os.getcwd()
    os.chdir(out)
    try:
        print(f"build_mypyc: mypyc {' '.join(paths)} (opt level 3)", flush=True)
        try:
            exts = mypycify(paths, opt_level="3", target_dir=str(tmp / "c"),
                            group_name=GROUP, verbose=verbose)
        except SystemExit as e:  # mypyc reports type/compile errors and exits
            return _fail(f"mypyc failed (exit {e.code}); see the errors above")
        if weakref_fix:
            n = patch_weakref_dealloc(tmp / "c")
            if n == 0:
                return _fail("weakref fix: no generated deallocator matched; the mypyc "
                             "output changed (re-check mypyc#1102, or --no-weakref-fix)")
            print(f"build_mypyc: weakref fix (mypyc#1102) inserted into {n} deallocators")
        print(f"build_mypyc: compiling {len(exts)} extension(s) with the C compiler",
              flush=True)
        args = ["build_ext", "--inplace", "--build-temp", str(tmp / "obj"),
                "--build-lib", str(tmp / "lib")]
        if not verbose:
            args.insert(0, "--quiet")
        try:
            setup(name="libtask9-mypyc-core", ext_modules=exts, script_args=args)
        except SystemExit as e:
            if e.code not in (None, 0):
                return _fail(f"the C build failed: {e.code}")
    except Exception as e:  # mypyc internal errors, compiler errors
        return _fail(f"{type(e).__name__}: {e}")
    finally:
        os.chdir(cwd)

    built = sorted(p.relative_to(out) for p in out.rglob("*.so"))
    for m in modules:
        if not any(p.parent.name == "libtask9" and p.name.startswith(m + ".") for p in built):
            return _fail(f"no extension module was produced for libtask9.{m}")
    dt = time.monotonic() - t0
    print(f"build_mypyc: built in {dt:.1f} s:")
    for p in built:
        print(f"    {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}/{p}")

    r = self_test(out, modules)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return _fail(f"self-test of the compiled core failed (exit {r.returncode}"
                     f"{', a crash' if r.returncode < 0 else ''})")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC,
                    help="the libtask9 package directory to compile (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="output root; the package goes to OUT/libtask9 (default: %(default)s)")
    ap.add_argument("--modules", default=",".join(DEFAULT_MODULES),
                    help="comma-separated libtask9 modules to compile (default: %(default)s)")
    ap.add_argument("--no-weakref-fix", action="store_true",
                    help="do not patch the generated deallocators (mypyc#1102)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    modules = [m.strip() for m in a.modules.split(",") if m.strip()]
    return build(a.src.resolve(), a.out.resolve(), modules, not a.no_weakref_fix, a.verbose)


if __name__ == "__main__":
    sys.exit(main())
