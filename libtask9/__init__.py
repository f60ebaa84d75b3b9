"""libtask9: Plan 9 libthread for Python 3.

Procs are OS threads, tasks are greenlets cooperatively scheduled inside their proc,
channels (unbuffered or buffered) connect tasks in the same or different procs, ``alt``
waits on several channel operations and completes exactly one, ``IOProc`` runs blocking
calls on a helper thread, and timers deliver on channels.  Each ``run()`` is a world of
its own (its procs, its deadlock detection) and leaves nothing behind.  The channel and
alt rules are specified in ``spec/Channels.tla``, the lifecycle of procs and runs in
``spec/Procs.tla``, and both are checked against this implementation.

The runtime's modules import one way only (a test checks it): ``_pure`` (the
``LIBTASK9_PURE=1`` switch, imported first), ``errors``, ``_trace`` ->
``_timerheap`` -> ``_world`` -> ``_task`` -> ``_sched`` -> ``_chan`` -> ``_timer``,
``_ioproc`` -> ``_scope``, ``_group``, ``_debug``, ``_clock`` -> ``_run`` -> this
package.
"""

import sys as _sys

# The runtime relies on the GIL (one GIL holder at a time orders every unlocked read of a
# field another thread writes, e.g. a task's lock-free exit, J1 in _sched): refuse to run
# without it rather than lose a wake-up.  (sys._is_gil_enabled: CPython 3.13+.)
if not getattr(_sys, "_is_gil_enabled", lambda: True)():
    raise ImportError("libtask9 needs the GIL, which this free-threaded interpreter runs "
                      "without: start Python with -X gil=1 (or PYTHON_GIL=1)")

from . import _pure  # noqa: F401  (first: with LIBTASK9_PURE=1 the rest is the .py source)

# isort: split
from . import _chan, _world  # noqa: F401  (libtask9._world: live_worlds() for tests)
from ._chan import Channel, ChannelStatistics, Op, alt, alt_recv, alt_send
from ._clock import VirtualClock
from ._debug import dump_tasks, enable_dump_on_signal
from ._group import TaskGroup
from ._ioproc import IOProc
from ._run import Runner, run
from ._sched import (
    Proc,
    curproc,
    curtask,
    new_proc,
    new_task,
    set_excepthook,
    yield_,
)
from ._scope import move_on_after, timeout
from ._task import Task
from ._timer import (
    MIN_TICKER_PERIOD,
    Hour,
    Millisecond,
    Minute,
    Second,
    Ticker,
    Timer,
    after,
    init_timers,
    sleep,
    tick,
)
from ._trace import TraceRecorder, get_tracer, set_tracer, tracing
from .errors import (
    BlockedTask,
    Cancelled,
    ChannelClosed,
    Deadlock,
    InternalError,
    IOProcClosed,
    Libtask9Error,
    NotInTask,
    TaskKilled,
    Timeout,
    WrongProc,
    WrongRun,
)

#: The original libtask9's name for ``yield_``.
yieldtask = yield_

__version__ = "0.1.0.dev0"

#: True when the hot modules are the optional compiled core (mypyc extension modules built
#: from this same source: ``pip install .`` with a C compiler, or ``make compiled``), False
#: for the pure-Python reference (also with ``LIBTASK9_PURE=1`` set at import time).
COMPILED: bool = str(_chan.__file__).endswith((".so", ".pyd"))

__all__ = [
    "COMPILED",
    "MIN_TICKER_PERIOD",
    "BlockedTask",
    "Cancelled",
    "Channel",
    "ChannelClosed",
    "ChannelStatistics",
    "Deadlock",
    "Hour",
    "IOProc",
    "IOProcClosed",
    "InternalError",
    "Libtask9Error",
    "Millisecond",
    "Minute",
    "NotInTask",
    "Op",
    "Proc",
    "Runner",
    "Second",
    "Task",
    "TaskGroup",
    "TaskKilled",
    "Ticker",
    "Timeout",
    "Timer",
    "TraceRecorder",
    "VirtualClock",
    "WrongProc",
    "WrongRun",
    "after",
    "alt",
    "alt_recv",
    "alt_send",
    "curproc",
    "curtask",
    "dump_tasks",
    "enable_dump_on_signal",
    "get_tracer",
    "init_timers",
    "move_on_after",
    "new_proc",
    "new_task",
    "run",
    "set_excepthook",
    "set_tracer",
    "sleep",
    "tick",
    "timeout",
    "tracing",
    "yield_",
    "yieldtask",
]
