"""Run spiders in one Scrapy process, live or replaying recordings, and report on each.

Every spider of a run is started in the same ``CrawlerProcess``, so spiders of different
platforms crawl at the same time while each platform keeps its own politeness limits
(per-domain concurrency, AutoThrottle). What each spider did is read back from its stats,
including the health verdict crawlers/health.py left there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from crawlers import incremental
from crawlers.bases.common import MALFORMED, PAGING_STOPPED
from crawlers.incremental import PREFIX as INCREMENTAL
from crawlers.settings import project_settings
from pipelines.common import dropped_by_reason, lost_fields

PAGES_FAILED = "moisson/pages/failed/"
EXCEPTIONS = "downloader/exception_type_count/"


@dataclass
class SpiderResult:
    spider: str
    finish_reason: str | None
    healthy: bool
    reasons: list[str]
    items: int
    new: int
    changed: int
    unchanged: int
    missing: int
    errors: int
    requests: int
    retries: int
    bytes: int  # response bytes downloaded
    duration_seconds: float | None
    dropped: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)  # stated values not used, by field/reason
    # incremental crawl (crawlers/incremental.py): conditional requests sent, pages answered
    # 304 (not_modified, course pages and list pages), courses not asked for or not built
    # again for an unchanged stated change date (skipped_lastmod: a sitemap's;
    # skipped_modified: an API record's) and stated change dates that could not be read
    incremental: dict[str, int] = field(default_factory=dict)
    crawl_run_id: int | None = None

    @classmethod
    def from_stats(cls, spider: str, stats: dict) -> SpiderResult:
        healthy = stats.get("moisson/healthy")
        reasons = list(stats.get("moisson/health_reasons") or [])
        if healthy is None:
            healthy = False
            reasons.append("no health verdict: the run never reached the catalogue store")
        return cls(
            spider=spider,
            finish_reason=stats.get("finish_reason"),
            healthy=bool(healthy),
            reasons=reasons,
            items=stats.get("item_scraped_count", 0),
            new=stats.get("moisson/listings/new", 0),
            changed=stats.get("moisson/listings/changed", 0),
            unchanged=stats.get("moisson/listings/unchanged", 0),
            missing=stats.get("moisson/listings/missing", 0),
            errors=stats.get("log_count/ERROR", 0),
            requests=stats.get("downloader/request_count", 0),
            retries=stats.get("retry/count", 0),
            bytes=stats.get("downloader/response_bytes", 0),
            duration_seconds=stats.get("elapsed_time_seconds"),
            dropped=dropped_by_reason(stats),
            faults=faults(stats),
            lost=lost_fields(stats),
            incremental=incremental_counts(stats),
            crawl_run_id=stats.get("moisson/crawl_run_id"),
        )

    def as_json(self) -> dict:
        return asdict(self)


def incremental_counts(stats: dict) -> dict[str, int]:
    """Pages asked for conditionally, answered 304; courses skipped for an unchanged stated
    change date; stated change dates that could not be read."""
    return {name: stats.get(f"{INCREMENTAL}{name}", 0) for name in incremental.COUNTERS}


def faults(stats: dict) -> dict[str, int]:
    """What went wrong on the way, by kind: failed pages, network errors, lost items."""
    found = {}
    for key, value in sorted(stats.items()):
        if key.startswith(PAGES_FAILED):
            found[f"page failed: {key[len(PAGES_FAILED) :]}"] = value
        elif key.startswith(PAGING_STOPPED):
            found[f"paging stopped: {key[len(PAGING_STOPPED) :]}"] = value
        elif key.startswith(EXCEPTIONS):
            found[f"download error: {key[len(EXCEPTIONS) :].rsplit('.', 1)[-1]}"] = value
    named = {
        "retry/max_reached": "requests out of retries",
        "replay/unrecorded": "unrecorded URLs",
        MALFORMED: "malformed objects skipped",
        "moisson/store/failed_items": "items the catalogue could not take",
        "moisson/store/quarantined": "items set aside in the quarantine",
        "moisson/store/unavailable": "catalogue unavailable",
        "downloader/response_status_count/429": "HTTP 429 (too many requests)",
    }
    for key, label in named.items():
        if stats.get(key):
            found[label] = stats[key]
    for key, value in stats.items():
        if key.startswith("downloader/response_status_count/5"):
            found[f"HTTP {key.rsplit('/', 1)[-1]}"] = value
    return found


def spider_names(settings: Settings | None = None) -> list[str]:
    return sorted(SpiderLoader.from_settings(settings or project_settings()).list())


def run_crawl(
    names: list[str], settings: Settings, progress=None, spider_args: dict | None = None
) -> list[SpiderResult]:
    """Crawl ``names`` together; ``progress`` (moisson.progress) watches the crawlers;
    ``spider_args`` go to each spider, as ``scrapy crawl -a``."""
    process = CrawlerProcess(settings)
    crawlers = []
    for name in names:
        crawler = process.create_crawler(name)
        crawlers.append(crawler)
        process.crawl(crawler, **(spider_args or {}))
    if progress is not None:
        progress.watch(crawlers)
    process.start()
    if progress is not None:
        progress.stop()
    return [
        SpiderResult.from_stats(crawler.spidercls.name, crawler.stats.get_stats())
        for crawler in crawlers
    ]
