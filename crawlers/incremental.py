"""Incremental nightly crawls: a listing's page is asked for again only if it may have changed.

The catalogue keeps, per listing, the page it was read from and that page's validators
(``storage.catalogue.CatalogueWriter.page_validators``, migration 0009): the ``ETag`` and
``Last-Modified`` the server sent and the sitemap's ``lastmod``. The next night:

- a sitemap entry whose ``lastmod`` is not later than the one of the last read is not
  fetched at all (``moisson/incremental/skipped_lastmod``);
- any other known page is asked for with ``If-None-Match`` / ``If-Modified-Since``
  (``moisson/incremental/conditional``); a ``304 Not Modified`` is
  ``moisson/incremental/not_modified``.

Either way the listing is *seen*, unchanged (``MoissonSpider.seen_unchanged``): the store
marks it seen for this run, so it is never marked missing for not having been re-read.
``MOISSON_INCREMENTAL = False`` reads every page again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response

PREFIX = "moisson/incremental/"
SKIPPED = "skipped_lastmod"
NOT_MODIFIED = "not_modified"
CONDITIONAL = "conditional"
KNOWN = "moisson_known_page"  # request meta: what the catalogue knows of the page
LASTMOD = "moisson_lastmod"  # request meta: the sitemap entry's lastmod


def known_pages(crawler) -> dict[str, dict[str, str | None]]:
    """What the catalogue knows of the pages of this spider's listings, by URL."""
    settings = crawler.settings
    if not settings.getbool("MOISSON_INCREMENTAL", True):
        return {}
    from storage.catalogue import CatalogueWriter
    from storage.db import ensure_schema, make_engine

    engine = make_engine(settings.get("MOISSON_DATABASE_URL"))
    try:
        ensure_schema(engine)
        return CatalogueWriter(engine).page_validators(crawler.spider.name)
    finally:
        engine.dispose()


def instant(value: str | None) -> datetime | None:
    """A W3C datetime (sitemaps' ``lastmod``: a day or a time), aware; None if unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unchanged_since(lastmod: str | None, known: dict[str, Any] | None) -> bool:
    """True when the sitemap's ``lastmod`` is not later than the one of the last read."""
    now, then = instant(lastmod), instant((known or {}).get("lastmod"))
    return now is not None and then is not None and now <= then


def conditional(request: Request, known: dict[str, Any] | None) -> tuple[Request, bool]:
    """``request`` with the validators the catalogue holds for its page, if any."""
    if not known or not (known.get("etag") or known.get("last_modified")):
        return request, False
    headers = {}
    if known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    request.headers.update(headers)
    request.meta[KNOWN] = known
    request.meta["handle_httpstatus_list"] = [304]  # the callback hears it, not the errback
    return request, True


def page_url(response: Response) -> str:
    """The URL the spider asked for (the sitemap's), before any redirect."""
    redirected = response.meta.get("redirect_urls") if response.request else None
    return redirected[0] if redirected else response.url


def validators_of(response: Response) -> dict[str, str | None]:
    """What to keep of a page read in full, to ask for it conditionally next night."""

    def header(name: str) -> str | None:
        value = response.headers.get(name)
        return value.decode("latin-1") if value else None

    return {
        "page_url": page_url(response),
        "etag": header("ETag"),
        "last_modified": header("Last-Modified"),
        "lastmod": response.meta.get(LASTMOD) if response.request else None,
    }
