"""Crisis-triage matching cost per message (issue target: well under 1 ms for 4,000 chars).

Times chat.triage_match.Matcher.first over the default lexicon for short and long, ASCII
and non-ASCII messages, with and without a hit. No database or Redis: this is exactly the
work added to the visitor-message hot path (the compiled lexicon is cached per process).
Run:

    .venv/bin/python -m tests.bench.triage_match
"""

from __future__ import annotations

import argparse
import statistics
import time

from chat.triage.lexicon import DEFAULT_TERMS
from chat.triage.match import Matcher

SAMPLES = {
    "short, no hit": "Hoi, ik heb een vraag over mijn studiekeuze volgend jaar.",
    "short, hit": "ik wil echt niet meer l3v3n...",
    "4000 ascii, no hit": (
        "Het gaat niet zo goed op school en thuis, eerlijk gezegd, en ik weet het niet. " * 60
    )[:4000],
    "4000 accents+emoji, no hit": (
        "Hé, ik zit écht niet goed, m’n ouders… 😢 ik wéét het niet meer 🙈 " * 70
    )[:4000],
    "4000 ascii, hit at the end": (
        "Het gaat niet zo goed op school en thuis, eerlijk gezegd, en ik weet het niet. " * 60
    )[:3975]
    + " niemand zou me missen",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="timed calls per sample")
    args = parser.parse_args()
    started = time.perf_counter()
    matcher = Matcher(DEFAULT_TERMS)
    compiled = (time.perf_counter() - started) * 1000
    print(f"lexicon: {matcher.size} terms, compiled in {compiled:.1f} ms (once per version)")
    for name, text in SAMPLES.items():
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter_ns()
            matcher.first(text)
            timings.append((time.perf_counter_ns() - start) / 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[int(len(timings) * 0.99) - 1]
        print(f"{name:32} {len(text):5} chars  p50 {p50:7.1f} µs  p99 {p99:7.1f} µs")


if __name__ == "__main__":
    main()
