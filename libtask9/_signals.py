"""A Python-level call that lets pending signal handlers run.

CPython runs a Python signal handler (SIGINT's, which raises ``KeyboardInterrupt``) only
at a check between bytecodes of Python code, or when a blocking call is interrupted by
the signal (``EINTR``).  The compiled core has no bytecode: a signal that arrives while a
proc's thread runs compiled runtime code stays pending, and if that thread then goes to
sleep on its parker -- the signal already delivered, so no ``EINTR`` comes -- it sleeps
with the interrupt unseen until something else wakes it (found by the lifecycle stress
on the compiled build: a run declared its Deadlock, then raised the interrupt that had
arrived long before).  The parker calls :func:`run_pending_handlers` just before it
sleeps.

This module is never compiled (it is not in ``tools/compiled_core.py``'s module list):
calling a Python function is exactly what makes CPython check for pending handlers (at
the function's first instruction).
"""

from __future__ import annotations


def run_pending_handlers() -> None:
    """Run the signal handlers whose signal has arrived (it may raise what they raise)."""
    return None
