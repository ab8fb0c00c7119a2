"""What Moisson's pipelines cost a crawl: a replay crawl with every pipeline on, against the
same crawl with none (``ITEM_PIPELINES = {}``), in pages per second.

    .venv/bin/python -m benchmarks.crawl_overhead [--pages 10000] [--db URL]

The pages are generated in a temporary recordings folder from the FUN-MOOC recording
(crawlers/recordings/fun_mooc, the richie API's format, docs/RECORDINGS.md): the real
organisations and categories pages, then ``--pages`` course pages of one course each, the
recorded course objects in turn, each with its own id, title and URL, so every page is
one new listing. Each crawl runs in its own process (Scrapy's reactor starts once) through
``crawlers.settings.project_settings`` with ``MOISSON_REPLAY`` on, into a fresh catalogue
(SQLite in the temporary folder unless ``--db``); its time is the wall time of the whole
crawl, the last batch, the verdict and the ``crawl_run`` row included. The crawl with the
pipelines also times each pipeline's ``process_item``, the store's last batch and the run
lifecycle extension, to say which costs what.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "crawlers" / "recordings" / "fun_mooc"
SPIDER = "fun_mooc"
BASE = "https://www.fun-mooc.fr"
TARGET = 0.90


def generate(folder: Path, pages: int) -> None:
    """``pages`` course pages of one course each, in the recording format, from TEMPLATE."""
    out = folder / SPIDER
    out.mkdir(parents=True)
    index = json.loads((TEMPLATE / "index.json").read_text(encoding="utf-8"))["responses"]
    courses = [
        obj
        for entry in index
        if "/courses/" in entry["url"]
        for obj in json.loads((TEMPLATE / entry["body"]).read_text(encoding="utf-8"))["objects"]
    ]
    responses = []
    for entry in index:
        if "/courses/" not in entry["url"]:  # robots.txt, organisations, categories
            (out / entry["body"]).write_bytes((TEMPLATE / entry["body"]).read_bytes())
            responses.append(entry)
    for number in range(pages):
        course = copy.deepcopy(courses[number % len(courses)])
        course["id"] = f"bench-{number}"
        course["title"] = f"{course['title']} {number}"
        course["absolute_url"] = f"/fr/cours/bench-{number}/"
        body = f"courses-{number}.json"
        page = {"meta": {"count": 1, "offset": number, "total_count": pages}, "objects": [course]}
        (out / body).write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
        responses.append(
            {
                "url": f"{BASE}/api/v1.0/courses/?limit=10&offset={number}",
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": body,
            }
        )
    (out / "index.json").write_text(json.dumps({"responses": responses}), encoding="utf-8")
    (out / "METADATA.json").write_text(
        json.dumps(
            {
                "generated_by": "benchmarks/crawl_overhead.py",
                "provenance": "course objects of crawlers/recordings/fun_mooc (see its "
                "METADATA.json), one per page, with generated ids, titles and URLs",
                "pages": pages,
            },
            indent=2,
        ),
        encoding="utf-8",
    )


class _Profile:
    """Seconds spent in each pipeline's process_item and in the run's opening and closing."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, cls, method: str, label: str) -> None:
        original = getattr(cls, method)
        seconds = self.seconds
        # a signal handler is given only the arguments it names (pydispatch reads them)
        named = set(inspect.signature(original).parameters)

        def timed(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(self, *args, **{k: v for k, v in kwargs.items() if k in named})
            finally:
                seconds[label] += time.perf_counter() - started

        setattr(cls, method, timed)


def child(mode: str, recordings: str, db: str, pages: int) -> dict:
    """One crawl in this process; what it did and how long it took."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.misc import load_object

    from crawlers.extensions.crawl_run import CrawlRunLifecycle
    from crawlers.settings import project_settings

    settings = project_settings(
        MOISSON_REPLAY=True,
        MOISSON_RECORDINGS_DIR=recordings,
        MOISSON_DATABASE_URL=db,
        MOISSON_REFERENCE_TIME="2026-11-15T12:00:00+01:00",
        MOISSON_MAX_PAGES=pages + 10,
        LOG_LEVEL="ERROR",
    )
    profile = _Profile()
    if mode == "bare":
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    else:
        for path in settings.getdict("ITEM_PIPELINES"):
            cls = load_object(path)
            profile.wrap(cls, "process_item", cls.__name__)
            if getattr(cls, "writes_catalogue", False):
                profile.wrap(cls, "close_spider", f"{cls.__name__} (last batch)")
        profile.wrap(CrawlRunLifecycle, "spider_opened", "CrawlRunLifecycle (open)")
        profile.wrap(CrawlRunLifecycle, "spider_closed", "CrawlRunLifecycle (close)")
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SPIDER)
    process.crawl(crawler)
    started, cpu_started = time.perf_counter(), time.process_time()
    process.start()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    stats = crawler.stats.get_stats()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "pages": stats.get("replay/served", 0),
        "course_pages": stats.get("response_received_count", 0) - 3,
        "items": stats.get("item_scraped_count", 0),
        "dropped": stats.get("item_dropped_count", 0),
        "stored": sum(stats.get(f"moisson/listings/{k}", 0) for k in ("new", "changed")),
        "healthy": stats.get("moisson/healthy"),
        "profile": dict(profile.seconds),
    }


def run(mode: str, recordings: Path, db: str, pages: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.crawl_overhead", "--child", mode]
    command += ["--recordings", str(recordings), "--db", db, "--pages", str(pages)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the {mode} crawl failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--db", help="catalogue URL for the crawl with pipelines (fresh)")
    parser.add_argument("--child", choices=["full", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--recordings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.recordings, args.db, args.pages)))
        return 0

    from storage.db import ensure_schema, make_engine

    with tempfile.TemporaryDirectory(prefix="moisson-crawl-overhead-") as tmp:
        recordings = Path(tmp) / "recordings"
        generate(recordings, args.pages)
        db = args.db or f"sqlite:///{Path(tmp) / 'catalogue.sqlite3'}"
        engine = make_engine(db)
        ensure_schema(engine)  # the schema is not what is measured
        engine.dispose()
        bare = run("bare", recordings, db, args.pages)
        full = run("full", recordings, db, args.pages)
    rates = {name: r["pages"] / r["seconds"] for name, r in (("bare", bare), ("full", full))}
    cpu = {name: r["pages"] / r["cpu_seconds"] for name, r in (("bare", bare), ("full", full))}
    print(f"replay crawl of {full['pages']:,} recorded pages ({SPIDER}, one course per page)")
    print("                       pages/s (wall)  seconds   pages per CPU second")
    for name, label in (("full", "all pipelines on"), ("bare", "baseline: none")):
        r = full if name == "full" else bare
        print(f"  {label:<20} {rates[name]:>10,.0f} {r['seconds']:>10.1f} {cpu[name]:>14,.0f}")
    print(
        f"  ratio                {rates['full'] / rates['bare']:>10.2f} {'':>10}"
        f" {cpu['full'] / cpu['bare']:>14.2f}   (target >= {TARGET:.2f})"
    )
    print(f"  {full['items']:,} items stored as {full['stored']:,} new or changed listings,")
    print(f"  {full['dropped']:,} dropped; run healthy: {full['healthy']}")
    print("where the crawl with pipelines spends its time (wall seconds, share of the crawl):")
    for label, seconds in sorted(full["profile"].items(), key=lambda kv: -kv[1]):
        print(f"  {label:<44} {seconds:7.2f} s  {seconds / full['seconds']:6.1%}")
    rest = full["seconds"] - sum(full["profile"].values())
    print(
        f"  {'the rest: Scrapy, replay, spider':<44} {rest:7.2f} s  {rest / full['seconds']:6.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
