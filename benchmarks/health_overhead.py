"""What the nightly health check costs a crawl: per item, and once per run.

    .venv/bin/python -m benchmarks.health_overhead [--items 100000] [--runs 200]

Per item: crawlers.extensions.coverage counts the four key fields of every item, against
the baseline of spidermon's own field-coverage counting (``SPIDERMON_ADD_FIELD_COVERAGE``,
nested dicts not descended), which would count every field of the item instead. The items
are the FUN-MOOC recordings' courses after every normalising pipeline, repeated.
Once per run: the whole spidermon suite of crawlers/health.py on a run's stats, against
the baseline of one Scrapy stats dump of the same run (what every crawl already pays).
"""

from __future__ import annotations

import argparse
import json
import logging
import pprint
import time
from pathlib import Path

from crawlers.offline import normalise, offline_crawler, response_from_file, run_callback

RECORDINGS = Path(__file__).resolve().parent.parent / "crawlers" / "recordings" / "fun_mooc"


def items() -> list:
    crawler = offline_crawler("fun_mooc", MOISSON_REFERENCE_TIME="2026-11-15T12:00:00+01:00")
    index = json.loads((RECORDINGS / "index.json").read_text())["responses"]
    found = []
    for entry in index:
        if "/courses/" in entry["url"]:
            raw, _requests = run_callback(
                crawler, response_from_file(RECORDINGS / entry["body"], entry["url"])
            )
            found += [item for item, _reason in normalise(crawler, raw) if item is not None]
    return found


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)

    from spidermon.contrib.scrapy.extensions import Spidermon

    from crawlers import health
    from crawlers.extensions.coverage import KeyFieldCoverage

    sample = items()
    stream = [sample[i % len(sample)] for i in range(args.items)]

    ours = offline_crawler("fun_mooc")
    counter = KeyFieldCoverage(ours)
    started = time.perf_counter()
    for item in stream:
        counter.item_scraped(item)
    ours_seconds = time.perf_counter() - started

    theirs = offline_crawler(
        "fun_mooc",
        SPIDERMON_ENABLED=True,
        SPIDERMON_ADD_FIELD_COVERAGE=True,
        SPIDERMON_DICT_FIELDS_COVERAGE_LEVELS=0,
    )
    extension = Spidermon.from_crawler(theirs)
    started = time.perf_counter()
    for item in stream:
        extension.item_scraped(item, None, theirs.spider)
    theirs_seconds = time.perf_counter() - started

    print(f"key-field coverage over {args.items:,} items ({len(sample)} distinct courses)")
    print(f"  moisson (4 key fields)       {per_second(args.items, ours_seconds):>12}")
    print(f"  spidermon (every field)      {per_second(args.items, theirs_seconds):>12}")
    print(f"  ratio moisson / spidermon    {theirs_seconds / ours_seconds:>11.1f}x faster")

    stats = ours.stats
    for key, value in {
        "finish_reason": "finished",
        "downloader/request_count": 6,
        "item_scraped_count": args.items,
        "moisson/listings/unchanged": args.items,
    }.items():
        stats.set_value(key, value)
    started = time.perf_counter()
    for _ in range(args.runs):
        verdict = health.evaluate(ours, "finished", args.items)
    judge_seconds = (time.perf_counter() - started) / args.runs
    assert verdict.healthy, verdict.reasons
    started = time.perf_counter()
    for _ in range(args.runs):
        pprint.pformat(stats.get_stats())
    dump_seconds = (time.perf_counter() - started) / args.runs
    print(f"health verdict per run ({args.runs} runs)")
    print(f"  spidermon suite              {judge_seconds * 1000:>10.2f} ms")
    print(f"  Scrapy's stats dump          {dump_seconds * 1000:>10.2f} ms")
    print(f"  ratio suite / stats dump     {judge_seconds / dump_seconds:>11.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
