"""Run spiders in one Scrapy process, live or replaying recordings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from pipelines.common import dropped_by_reason


@dataclass
class SpiderResult:
    spider: str
    finish_reason: str | None
    items: int
    new: int
    changed: int
    unchanged: int
    errors: int
    pages_failed: int
    dropped: dict[str, int] = field(default_factory=dict)
    crawl_run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.finish_reason == "finished"


def project_settings(**overrides) -> Settings:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    settings = get_project_settings()
    if overrides.get("MOISSON_REPLAY"):
        for name, value in settings.getdict("REPLAY_OVERRIDES").items():
            settings.set(name, value, priority="cmdline")
    for name, value in overrides.items():
        if value is not None:
            settings.set(name, value, priority="cmdline")
    return settings


def spider_names(settings: Settings | None = None) -> list[str]:
    return sorted(SpiderLoader.from_settings(settings or project_settings()).list())


def run_crawl(names: list[str], settings: Settings) -> list[SpiderResult]:
    process = CrawlerProcess(settings)
    crawlers = []
    for name in names:
        crawler = process.create_crawler(name)
        crawlers.append(crawler)
        process.crawl(crawler)
    process.start()
    results = []
    for crawler in crawlers:
        stats = crawler.stats.get_stats()
        results.append(
            SpiderResult(
                spider=crawler.spidercls.name,
                finish_reason=stats.get("finish_reason"),
                items=stats.get("item_scraped_count", 0),
                new=stats.get("moisson/listings/new", 0),
                changed=stats.get("moisson/listings/changed", 0),
                unchanged=stats.get("moisson/listings/unchanged", 0),
                errors=stats.get("log_count/ERROR", 0),
                pages_failed=stats.get("moisson/pages/failed", 0),
                dropped=dropped_by_reason(stats),
                crawl_run_id=stats.get("moisson/crawl_run_id"),
            )
        )
    return results
