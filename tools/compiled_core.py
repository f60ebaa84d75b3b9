"""What the two builds of libtask9's optional compiled core share.

``setup.py`` (``pip install .``, ``python -m build``: the compiled core inside the wheel)
and ``tools/build_mypyc.py`` (``make compiled``: an out-of-tree build in ``build/mypyc``)
both import this module, so the list of compiled modules, the mypyc workaround and the
self-test exist once.  Standard library only: ``setup.py`` imports it before anything
else is known to be installed.

The mypyc workaround, applied to the generated C after ``mypycify`` wrote it and before
the C compiler runs: a native class that inherits from a Python class (every
``Generic[T]`` class, e.g. ``Channel``) gets ``__dict__`` and ``__weakref__`` slots, but
on CPython <= 3.11 its generated ``tp_dealloc`` only ``Py_CLEAR``s the weak-reference list
instead of calling ``PyObject_ClearWeakRefs`` (mypyc/mypyc#1102): a weak reference that
outlives its object then dangles (callbacks never run; dereferencing it crashes).  The
timers hold their channel (a Python subclass of ``Channel``, ``_timer._TimerChannel``)
through ``weakref.ref``, so the missing call goes into every generated deallocator (a
no-op where the type has no weak-reference slot, as on CPython >= 3.12), and the
self-test checks, in a child interpreter, that a weak reference to a timer channel is
cleared and its callback runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

#: The libtask9 modules compiled by mypyc (the hot paths), lowest layer first.  The one
#: list: setup.py, tools/build_mypyc.py and tests/test_compiled.py read it from here.
MODULES: tuple[str, ...] = ("_chan", "_sched", "_task", "_world", "_timerheap")

#: mypyc's group name: the shared library is the top-level ``libtask9_core__mypyc``
#: extension module, one small shim extension per compiled module next to its ``.py``.
GROUP = "libtask9_core"

# The deallocator mypyc generates for a GC-tracked native class starts like this; the
# lookahead leaves one already patched alone (mypycify keeps an unchanged C file as it is).
_DEALLOC_RE = re.compile(
    r"(static void\n(\w+)_dealloc\((\w+) \*self\)\n\{\n)(    PyObject_GC_UnTrack\(self\);\n)"
    r"(?!    if \(Py_TYPE\(self\)->tp_weaklistoffset)"
)
WEAKREF_FIX = (
    "    if (Py_TYPE(self)->tp_weaklistoffset != 0)"
    " PyObject_ClearWeakRefs((PyObject *)self);  /* libtask9: mypyc#1102 */\n"
)


def patch_weakref_dealloc(c_dir: Path) -> int:
    """Insert ``PyObject_ClearWeakRefs`` into every generated deallocator under ``c_dir``.

    Returns how many deallocators carry the fix afterwards (0 means the mypyc output no
    longer looks as expected: re-check mypyc#1102 before building without the fix)."""
    n = 0
    for path in sorted(Path(c_dir).rglob("*.c")):
        text = path.read_text()
        new, k = _DEALLOC_RE.subn(lambda m: m.group(1) + m.group(4) + WEAKREF_FIX, text)
        if k:
            path.write_text(new)
        n += new.count(WEAKREF_FIX)
    return n


# Run in a child interpreter against a built tree: the modules are the extensions, a weak
# reference to a compiled (timer) Channel behaves, and a tiny program with a timer runs.
SELF_TEST = textwrap.dedent("""
    import gc, sys, weakref
    import libtask9
    mods = sys.argv[1].split(",")
    for m in mods:
        f = sys.modules["libtask9." + m].__file__
        assert f.endswith((".so", ".pyd")), f"libtask9.{m} imported from {f}, not the extension"
    assert libtask9.COMPILED is ("_chan" in mods)
    fired = []
    c = libtask9.after(10**6)  # a timer channel: its heap entry holds it weakly
    r = weakref.ref(c, lambda _r: fired.append(1))
    del c
    gc.collect()
    assert r() is None and fired == [1], "weakref to a compiled timer channel not cleared"
    def main():
        out = libtask9.Channel()
        libtask9.new_task(lambda: out.send(sum(range(10))))
        i, v = libtask9.alt(libtask9.alt_recv(out), libtask9.alt_recv(libtask9.after(5000)))
        libtask9.sleep(1)
        return i, v
    assert libtask9.run(main) == (0, 45)
    print("self-test ok:", ", ".join(f"libtask9.{m}" for m in mods), "are extension modules")
""")


def self_test(root: Path | str, modules: tuple[str, ...] | list[str] = MODULES
              ) -> subprocess.CompletedProcess[str]:
    """Run SELF_TEST in a child interpreter with ``root`` (the directory holding the built
    ``libtask9/``) first on ``PYTHONPATH``, from an empty directory (so that no other
    ``libtask9/`` is found first) and with ``LIBTASK9_PURE`` unset."""
    env = dict(os.environ)
    env.pop("LIBTASK9_PURE", None)
    root = os.path.abspath(root)  # the child runs elsewhere
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="libtask9-selftest-") as cwd:
        return subprocess.run([sys.executable, "-c", SELF_TEST, ",".join(modules)],
                              env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
