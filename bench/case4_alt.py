"""Case 4: alt over K = 1, 4, 16, 64 channels (µs per alt; the report fits
``µs = intercept + slope x K`` per implementation and variant).

Two variants, the parameter is ``"variant/K"``:

* ``ready``: one random channel is ready and nobody else runs. K channels of capacity 1;
  before each alt the main task itself puts one value into channel ``j`` (pre-drawn random
  sequence) without blocking, then alts over the K receive cases; exactly one is ready.
  The time per alt includes that one non-blocking put. This is the pure cost of an alt
  that does not block (scan + choose + take), no context switch.
* ``sender``: K unbuffered (rendezvous) channels and a sender task that loops over the
  random sequence and sends on channel ``j`` (blocking until taken); the main task alts
  over the K receive cases. An alt either finds the sender already blocked on one channel
  (ready path) or registers on all K channels and is woken by the send (block path). The
  time per alt includes the sender's side and the context switches.

Peers (all on gevent; none of them is a general CSP select, so read the labels):
* ``gevent-wait``: ``gevent.wait(events, count=1)`` over K ``gevent.event.Event``. ready:
  the main task sets event j first. sender: the sender puts its value in a slot, sets
  event j and waits for an ack Event.
* ``goless``: the real ``goless`` 0.7.2 package (gevent backend): ``goless.select`` over
  ``goless.rcase``s on ``goless.chan(1)`` (ready) / ``goless.chan()`` (sender). goless is
  not in the ``[bench]`` extras; the measurement is reported as skipped when it is not
  installed. Its blocking select runs a ``gc.get_objects()`` deadlock check first.
* ``goless-style``: goless's select algorithm re-implemented over gevent queues, without
  that deadlock check: poll every case's readiness, take the first ready one, else
  ``gevent.sleep(0)`` and poll again. ready: ``gevent.queue.Queue(1)`` (``qsize() > 0``,
  ``get_nowait``); sender: ``gevent.queue.Channel`` (``balance > 0``, ``get``).
"""

from __future__ import annotations

import random
from time import perf_counter
from typing import Any

from bench import compiled
from bench.core import Case, Impl, Metric, Skip

KS = (1, 4, 16, 64)
VARIANTS = ("ready", "sender")


def split(param: str) -> tuple[str, int]:
    v, k = param.split("/")
    return v, int(k)


def _seq(n: int, k: int) -> list[int]:
    rnd = random.Random(4 * 1000 + k)
    return [rnd.randrange(k) for _ in range(n)]


# ----------------------------------------------------------------------------- libtask9
def libtask9(n: int, param: str) -> float:
    from libtask9 import Channel, alt, alt_recv, new_task, run

    variant, k = split(param)
    seq = _seq(n, k)
    out: list[float] = []

    def sender(chans: list[Any]) -> None:
        sends = [c.send for c in chans]
        for j in seq:
            sends[j](j)

    def main() -> None:
        chans = [Channel(1 if variant == "ready" else 0) for _ in range(k)]
        cases = [alt_recv(c) for c in chans]
        if variant == "ready":
            nbsends = [c.nbsend for c in chans]
            t0 = perf_counter()
            for j in seq:
                nbsends[j](j)
                i, v = alt(*cases)
        else:
            new_task(sender, chans)
            t0 = perf_counter()
            for _ in range(n):
                i, v = alt(*cases)
        out.append(perf_counter() - t0)
        assert i == v  # the case index that fired is the channel the value came on

    run(main)
    return out[0]


# ----------------------------------------------------------------------------- gevent.wait
def gevent_wait(n: int, param: str) -> float:
    import gevent
    from gevent.event import Event

    variant, k = split(param)
    seq = _seq(n, k)
    events = [Event() for _ in range(k)]
    index = {id(e): i for i, e in enumerate(events)}
    wait = gevent.wait
    slot = [0]
    if variant == "ready":
        t0 = perf_counter()
        for j in seq:
            slot[0] = j
            events[j].set()
            e = wait(events, count=1)[0]
            e.clear()
            i, v = index[id(e)], slot[0]
        t = perf_counter() - t0
        assert i == v
        return t

    ack = Event()

    def sender() -> None:
        for j in seq:
            slot[0] = j
            events[j].set()
            ack.wait()
            ack.clear()

    g = gevent.spawn(sender)
    t0 = perf_counter()
    for _ in range(n):
        e = wait(events, count=1)[0]
        e.clear()
        i, v = index[id(e)], slot[0]
        ack.set()
    t = perf_counter() - t0
    assert i == v
    g.join()
    return t


# ----------------------------------------------------------------------------- goless
def goless_real(n: int, param: str) -> float:
    try:
        import goless
    except ImportError as e:
        raise Skip("goless not installed (pip install goless)") from e
    import gevent

    variant, k = split(param)
    seq = _seq(n, k)
    chans = [goless.chan(1 if variant == "ready" else 0) for _ in range(k)]
    cases = [goless.rcase(c) for c in chans]
    index = {id(c): i for i, c in enumerate(cases)}
    select = goless.select
    sends = [c.send for c in chans]
    if variant == "ready":
        t0 = perf_counter()
        for j in seq:
            sends[j](j)
            c, v = select(cases)
        t = perf_counter() - t0
        assert index[id(c)] == v
        return t

    def sender() -> None:
        for j in seq:
            sends[j](j)

    g = gevent.spawn(sender)
    t0 = perf_counter()
    for _ in range(n):
        c, v = select(cases)
    t = perf_counter() - t0
    assert index[id(c)] == v
    g.join()
    return t


def goless_style(n: int, param: str) -> float:
    import gevent
    from gevent.queue import Channel, Queue

    variant, k = split(param)
    seq = _seq(n, k)
    if variant == "ready":
        qs = [Queue(1) for _ in range(k)]
        puts = [q.put_nowait for q in qs]
        t0 = perf_counter()
        for j in seq:
            puts[j](j)
            i = 0
            while True:  # goless select, first pass finds the ready case
                for i, q in enumerate(qs):  # noqa: B007
                    if q.qsize() > 0:
                        break
                else:
                    gevent.sleep(0)
                    continue
                break
            v = qs[i].get_nowait()
        t = perf_counter() - t0
        assert i == v
        return t

    chans = [Channel() for _ in range(k)]

    def sender() -> None:
        puts = [c.put for c in chans]
        for j in seq:
            puts[j](j)

    def select(chans: list[Any]) -> tuple[int, Any]:
        while True:
            for i, c in enumerate(chans):
                if c.balance > 0:
                    return i, c.get()
            gevent.sleep(0)

    g = gevent.spawn(sender)
    t0 = perf_counter()
    for _ in range(n):
        i, v = select(chans)
    t = perf_counter() - t0
    assert i == v
    g.join()
    return t


CASE = Case(
    id=4,
    title="alt over K channels, one random channel ready",
    short="alt",
    kind="ops",
    param_name="variant/K",
    metrics=(Metric("us", "µs/alt", "lower", "us", "{:.3f}"),
             Metric("rate", "alts/s", "higher", "rate", "{:,.0f}")),
    params=tuple(f"{v}/{k}" for v in VARIANTS for k in KS),
    quick_params=("ready/1", "ready/16", "sender/1", "sender/16"),
    impls=(
        Impl("libtask9", "libtask9 alt(alt_recv x K)", libtask9, role="libtask9",
             quick=True),
        compiled.impl(libtask9, "alt(alt_recv x K)"),
        Impl("gevent-wait", "gevent.wait(K Events, count=1)", gevent_wait, quick=True),
        Impl("goless", "goless 0.7.2 select (gevent backend)", goless_real),
        Impl("goless-style", "goless-style polling select over gevent queues",
             goless_style),
    ),
    target=0.15,
    reps=5,
)
