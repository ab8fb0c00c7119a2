"""Write validated courses into the catalogue, in batches, and record the crawl run.

The run's row is created when the spider opens, so even a crash leaves a trace; it is
completed on ``spider_closed``, when Scrapy knows the finish reason.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scrapy import signals
from sqlalchemy.exc import SQLAlchemyError

from crawlers import health
from crawlers.monitors.run_health import CATALOGUE_UNAVAILABLE, STORE_FAILED
from pipelines.common import LISTING_SEEN_UNCHANGED, Pipeline, dropped_by_reason, reference_time
from storage.catalogue import CatalogueWriter, RunSummary, StoreCounts
from storage.db import ensure_schema, make_engine

logger = logging.getLogger(__name__)
QUARANTINED = "moisson/store/quarantined"


class CatalogueStorePipeline(Pipeline):
    writes_catalogue = True

    def __init__(self, crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.url = settings.get("MOISSON_DATABASE_URL")
        self.batch_size = settings.getint("MOISSON_STORE_BATCH_SIZE", 500)
        self.replay = settings.getbool("MOISSON_REPLAY")
        self.seen_at = reference_time(settings)
        self.buffers: dict[str, list] = {}
        self.platform_ids: dict[str, int] = {}
        self.counts = StoreCounts()
        self.run_id: int | None = None
        # incremental crawls (crawlers/incremental.py): pages' validators to keep, and
        # listings seen unchanged without their content, by platform
        self.validators: dict[str, list[dict]] = {}
        self.seen_unchanged: dict[str, list[str]] = {}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.listing_seen_unchanged, signal=LISTING_SEEN_UNCHANGED)

    def open_spider(self, spider=None):
        spider = self.crawler.spider
        self.engine = make_engine(self.url)
        ensure_schema(self.engine)
        self.writer = CatalogueWriter(self.engine)
        # A spider that reads several sites (schema_org) has no platform of its own.
        self.platform_id = self.platform_for(spider.platform) if spider.platform else None
        self.run_id = self.writer.start_run(
            spider.name, self.platform_id, datetime.now(UTC), self.replay
        )
        self.crawler.stats.set_value("moisson/crawl_run_id", self.run_id)

    def platform_for(self, name: str) -> int:
        """The platform's id, registered on first sight with what the spider says of it."""
        if name not in self.platform_ids:
            spider = self.crawler.spider
            info = spider.platform_info(name) if hasattr(spider, "platform_info") else {}
            self.platform_ids[name] = self.writer.platform_id(
                name,
                label=info.get("label") or getattr(spider, "platform_label", None) or name,
                base_url=info.get("base_url", getattr(spider, "base_url", None)),
                spider=spider.name,
            )
        return self.platform_ids[name]

    def process_item(self, item, spider=None):
        buffer = self.buffers.setdefault(item["record"].platform, [])
        buffer.append((item["record"], item.get("raw")))
        if item.get("validators"):
            record = item["record"]
            self.validators.setdefault(record.platform, []).append(
                {
                    **item["validators"],
                    "external_id": record.external_id,
                    "content_hash": record.content_hash(),
                }
            )
        if len(buffer) >= self.batch_size:
            self.flush()
        return item

    def listing_seen_unchanged(self, platform: str, external_id: str) -> None:
        self.seen_unchanged.setdefault(platform, []).append(external_id)

    def flush(self) -> None:
        buffers, self.buffers = self.buffers, {}
        validators, self.validators = self.validators, {}
        self.flush_seen_unchanged()
        for platform, batch in buffers.items():
            if not batch:
                continue
            try:
                counts = self.writer.store(
                    self.run_id, self.platform_for(platform), batch, self.seen_at
                )
            except SQLAlchemyError as exc:
                # The batch's transaction rolled back: the catalogue keeps what it had, the
                # run is unhealthy (crawlers/health.py), and the next run writes these again.
                self.crawler.stats.inc_value(STORE_FAILED, len(batch))
                logger.error(
                    "could not store a batch of %d items: %s",
                    len(batch),
                    exc,
                    extra={"spider": self.crawler.spider},
                )
                continue
            if counts.quarantined:
                # set aside with the reason (``moisson quarantine``); the rest was stored
                self.crawler.stats.inc_value(QUARANTINED, counts.quarantined)
                logger.warning(
                    "%d of %d items set aside in the quarantine",
                    counts.quarantined,
                    len(batch),
                    extra={"spider": self.crawler.spider},
                )
            self.counts.add(counts)
            self.keep_validators(platform, validators.get(platform, []))
        self.crawler.stats.set_value("moisson/listings/new", self.counts.new)
        self.crawler.stats.set_value("moisson/listings/changed", self.counts.changed)
        self.crawler.stats.set_value("moisson/listings/unchanged", self.counts.unchanged)

    def flush_seen_unchanged(self) -> None:
        """Listings seen unchanged without their content count as unchanged listings."""
        seen, self.seen_unchanged = self.seen_unchanged, {}
        for platform, external_ids in seen.items():
            try:
                self.counts.unchanged += self.writer.mark_seen(
                    self.run_id, self.platform_for(platform), external_ids, self.seen_at
                )
            except SQLAlchemyError as exc:
                self.crawler.stats.inc_value(STORE_FAILED, len(external_ids))
                logger.error(
                    "could not mark %d unchanged listings seen: %s",
                    len(external_ids),
                    exc,
                    extra={"spider": self.crawler.spider},
                )

    def keep_validators(self, platform: str, validators: list[dict]) -> None:
        try:
            self.writer.set_validators(self.platform_for(platform), validators)
        except SQLAlchemyError as exc:  # the pages are read in full next night: no loss
            logger.warning("could not keep page validators: %s", exc)

    def close_spider(self, spider=None):
        self.flush()
        # maintainers' forced merges and splits win over whatever this run linked
        try:
            moved = self.writer.apply_overrides(self.seen_at)
        except SQLAlchemyError as exc:
            self.catalogue_lost(exc)
            return
        self.crawler.stats.set_value("moisson/links/overridden", moved)

    def spider_closed(self, spider, reason):
        if self.run_id is None:
            return
        try:
            previous = self.writer.previous_healthy_items(spider.name, self.run_id)
        except SQLAlchemyError as exc:
            self.catalogue_lost(exc)
            previous = None
        verdict = health.judge(self.crawler, reason, previous, self.run_id)
        stats = self.crawler.stats.get_stats()
        try:
            if verdict.healthy and self.crawler.settings.getbool("MOISSON_MARK_MISSING", True):
                # every platform this spider feeds (schema_org feeds several), seen or not today
                missing, hidden = self.writer.mark_missing(
                    self.run_id,
                    self.writer.platforms_of_spider(spider.name),
                    self.seen_at,
                    self.crawler.settings.getint("MOISSON_HIDE_AFTER_MISSED_RUNS", 3),
                )
                self.crawler.stats.set_value("moisson/listings/missing", missing)
                self.crawler.stats.set_value("moisson/listings/hidden", hidden)
            summary = RunSummary(
                finish_reason=reason,
                finished_at=datetime.now(UTC),
                items_scraped=stats.get("item_scraped_count", 0)
                + stats.get("item_dropped_count", 0),
                errors=stats.get("log_count/ERROR", 0),
                dropped_by_reason=dropped_by_reason(stats),
                stats=self.crawler.stats.get_stats(),
                healthy=verdict.healthy,
                health_reasons=verdict.reasons,
            )
            self.writer.finish_run(self.run_id, summary, self.counts)
        except SQLAlchemyError as exc:
            self.catalogue_lost(exc)
        finally:
            self.engine.dispose()

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
