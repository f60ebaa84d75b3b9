"""``python -m stress mutants``: plant runtime bugs in a copy of libtask9; expect each caught.

Each mutant is a list of exact search/replace edits on the runtime source.  The harness
copies the ``libtask9`` package into a temporary directory (the real files are never
touched), takes the *tracked* runtime files from git ``HEAD`` (so a half-edited working
tree cannot leak into the study; ``--worktree`` uses the working tree as it is), checks
that every edit applies exactly once and that the result compiles, and then runs the
detection layers against the copy with ``PYTHONPATH`` pointing at it (each layer first
asserts that ``libtask9`` is imported from the copy):

``hypothesis``  ``pytest -x -q -p no:cacheprovider tests/test_stateful.py`` (if present),
                seeded, with the ``mutant`` Hypothesis profile (no shrinking): the runtime
                in lockstep with the oracle;
``stress``      ``python -m stress run`` for a short, seeded duration; the replay file
                names the check that fired (trace, results, kills, conservation, order,
                deadlock, hang, error);
``trace``       when stress's verdict came from the oracle's trace checker, TLC trace
                validation of the saved trace must reject it at the same event;
``lifecycle``   ``python -m stress lifecycle`` for the same short, seeded duration: runs of
                procs, joins, timers, iocalls, kills and interrupts, back to back and at
                once, each outcome checked (the replay file names the check);
``unit``        the unit tests of tasks, timeout scopes and task groups
                (``tests/test_task.py``, ``tests/test_scope.py``, ``tests/test_group.py``:
                :data:`UNIT_TESTS`);
``coverage``    ``tests/test_alt.py``'s chi-squared test of the choice among ready cases.

Layers run in order of expected cost (a stress run stops at its first failure, usually
within seconds, while a passing Hypothesis run takes its full budget): stress, trace,
lifecycle, unit, hypothesis, coverage; they stop at the first catch (``--all-layers`` runs
them all, for the full matrix).  A layer that times out does not count as a catch.
A baseline run of the unmutated copy must pass every layer first.  The exit status is
non-zero if the baseline fails, an edit does not apply, or a mutant survives.
"""

from __future__ import annotations

import dataclasses
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["MUTANTS", "UNIT_TESTS", "Edit", "Mutant", "main", "prepare_copy"]

REPO = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace ``search`` (which must occur exactly once) by ``replace`` in ``file``."""

    file: str
    search: str
    replace: str


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A planted runtime bug: its name, what it does, its edits, the layers expected to
    catch it."""

    name: str
    what: str
    edits: tuple[Edit, ...]
    expect: tuple[str, ...]


_C = "_chan.py"
_S = "_sched.py"
_R = "_run.py"
_IO = "_ioproc.py"
_SC = "_scope.py"
_G = "_group.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant("no_withdraw", "woken alt's other waiters are not withdrawn", (
        Edit(_C, "if w is not fired and ch is not None:",
             "if fired is None and ch is not None:"),), ("hypothesis", "stress")),
    Mutant("lifo_buffer", "receive pops the buffer's tail (LIFO), on every path", (
        Edit(_C, "got = ch._buf.popleft()", "got = ch._buf.pop()"),
        Edit(_C, "return self._buf.popleft()", "return self._buf.pop()")),
        ("hypothesis", "stress")),
    Mutant("lifo_fastpath", "only the untraced recv fast path pops the tail", (
        Edit(_C, "return self._buf.popleft()", "return self._buf.pop()"),),
        ("hypothesis", "stress")),
    Mutant("handover_drop", "handover drops the blocked sender's value", (
        Edit(_C, "                ch._buf.append(w.value)\n                _complete_locked",
             "                _complete_locked"),), ("hypothesis", "stress")),
    Mutant("handover_front", "handover puts the sender's value at the head", (
        Edit(_C, "                ch._buf.append(w.value)\n",
             "                ch._buf.appendleft(w.value)\n"),), ("hypothesis", "stress")),
    Mutant("overfill", "capacity off by one (a send is ready while len(buf) == cap)", (
        Edit(_C, "if len(self._buf) < self._cap:  # AltBuffer",
             "if len(self._buf) <= self._cap:  # AltBuffer"),
        Edit(_C, "(ch._closed or ch._recvq.first is not None or len(ch._buf) < ch._cap)",
             "(ch._closed or ch._recvq.first is not None or len(ch._buf) <= ch._cap)"),
        Edit(_C, "(c._closed or c._recvq.first is not None or len(c._buf) < c._cap)",
             "(c._closed or c._recvq.first is not None or len(c._buf) <= c._cap)")),
        ("hypothesis", "stress")),
    Mutant("peek_recv", "receive reads the buffer's head without removing it", (
        Edit(_C, "got = ch._buf.popleft()", "got = ch._buf[0]"),
        Edit(_C, "return self._buf.popleft()", "return self._buf[0]")),
        ("hypothesis", "stress")),
    Mutant("nb_spurious", "non-blocking alt returns none when 2+ cases are ready", (
        Edit(_C, "        if ready:\n            i = ready[0] if len(ready) == 1",
             "        if ready and (canblock or len(ready) < 2):\n"
             "            i = ready[0] if len(ready) == 1"),), ("hypothesis", "stress")),
    Mutant("lost_wakeup", "send prefers free buffer space over a waiting receiver", (
        Edit(_C, "elif ch._recvq.first is not None:  # AltRendezvous",
             "elif ch._recvq.first is not None and len(ch._buf) >= ch._cap:  # AltRendezvous"),
        Edit(_C, "elif self._recvq.first is not None:  # AltRendezvous",
             "elif self._recvq.first is not None and len(self._buf) >= self._cap:"
             "  # AltRendezvous")),
        ("hypothesis", "stress")),
    Mutant("kill_leaves_sender", "kill of a blocked sender leaves its first send case queued", (
        Edit(_C, "        _complete_locked(self, None, KILLED, -1, None)",
             "        _complete_locked(self, self if self.dir is SEND else None, KILLED, -1,"
             " None)"),),
        ("hypothesis", "stress")),
    Mutant("kill_discards_result", "a kill racing a completed op discards its result", (
        Edit(_C, "    park(t)\n    done = a.outcome\n    if done is OK:\n",
             "    park(t)\n    done = KILLED if t._kill_pending else a.outcome\n"
             "    if done is OK:\n"),), ("hypothesis", "stress")),
    Mutant("resume_twice", "a partner readies the woken task twice (S1 guard fooled)", (
        Edit(_C, "    t._blocker = None\n    ready_locked(t)\n",
             "    t._blocker = None\n    ready_locked(t)\n    if outcome is OK:\n"
             "        t._state = BLOCKED\n        ready_locked(t)\n"),), ("stress",)),
    Mutant("remote_runq_unlocked", "ready_locked appends to another proc's runq directly", (
        Edit(_S, "    if p._ident == _get_ident():\n        p.runq.append(t)",
             "    if True:\n        p.runq.append(t)"),), ("stress",)),
    Mutant("op1_unlocked", "send/recv/nbsend/nbrecv run without chanlock (no-op lock)", (
        Edit(_C, "from dataclasses import dataclass\n",
             "from contextlib import nullcontext\nfrom dataclasses import dataclass\n"),
        Edit(_C, "    with chanlock:\n        if t._kill_pending:\n"
             "            raise killed_locked(t)\n        req = (_request(t, [[d, ch.id]]",
             "    with nullcontext():\n        if t._kill_pending:\n"
             "            raise killed_locked(t)\n        req = (_request(t, [[d, ch.id]]"),
        Edit(_C, "        chanlock.acquire()  # (not ``with``",
             "        pass  # (not ``with``"),
        Edit(_C, "        chanlock.acquire()  # (as in send)", "        pass  # (as in send)"),
        Edit(_C, "            chanlock.release()\n        if a is None:\n            _op1(",
             "            pass\n        if a is None:\n            _op1("),
        Edit(_C, "            chanlock.release()\n        if a is None:\n            return",
             "            pass\n        if a is None:\n            return"),
        ), ("stress",)),
    Mutant("biased_choice", "alt always takes the first ready case", (
        Edit(_C, "i = ready[0] if len(ready) == 1 else p.choose_case(ready)",
             "i = ready[0]"),), ("coverage", "hypothesis")),
    Mutant("close_forgets_receivers", "close does not wake blocked receivers", (
        Edit(_C, "for q in (ch._recvq, ch._sendq):", "for q in (ch._sendq,):"),),
        ("hypothesis", "stress")),
    # -- lifecycle (issue 9): caught by the lifecycle stress --------------------------------
    Mutant("exit_check_before_joiners",
           "a proc's exit checks for deadlock before waking its joiners", (
               Edit(_S, "        self._exited = True\n        woken = wake_joiners_locked(",
                    "        self._exited = True\n        early = check_deadlock_locked(w)\n"
                    "        woken = wake_joiners_locked("),
               Edit(_S, "        if _trace.tracer is None:\n            declared = "
                    "check_deadlock_locked(w)\n        else:\n            declared = "
                    "check_deadlock_locked(w, partial(_trace.proc_exit, w.id, self.id,\n"
                    "                                                        woken))\n",
                    "        declared = early\n        if _trace.tracer is not None:\n"
                    "            _trace.proc_exit(w.id, self.id, woken, early)\n")),
           ("lifecycle",)),
    Mutant("register_after_start", "new_proc registers the proc only after its thread started", (
        Edit(_S, "            w.procs.add(p)\n            w.all_procs.append(p)\n",
             "            w.all_procs.append(p)  # (mutant: registered after the start)\n"),
        Edit(_S, "        parent.defer_interrupts -= 1\n    return p\n",
             "        parent.defer_interrupts -= 1\n    with chanlock:\n"
             "        w.procs.add(p)\n    return p\n")),
        ("lifecycle",)),
    Mutant("timers_not_wakers", "the deadlock check ignores live timers (ntimers)", (
        Edit(_S, "    if w.ntimers:\n        disarm_collected_locked()",
             "    if False:\n        disarm_collected_locked()"),), ("lifecycle",)),
    Mutant("iocalls_not_counted", "an iocall in flight is not counted (w.iocalls not raised)", (
        Edit(_IO, "            w.iocalls += 1\n", "            pass  # (mutant)\n"),),
        ("lifecycle",)),
    Mutant("idle_kept_after_interrupt",
           "an interrupt in the idle wait leaves the proc counted idle", (
               Edit(_S, "                        pk.keep_interrupt(e)\n",
                    "                        pk.keep_interrupt(e)\n"
                    "                        return  # (mutant: _idle/nidle not restored)\n"),),
           ("lifecycle",)),
    Mutant("run_returns_before_procs_exit", "run() does not wait for its procs to exit", (
        Edit(_R, "            if not threads:\n                break\n",
             "            break  # (mutant)\n"),), ("lifecycle",)),
    # -- timeout scopes and task groups (issue 11): the lifecycle stress's races and groups,
    # -- and the unit tests of tests/test_scope.py and tests/test_group.py -------------------
    Mutant("timeout_drops_committed",
           "a timeout drops a committed value (a pending interruption beats a completed op)", (
               Edit(_C, "    park(t)\n    done = a.outcome\n    if done is OK:\n",
                    "    park(t)\n    sc = t._scopes  # (mutant)\n"
                    "    done = KILLED if sc and sc.pending is not None else a.outcome\n"
                    "    if done is OK:\n"),), ("lifecycle", "unit")),
    Mutant("scope_leaves_pending",
           "leaving a scope does not withdraw its undelivered interruption", (
               Edit(_SC, "            if sc.pending is self:  # expired, but its interruption",
                    "            if False:  # (mutant) expired, but its interruption"),),
           ("lifecycle", "unit")),
    Mutant("timeout_waits_for_partner",
           "a deadline does not withdraw a blocked operation (it waits for a partner)", (
               Edit(_S, "    b = t._blocker\n    if b is not None and t._state is BLOCKED:\n"
                    "        sc.interrupted = cancel\n",
                    "    b = t._blocker\n    if False:  # (mutant)\n"
                    "        sc.interrupted = cancel\n"),), ("lifecycle", "unit")),
    Mutant("group_forgets_member", "a TaskGroup does not list a new member task", (
        Edit(_G, "    def member_added_locked(self, t: Task) -> None:\n"
                 "        self._tasks.append(t)\n",
             "    def member_added_locked(self, t: Task) -> None:\n"
             "        pass  # (mutant)\n"),), ("lifecycle", "unit")),
    Mutant("group_failure_no_cancel", "a member's failure does not cancel the others", (
        Edit(_G, "            if not self.cancelled:\n                self._cancel_locked()",
             "            if False:  # (mutant)\n                self._cancel_locked()"),),
           ("lifecycle", "unit")),
    # -- the lock-free task exit (J1 in _sched.Proc._task_main): tests/test_group.py makes
    # -- the exit fall inside a joiner's critical section ---------------------------------
    Mutant("join_misses_lock_free_exit",
           "a joiner does not look again after registering (a lock-free exit is missed)", (
               Edit(_S, "                if task._state is DONE:  # J1: it ended without the "
                        "lock meanwhile\n",
                    "                if False:  # (mutant)\n"),
               Edit(_S, "        if not isinstance(target, Proc) and target._state is DONE:\n",
                    "        if False:  # (mutant)\n")), ("unit",)),
    # -- the hand-off at a task's end (_sched.Proc._hand_off): tests/test_task.py holds one
    # -- finished task and counts the greenlets it keeps alive ------------------------------
    Mutant("hand_off_chains_greenlets",
           "an ended task's greenlet keeps the next one's alive (the hand-off link is never "
           "reset)", (
               Edit(_S, "        if prev is not None:\n            prev.parent = sched\n",
                    "        if prev is not None:\n            pass  # (mutant)\n"),),
           ("unit",)),
)


# --------------------------------------------------------------------------- the copy


def _git_head_files(under: str) -> dict[str, bytes] | None:
    """Tracked files under ``under`` at HEAD (path -> content), or None without git."""
    try:
        names = subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD", under],
                               cwd=REPO, capture_output=True, text=True, check=True).stdout
        out = {}
        for name in names.split():
            out[name] = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=REPO,
                                       capture_output=True, check=True).stdout
        return out
    except (OSError, subprocess.CalledProcessError):
        return None


def prepare_copy(dest: Path, worktree: bool) -> list[str]:
    """Copy ``libtask9`` to ``dest/libtask9`` (tracked files from HEAD unless ``worktree``);
    return warnings (working-tree files that differ from HEAD)."""
    src = REPO / "libtask9"
    shutil.copytree(src, dest / "libtask9", ignore=shutil.ignore_patterns("__pycache__"))
    if worktree:
        return []
    head = _git_head_files("libtask9")
    if head is None:
        return ["git is not available: the working tree's libtask9 is used as it is"]
    warnings = []
    for name, content in head.items():
        target = dest / name
        if target.read_bytes() != content:
            warnings.append(f"{name} differs from HEAD in the working tree; HEAD's is used")
        target.write_bytes(content)
    return warnings


def apply(mutant: Mutant, root: Path) -> None:
    """Apply the mutant's edits in ``root/libtask9``; raise ValueError if one does not
    apply exactly once or the result does not compile."""
    for e in mutant.edits:
        path = root / "libtask9" / e.file
        text = path.read_text(encoding="utf-8")
        n = text.count(e.search)
        if n != 1:
            raise ValueError(f"{mutant.name}: edit of {e.file} matches {n} times, not once: "
                             f"{e.search[:60]!r}")
        path.write_text(text.replace(e.search, e.replace), encoding="utf-8")
    for e in mutant.edits:
        py_compile.compile(str(root / "libtask9" / e.file), doraise=True)


# --------------------------------------------------------------------------- layers


@dataclasses.dataclass
class LayerResult:
    """One layer on one copy: caught (the layer failed), a detail, and the time taken."""

    layer: str
    caught: bool
    detail: str
    seconds: float


TIMEOUT = -1000  # the return code _python reports for a timeout

_GUARD = ("import sys, libtask9; root = sys.argv.pop(1); "
          "assert libtask9.__file__.startswith(root), "
          "f'libtask9 imported from {libtask9.__file__}, not from the copy in {root}'; ")


def _python(root: Path, code: str, args: Sequence[str], timeout: float
            ) -> tuple[int, str, float]:
    # the "mutant" Hypothesis profile of tests/conftest.py: no shrinking, no database
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{REPO}", PYTHONSAFEPATH="1",
               PYTHONDONTWRITEBYTECODE="1", LIBTASK9_HYPOTHESIS_PROFILE="mutant")
    t0 = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-c", _GUARD + code, str(root), *args], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return TIMEOUT, f"timed out after {timeout:.0f} s", time.monotonic() - t0
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


def _pytest(root: Path, args: Sequence[str], timeout: float) -> tuple[int, str, float]:
    return _python(root, "import pytest; sys.exit(pytest.main(sys.argv[1:]))",
                   ["-x", "-q", "-p", "no:cacheprovider", *args], timeout)


def _first_failure_line(out: str) -> str:
    """The first assertion / failure line of pytest's output, whitespace collapsed."""
    for line in out.splitlines():
        if line.startswith(("E ", "FAILED", "AssertionError", "Falsifying")):
            text = line[2:] if line.startswith("E ") else line
            return " ".join(text.split())[:110]
    tail = [x for x in out.splitlines() if x.strip()]
    return " ".join(tail[-1].split())[:110] if tail else ""


def layer_hypothesis(root: Path, opts: Options) -> LayerResult | None:
    """The lead's stateful test, if it exists."""
    if not (REPO / "tests" / "test_stateful.py").exists():
        return None
    rc, out, secs = _pytest(root, ["tests/test_stateful.py", f"--hypothesis-seed={opts.seed}"],
                            opts.layer_timeout)
    if rc == 5:
        return None  # no tests collected
    return _pytest_result("hypothesis", rc, out, secs)


def _pytest_result(layer: str, rc: int, out: str, secs: float) -> LayerResult:
    if rc == TIMEOUT:
        return LayerResult(layer, False, "timed out (not counted as a catch)", secs)
    return LayerResult(layer, rc != 0, _first_failure_line(out) if rc else "passed", secs)


#: the unit tests the ``unit`` layer runs against the mutated copy
UNIT_TESTS = ("tests/test_task.py", "tests/test_scope.py", "tests/test_group.py")


def layer_unit(root: Path, opts: Options) -> LayerResult | None:
    """The unit tests of tasks, timeout scopes and task groups (:data:`UNIT_TESTS`)."""
    files = [f for f in UNIT_TESTS if (REPO / f).exists()]
    if not files:
        return None
    rc, out, secs = _pytest(root, files, opts.layer_timeout)
    return _pytest_result("unit", rc, out, secs)


def layer_coverage(root: Path, opts: Options) -> LayerResult | None:
    """tests/test_alt.py's chi-squared test over the chosen ready case."""
    rc, out, secs = _pytest(root, ["tests/test_alt.py", "-k", "uniform"], opts.layer_timeout)
    return _pytest_result("coverage", rc, out, secs)


def layer_stress(root: Path, opts: Options) -> LayerResult | None:
    """A short seeded stress run; the detail names the check that fired."""
    fdir = root / "failures"
    args = ["run", "--duration", str(opts.stress_seconds), "--seed", str(opts.seed),
            "--hang-timeout", "5", "--failures-dir", str(fdir), "--quiet"]
    rc, out, secs = _python(root, "from stress.__main__ import main; sys.exit(main(sys.argv[1:]))",
                            args, opts.stress_seconds + 60)
    files = sorted(fdir.glob("*.json")) if fdir.exists() else []
    if rc == TIMEOUT and not files:
        return LayerResult("stress", False, "timed out (not counted as a catch)", secs)
    if rc == 0:
        return LayerResult("stress", False, "passed", secs)
    if not files:
        return LayerResult("stress", True, f"exit {rc}: {_first_failure_line(out)}", secs)
    saved = json.loads(files[0].read_text(encoding="utf-8"))
    fbe = saved.get("first_bad_event")
    where = "" if not fbe else f" at event #{fbe['index']}"
    opts.last_failure = files[0]
    return LayerResult("stress", True, f"{saved['check']}{where}: {_gist(saved)}", secs)


def layer_lifecycle(root: Path, opts: Options) -> LayerResult | None:
    """A short seeded lifecycle stress run (``python -m stress lifecycle``): joins,
    timers, iocalls, kills, interrupts, runs back to back and at once; the detail names
    the check that fired."""
    fdir = root / "lc-failures"
    args = ["lifecycle", "--duration", str(opts.stress_seconds), "--seed", str(opts.seed),
            "--hang-timeout", "5", "--failures-dir", str(fdir), "--quiet"]
    rc, out, secs = _python(root, "from stress.__main__ import main; sys.exit(main(sys.argv[1:]))",
                            args, opts.stress_seconds + 90)
    files = sorted(fdir.glob("*.json")) if fdir.exists() else []
    if rc == TIMEOUT and not files:
        return LayerResult("lifecycle", False, "timed out (not counted as a catch)", secs)
    if rc == 0:
        return LayerResult("lifecycle", False, "passed", secs)
    if not files:
        return LayerResult("lifecycle", True, f"exit {rc}: {_first_failure_line(out)}", secs)
    saved = json.loads(files[0].read_text(encoding="utf-8"))
    return LayerResult("lifecycle", True, f"{saved['check']}: {_gist(saved)}", secs)


def _gist(saved: dict[str, Any]) -> str:
    """The telling line of a replay file's message (the oracle's complaint, the exception)."""
    message: str = saved["message"]
    lines = [x.strip() for x in message.splitlines() if x.strip()]
    if saved["check"] == "trace" and len(lines) > 2:
        return lines[2][:110]
    if saved["check"] == "error":
        exc = [x for x in lines if "Error" in x or "Exception" in x or "violated" in x]
        return (exc[-1] if exc else lines[-1])[:110]
    if saved["check"] == "hang" and len(lines) > 1:
        return lines[1][:110]
    return lines[0][:110] if lines else ""


def layer_trace(root: Path, opts: Options) -> LayerResult | None:
    """TLC validation of the stress failure's trace (only if the oracle rejected it)."""
    path = opts.last_failure
    if path is None:
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    fbe = saved.get("first_bad_event")
    if saved.get("check") != "trace" or not fbe or len(saved["trace"]) > opts.tlc_max_events:
        return None
    from libtask9.testing import tlc_validate
    from libtask9.testing.tla import java_available

    from .tlccheck import SPEC_DIR

    if not java_available():
        return None
    res = tlc_validate(saved["trace"], spec_dir=SPEC_DIR)
    same = not res.accepted and res.first_bad_index == fbe["index"]
    what = "accepted" if res.accepted else f"rejected at #{res.first_bad_index}"
    return LayerResult("trace", same, f"TLC {what} ({'same event' if same else 'DIFFERS'})",
                       res.seconds)


LAYERS = {"hypothesis": layer_hypothesis, "stress": layer_stress, "trace": layer_trace,
          "lifecycle": layer_lifecycle, "unit": layer_unit, "coverage": layer_coverage}


@dataclasses.dataclass
class Options:
    """Harness options (and the stress failure the trace layer looks at)."""

    stress_seconds: float = 20.0
    seed: int = 20261125
    all_layers: bool = False
    worktree: bool = False
    layer_timeout: float = 240.0
    tlc_max_events: int = 400
    order: tuple[str, ...] = ("stress", "trace", "lifecycle", "unit", "hypothesis",
                              "coverage")
    last_failure: Path | None = None


@dataclasses.dataclass
class MutantResult:
    """The verdict for one mutant (or the baseline)."""

    name: str
    what: str
    layers: list[LayerResult]
    seconds: float
    error: str = ""

    @property
    def caught_by(self) -> list[str]:
        return [r.layer for r in self.layers if r.caught]


def run_layers(root: Path, opts: Options, stop_at_catch: bool) -> list[LayerResult]:
    """Run the layers in order on the copy in ``root``; with ``stop_at_catch``, stop after
    the first layer that catches the mutant (a stress catch is still confirmed by TLC)."""
    opts.last_failure = None
    results: list[LayerResult] = []
    for name in opts.order:
        if stop_at_catch and any(r.caught for r in results) and not (
                name == "trace" and results[-1].layer == "stress"):
            break
        r = LAYERS[name](root, opts)
        if r is not None:
            results.append(r)
    return results


def run_mutant(m: Mutant | None, opts: Options) -> MutantResult:
    """Plant ``m`` (None: the baseline) in a fresh copy and run the layers."""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="libtask9-mutant-") as tmp:
        root = Path(tmp)
        prepare_copy(root, opts.worktree)
        name, what = ("baseline", "no mutation") if m is None else (m.name, m.what)
        try:
            if m is not None:
                apply(m, root)
        except (ValueError, py_compile.PyCompileError) as e:
            return MutantResult(name, what, [], time.monotonic() - t0, str(e))
        layers = run_layers(root, opts, stop_at_catch=m is not None and not opts.all_layers)
    return MutantResult(name, what, layers, time.monotonic() - t0)


# --------------------------------------------------------------------------- reporting


def table(results: Sequence[MutantResult]) -> str:
    """The results as a Markdown table."""
    rows = ["| mutant | planted bug | caught by | first detection | time |",
            "|---|---|---|---|---|"]
    for r in results:
        if r.error:
            rows.append(f"| {r.name} | {r.what} | **edit does not apply** | {r.error} | - |")
            continue
        caught = ", ".join(r.caught_by) or ("none (expected)" if r.name == "baseline"
                                            else "**SURVIVED**")
        first = next((x for x in r.layers if x.caught), None)
        detail = f"{first.layer}: {first.detail}" if first else "; ".join(
            f"{x.layer} {x.detail}" for x in r.layers)
        rows.append(f"| {r.name} | {r.what} | {caught} | {detail.replace('|', '/')} | "
                    f"{r.seconds:.0f} s |")
    return "\n".join(rows)


def write_readme(path: Path, text: str, tag: str = "mutants") -> None:
    """Replace the block between ``<!-- {tag}:begin -->`` and ``<!-- {tag}:end -->`` of
    ``path`` by ``text`` (appended if the markers are missing)."""
    begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{begin}\n{text}\n{end}"
    if begin in old and end in old:
        new = old[: old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    path.write_text(new, encoding="utf-8")


def main(only: list[str] | None, stress_seconds: float, all_layers: bool, baseline: bool,
         readme: Path | None, list_only: bool, worktree: bool = False) -> int:
    """The command; returns the exit status."""
    if list_only:
        for m in MUTANTS:
            print(f"{m.name:24s} {m.what} (expected: {', '.join(m.expect)})")
        return 0
    chosen = [m for m in MUTANTS if only is None or m.name in only]
    unknown = sorted(set(only or ()) - {m.name for m in MUTANTS})
    if unknown:
        print(f"unknown mutant(s): {unknown}; see --list")
        return 2
    opts = Options(stress_seconds=stress_seconds, all_layers=all_layers, worktree=worktree)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for w in prepare_copy(Path(tmp), worktree):
            print(f"note: {w}")
    results = []
    todo: list[Mutant | None] = [None] if baseline else []
    for mutant in todo + list(chosen):
        r = run_mutant(mutant, opts)
        results.append(r)
        layers = "; ".join(f"{x.layer}: {x.detail}" for x in r.layers)
        print(f"{r.name:24s} caught by {', '.join(r.caught_by) or '-':28s} "
              f"{r.seconds:5.1f} s  {r.error or layers}", flush=True)
    text = table(results)
    print("\n" + text)
    bad = [r.name for r in results if r.error or (r.name == "baseline") == bool(r.caught_by)]
    print(f"\n{len(chosen)} mutants, total {time.monotonic() - t0:.0f} s: "
          + (f"FAILED: {bad}" if bad else "every mutant caught, baseline clean"))
    if readme is not None or only is None:
        cmd = "python -m stress mutants" + (" --all-layers" if all_layers else "")
        write_readme(readme or REPO / "stress" / "README.md",
                     text + f"\n\n(`{cmd}`, stress {stress_seconds:g} s per mutant, seed "
                     f"{opts.seed}; total {time.monotonic() - t0:.0f} s)",
                     "mutants-matrix" if all_layers else "mutants")
    return 1 if bad else 0
