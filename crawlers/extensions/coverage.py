"""Count how often each item fills the key fields, in spidermon's field-coverage stats.

A platform that changes its pages first shows up here: titles, URLs, sessions or the
language stop being found. Every item that reaches a verdict counts, stored or dropped,
because an item dropped for having no title is exactly what coverage must see; items
dropped as ``not_french`` are out of the catalogue's scope and do not count. The stats
use spidermon's names (``spidermon_item_scraped_count/RawCourse/<field>``), so its
``calculate_field_coverage`` and field-coverage monitor read them as their own.
"""

from __future__ import annotations

from collections.abc import Callable

from scrapy import signals

TOTAL = "spidermon_item_scraped_count/RawCourse"
OUT_OF_SCOPE = {"not_french"}


def _sessions_or_pace(item) -> bool:
    """A self-paced course states its pace as a session of pace ``self_paced``."""
    return bool(item.get("sessions_normalised") or item.get("sessions"))


# Minimum share of items filling each key field (the defaults of crawlers/settings.py).
MINIMUM_COVERAGE = {"title": 0.95, "url": 0.95, "sessions_or_pace": 0.5, "language": 0.9}


def key_field_coverage(**minimums: float) -> dict[str, float]:
    """spidermon's ``SPIDERMON_FIELD_COVERAGE_RULES``, with some minimums changed.

    A spider whose platform never states a field declares it in its ``custom_settings``:
    ``{"SPIDERMON_FIELD_COVERAGE_RULES": key_field_coverage(sessions_or_pace=0)}``.
    """
    unknown = set(minimums) - set(MINIMUM_COVERAGE)
    if unknown:
        raise ValueError(f"no key field {sorted(unknown)}; key fields: {sorted(MINIMUM_COVERAGE)}")
    return {
        f"RawCourse/{field}": share for field, share in {**MINIMUM_COVERAGE, **minimums}.items()
    }


KEY_FIELDS: dict[str, Callable] = {
    "title": lambda item: bool(item.get("title")),
    "url": lambda item: bool(item.get("url")),
    "sessions_or_pace": _sessions_or_pace,
    "language": lambda item: bool(item.get("language")),
}


class KeyFieldCoverage:
    def __init__(self, crawler):
        self.stats = crawler.stats
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_scraped(self, item):
        self.count(item)

    def item_dropped(self, item, exception):
        if getattr(exception, "reason", None) not in OUT_OF_SCOPE:
            self.count(item)

    def count(self, item) -> None:
        self.stats.inc_value(TOTAL)
        for field, filled in KEY_FIELDS.items():
            if filled(item):
                self.stats.inc_value(f"{TOTAL}/{field}")
