"""edX (https://www.edx.org): courses taught in French, from the search index behind the site.

edx.org searches an Algolia index named ``product`` (application ``IGSYV1Z1XI``). Its
REST API answers ``GET /1/indexes/product?facetFilters=…&page=N`` with ``hits``, ``page``
and ``nbPages``; the facet ``language:French`` keeps the French courses. The search key
is the public one edx.org's pages use; it changes, so it is a setting
(``EDX_ALGOLIA_API_KEY`` or the environment variable of that name), sent as a header.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from crawlers.bases.json_api import JsonApiSpider, query_int, with_query
from crawlers.items import RawCourse

APPLICATION = "IGSYV1Z1XI"
INDEX_URL = f"https://{APPLICATION.lower()}-dsn.algolia.net/1/indexes/product"


class EdxSpider(JsonApiSpider):
    # The platform's data states neither sessions nor a pace (see the recordings), so the
    # health check does not ask for them (docs/OPERATIONS.md, "Health checks").
    key_field_minimums = {"sessions_or_pace": 0}
    name = "edx"
    platform = "edx"
    platform_label = "edX"
    base_url = "https://www.edx.org"
    allowed_domains = [f"{APPLICATION.lower()}-dsn.algolia.net"]
    empty_page_reason = "no_hits"
    id_fields = ("objectID",)
    hits_per_page = 100

    def first_page_url(self) -> str:
        query = {
            "query": "",
            "facetFilters": json.dumps([["language:French"]], separators=(",", ":")),
            "hitsPerPage": self.hits_per_page,
            "page": 0,
        }
        return f"{INDEX_URL}?{urlencode(query)}"

    def api_headers(self) -> dict[str, str]:
        key = self.crawler.settings.get("EDX_ALGOLIA_API_KEY") or os.environ.get(
            "EDX_ALGOLIA_API_KEY"
        )
        headers = {"Accept": "application/json", "X-Algolia-Application-Id": APPLICATION}
        if key:
            headers["X-Algolia-API-Key"] = key
        return headers

    def records(self, page: Any) -> list[Any]:
        return page["hits"]

    def next_page_url(self, page: Any, url: str, count: int) -> str | None:
        number = int(page.get("page", query_int(url, "page")))
        if number + 1 < int(page.get("nbPages", 0)):
            return with_query(url, page=number + 1)
        return None

    def course_item(self, hit: dict[str, Any], response: Response, page: Any) -> RawCourse | None:
        weeks = hit.get("weeks_to_complete")
        descriptions = [hit.get("secondary_description"), hit.get("tertiary_description")]
        return RawCourse(
            platform=self.platform,
            external_id=str(hit["objectID"]),
            url=hit.get("marketing_url"),
            source_url=response.url,
            title=hit.get("title"),
            introduction=hit.get("primary_description"),
            description="\n".join(d for d in descriptions if d) or None,
            language=_first(hit.get("language")),
            level=_first(hit.get("level")),
            duration=f"{weeks:g} semaines" if isinstance(weeks, int | float) else None,
            categories=list(hit.get("subject") or []),
            organisations=list(hit.get("partner") or []),
            image=(hit.get("card_image_url") or None),
            # edX states "recent" enrolments (the index's recent_enrollment_count)
            enrolments=hit.get("recent_enrollment_count"),
            kind=(_first(hit.get("product")) or "").lower() or None,
            raw=hit,
        )


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value
