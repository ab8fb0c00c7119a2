"""The run lifecycle: one ``crawl_run`` row per run, its health verdict, missing listings.

When the spider opens, the run's row is created (so even a crash leaves a trace) and its
id put in the stats, where the store pipeline (pipelines/store.py) reads it to write its
batches. When the spider closes (the first moment Scrapy knows the finish reason, after
the pipeline's last batch): the maintainers' forced merges and splits are re-applied, the
run is judged once (crawlers/health.py, which also sends the alerts), a healthy run marks
the listings it did not see missing, on the platforms it read (never a worker of a
distributed crawl: ``MOISSON_MARK_MISSING`` off), and the row is completed with the stats
and the verdict.

Switched on by ``CrawlRunAddon`` (crawlers/extensions/addons.py) whenever a pipeline writes
the catalogue, whatever else ``EXTENSIONS`` says; a crawl without the store has no run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scrapy import signals
from scrapy.exceptions import CloseSpider

from crawlers import health
from crawlers.monitors.run_health import CATALOGUE_UNAVAILABLE
from pipelines.common import dropped_by_reason, reference_time
from pipelines.store import RUN_ID, register_platform, stored_counts
from storage.catalogue import CatalogueWriter, RunSummary
from storage.db import CatalogueError, make_engine

logger = logging.getLogger(__name__)
SITE = "moisson/site"  # the stat naming the one site a run read (-a site=PLATFORM)


def sites_read(spider) -> list[str] | None:
    """The platforms a spider of several sites reads in this run (``-a site=PLATFORM``
    reads one): only their listings may be marked missing. None: the spider's own."""
    sites = getattr(spider, "sites", None)
    return [site["platform"] for site in sites] if sites else None


def chosen_site(spider) -> str | None:
    """The one site ``-a site=PLATFORM`` named, or None: the spider reads all its sites."""
    return getattr(spider, "chosen_site", None)


class CrawlRunLifecycle:
    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.url = settings.get("MOISSON_DATABASE_URL")
        self.replay = settings.getbool("MOISSON_REPLAY")
        self.seen_at = reference_time(settings)
        self.writer: CatalogueWriter | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        try:
            # the store pipeline, opened first, brought the schema up to date
            self.writer = CatalogueWriter(make_engine(self.url))
            # A spider that reads several sites (schema_org) has no platform of its own.
            platform_id = (
                register_platform(self.writer, spider, spider.platform) if spider.platform else None
            )
            self.run_id = self.writer.start_run(
                spider.name, platform_id, datetime.now(UTC), self.replay
            )
        except CatalogueError as exc:
            self.catalogue_lost(exc)
            raise CloseSpider("catalogue_unavailable") from exc
        self.crawler.stats.set_value(RUN_ID, self.run_id)
        if chosen_site(spider) is not None:  # kept with the run: its health compares like runs
            self.crawler.stats.set_value(SITE, chosen_site(spider))

    def spider_closed(self, spider, reason) -> None:
        if self.run_id is None:  # the run could not be opened: nothing to record
            if self.writer is not None:
                self.writer.engine.dispose()
            return
        writer, settings, stats = self.writer, self.crawler.settings, self.crawler.stats
        try:
            # maintainers' forced merges and splits win over whatever this run linked
            try:
                stats.set_value("moisson/links/overridden", writer.apply_overrides(self.seen_at))
            except CatalogueError as exc:
                self.catalogue_lost(exc)
            try:
                previous = writer.previous_healthy_items(
                    spider.name, self.run_id, site=chosen_site(spider)
                )
            except CatalogueError as exc:
                self.catalogue_lost(exc)
                previous = None
            verdict = health.judge(self.crawler, reason, previous, self.run_id)
            try:
                if verdict.healthy and settings.getbool("MOISSON_MARK_MISSING", True):
                    # every platform this run read (a spider of several sites feeds
                    # several; -a site=PLATFORM reads one), seen or not
                    missing, hidden = writer.mark_missing(
                        self.run_id,
                        writer.platforms_of_spider(spider.name, sites_read(spider)),
                        self.seen_at,
                        settings.getint("MOISSON_HIDE_AFTER_MISSED_RUNS", 3),
                    )
                    stats.set_value("moisson/listings/missing", missing)
                    stats.set_value("moisson/listings/hidden", hidden)
                self.finish(reason, verdict)
            except CatalogueError as exc:
                self.catalogue_lost(exc)
        finally:
            writer.engine.dispose()

    def finish(self, reason: str, verdict: health.Verdict) -> None:
        stats = self.crawler.stats.get_stats()
        summary = RunSummary(
            finish_reason=reason,
            finished_at=datetime.now(UTC),
            items_scraped=stats.get("item_scraped_count", 0) + stats.get("item_dropped_count", 0),
            errors=stats.get("log_count/ERROR", 0),
            dropped_by_reason=dropped_by_reason(stats),
            stats=stats,
            healthy=verdict.healthy,
            health_reasons=verdict.reasons,
        )
        self.writer.finish_run(self.run_id, summary, stored_counts(stats))

    def catalogue_lost(self, exc: Exception) -> None:
        """The database went away: say so, and leave the run's row unfinished."""
        stats = self.crawler.stats
        stats.set_value(CATALOGUE_UNAVAILABLE, 1)
        logger.error(
            "the catalogue database is unavailable: %s", exc, extra={"spider": self.crawler.spider}
        )
        reasons = stats.get_value("moisson/health_reasons")
        if reasons is not None:  # already judged: the verdict could not be written
            stats.set_value("moisson/healthy", False)
            stats.set_value(
                "moisson/health_reasons",
                [*reasons, "the catalogue database became unavailable before the run was recorded"],
            )
