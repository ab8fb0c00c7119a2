"""Any site whose course pages carry schema.org ``Course`` markup, one platform per site.

The sites are data (``crawlers/data/schema_org_sites.json``): platform name, label, base
URL, sitemaps, course URL rules, the site's language and, optionally, its timezone. Adding
a site is adding an object there and a recording; no code. Each site's courses land under
its own platform.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scrapy.http import Response

from crawlers.bases.sitemap import CourseSitemapSpider
from crawlers.bases.sites import check_timezone
from crawlers.items import RawCourse

SITES_FILE = Path(__file__).resolve().parent.parent / "data" / "schema_org_sites.json"


@cache
def configured_sites() -> tuple[dict[str, Any], ...]:
    sites = tuple(json.loads(SITES_FILE.read_text(encoding="utf-8"))["sites"])
    for site in sites:
        check_timezone(site, SITES_FILE)
    return sites


class SchemaOrgSpider(CourseSitemapSpider):
    name = "schema_org"
    platform = None  # each site is its own platform
    platform_label = "Sites schema.org"
    base_url = None
    sites_file = SITES_FILE.name  # named in messages (moisson parse)

    def __init__(self, *args, site: str | None = None, **kwargs):
        """``-a site=PLATFORM`` crawls one site only."""
        # before the base's __init__, which reads the sitemaps and course rules below
        self.sites = [s for s in configured_sites() if site in (None, s["platform"])]
        if not self.sites:
            raise ValueError(f"no schema.org site named {site!r} in {SITES_FILE}")
        super().__init__(*args, **kwargs)

    @property
    def sitemap_urls(self) -> list[str]:
        return [url for site in self.sites for url in site["sitemap_urls"]]

    @property
    def course_url_rules(self) -> list[str]:
        """Each site's rules; they name the site's host, so a URL matches its own site's."""
        return [rule for site in self.sites for rule in site["course_url_rules"]]

    def site_for(self, url: str) -> dict[str, Any] | None:
        host = urlparse(url).netloc
        return next((s for s in self.sites if urlparse(s["base_url"]).netloc == host), None)

    def platform_info(self, platform: str) -> dict[str, str | None]:
        site = next((s for s in self.sites if s["platform"] == platform), {})
        return {"label": site.get("label", platform), "base_url": site.get("base_url")}

    def complete_item(self, item: RawCourse, response: Response, node, nodes) -> RawCourse | None:
        site = self.site_for(response.url)
        if site is None:
            self.page_failed(response, response.url, "unknown_site", "no configured site")
            return None
        item["platform"] = site["platform"]
        item["language"] = (
            item.get("language") or response.xpath("/html/@lang").get() or site.get("language")
        )
        item["kind"] = "course"
        return item
