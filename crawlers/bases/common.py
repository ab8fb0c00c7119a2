"""What every Moisson spider shares."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

import scrapy
from scrapy import Request, signals
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from crawlers import incremental, politeness
from crawlers.extensions.coverage import key_field_coverage
from crawlers.incremental import PREFIX as INCREMENTAL
from crawlers.items import RawCourse
from pipelines.common import LIST_PAGE_READ, LISTING_SEEN_UNCHANGED

logger = logging.getLogger(__name__)

# Where platforms send a visitor they will not show a page to: a course page answered by
# a redirect to one of these is a failed page, not a course without structured data.
LOGIN_PATH = re.compile(r"/(login|signin|sign-in|sign_in|connexion|se-connecter|auth)\b", re.I)


# Paging: every page of a listing a spider asks for is counted here; when paging ends
# before the platform's last page (a failing or empty page, the MOISSON_MAX_PAGES ceiling)
# the reason is counted under PAGING_STOPPED and the run is not healthy
# (crawlers/monitors/run_health.py).
PAGES_REQUESTED = "moisson/paging/pages"
PAGING_STOPPED = "moisson/paging/stopped/"
PAGING_STOPPED_AT = "moisson/paging/stopped_at"
# A course object a spider cannot read is skipped, counted here and named (id and reason,
# the first MALFORMED_NAMED of them) so the rest of its page and the later pages still come.
MALFORMED = "moisson/objects/malformed"
MALFORMED_NAMES = "moisson/objects/malformed_ids"
MALFORMED_NAMED = 20
# A course object without the platform's id cannot be a listing: skipped and counted here.
WITHOUT_ID = "moisson/objects/without_id"
# What reading an object of the wrong shape raises: a string, null or list where a
# record or a list of records was expected, a missing key, a value of the wrong type.
SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)


class UnparseablePage(ValueError):
    """A response whose body cannot be read as the page kind it should be."""


class MoissonSpider(scrapy.Spider):
    """A spider that knows its platform and how to report pages it cannot read."""

    platform: ClassVar[str]
    platform_label: ClassVar[str] = ""
    base_url: ClassVar[str]
    default_language: ClassVar[str | None] = None
    # The zone of the dates the platform writes without an offset (pipelines/sessions.py);
    # a site's "timezone" in a data file (timezone_for), then a session's own, override it.
    timezone: ClassVar[str] = "Europe/Paris"
    # Fields holding an object's id on this platform: an object with none of them is
    # skipped and counted (WITHOUT_ID) by ``items_from``; they also name a malformed one.
    id_fields: ClassVar[tuple[str, ...]] = ("id",)
    # Whether ``items_from`` skips objects without an id (not for pages whose id is their
    # URL, crawlers/bases/sitemap.py).
    id_required: ClassVar[bool] = True
    # Key fields (crawlers/extensions/coverage.py) whose minimum share differs on this
    # platform: ``{"sessions_or_pace": 0}`` for a platform that never states sessions.
    key_field_minimums: ClassVar[dict[str, float]] = {}
    # Incremental nights (crawlers/incremental.py). ``modified_field``: where a record of
    # the platform's API states its last change (a dotted path into the item's ``raw``,
    # e.g. ``"header.datestamp"``); None when the platform states none.
    modified_field: ClassVar[str | None] = None
    # Whether the spider's list pages (sitemaps, API pages) may be asked for conditionally:
    # not when a listing is made of records of several pages (Open edX's runs).
    conditional_list_pages: ClassVar[bool] = True
    # What the catalogue knows of the spider's pages, read when the spider opens
    # (``moisson parse`` and offline tests know nothing).
    known: incremental.Known = incremental.Known()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.load_known, signal=signals.spider_opened)
        return spider

    def load_known(self, spider=None) -> None:
        self.known = incremental.load(self.crawler)
        self.listed: dict[str, int] = {}  # by list page: the courses it listed this run

    @classmethod
    def update_settings(cls, settings) -> None:
        """The platform's row of the politeness table and its key-field minimums, then
        ``custom_settings`` (which win), all at Scrapy's "spider" priority."""
        settings.setdict(politeness.platform_settings(cls.name), priority="spider")
        if cls.key_field_minimums:
            rules = key_field_coverage(**cls.key_field_minimums)
            settings.set("SPIDERMON_FIELD_COVERAGE_RULES", rules, priority="spider")
        super().update_settings(settings)

    def page_failed(self, response: Response | None, url: str, reason: str, detail: str) -> None:
        """Count and log a page that yields nothing; the crawl goes on."""
        self.crawler.stats.inc_value(f"moisson/pages/failed/{reason}")
        self.crawler.stats.inc_value("moisson/pages/failed")
        # extra spider: the error counts for this spider only (crawlers/extensions/logcount.py)
        logger.error(
            "page %s could not be used (%s): %s", url, reason, detail, extra={"spider": self}
        )

    def listing_page(self, request: Request) -> Request | None:
        """``request`` for one more page of a listing, or None past the spider's ceiling.

        The ceiling is the ``MOISSON_MAX_PAGES`` setting (a spider overrides it in its
        ``custom_settings``): a platform announcing more pages than it has, or answering
        every offset, cannot keep a crawl going for ever.
        """
        ceiling = self.crawler.settings.getint("MOISSON_MAX_PAGES")
        stats = self.crawler.stats
        if stats.get_value(PAGES_REQUESTED, 0) >= ceiling:
            self.paging_stopped("ceiling", request.url, f"{ceiling} pages asked for already")
            return None
        stats.inc_value(PAGES_REQUESTED)
        return request

    def paging_stopped(self, reason: str, url: str, detail: str) -> None:
        """Count a listing whose later pages will not be asked for (``reason``)."""
        stats = self.crawler.stats
        stats.inc_value(f"{PAGING_STOPPED}{reason}")
        if not stats.get_value(PAGING_STOPPED_AT):
            stats.set_value(PAGING_STOPPED_AT, url)
        logger.warning("paging stopped at %s (%s): %s", url, reason, detail, extra={"spider": self})

    def items_from(
        self,
        objects: Iterable[Any],
        build: Callable[[Any], Any],
        id_fields: tuple[str, ...] | None = None,
        listed_on: str | None = None,
    ) -> Iterator[Any]:
        """``build(obj)`` for each object of a page, skipping the objects it cannot read.

        The one guard around per-object parsing: an object that is not a record, or whose
        fields have the wrong shape, is counted with its id and reason (``object_skipped``)
        and the page goes on; one without an id (``id_fields``, by default the spider's
        when ``id_required``) is counted under ``WITHOUT_ID``. ``build`` returns an item or
        None (an object it skips itself). An item whose record states it did not change
        since the last read is seen instead (``fresh_item``); ``listed_on``: the list page.
        """
        if id_fields is None and self.id_required:
            id_fields = self.id_fields
        for position, obj in enumerate(objects):
            try:
                if not isinstance(obj, dict):
                    raise TypeError(f"not a record but {type(obj).__name__}")
                if id_fields and self.object_id(obj, id_fields) is None:
                    self.crawler.stats.inc_value(WITHOUT_ID)
                    continue
                item = build(obj)
            except SHAPE_ERRORS as exc:
                self.object_skipped(obj, position, f"{type(exc).__name__}: {exc}")
                continue
            item = self.fresh_item(item, listed_on) if item is not None else None
            if item is not None:
                yield item

    def object_id(self, obj: Any, id_fields: tuple[str, ...] | None = None) -> str | None:
        """The platform's id of a (possibly malformed) object, for the malformed count."""
        if isinstance(obj, dict):
            for name in id_fields or self.id_fields:
                if obj.get(name) not in (None, ""):
                    return str(obj[name])
        return None

    def object_skipped(self, obj: Any, position: int, reason: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(MALFORMED)
        name = self.object_id(obj) or f"object #{position} of its page"
        named = stats.get_value(MALFORMED_NAMES) or []
        if len(named) < MALFORMED_NAMED:
            stats.set_value(MALFORMED_NAMES, [*named, f"{name} ({reason})"])
        logger.error("skipped malformed object %s: %s", name, reason, extra={"spider": self})

    def seen_unchanged(
        self, platform: str, external_id: str, how: str | None, listed_on: str | None = None
    ) -> None:
        """A listing seen without reading its content again (``how``: crawlers/incremental.py,
        None when its list page's ``304`` is counted instead), listed on ``listed_on``."""
        if how:
            self.crawler.stats.inc_value(f"{INCREMENTAL}{how}")
        self.crawler.signals.send_catch_log(
            LISTING_SEEN_UNCHANGED, platform=platform, external_id=external_id, listed_on=listed_on
        )

    # -- incremental nights (crawlers/incremental.py) -------------------------------------

    def stated_unchanged(
        self, stated: Any, known: dict[str, Any] | None, how: str, listed_on: str | None = None
    ) -> bool:
        """The rule of stated change dates, for sitemaps' ``lastmod`` and API records'
        ``modified_field`` alike: True (and the listing seen) when the date stated now is
        not later than the one of the listing's last read. A date that cannot be read is
        counted (``bad_change_date``) and the course is read as usual."""
        if incremental.unreadable(stated):
            self.crawler.stats.inc_value(INCREMENTAL + incremental.BAD_CHANGE_DATE)
            return False
        if known and incremental.unchanged_since(stated, known):
            self.seen_unchanged(known["platform"], known["external_id"], how, listed_on)
            return True
        return False

    def fresh_item(self, item: Any, listed_on: str | None = None) -> Any:
        """``item``, with what the next night needs (its list page, its stated change
        date), or None when the record's ``modified_field`` says it did not change."""
        if not isinstance(item, RawCourse):
            return item
        self.count_listed(listed_on)
        stated = None
        if self.modified_field:
            stated = incremental.stated_at(item.get("raw"), self.modified_field)
            known = self.known.listings.get((item.get("platform"), item["external_id"]))
            if self.stated_unchanged(stated, known, incremental.SKIPPED_MODIFIED, listed_on):
                return None
        if self.modified_field or listed_on:
            item["validators"] = {
                **(item.get("validators") or {}),
                "lastmod": stated if isinstance(stated, str) else None,
                "listed_on": listed_on,
            }
        return item

    def count_listed(self, listed_on: str | None) -> None:
        """One more course listed on the list page ``listed_on`` in this run."""
        if listed_on:
            listed = self.__dict__.setdefault("listed", {})
            listed[listed_on] = listed.get(listed_on, 0) + 1

    def list_page_request(self, request: Request) -> Request:
        """``request`` for a list page, with the validators of its last read, if kept."""
        if not self.conditional_list_pages:
            return request
        request, asked = incremental.conditional(request, self.known.list_pages.get(request.url))
        if asked:
            self.crawler.stats.inc_value(INCREMENTAL + incremental.CONDITIONAL)
        return request

    def list_page_unchanged(
        self, response: Response, see: bool = True
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A list page answered ``304``: the listings of its last read (each seen, unless
        ``see`` is False: a sitemap's go through their own rules), and the page after it."""
        self.crawler.stats.inc_value(INCREMENTAL + incremental.NOT_MODIFIED)
        known = response.meta[incremental.KNOWN]
        if see:
            for listing in known["listings"]:
                self.seen_unchanged(listing["platform"], listing["external_id"], None, known["url"])
        return known["listings"], known.get("next_url")

    def list_page_read(self, response: Response, next_url: str | None) -> None:
        """A list page read in full: its validators and how many courses it listed, for the
        store to keep if they all came into the catalogue (pipelines/store.py)."""
        if not self.conditional_list_pages:
            return
        url = incremental.page_url(response)
        validators = incremental.validators_of(response)
        self.crawler.signals.send_catch_log(
            LIST_PAGE_READ,
            page={
                "url": url,
                "etag": validators["etag"],
                "last_modified": validators["last_modified"],
                "next_url": next_url,
                "expected": self.__dict__.get("listed", {}).pop(url, 0),
            },
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

    def timezone_for(self, platform: str | None) -> str:
        """The zone of ``platform``'s dates written without an offset: the ``timezone`` of
        its site in a data file (``self.sites``), else the spider's ``timezone``."""
        for site in getattr(self, "sites", None) or []:
            if site.get("platform") == platform and site.get("timezone"):
                return site["timezone"]
        return self.timezone

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
