"""Helpers shared by pipelines: counted drops and the crawl's reference time."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.exceptions import DropItem

DROP_PREFIX = "moisson/dropped/"
LOST_PREFIX = "moisson/fields/lost/"
# Signal a spider sends for a listing it saw unchanged without reading its content (a 304,
# an unchanged sitemap lastmod: crawlers/incremental.py), with ``platform`` and
# ``external_id``; the store marks the listing seen (pipelines/store.py).
LISTING_SEEN_UNCHANGED = object()
# Signal a spider sends for a list page (a sitemap, an API page) it read in full, with
# ``page``: its URL, validators, next page and how many courses it listed; the store keeps
# its validators if they all came into the catalogue (pipelines/store.py).
LIST_PAGE_READ = object()


class DropCourse(DropItem):
    """An item that cannot be used; ``reason`` is a short code counted in the stats."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason


def drop(crawler, reason: str, message: str) -> DropCourse:
    """Count a drop under ``moisson/dropped/<reason>`` and return the exception to raise."""
    if crawler is not None:
        crawler.stats.inc_value(DROP_PREFIX + reason)
    return DropCourse(reason, message)


def lost(crawler, field: str, reason: str, count: int = 1) -> None:
    """Count a stated value the pipelines cannot use: ``moisson/fields/lost/<field>/<reason>``."""
    if crawler is not None:
        crawler.stats.inc_value(f"{LOST_PREFIX}{field}/{reason}", count)


def reference_time(settings) -> datetime:
    """The crawl's "now": injected by MOISSON_REFERENCE_TIME (tests freeze it) or read once."""
    value = settings.get("MOISSON_REFERENCE_TIME") if settings is not None else None
    if value:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            raise ValueError(f"MOISSON_REFERENCE_TIME must carry a timezone: {value!r}")
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def dropped_by_reason(stats: dict) -> dict[str, int]:
    return {
        key[len(DROP_PREFIX) :]: value
        for key, value in sorted(stats.items())
        if key.startswith(DROP_PREFIX)
    }


def lost_fields(stats: dict) -> dict[str, int]:
    """``{"<field>/<reason>": count}`` of the values a run could not use."""
    return {
        key[len(LOST_PREFIX) :]: value
        for key, value in sorted(stats.items())
        if key.startswith(LOST_PREFIX)
    }


def normalised(item) -> dict:
    """The item's dict of normalised CourseRecord fields, created on first use."""
    if item.get("normalised") is None:
        item["normalised"] = {}
    return item["normalised"]


class Pipeline:
    """Base with the crawler at hand; subclasses implement ``process_item(self, item)``."""

    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def inc(self, key: str, count: int = 1) -> None:
        if self.crawler is not None:
            self.crawler.stats.inc_value(key, count)
