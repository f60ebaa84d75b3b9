"""Recipe: the concurrent prime sieve (Doug McIlroy's, as in Plan 9's and Go's examples).

Run it: ``python examples/prime_sieve.py [nprimes]``.

A generator task sends 2, 3, 4, ... on a channel.  The main task receives the first
number, which is prime, prints it, and starts a filter task that passes on only the
numbers not divisible by it; the next number out of that filter is the next prime, and
so on: a chain of one filter task per prime found, all connected by unbuffered channels.

When enough primes have been printed the generator and every filter are still blocked
in a ``send`` -- and ``run`` waits for every task of its proc (it would end with
``Deadlock``, since nobody will ever receive again).  So the main task kills them:
``Task.kill()`` withdraws a blocked task from its channel and unwinds it with
``TaskKilled`` (plan9port's ``threadexitsall``; ``examples/pipeline.py`` shows the other
way, closing channels).
"""

from __future__ import annotations

import sys

from libtask9 import Channel, Task, new_task, run


def generate(out: Channel[int]) -> None:
    n = 2
    while True:
        out.send(n)
        n += 1


def filter_multiples(prime: int, inp: Channel[int], out: Channel[int]) -> None:
    while True:
        n = inp.recv()
        if n % prime != 0:
            out.send(n)


def sieve(nprimes: int) -> list[int]:
    tasks: list[Task] = []
    ch: Channel[int] = Channel()
    tasks.append(new_task(generate, ch))
    primes = []
    for _ in range(nprimes):
        prime = ch.recv()
        primes.append(prime)
        out: Channel[int] = Channel()
        tasks.append(new_task(filter_multiples, prime, ch, out))
        ch = out
    for t in tasks:
        t.kill()  # each is blocked in a send or a recv: withdrawn and unwound
    return primes


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    nprimes = int(args[0]) if args else 25
    print(*run(sieve, nprimes))


if __name__ == "__main__":
    main()
