"""Platforms with a paged public JSON API (Coursera, edX's search index, Opendatasoft).

A spider on this base says where the first page is, where a page keeps its records, how to
reach the next page and how a record becomes a ``RawCourse``. The base reads pages (asked
for conditionally on an incremental night, crawlers/incremental.py: a ``304`` sees the
page's listings again and pages on), counts those it cannot read (``unparseable``,
``http_<status>``, ``empty_page``). Paging stops at a page that fails or is empty, and at
the ``MOISSON_MAX_PAGES`` ceiling: an API that announces more than it has cannot keep a
crawl going (crawlers/bases/common.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

from scrapy import Request
from scrapy.http import Response

from crawlers import incremental
from crawlers.bases.common import MoissonSpider, UnparseablePage, failure_reason
from crawlers.items import RawCourse


class JsonApiSpider(MoissonSpider):
    """Implement ``first_page_url``, ``records``, ``next_page_url`` and ``course_item``."""

    # What an empty page is called in the stats (``moisson/pages/failed/<reason>``).
    empty_page_reason: ClassVar[str] = "empty_page"

    async def start(self):
        first = self.page_request(self.first_page_url())
        if first is not None:
            yield first

    def first_page_url(self) -> str:
        raise NotImplementedError

    def api_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    def page_request(self, url: str) -> Request | None:
        """The page at ``url`` (conditionally when its validators are kept,
        crawlers/incremental.py); None past the spider's page ceiling."""
        return self.listing_page(
            self.list_page_request(
                Request(
                    url,
                    callback=self.parse_page,
                    errback=self.page_request_failed,
                    headers=self.api_headers(),
                )
            )
        )

    def records(self, page: Any) -> list[Any]:
        """The page's records; raise KeyError or TypeError when the page has no such list."""
        raise NotImplementedError

    def next_page_url(self, page: Any, url: str, count: int) -> str | None:
        """The next page after ``url`` (which held ``count`` records), or None at the end."""
        raise NotImplementedError

    def course_item(
        self, record: dict[str, Any], response: Response, page: Any
    ) -> RawCourse | None:
        raise NotImplementedError

    def parse_page(self, response: Response):
        if response.status == 304:  # its records are those of its last read
            _listings, following = self.list_page_unchanged(response)
            request = self.page_request(following) if following else None
            if request is not None:
                yield request
            return
        try:
            page = self.read_json(response)
            records = self.records(page)
            if not isinstance(records, list):
                raise TypeError(f"the records are {type(records).__name__}, not a list")
        except (UnparseablePage, KeyError, TypeError, ValueError) as exc:
            self.page_failed(response, response.url, "unparseable", f"{type(exc).__name__}: {exc}")
            self.paging_stopped("failed_page", response.url, "the page could not be read")
            return
        if not records:
            self.page_failed(response, response.url, self.empty_page_reason, "no records")
            self.paging_stopped("empty_page", response.url, "no records")
            return
        listed_on = incremental.page_url(response)
        yield from self.items_from(
            records, lambda record: self.course_item(record, response, page), listed_on=listed_on
        )
        following = self.next_page_url(page, response.url, len(records))
        self.list_page_read(response, following)
        request = self.page_request(following) if following else None
        if request is not None:
            yield request

    def page_request_failed(self, failure):
        url = failure.request.url
        self.page_failed(None, url, failure_reason(failure), repr(failure.value))
        self.paging_stopped("failed_page", url, "the page failed")

    def callback_for_url(self, url: str):
        return self.parse_page


def query_int(url: str, name: str, default: int = 0) -> int:
    from urllib.parse import parse_qs, urlparse

    try:
        return int(parse_qs(urlparse(url).query).get(name, [default])[0])
    except (TypeError, ValueError):
        return default


def with_query(url: str, **changes: Any) -> str:
    """``url`` with some query parameters replaced, the others kept in their order."""
    from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

    parts = urlparse(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: str(v) for k, v in changes.items()})
    return urlunparse(parts._replace(query=urlencode(query)))
