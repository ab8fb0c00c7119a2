"""What every Moisson spider shares."""

from __future__ import annotations

import json
import logging
import re
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

logger = logging.getLogger(__name__)

# Where platforms send a visitor they will not show a page to: a course page answered by
# a redirect to one of these is a failed page, not a course without structured data.
LOGIN_PATH = re.compile(r"/(login|signin|sign-in|sign_in|connexion|se-connecter|auth)\b", re.I)


class UnparseablePage(ValueError):
    """A response whose body cannot be read as the page kind it should be."""


class MoissonSpider(scrapy.Spider):
    """A spider that knows its platform and how to report pages it cannot read."""

    platform: ClassVar[str]
    platform_label: ClassVar[str] = ""
    base_url: ClassVar[str]
    default_language: ClassVar[str | None] = None
    # The zone of the dates the platform writes without an offset (pipelines/sessions.py);
    # a session's own "timezone" key overrides it.
    timezone: ClassVar[str] = "Europe/Paris"

    def page_failed(self, response: Response | None, url: str, reason: str, detail: str) -> None:
        """Count and log a page that yields nothing; the crawl goes on."""
        self.crawler.stats.inc_value(f"moisson/pages/failed/{reason}")
        self.crawler.stats.inc_value("moisson/pages/failed")
        # extra spider: the error counts for this spider only (crawlers/extensions/logcount.py)
        logger.error(
            "page %s could not be used (%s): %s", url, reason, detail, extra={"spider": self}
        )

    def request_failed(self, failure) -> None:
        """Errback for pages whose loss only needs counting (HTTP errors, timeouts)."""
        self.page_failed(None, failure.request.url, failure_reason(failure), repr(failure.value))

    def read_json(self, response: Response) -> Any:
        if "dataloss" in response.flags:
            raise UnparseablePage("response cut short (data loss)")
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError) as exc:
            raise UnparseablePage(f"invalid JSON: {exc}") from exc

    def redirected_to_login(self, response: Response) -> bool:
        """True when a page we asked for was answered by a redirect to a sign-in page."""
        redirected = response.meta.get("redirect_urls") if response.request else None
        return bool(redirected) and bool(LOGIN_PATH.search(response.url))

    def platform_info(self, platform: str) -> dict[str, str | None]:
        """Label and base URL of a platform this spider's items name (one by default)."""
        return {"label": self.platform_label or platform, "base_url": self.base_url}

    def callback_for_url(self, url: str):
        """The callback that parses ``url``; ``moisson parse`` uses it on saved pages."""
        return self.parse


def failure_reason(failure) -> str:
    """The short reason a request failed: ``http_404``, ``TimeoutError``…"""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    return type(failure.value).__name__
