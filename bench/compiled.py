"""The ``libtask9-mypyc`` rows: the same libtask9 benchmark functions, run against the
optional compiled core (``make compiled`` = ``tools/build_mypyc.py``: the libtask9 source
copied to ``build/mypyc/libtask9/`` with its hot modules compiled by mypyc in place).

The parent starts such a measurement with ``build/mypyc`` first on ``PYTHONPATH``
(``Impl.pythonpath``).  ``python -m bench`` also puts the repo root (which holds the
pure-Python ``libtask9/``) at the front of ``sys.path``, so the child moves ``build/mypyc``
in front of it before the first ``import libtask9`` and then checks that
``libtask9._chan`` really is the extension module; without a build the row is skipped.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.core import Impl, Skip

ROOT = Path(__file__).resolve().parent.parent
# relative to ROOT (or absolute); see tools/build_mypyc.py
MYPYC_DIR = os.environ.get("LIBTASK9_MYPYC_DIR", "build/mypyc")
KEY = "libtask9-mypyc"
ROLE = "libtask9-mypyc"
LABEL = "libtask9 compiled core (mypyc), same source"


def use_compiled_core() -> str:
    """In a measurement child: make ``import libtask9`` load the compiled core (or raise
    Skip when it is not built).  Returns the extension file of ``libtask9._chan``."""
    d = str(ROOT / MYPYC_DIR)
    if not os.path.isfile(os.path.join(d, "libtask9", "__init__.py")):
        raise Skip(f"compiled core not built ({MYPYC_DIR} absent): run `make compiled`")
    lt9 = sys.modules.get("libtask9")
    if lt9 is not None and not str(lt9.__file__).startswith(d + os.sep):
        raise RuntimeError(f"libtask9 was already imported from {lt9.__file__}")
    if sys.path[:1] != [d]:
        sys.path.insert(0, d)
    import libtask9._chan as chan

    f = str(chan.__file__)
    if not f.endswith((".so", ".pyd")):
        raise Skip(f"{MYPYC_DIR} holds no compiled libtask9._chan (imported {f}): "
                   "run `make compiled`")
    return f


def _compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        use_compiled_core()
        return fn(*args)

    return run


def impl(fn: Callable[..., Any], what: str, params: tuple[Any, ...] | None = None) -> Impl:
    """The compiled-core twin of a case's ``libtask9`` implementation ``fn``."""
    return Impl(KEY, f"{LABEL}: {what}", _compiled(fn), role=ROLE, params=params,
                pythonpath=MYPYC_DIR)
