"""The runtime in lockstep with the oracle (Hypothesis stateful testing).

A ``RuleBasedStateMachine`` drives the real runtime through a hand-stepped proc
(``libtask9._sched.Stepper``) and the oracle (``libtask9.model.Model``, the executable
copy of ``spec/Channels.tla``) side by side:

* rules create channels (capacities 0..3) and tasks, make an idle task start an
  operation (send, recv, nbsend, nbrecv through the channel methods or through ``alt``;
  ``alt`` over 1-3 mixed cases including nil ones, blocking or not; ``close``), resume a
  task that a partner has completed, and kill a task;
* every choice the runtime makes is taken from the choices the oracle says are enabled:
  the runtime's ``choose_case`` hook is handed the case the rule drew among the oracle's
  enabled case actions (and checks that the runtime's set of ready cases is exactly the
  oracle's), the task the rule steps is the one the oracle acts on;
* after every step the runtime's state (each channel's buffer, FIFO waiter queues with
  task ids and case indices, closed flag; each task's blocked/dead status and observed
  results) must equal the oracle's, the runtime's own invariant checks must pass and the
  oracle's spec invariants must hold.

Half of the examples run with the tracer installed, so both the untraced fast paths of
``send``/``recv`` and the traced general path are compared.  A failure shrinks to a short
program that Hypothesis prints; ``--hypothesis-seed`` replays it.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from libtask9 import (
    Channel,
    ChannelClosed,
    TaskKilled,
    TraceRecorder,
    alt,
    alt_recv,
    alt_send,
    move_on_after,
)
from libtask9 import model as M
from libtask9._task import Task
from libtask9._trace import set_tracer
from libtask9._world import chanlock
from libtask9.testing import check_trace
from libtask9.testing.stepper import Stepper

MAX_CHANS = 4
MAX_TASKS = 4


class Worker:
    """A runtime task that performs the operations the state machine hands it, each in a
    timeout scope that only the state machine makes expire (``expire``)."""

    def __init__(self) -> None:
        self.cmd: tuple[M.Op, str] | None = None
        self.results: list[M.Result] = []
        self.task: Task | None = None
        self.scope: move_on_after | None = None  # the scope of the operation under way

    def main(self, chans: dict[int, Channel[Any]]) -> None:
        while True:
            try:
                Stepper.hold()
            except TaskKilled:  # Killed: a pending kill lands as the next op starts
                self.results.append(M.KILLED_R)
                return
            assert self.cmd is not None
            op, via = self.cmd
            self.cmd = None
            done = False
            res = M.NONE_R
            self.scope = scope = move_on_after(math.inf)
            try:
                with scope:
                    res = perform(op, via, chans)
                    done = True
            except TaskKilled:
                self.results.append(M.KILLED_R)
                return
            finally:
                self.scope = None
            if done:  # (else the timeout withdrew the operation: the state machine
                self.results.append(res)  # recorded the spec's KillBlocked already)


def perform(op: M.Op, via: str, chans: dict[int, Channel[Any]]) -> M.Result:
    """Run ``op`` on the runtime; return what the task observed, as a spec result."""
    if isinstance(op, M.CloseOp):
        try:
            chans[op.ch].close()
        except ChannelClosed as e:
            return M.ClosedR(e.index)
        return M.Ok(-1, M.NOVAL)
    cases = op.cases
    if via == "method":
        (case,) = cases
        ch = chans[case.ch]
        try:
            if case.dir == M.SEND:
                if op.block:
                    ch.send(case.val)
                    return M.Ok(0, M.NOVAL)
                return M.Ok(0, M.NOVAL) if ch.nbsend(case.val) else M.NONE_R
            if op.block:
                return M.Ok(0, ch.recv())
            ok, v = ch.nbrecv()
            return M.Ok(0, v) if ok else M.NONE_R
        except ChannelClosed as e:
            return M.ClosedR(e.index)
    ops = [alt_send(None if k.ch is None else chans[k.ch], k.val) if k.dir == M.SEND
           else alt_recv(None if k.ch is None else chans[k.ch]) for k in cases]
    try:
        i, v = alt(*ops, canblock=op.block)
    except ChannelClosed as e:
        return M.ClosedR(e.index)
    if i < 0:
        return M.NONE_R
    return M.Ok(i, v if cases[i].dir == M.RECV else M.NOVAL)


class RuntimeVsOracle(RuleBasedStateMachine):
    @initialize(traced=st.booleans(), seed=st.integers(0, 2**16))
    def setup(self, traced: bool, seed: int) -> None:
        self.recorder = TraceRecorder() if traced else None
        set_tracer(self.recorder)
        self.forced: int | None = None
        self.stepper = Stepper(seed=seed, choose_case=self._choose)
        self.model = M.Model()
        self.chans: dict[int, Channel[Any]] = {}
        self.workers: dict[int, Worker] = {}  # by the spec's task id (one per life)
        self.dead: dict[int, list[M.Result]] = {}  # earlier lives' results, by spec id
        self.spec_id: dict[int, int] = {}  # runtime task id -> its current spec id
        self.lives: dict[int, int] = {}
        self.fresh: set[int] = set()  # new lives not stepped yet
        self.values = itertools.count(1)

    def teardown(self) -> None:
        if hasattr(self, "stepper"):
            set_tracer(None)  # (the teardown's own kills are not part of the program)
            self.stepper.close()
            if self.recorder is not None:  # the same run, checked from its trace alone
                report = check_trace(self.recorder.events)
                assert report.ok, str(report)

    def _choose(self, ready: Sequence[int]) -> int:
        assert self.forced is not None, f"runtime chose among {ready} unasked"
        assert sorted(ready) == self.expected_ready, (
            f"runtime's ready cases {list(ready)} != oracle's {self.expected_ready}")
        return self.forced

    # -- rules -------------------------------------------------------------------------

    @precondition(lambda self: len(self.chans) < MAX_CHANS)
    @rule(cap=st.integers(0, 3))
    def new_channel(self, cap: int) -> None:
        ch: Channel[Any] = Channel(cap)
        self.chans[ch.id] = ch
        self.model.add_chan(ch.id, cap)

    @precondition(lambda self: len(self.workers) < MAX_TASKS)
    @rule()
    def new_task(self) -> None:
        w = Worker()
        t = self.stepper.spawn(w.main, self.chans)
        w.task = t
        self.stepper.step(t)  # runs to its first hold()
        self.workers[t.id] = w
        self.spec_id[t.id] = t.id
        self.model.add_task(t.id)

    def _idle(self) -> list[int]:
        return [tid for tid, w in self.workers.items()
                if w.task is not None and self.stepper.is_held(w.task)]

    def _runnable(self) -> list[int]:
        return [self.spec_id[t.id] for t in self.stepper.runnable()]

    def _step(self, tid: int) -> None:
        """Step the task of spec id ``tid``."""
        w = self.workers[tid]
        assert w.task is not None
        self.stepper.step(w.task)
        self.fresh.discard(tid)

    def _reborn(self, tid: int) -> None:
        """A timeout withdrew the blocked operation of ``tid`` (KillBlocked): for the spec
        that task is dead and what the runtime task does next is a new task, named as
        tracecheck.incarnations names it."""
        w = self.workers.pop(tid)
        assert w.task is not None
        rt = w.task.id
        self.lives[rt] = self.lives.get(rt, 0) + 1
        new = -(1000 * rt + self.lives[rt])
        self.dead[tid] = [*w.results, M.KILLED_R]
        w.results = []
        self.workers[new] = w
        self.spec_id[rt] = new
        self.fresh.add(new)  # runnable, but with no completed operation to report
        self.model.add_task(new)

    @precondition(lambda self: bool(self._idle()) and bool(self.chans))
    @rule(data=st.data())
    def start_op(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(self._idle()), label="task")
        op, via = data.draw(operations(self), label="op")
        steps = self.model.enabled(tid, op)
        assert steps, f"oracle: nothing enabled for {tid} starting {op}"
        step = data.draw(st.sampled_from(steps), label="step")
        case_steps = sorted({s.index for s in steps if s.action in M.CASE_ACTIONS})
        self.expected_ready = case_steps
        self.forced = step.index if step.action in M.CASE_ACTIONS else None
        w = self.workers[tid]
        w.cmd = (op, via)
        assert w.task is not None
        self.stepper.release(w.task)
        self._step(tid)
        self.forced = None
        self.model.apply(step.action, tid, step.index, op)

    @precondition(lambda self: bool(self._runnable()))
    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(self._runnable()), label="resume")
        self._step(tid)

    def _in_scope(self) -> list[int]:
        return [tid for tid, w in self.workers.items() if w.scope is not None]

    @precondition(lambda self: bool(self._in_scope()))
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        """The deadline of a task's scope passes while its operation is under way: a
        blocked operation is withdrawn (KillBlocked, the task lives on as a new one); an
        operation a partner completed stands (nothing for the spec)."""
        tid = data.draw(st.sampled_from(self._in_scope()), label="expire")
        w = self.workers[tid]
        assert w.scope is not None
        blocked = self.model.state.st[tid] == M.BLOCKED
        with chanlock:
            w.scope._expire_locked()
        if blocked:
            self.model.apply("KillBlocked", tid)
            self._reborn(tid)

    @precondition(lambda self: bool(self.workers))
    @rule(data=st.data())
    def kill(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(sorted(self.workers)), label="kill")
        t = self.workers[tid].task
        assert t is not None
        expected = self.model.kill_steps(tid)
        assert t.kill() is bool(expected), f"kill of {t!r}: oracle allows {expected}"
        if expected:
            self.model.apply(expected[0].action, tid)

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def channels_agree(self) -> None:
        if not hasattr(self, "model"):
            return
        s = self.model.state
        for cid, ch in self.chans.items():
            buf, sendq, recvq, closed = ch.snapshot()
            sendq = [(self.spec_id.get(t, t), i) for t, i in sendq]  # (current lives)
            recvq = [(self.spec_id.get(t, t), i) for t, i in recvq]
            assert tuple(buf) == tuple(s.buf[cid]), f"buffer of {ch!r}"
            assert tuple(sendq) == tuple(tuple(e) for e in s.sendq[cid]), f"sendq of {ch!r}"
            assert tuple(recvq) == tuple(tuple(e) for e in s.recvq[cid]), f"recvq of {ch!r}"
            assert closed == s.closed[cid], f"closed flag of {ch!r}"
            ch.check_invariants()

    @invariant()
    def tasks_agree(self) -> None:
        if not hasattr(self, "model"):
            return
        s = self.model.state
        runnable = set(self._runnable())
        for tid, w in self.workers.items():
            t = w.task
            assert t is not None
            expected = list(s.res[tid])
            # completed by a partner, not resumed yet (a new life has nothing to report)
            pending = 1 if tid in runnable and tid not in self.fresh else 0
            assert w.results == expected[: len(expected) - pending], f"results of {t!r}"
            assert len(expected) - len(w.results) == pending, f"results of {t!r}"
            blocked = s.st[tid] == M.BLOCKED
            rt_blocked = t.state == "blocked" and not self.stepper.is_held(t)
            assert rt_blocked == blocked, f"{t!r} vs oracle {s.st[tid]}"
            if s.st[tid] == M.DEAD and tid not in runnable:
                assert t.done, f"{t!r} should have died"
        for tid, results in self.dead.items():  # a life that ended in a timeout
            assert results == list(s.res[tid]) and s.st[tid] == M.DEAD

    @invariant()
    def spec_invariants_hold(self) -> None:
        if hasattr(self, "model"):
            assert M.violated_invariants(self.model, self.model.state) == []


@st.composite
def operations(draw: st.DrawFn, machine: RuntimeVsOracle) -> tuple[M.Op, str]:
    """An operation over the machine's channels, and how to call it ("method" uses
    ``Channel.send``/``recv``/``nbsend``/``nbrecv``/``close``, "alt" uses ``alt``)."""
    chan_ids = sorted(machine.chans)
    kind = draw(st.sampled_from(["one", "one", "alt", "close"]))
    if kind == "close":
        return M.close(draw(st.sampled_from(chan_ids))), "method"
    if kind == "one":
        c = draw(st.sampled_from(chan_ids))
        d = draw(st.sampled_from([M.SEND, M.RECV]))
        block = draw(st.booleans())
        val = next(machine.values) if d == M.SEND else None
        via = draw(st.sampled_from(["method", "alt"]))
        return M.AltOp((M.Case(d, c, val),), block), via
    n = draw(st.integers(1, 3))
    cases = []
    for _ in range(n):
        c2 = draw(st.sampled_from([*chan_ids, None]))
        d = draw(st.sampled_from([M.SEND, M.RECV]))
        cases.append(M.Case(d, c2, next(machine.values) if d == M.SEND else None))
    return M.AltOp(tuple(cases), draw(st.booleans())), "alt"


# Bounded in CI; `make fuzz` (profile "fuzz") runs as long as its example budget needs.
_FUZZ = os.environ.get("LIBTASK9_HYPOTHESIS_PROFILE") == "fuzz"
TestRuntimeVsOracle = pytest.mark.timeout(0 if _FUZZ else 600)(RuntimeVsOracle.TestCase)
