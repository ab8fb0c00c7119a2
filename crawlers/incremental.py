"""Incremental nightly crawls: a page is asked for again only if it may have changed.

The catalogue keeps, per listing, the page it was read from and that page's validators
(``ETag``, ``Last-Modified``), the change date the platform stated for it (a sitemap's
``lastmod``, an API record's modified field: ``lastmod``) and the list page that listed
it (``listed_on``: a sitemap, an API page); per list page read in full whose courses all
came into the catalogue, its validators and the page after it (``list_page``, migrations
0009 and 0013). ``load`` reads them when the spider opens. The next night:

- a course whose stated change date (sitemap ``lastmod``, or the API record's field named
  by the spider's ``modified_field``) is not later than the one of the last read is not
  fetched, or not built again (``skipped_lastmod``, ``skipped_modified``); a stated date
  that cannot be read is counted (``bad_change_date``) and the course is read as usual;
- any other known course page, and any known list page, is asked for with
  ``If-None-Match`` / ``If-Modified-Since`` (``conditional``); a ``304 Not Modified`` is
  ``not_modified``. A list page's ``304`` says its courses are those of its last read:
  each listing it listed is seen again (a sitemap's through the rules above), and paging
  goes on from the stored next page.

Either way the listing is *seen*, unchanged (``MoissonSpider.seen_unchanged``): the store
marks it seen for this run, so it is never marked missing for not having been re-read.
Counters are ``moisson/incremental/<name>``. ``MOISSON_INCREMENTAL = False`` reads every
page again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response

PREFIX = "moisson/incremental/"
SKIPPED = "skipped_lastmod"
SKIPPED_MODIFIED = "skipped_modified"
BAD_CHANGE_DATE = "bad_change_date"
NOT_MODIFIED = "not_modified"
CONDITIONAL = "conditional"
COUNTERS = (CONDITIONAL, NOT_MODIFIED, SKIPPED, SKIPPED_MODIFIED, BAD_CHANGE_DATE)
KNOWN = "moisson_known_page"  # request meta: what the catalogue knows of the page
LASTMOD = "moisson_lastmod"  # request meta: the sitemap entry's lastmod
LISTED_ON = "moisson_listed_on"  # request meta: the list page that listed a course page


@dataclass
class Known:
    """What the catalogue knows of a spider's pages and listings when its crawl starts."""

    pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # course pages, by URL
    listings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    list_pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # with "listings"

    @classmethod
    def of(cls, state: dict[str, list[dict[str, Any]]]) -> Known:
        known = cls()
        listed: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in state["listings"]:
            known.listings[(row["platform"], row["external_id"])] = row
            if row.get("page_url"):
                known.pages[row["page_url"]] = row
            if row.get("listed_on"):
                listed[row["listed_on"]].append(row)
        for page in state["list_pages"]:
            known.list_pages[page["url"]] = {**page, "listings": listed.get(page["url"], [])}
        return known


def load(crawler) -> Known:
    """What the catalogue knows of this spider's pages (empty when incremental is off)."""
    settings = crawler.settings
    if not settings.getbool("MOISSON_INCREMENTAL", True):
        return Known()
    from storage.catalogue import CatalogueWriter
    from storage.db import ensure_schema, make_engine

    engine = make_engine(settings.get("MOISSON_DATABASE_URL"))
    try:
        ensure_schema(engine)
        return Known.of(CatalogueWriter(engine).incremental_state(crawler.spider.name))
    finally:
        engine.dispose()


def instant(value: str | None) -> datetime | None:
    """A W3C datetime (sitemaps' ``lastmod``: a day or a time), aware; None if unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unchanged_since(lastmod: str | None, known: dict[str, Any] | None) -> bool:
    """The one rule of stated change dates: True when the date the platform states now (a
    sitemap's ``lastmod``, an API record's modified field) is not later than the one it
    stated at the listing's last read (``known["lastmod"]``)."""
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
        "listed_on": response.meta.get(LISTED_ON) if response.request else None,
    }


def unreadable(stated: Any) -> bool:
    """A change date stated but not readable as one (counted, the course read as usual)."""
    return stated not in (None, "") and (not isinstance(stated, str) or instant(stated) is None)


def stated_at(record: Any, path: str) -> Any:
    """The value at ``path`` (dotted: ``"header.datestamp"``) of a record, None if absent."""
    value = record
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value
