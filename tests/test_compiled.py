"""The optional compiled core (``make compiled``, ``make test-compiled``).

Skipped unless ``LIBTASK9_EXPECT_COMPILED=1`` (set by ``make test-compiled``): then the
suite must really be running against the mypyc-built extension modules in
``build/mypyc``, not the pure-Python package, and the behaviour the build script patches
(weak references to a compiled ``Channel``, which the timers rely on) must hold.
"""

from __future__ import annotations

import gc
import os
import weakref

import pytest

import libtask9

pytestmark = pytest.mark.skipif(
    os.environ.get("LIBTASK9_EXPECT_COMPILED") != "1",
    reason="compiled core not requested (make test-compiled sets LIBTASK9_EXPECT_COMPILED=1)",
)

COMPILED = ("_chan", "_sched", "_task")


@pytest.mark.parametrize("name", COMPILED)
def test_hot_modules_are_extension_modules(name: str) -> None:
    mod = getattr(libtask9, name)
    assert str(mod.__file__).endswith((".so", ".pyd")), (
        f"libtask9.{name} was imported from {mod.__file__}: run `make compiled` and put "
        "build/mypyc first on the import path (PYTHONSAFEPATH=1 PYTHONPATH=build/mypyc:.)"
    )


def test_weakref_to_compiled_timer_channel_is_cleared() -> None:
    fired: list[int] = []
    c: libtask9.Channel[float] = libtask9.after(10**6)
    r = weakref.ref(c, lambda _r: fired.append(1))
    assert r() is c
    del c
    gc.collect()
    assert r() is None
    assert fired == [1]
