"""Throughput of the dates normaliser against plain dateparser, on the same stream.

    .venv/bin/python -m benchmarks.dates_throughput [--size 100000] [--seed 3]

The stream draws the corpus's date strings (tests/data/normalisation/dates.jsonl) with a
Zipf-like repetition: a few strings (« À votre rythme », a platform's usual phrasing)
come back very often, most rarely, as in a crawl of many courses of few platforms. The
normaliser starts with an empty cache. The baseline is ``dateparser.parse(text,
languages=['fr'])`` on each string of the same stream, in the same process.
"""

from __future__ import annotations

import argparse
import random
import time
import warnings
from datetime import date

from benchmarks.corpus import load


def stream(size: int, seed: int) -> list[tuple[str, date]]:
    lines = load("dates")
    rng = random.Random(seed)
    rng.shuffle(lines)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(lines))]
    picked = rng.choices(lines, weights=weights, k=size)
    return [(line["text"], date.fromisoformat(line["today"])) for line in picked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)

    import dateparser

    from pipelines.normalise.dates import _parse_cached, parse_dates

    texts = stream(args.size, args.seed)
    distinct = len({text for text, _today in texts})
    dateparser.parse("1 janvier 2025", languages=["fr"])  # load its language data first
    parse_dates("1 janvier 2025")
    _parse_cached.cache_clear()

    began = time.perf_counter()
    for text, today in texts:
        parse_dates(text, today)
    ours = time.perf_counter() - began

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        began = time.perf_counter()
        for text, _today in texts:
            dateparser.parse(text, languages=["fr"])
        baseline = time.perf_counter() - began

    # Without the cache's help: every distinct string once, cache emptied before each call.
    unique = list(dict.fromkeys(texts))
    began = time.perf_counter()
    for text, today in unique:
        _parse_cached.cache_clear()
        parse_dates(text, today)
    cold = time.perf_counter() - began
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        began = time.perf_counter()
        for text, _today in unique:
            dateparser.parse(text, languages=["fr"])
        cold_baseline = time.perf_counter() - began

    print(f"stream: {len(texts)} date strings, {distinct} distinct (seed {args.seed})")
    print(f"moisson dates normaliser : {len(texts) / ours:12,.0f} strings/s")
    print(f"dateparser.parse fr      : {len(texts) / baseline:12,.0f} strings/s (baseline)")
    print(f"ratio                    : {baseline / ours:12.1f}x (target >= 5x)")
    print(
        f"cold, each distinct string once: {len(unique) / cold:,.0f} vs "
        f"{len(unique) / cold_baseline:,.0f} strings/s, ratio {cold_baseline / cold:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
