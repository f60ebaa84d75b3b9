"""Recipe: timeouts with ``alt`` and ``after``, and one deadline for a whole request.

Run it: ``python examples/timeouts.py``.

``after(ms)`` returns a channel that receives the time once, ``ms`` milliseconds from
now.  Put it in an ``alt`` next to the operation you wait for, and whichever is ready
first wins; the other case is withdrawn atomically, so a value is never half-received.

* **One operation, one timeout**: ``alt(alt_recv(c), alt_recv(after(100)))``.
* **A deadline for a request of several steps** (Go's ``context.WithTimeout``): make the
  timer channel *once*, when the request starts, and use it in every ``alt`` of the
  request.  Its value stays in the channel until someone receives it, so the request
  sees the deadline at whichever step it is in when the time is up.
* **Stop a timer you no longer need**: ``Timer(ms).stop()``; an ``after`` channel that
  nobody references any more is dropped by itself.

The server here answers each request from a task of its own after a given delay; the
reply channel has one slot of buffer, so a server whose client gave up can still put its
late reply there and finish instead of blocking forever (Go's buffered result channel).
"""

from __future__ import annotations

from libtask9 import (
    Channel,
    Timer,
    after,
    alt,
    alt_recv,
    alt_send,
    new_task,
    run,
    sleep,
)

Request = tuple[str, int, Channel[str]]  # (question, delay in ms, reply channel)


def answer(question: str, delay_ms: int, reply: Channel[str]) -> None:
    sleep(delay_ms)  # blocks this task only; the server and the clients keep running
    reply.send(question.upper())  # never blocks: the reply channel has a free slot


def server(requests: Channel[Request]) -> None:
    handlers = []
    try:
        for question, delay_ms, reply in requests:  # until the channel is closed
            handlers.append(new_task(answer, question, delay_ms, reply))
    finally:
        # Shutting down: answers still being prepared are not needed by anybody (their
        # clients gave up), so kill them instead of letting run() wait for them.
        for h in handlers:
            h.kill()  # (False, and no effect, for a task that has finished)


def recv_with_timeout(c: Channel[str], ms: int) -> str | None:
    """One operation, one timeout: the value, or None if ``ms`` passed first."""
    i, value = alt(alt_recv(c), alt_recv(after(ms)))
    return value if i == 0 else None


def request(requests: Channel[Request], question: str, delay_ms: int,
            deadline_ms: int) -> str:
    """A request with one deadline covering both its steps (send, then wait)."""
    deadline = after(deadline_ms)  # armed once, for the whole request
    reply: Channel[str] = Channel(1)
    i, _ = alt(alt_send(requests, (question, delay_ms, reply)), alt_recv(deadline))
    if i == 1:
        return f"{question!r}: deadline passed before the server took it"
    i, value = alt(alt_recv(reply), alt_recv(deadline))
    if i == 1:
        return f"{question!r}: deadline passed while waiting for the reply"
    return f"{question!r}: {value!r}"


def timeouts_demo() -> list[str]:
    out = []
    requests: Channel[Request] = Channel()

    # One operation, one timeout: nobody sends on `silent`.
    silent: Channel[str] = Channel()
    out.append(f"recv on a silent channel: {recv_with_timeout(silent, 50)}")

    # Per-request deadlines.  The server is not running yet: the first request cannot
    # even be handed over before its deadline.
    out.append(request(requests, "early", 0, 50))
    new_task(server, requests)
    out.append(request(requests, "fast", 10, 5_000))  # answered well in time
    out.append(request(requests, "slow", 5_000, 50))  # the server takes too long

    # A timer that is not needed any more is stopped (it would fire for nobody).
    t = Timer(60_000)
    out.append(f"timer stopped before it fired: {t.stop()}")

    requests.close()  # the server's loop ends, and it kills the "slow" answer
    return out  # run() returns once the server and its answer tasks have ended


def main() -> None:
    for line in run(timeouts_demo):
        print(line)


if __name__ == "__main__":
    main()
