"""Canal-U (https://www.canal-u.tv), French higher education's video library, over OAI-PMH.

The records are listed by ``ListRecords`` in Dublin Core (``oai_dc``), page after page
through ``resumptionToken``. The OAI-PMH client library Sickle reads each page: its
iterator turns records into ``sickle.models.Record`` (header, deletion flag, metadata by
element), raises the protocol's errors (``noRecordsMatch``, ``badResumptionToken``…) and
decides which request comes next. Sickle fetches with ``requests``, outside Scrapy (no
replay, robots.txt, throttling, retries or stats), so here its HTTP is Scrapy's:
``ScrapyFedSickle`` answers Sickle's first harvest with the response Scrapy fetched and
turns the next one Sickle asks for into ``NextPage(params)``, which the spider sends as a
Scrapy request with exactly those OAI parameters.

Which records count as courses is data (``crawlers/data/canal_u.json``): a record whose
``dc:type`` is a course type (« cours », « cours magistral »…); any other type is
skipped and counted, and so is a deleted record.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from lxml import etree
from scrapy import Request
from scrapy.http import Response
from sickle import Sickle, oaiexceptions
from sickle.response import OAIResponse

from crawlers.bases.common import MoissonSpider, UnparseablePage, failure_reason
from crawlers.extensions.coverage import key_field_coverage
from crawlers.items import RawCourse

CONFIG = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "canal_u.json").read_text(encoding="utf-8")
)
SITE = "https://www.canal-u.tv"
# The protocol's errors as Sickle raises them (one class per OAI-PMH error code).
OAI_ERRORS = tuple(
    error
    for error in vars(oaiexceptions).values()
    if isinstance(error, type) and issubclass(error, Exception)
)


class NextPage(Exception):  # noqa: N818 (a signal, not an error)
    """Sickle asks for another page: these OAI parameters."""

    def __init__(self, params: dict[str, str]):
        super().__init__(params)
        self.params = params


class ScrapyFedSickle(Sickle):
    """Sickle whose one HTTP answer is the response Scrapy fetched; any other is NextPage."""

    def __init__(self, endpoint: str, response: Response):
        super().__init__(endpoint)
        self._response: Response | None = response

    def harvest(self, **params) -> OAIResponse:
        if self._response is None:
            raise NextPage(params)
        response, self._response = self._response, None
        if "dataloss" in response.flags:
            raise UnparseablePage("response cut short (data loss)")
        answer = OAIResponse(SimpleNamespace(text=response.text, content=response.body), params)
        root = answer.xml  # Sickle's parser recovers from anything: check it is OAI-PMH
        if root is None or root.tag != f"{self.oai_namespace}OAI-PMH":
            raise UnparseablePage("not an OAI-PMH response")
        return answer


class CanalUSpider(MoissonSpider):
    # Videos stay online: the records state neither sessions nor a pace, so the health
    # check does not ask for them (docs/OPERATIONS.md, "Health checks").
    custom_settings = {"SPIDERMON_FIELD_COVERAGE_RULES": key_field_coverage(sessions_or_pace=0)}
    name = "canal_u"
    platform = "canal_u"
    platform_label = "Canal-U"
    base_url = SITE
    allowed_domains = ["www.canal-u.tv"]
    endpoint = CONFIG["endpoint"]
    # OAI-PMH's header datestamp: "the date of creation, modification or deletion of the
    # record" (the protocol, section 2.5): an unchanged record is seen, not rebuilt.
    modified_field = "header.datestamp"
    course_types = frozenset(t.casefold() for t in CONFIG["course_types"])

    async def start(self):
        first = self.page_request(
            {"verb": "ListRecords", "metadataPrefix": CONFIG["metadata_prefix"]}
        )
        if first is not None:
            yield first

    def page_request(self, params: dict[str, str]) -> Request | None:
        return self.listing_page(
            Request(
                f"{self.endpoint}?{urlencode(params)}",
                callback=self.parse_page,
                errback=self.page_failed_request,
            )
        )

    def parse_page(self, response: Response):
        params = dict(parse_qsl(urlparse(response.url).query))
        verb = params.pop("verb", "ListRecords")
        sickle = ScrapyFedSickle(self.endpoint, response)
        try:
            if verb != "ListRecords":
                raise UnparseablePage(f"not a ListRecords page: {verb}")
            for record in sickle.ListRecords(**params):
                item = self.course_item(record, response)
                item = self.fresh_item(item) if item is not None else None
                if item is not None:
                    yield item
        except NextPage as following:
            request = self.page_request(following.params)
            if request is not None:
                yield request
        except oaiexceptions.NoRecordsMatch:
            return  # the protocol's way of saying the list is empty
        except (*OAI_ERRORS, UnparseablePage, etree.LxmlError, AttributeError, ValueError) as exc:
            self.page_failed(response, response.url, "unparseable", f"{type(exc).__name__}: {exc}")
            self.paging_stopped("failed_page", response.url, "the page could not be read")

    def page_failed_request(self, failure):
        url = failure.request.url
        self.page_failed(None, url, failure_reason(failure), repr(failure.value))
        self.paging_stopped("failed_page", url, "the page failed")

    def course_item(self, record, response: Response) -> RawCourse | None:
        stats = self.crawler.stats
        if record.deleted:
            stats.inc_value("moisson/records/deleted")
            return None
        meta: dict[str, list[Any]] = record.metadata
        types = {str(t).strip().casefold() for t in meta.get("type") or [] if t}
        if not types & self.course_types:
            stats.inc_value("moisson/records/skipped/not_a_course")
            return None
        page = next((i for i in meta.get("identifier") or [] if str(i).startswith(SITE)), None)
        languages = [lang for lang in meta.get("language") or [] if lang]
        return RawCourse(
            platform=self.platform,
            external_id=record.header.identifier,
            url=page,
            source_url=response.url,
            title=first(meta.get("title")),
            description=first(meta.get("description")),
            language=first(languages),
            duration=first(meta.get("extent")),
            categories=[s for s in meta.get("subject") or [] if s],
            organisations=[p for p in meta.get("publisher") or [] if p],
            kind=first([t for t in meta.get("type") or [] if t]),
            raw={"header": dict(record.header), "metadata": meta},
        )

    def callback_for_url(self, url: str):
        return self.parse_page


def first(values) -> Any:
    return next((v for v in values or [] if v not in (None, "")), None)
