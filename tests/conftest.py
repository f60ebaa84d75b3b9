"""Shared test configuration.

* Every test has a timeout (pytest-timeout, ``timeout = 60`` in pyproject.toml).
* Hypothesis profiles: ``ci`` (default, bounded), ``fuzz`` (long runs) and ``mutant``
  (no shrinking, for the planted-bug harness), chosen with ``LIBTASK9_HYPOTHESIS_PROFILE``;
  ``--hypothesis-seed`` replays a failure, whose reproduction blob is printed.
* After each test, no run may be left (no proc registered, no thread left hanging) and
  the tracer must be off again.
* SIGINT has Python's default handler in every test, also when the suite was started with
  SIGINT ignored (a non-interactive shell ignores it in a command it runs in the
  background): ``run()`` installs its own handler only over the default one, and the
  interrupt tests send real SIGINTs.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings

import libtask9
from libtask9 import _world

settings.register_profile(
    "ci", max_examples=200, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], print_blob=True,
)
# For the runtime-mutant harness (stress/mutants.py): find a failure fast, skip shrinking.
settings.register_profile(
    "mutant", max_examples=300, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.generate], database=None,
)
settings.register_profile(
    "fuzz", max_examples=20000, stateful_step_count=80, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], print_blob=True,
)
settings.load_profile(os.environ.get("LIBTASK9_HYPOTHESIS_PROFILE", "ci"))

if threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _no_leaked_runs() -> Iterator[None]:
    yield
    # run() returns only after its procs have exited: nothing may be left, at once.
    left = _world.live_worlds()
    assert not left, f"runs still live after the test: {left}"
    assert libtask9.get_tracer() is None, "a test left the tracer installed"
    assert not [t for t in threading.enumerate() if t.name.startswith("libtask9-proc")], \
        "a proc thread is still alive"
