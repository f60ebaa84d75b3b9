"""Multi-proc stress testing of libtask9 against the oracle (issue 5, "Stress").

``python -m stress run`` generates random programs (N procs x M tasks over K channels:
send/recv/nbsend/nbrecv/alt/close/kill/yield/sleep(0)), runs each on the real runtime with
tracing on, and checks every outcome (:mod:`stress.checks`): the trace against the oracle,
each task's observed results against the trace, kills, conservation, per-sender order,
and the runtime's Deadlock verdict against the oracle's.  Every failure writes a JSON
replay file (:mod:`stress.replay`); ``python -m stress replay FILE`` re-checks and re-runs
it.  ``python -m stress lifecycle`` runs programs of procs, joins, timers, iocalls, kills
and interrupts whose outcome is known by construction (:mod:`stress.lc_program`), back to
back and several at once, and checks each run (:mod:`stress.lc_checks`).
``python -m stress check-trace`` has TLC validate fresh traces (and reject a planted
bug at the same event as the Python checker), and ``python -m stress mutants`` shows that
planted runtime bugs are caught (:mod:`stress.mutants`).  See ``stress/README.md``.
"""

__all__ = ["__version__"]

__version__ = "1"
