"""Run a spider's callbacks over its whole recordings folder, offline, as the tests need.

Every recorded response (robots.txt and error statuses aside) goes through the callback
the spider names for its URL, in the order of ``index.json``: the items and follow-up
requests are what a replayed crawl would see, without the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from crawlers.offline import normalise, offline_crawler, response_from_bytes, run_callback
from tests.conftest import RECORDINGS, REFERENCE_TIME


@dataclass
class Harvest:
    crawler: object
    items: list = field(default_factory=list)
    requests: list = field(default_factory=list)

    def by_id(self, external_id: str, platform: str | None = None):
        """The item of ``external_id`` (on ``platform``: the sites of one spider may share
        ids); an id found on several platforms without ``platform`` is an error."""
        found = [
            i
            for i in self.items
            if i["external_id"] == external_id and platform in (None, i.get("platform"))
        ]
        if len({i.get("platform") for i in found}) > 1:
            raise LookupError(f"{external_id!r} is on several platforms: give platform=")
        if not found:
            raise LookupError(f"no item {external_id!r}" + (f" on {platform}" if platform else ""))
        return found[0]

    def normalised(self):
        """(kept records by external id, drop messages) after the pipelines. Two sites'
        kept records with one external id would hide each other: that is an error."""
        crawler = fresh_crawler(self.crawler.spider.name)
        results = normalise(crawler, [item.copy() for item in self.items])
        kept = {}
        for item, reason in results:
            if reason:
                continue
            if item["external_id"] in kept:
                raise LookupError(f"{item['external_id']!r} kept twice (two platforms?)")
            kept[item["external_id"]] = item["record"]
        return kept, [reason for _i, reason in results if reason]


def fresh_crawler(spider: str, **settings):
    return offline_crawler(spider, MOISSON_REFERENCE_TIME=REFERENCE_TIME, **settings)


def recorded(spider: str, name: str) -> bytes:
    return (RECORDINGS / spider / name).read_bytes()


def index_entries(spider: str) -> list[dict]:
    return json.loads((RECORDINGS / spider / "index.json").read_text())["responses"]


def content_type(entry: dict) -> str | None:
    return (entry.get("headers") or {}).get("Content-Type")


def harvest(spider: str, **settings) -> Harvest:
    found = Harvest(fresh_crawler(spider, **settings))
    for entry in index_entries(spider):
        if not entry.get("body") or entry["url"].endswith("/robots.txt"):
            continue
        if int(entry.get("status", 200)) >= 300:
            continue
        response = response_from_bytes(
            recorded(spider, entry["body"]), entry["url"], content_type=content_type(entry)
        )
        items, requests = run_callback(found.crawler, response)
        found.items += items
        found.requests += requests
    return found


def parse_body(spider: str, body: bytes, url: str, content_type: str | None = None, crawler=None):
    """Items, requests and the crawler's stats for one response built in a test."""
    crawler = crawler or fresh_crawler(spider)
    items, requests = run_callback(
        crawler, response_from_bytes(body, url, content_type=content_type)
    )
    return items, requests, crawler.stats.get_stats()
