"""``LIBTASK9_PURE=1``: import the pure-Python modules even where compiled ones are installed.

A wheel with the compiled core ships each compiled module twice, ``_chan.py`` next to the
mypyc extension ``_chan.cpython-*.so``, and CPython's path finder prefers the extension.
Imported first by the package, this module (when ``LIBTASK9_PURE=1`` is set at import
time) puts a finder in front of ``sys.meta_path`` that loads every ``libtask9.X`` that has
an ``X.py`` from that source file, so the whole runtime is the pure-Python reference;
``libtask9.COMPILED`` then reads False.  Without the variable it does nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

_PACKAGE = __name__.rpartition(".")[0]
_DIR = os.path.dirname(os.path.abspath(__file__))

#: True when this import of the package was asked for the pure-Python modules.
REQUESTED: bool = os.environ.get("LIBTASK9_PURE") == "1"


class PureFinder(importlib.abc.MetaPathFinder):
    """Finds ``libtask9.X`` (a module directly in the package) as its ``X.py`` source."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != _PACKAGE:
            return None
        source = os.path.join(_DIR, name + ".py")
        if not os.path.isfile(source):
            return None  # a subpackage (libtask9.testing) or no such module: the usual way
        return importlib.util.spec_from_file_location(fullname, source)


if REQUESTED and not any(isinstance(f, PureFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, PureFinder())
