"""Scale: a 10,000-task chain (plan9port tprimes-style pipeline) and a prime sieve."""

from __future__ import annotations

from libtask9 import Channel, new_task, run


def test_ten_thousand_task_chain() -> None:
    n = 10_000

    def main() -> int:
        first: Channel[int] = Channel()
        left = first
        for _ in range(n):
            right: Channel[int] = Channel()
            new_task(lambda a=left, b=right: b.send(a.recv() + 1))
            left = right
        first.send(0)
        return left.recv()

    assert run(main) == n


def test_prime_sieve_matches_trial_division() -> None:
    def main() -> list[int]:
        def generate(out: Channel[int]) -> None:
            i = 2
            while True:
                out.send(i)
                i += 1

        def filt(inp: Channel[int], out: Channel[int], prime: int) -> None:
            while True:
                v = inp.recv()
                if v % prime:
                    out.send(v)

        ch: Channel[int] = Channel()
        tasks = [new_task(generate, ch)]
        primes = []
        for _ in range(200):
            p = ch.recv()
            primes.append(p)
            nxt: Channel[int] = Channel()
            tasks.append(new_task(filt, ch, nxt, p))
            ch = nxt
        for t in tasks:
            t.kill()
        return primes

    primes = run(main)
    expected = [p for p in range(2, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]
    assert primes == expected[:200]
