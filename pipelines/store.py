"""Write validated courses into the catalogue, in batches.

The pipeline only writes: each batch goes into the ``crawl_run`` that the run lifecycle
extension (crawlers/extensions/crawl_run.py) opened when the spider opened and read from
the stats (``RUN_ID``). What it wrote is counted in the stats, which the extension records
on the run's row with the health verdict when the spider closes.
"""

from __future__ import annotations

import logging

from pipelines.common import LIST_PAGE_READ, LISTING_SEEN_UNCHANGED, Pipeline, reference_time
from storage.catalogue import CatalogueWriter, StoreCounts
from storage.db import CatalogueError, ensure_schema, make_engine

logger = logging.getLogger(__name__)
RUN_ID = "moisson/crawl_run_id"  # set by the run lifecycle extension
QUARANTINED = "moisson/store/quarantined"
STORE_FAILED = "moisson/store/failed_items"
NEW, CHANGED, UNCHANGED = (f"moisson/listings/{kind}" for kind in ("new", "changed", "unchanged"))


def register_platform(writer: CatalogueWriter, spider, name: str) -> int:
    """The platform's id, registered with what the spider says of it (its ``platform_info``
    for a spider that reads several platforms, else its own label and base URL)."""
    info = spider.platform_info(name) if hasattr(spider, "platform_info") else {}
    return writer.platform_id(
        name,
        label=info.get("label") or getattr(spider, "platform_label", None) or name,
        base_url=info.get("base_url", getattr(spider, "base_url", None)),
        spider=spider.name,
    )


def stored_counts(stats: dict) -> StoreCounts:
    """What the pipeline stored in this run, as its stats say."""
    return StoreCounts(
        new=stats.get(NEW, 0),
        changed=stats.get(CHANGED, 0),
        unchanged=stats.get(UNCHANGED, 0),
        quarantined=stats.get(QUARANTINED, 0),
    )


class CatalogueStorePipeline(Pipeline):
    writes_catalogue = True

    def __init__(self, crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.url = settings.get("MOISSON_DATABASE_URL")
        self.batch_size = settings.getint("MOISSON_STORE_BATCH_SIZE", 500)
        self.seen_at = reference_time(settings)
        self.buffers: dict[str, list] = {}
        self.platform_ids: dict[str, int] = {}
        self.counts = StoreCounts()
        # incremental crawls (crawlers/incremental.py): pages' validators to keep, and
        # listings seen unchanged without their content, by platform
        self.validators: dict[str, list[dict]] = {}
        self.seen_unchanged: dict[str, list[str]] = {}
        crawler.signals.connect(self.listing_seen_unchanged, signal=LISTING_SEEN_UNCHANGED)
        # list pages read in full, and the listings each listed (stored or seen) this run
        self.list_pages: list[dict] = []
        self.listed: dict[str, set[tuple[str, str]]] = {}
        crawler.signals.connect(self.list_page_read, signal=LIST_PAGE_READ)

    def open_spider(self, spider=None):
        self.engine = make_engine(self.url)
        ensure_schema(self.engine)  # an unreachable catalogue stops the crawl before it starts
        self.writer = CatalogueWriter(self.engine)

    def platform_for(self, name: str) -> int:
        """The platform's id, registered on first sight."""
        if name not in self.platform_ids:
            self.platform_ids[name] = register_platform(self.writer, self.crawler.spider, name)
        return self.platform_ids[name]

    def process_item(self, item, spider=None):
        buffer = self.buffers.setdefault(item["record"].platform, [])
        buffer.append((item["record"], item.get("raw")))
        if item.get("validators"):
            record = item["record"]
            if item["validators"].get("listed_on"):
                self.listed.setdefault(item["validators"]["listed_on"], set()).add(
                    (record.platform, record.external_id)
                )
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

    def listing_seen_unchanged(
        self, platform: str, external_id: str, listed_on: str | None = None
    ) -> None:
        self.seen_unchanged.setdefault(platform, []).append(external_id)
        if listed_on:
            self.listed.setdefault(listed_on, set()).add((platform, external_id))

    def list_page_read(self, page: dict) -> None:
        self.list_pages.append(page)

    def flush(self) -> None:
        buffers, self.buffers = self.buffers, {}
        validators, self.validators = self.validators, {}
        run_id = self.crawler.stats.get_value(RUN_ID)
        self.flush_seen_unchanged(run_id)
        for platform, batch in buffers.items():
            if not batch:
                continue
            if run_id is None:  # the lifecycle extension is off or could not open the run
                self.failed(batch, "no crawl_run was opened for this run")
                continue
            try:
                counts = self.writer.store(run_id, self.platform_for(platform), batch, self.seen_at)
            except CatalogueError as exc:
                # The batch's transaction rolled back: the catalogue keeps what it had, the
                # run is unhealthy (crawlers/health.py), and the next run writes these again.
                self.failed(batch, exc)
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
        self.crawler.stats.set_value(NEW, self.counts.new)
        self.crawler.stats.set_value(CHANGED, self.counts.changed)
        self.crawler.stats.set_value(UNCHANGED, self.counts.unchanged)

    def failed(self, batch: list, reason) -> None:
        self.crawler.stats.inc_value(STORE_FAILED, len(batch))
        logger.error(
            "could not store a batch of %d items: %s",
            len(batch),
            reason,
            extra={"spider": self.crawler.spider},
        )

    def flush_seen_unchanged(self, run_id: int | None) -> None:
        """Listings seen unchanged without their content count as unchanged listings."""
        seen, self.seen_unchanged = self.seen_unchanged, {}
        for platform, external_ids in seen.items():
            if run_id is None:
                self.failed(external_ids, "no crawl_run was opened for this run")
                continue
            try:
                self.counts.unchanged += self.writer.mark_seen(
                    run_id, self.platform_for(platform), external_ids, self.seen_at
                )
            except CatalogueError as exc:
                self.failed(external_ids, exc)

    def keep_validators(self, platform: str, validators: list[dict]) -> None:
        try:
            self.writer.set_validators(self.platform_for(platform), validators)
        except CatalogueError as exc:  # the pages are read in full next night: no loss
            logger.warning("could not keep page validators: %s", exc)

    def keep_list_pages(self) -> None:
        """Keep the validators of each list page read in full whose courses all came into
        the catalogue (every one it listed stored or seen, nothing failed or quarantined in
        the run); forget the others', so the next night reads them in full."""
        stats = self.crawler.stats
        clean = not stats.get_value(STORE_FAILED) and not stats.get_value(QUARANTINED)
        kept, forgotten = [], []
        for page in self.list_pages:
            listed = self.listed.get(page["url"], set())
            if (
                clean
                and (page["etag"] or page["last_modified"])
                and page["expected"] > 0
                and len(listed) == page["expected"]
            ):
                ids = [(self.platform_for(p), external_id) for p, external_id in listed]
                kept.append({**page, "listed": ids})
            else:
                forgotten.append(page["url"])
        try:
            self.writer.keep_list_pages(
                self.crawler.spider.name, kept, forgotten, list(self.platform_ids.values())
            )
        except CatalogueError as exc:  # the pages are read in full next night: no loss
            logger.warning("could not keep list pages' validators: %s", exc)

    def close_spider(self, spider=None):
        try:
            self.flush()
            self.keep_list_pages()
        finally:
            self.engine.dispose()
