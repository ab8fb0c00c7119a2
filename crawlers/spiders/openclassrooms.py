"""OpenClassrooms (https://openclassrooms.com): French courses and paths.

Course and path pages carry a JSON-LD ``Course`` (name, description, provider) and og:
tags; difficulty and duration are only in the page header. The header selectors match
the recorded 2019 layout (see crawlers/recordings/openclassrooms/METADATA.json).
"""

from __future__ import annotations

import re

from scrapy.http import Response

from crawlers.bases.sitemap import CourseSitemapSpider
from crawlers.items import RawCourse

PAGE = re.compile(r"/fr/(courses|paths)/(\d+)-")


class OpenClassroomsSpider(CourseSitemapSpider):
    # The platform's data states neither sessions nor a pace (see the recordings), so the
    # health check does not ask for them (docs/OPERATIONS.md, "Health checks").
    key_field_minimums = {"sessions_or_pace": 0}
    name = "openclassrooms"
    platform = "openclassrooms"
    platform_label = "OpenClassrooms"
    base_url = "https://openclassrooms.com"
    allowed_domains = ["openclassrooms.com"]
    sitemap_urls = ["https://openclassrooms.com/sitemap.xml"]
    # A course or a path, not one of its chapters (/fr/courses/<id>-<slug>/<chapter>).
    course_url_rules = [r"^https://openclassrooms\.com/fr/(courses|paths)/\d+-[^/]+/?$"]

    def external_id(self, node, response: Response) -> str:
        match = PAGE.search(self.course_url(node, response))
        return f"{match.group(1)}/{match.group(2)}" if match else self.course_url(node, response)

    def complete_item(self, item: RawCourse, response: Response, node, nodes) -> RawCourse:
        header = response.css(".courseHeader__detailsItem")
        item["duration"] = (
            item.get("duration")
            or header.xpath("self::*[img[contains(@src, 'schedule')]]/span/text()").get()
        )
        item["level"] = (
            item.get("level")
            or header.xpath("self::*[i[contains(@class, 'icon-level')]]/span/text()").get()
        )
        item["language"] = item.get("language") or response.xpath("/html/@lang").get()
        item["image"] = (
            item.get("image") or response.css('meta[property="og:image"]::attr(content)').get()
        )
        summary = response.css('meta[property="og:description"]::attr(content)').get()
        item["introduction"] = summary if summary != item.get("description") else None
        match = PAGE.search(item["url"])
        item["kind"] = {"courses": "course", "paths": "path"}[match.group(1)] if match else None
        return item
