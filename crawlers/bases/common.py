"""What every Moisson spider shares."""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

logger = logging.getLogger(__name__)


class UnparseablePage(ValueError):
    """A response whose body cannot be read as the page kind it should be."""


class MoissonSpider(scrapy.Spider):
    """A spider that knows its platform and how to report pages it cannot read."""

    platform: ClassVar[str]
    platform_label: ClassVar[str] = ""
    base_url: ClassVar[str]

    def page_failed(self, response: Response | None, url: str, reason: str, detail: str) -> None:
        """Count and log a page that yields nothing; the crawl goes on."""
        self.crawler.stats.inc_value(f"moisson/pages/failed/{reason}")
        self.crawler.stats.inc_value("moisson/pages/failed")
        # extra spider: the error counts for this spider only (crawlers/extensions/logcount.py)
        logger.error(
            "page %s could not be used (%s): %s", url, reason, detail, extra={"spider": self}
        )

    def read_json(self, response: Response) -> Any:
        if "dataloss" in response.flags:
            raise UnparseablePage("response cut short (data loss)")
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError) as exc:
            raise UnparseablePage(f"invalid JSON: {exc}") from exc

    def callback_for_url(self, url: str):
        """The callback that parses ``url``; ``moisson parse`` uses it on saved pages."""
        return self.parse
