"""The cookbook (``examples/``): every recipe runs as a program and prints what it should.

Each example runs in a fresh interpreter (``sys.executable``, the environment inherited,
so ``make test-compiled`` runs them against the compiled core too) with a timeout, and
its whole output is compared.  Where a line legitimately depends on scheduling, the
example sorts or summarises it; the one exception (the trace checker's message, which
names a value that depends on timing across procs) is matched by a pattern.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# An example must finish well inside this; the slowest takes ~0.3 s on an idle machine.
TIMEOUT = 30


def run_example(name: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr == "", f"{name} wrote to stderr:\n{proc.stderr}"
    return proc.stdout


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def test_pipeline_close_propagates_both_ways() -> None:
    assert lines(run_example("pipeline.py")) == [
        "source: downstream closed, stopping",
        "squares plus one: [2, 5, 10, 17, 26, 37, 50]",
        "first three of an endless stream: [2, 5, 10]",
    ]


def test_fan_in_fan_out() -> None:
    squares = ", ".join(f"({i}, {i * i})" for i in range(12))
    assert lines(run_example("fan_in_fan_out.py")) == [
        f"results: [{squares}]",
        "every job done exactly once: True",
        "workers used: 3 jobs: 12",
    ]


@pytest.mark.parametrize(("nworkers", "njobs"), [("4", "10"), ("1", "3"), ("3", "0")])
def test_worker_pool_across_procs(nworkers: str, njobs: str) -> None:
    expected = []
    for job in range(int(njobs)):
        outcome = (f"failed: job {job} is cursed" if job % 7 == 3
                   else f"{job}**2 = {job * job}")
        expected.append(f"job {job}: {outcome}")
    expected.append(f"all {nworkers} workers joined")
    assert lines(run_example("worker_pool.py", nworkers, njobs)) == expected


def test_every_interleaving_finds_the_lost_updates_and_none_with_the_lock() -> None:
    assert lines(run_example("every_interleaving.py")) == [
        "unsafe: 90 schedules, 84 lose an update",  # 6!/(2!2!2!) schedules, 3! serial
        "safe: 36 schedules, 0 lose an update",
    ]


@pytest.mark.parametrize(("nworkers", "njobs"), [("3", "10"), ("1", "6")])
def test_task_group_pool_with_a_deadline_per_job(nworkers: str, njobs: str) -> None:
    expected = [f"job {j}: " + ("timed out" if j % 5 == 4 else f"{j}**2 = {j * j}")
                for j in range(int(njobs))]
    expected.append(f"all {nworkers} workers done")
    assert lines(run_example("task_group_pool.py", nworkers, njobs)) == expected


def test_graceful_shutdown_runs_every_finally() -> None:
    assert lines(run_example("graceful_shutdown.py")) == [
        "stubborn: finally ran",
        "stubborn: killed while blocked in recv",
        "main-a: stopped cleanly",
        "main-b: stopped cleanly",
        "proc2-a: stopped cleanly",
        "proc2-b: stopped cleanly",
        "work done before the stop: 10 units",
    ]


def test_timeouts() -> None:
    assert lines(run_example("timeouts.py")) == [
        "recv on a silent channel: None",
        "'early': deadline passed before the server took it",
        "'fast': 'FAST'",
        "'slow': deadline passed while waiting for the reply",
        "timer stopped before it fired: True",
    ]


@pytest.mark.parametrize("nclients", [1, 3, 12])
def test_echo_server_with_loopback_clients(nclients: int) -> None:
    expected = sorted(f"client {n}: echoed 'hello from client {n}', then EOF: True"
                      for n in range(nclients))
    nbytes = sum(len(f"hello from client {n}") for n in range(nclients))
    expected.append(f"server: {nclients} connections, {nbytes} bytes echoed")
    assert lines(run_example("echo_server.py", str(nclients))) == expected


def _primes(n: int) -> list[int]:
    found: list[int] = []
    k = 2
    while len(found) < n:
        if all(k % p for p in found):
            found.append(k)
        k += 1
    return found


@pytest.mark.parametrize("n", [1, 25, 100])
def test_prime_sieve(n: int) -> None:
    out = run_example("prime_sieve.py", str(n))
    assert out == " ".join(map(str, _primes(n))) + "\n"


def test_prime_sieve_default() -> None:
    assert run_example("prime_sieve.py") == " ".join(map(str, _primes(25))) + "\n"


def test_check_my_trace(tmp_path: Path) -> None:
    trace = tmp_path / "trace.ndjson"
    out = lines(run_example("check_my_trace.py", str(trace)))
    assert out[:5] == [
        "evens: [0, 2, 4, 6, 8] odds: [1, 3, 5, 7, 9]",
        "trace accepted by the oracle: True",
        "trace file accepted by the oracle: True",
        "corrupted trace accepted: False",
        "rejected at the altered event: True",
    ]
    assert re.fullmatch(r"the checker says: received value: trace says 999, "
                        r"the spec says \d \(buf\[\d+\] = .*\)", out[5]), out[5]
    assert len(out) == 6
    header = trace.read_text().split("\n", 1)[0]
    assert header == '{"format": "libtask9-trace", "version": 2}'


# Runs an example with libtask9.run wrapped: when run() returns, no other proc may still
# be registered.  That is what makes a recipe correct whether run() leaves the other
# procs running (daemon threads) or stops them: it joined them, or waited on channels
# for everything it needed, before its main task returned.
_NO_PROC_LEFT = """
import runpy, sys, threading
import libtask9
from libtask9 import _world

real_run = libtask9.run

def checked_run(*args, **kwargs):
    try:
        return real_run(*args, **kwargs)
    finally:
        left = _world.live_worlds()
        alive = [t.name for t in threading.enumerate() if t.name.startswith("libtask9-proc")]
        if left or alive:
            print(f"procs outlived run(): {left} {alive}", file=sys.stderr)
            sys.exit(3)

libtask9.run = checked_run
path = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(path, run_name="__main__")
"""

_ARGS = {"accept_timeout.py": ["0", "50"], "echo_server.py": ["4"], "worker_pool.py": ["3", "9"]}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_no_proc_outlives_run(path: Path, tmp_path: Path) -> None:
    args = _ARGS.get(path.name, [])
    if path.name in ("check_my_trace.py", "trace_timeline.py"):
        args = [str(tmp_path / "trace.ndjson")]
    proc = subprocess.run([sys.executable, "-c", _NO_PROC_LEFT, str(path), *args],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{path.name}:\n{proc.stdout}\n{proc.stderr}"


# The recipes every test above covers, the seed's example (tests/test_examples.py) and the
# timeline example (tests/test_trace_timeline.py).
COVERED = {"pipeline.py", "fan_in_fan_out.py", "worker_pool.py", "graceful_shutdown.py",
           "timeouts.py", "echo_server.py", "prime_sieve.py", "check_my_trace.py",
           "accept_timeout.py", "trace_timeline.py", "task_group_pool.py",
           "every_interleaving.py"}


def test_every_example_is_tested() -> None:
    assert {p.name for p in EXAMPLES.glob("*.py")} == COVERED


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_shape(path: Path) -> None:
    """A module docstring that says how to run it, a main(), an ``if __name__`` guard."""
    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree)
    assert doc is not None and f"python examples/{path.name}" in doc
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)
    last = tree.body[-1]
    assert isinstance(last, ast.If) and ast.unparse(last.test) == "__name__ == '__main__'"
