"""Scrapy add-ons that switch whole modes on from one setting.

Because they act on the settings Scrapy itself loads, the modes work the same under
``moisson crawl``, ``scrapy crawl`` and scrapyd (``setting=MOISSON_REPLAY=1`` in a
``schedule.json`` call).

- ``MOISSON_REPLAY``: serve the recordings (docs/RECORDINGS.md) with the settings of
  ``REPLAY_OVERRIDES``; they win over the project's and the spider's settings, not over
  the command line.
- a pipeline that writes the catalogue (``writes_catalogue``, pipelines/store.py) brings
  the run lifecycle (crawlers/extensions/crawl_run.py: ``crawl_run``, health verdict,
  missing-marking) with it, even when ``EXTENSIONS`` is replaced on the command line.
- ``MOISSON_REDIS_URL``: share the request queue and the duplicate filter of a crawl with
  every worker started with the same URL and ``MOISSON_REDIS_CRAWL`` (docs/OPERATIONS.md).
"""

from __future__ import annotations

from datetime import date

from scrapy.utils.misc import load_object

from crawlers.extensions.crawl_run import CrawlRunLifecycle

ABOVE_SPIDER = "spider"  # applied after the spider's own settings, so equal priority wins


class ReplayAddon:
    def update_settings(self, settings) -> None:
        if not settings.getbool("MOISSON_REPLAY"):
            return
        for name, value in settings.getdict("REPLAY_OVERRIDES").items():
            settings.set(name, value, priority=ABOVE_SPIDER)


def writes_catalogue(settings) -> bool:
    """Whether one of the crawl's pipelines writes the catalogue."""
    return any(
        getattr(load_object(path), "writes_catalogue", False)
        for path, order in settings.getdict("ITEM_PIPELINES").items()
        if order is not None
    )


class CrawlRunAddon:
    order = 1000  # after SpiderLogCount (0), whose count stops when the spider closes

    def update_settings(self, settings) -> None:
        if writes_catalogue(settings):
            settings.set_in_component_priority_dict("EXTENSIONS", CrawlRunLifecycle, self.order)


class RedisAddon:
    def update_settings(self, settings) -> None:
        url = settings.get("MOISSON_REDIS_URL")
        if not url:
            return
        # Keys name the crawl, so tonight's duplicate filter never hides tomorrow's pages
        # and one worker finishing does not wipe the queue the others still read.
        crawl = settings.get("MOISSON_REDIS_CRAWL") or date.today().isoformat()
        prefix = f"moisson:{crawl}:%(spider)s"
        distributed = {
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "REDIS_URL": url,
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
            "SCHEDULER_PERSIST": True,
            # A worker sees only its share: it must not mark the others' listings missing,
            # and its item count says nothing about the platform's (docs/OPERATIONS.md).
            "MOISSON_MARK_MISSING": False,
            "MOISSON_HEALTH_MIN_SHARE_OF_PREVIOUS": 0,
            "SPIDERMON_MIN_ITEMS": 0,
            # Take from the shared queue only what can be downloaded now: requests held
            # in a worker's own downloader are work the idle workers cannot share.
            "CONCURRENT_REQUESTS": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") or 1,
        }
        for name, value in distributed.items():
            settings.set(name, value, priority=ABOVE_SPIDER)
        extensions = settings.getdict("EXTENSIONS")
        extensions["crawlers.extensions.distributed.WaitForPeers"] = 600
        settings.set("EXTENSIONS", extensions, priority=ABOVE_SPIDER)
