"""Run spider callbacks and pipelines on saved responses, without a reactor.

``moisson parse`` and the spider tests use this: a maintainer sees exactly what a
spider's callback makes of a page, and what the pipelines then make of the items.
"""

from __future__ import annotations

import inspect
import mimetypes
from collections.abc import Iterable
from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import load_object

from crawlers.items import RawCourse
from crawlers.settings import project_settings


def offline_crawler(spider_name: str, **settings_overrides) -> Crawler:
    """A configured crawler with its spider instantiated, never started."""
    # No reactor: nothing is downloaded, callbacks and pipelines run synchronously.
    settings = project_settings(TWISTED_REACTOR_ENABLED=False, **settings_overrides)
    spidercls = SpiderLoader.from_settings(settings).load(spider_name)
    crawler = Crawler(spidercls, settings)
    crawler._apply_settings()  # what scrapy.utils.test.get_crawler does too
    crawler.spider = crawler._create_spider()
    return crawler


def response_from_bytes(body: bytes, url: str, status: int = 200, content_type=None) -> Response:
    content_type = content_type or mimetypes.guess_type(url)[0]
    headers = {"Content-Type": content_type} if content_type else {}
    respcls = responsetypes.from_args(headers=headers, url=url, body=body)
    return respcls(url=url, status=status, headers=headers, body=body, request=Request(url))


def response_from_file(path: Path, url: str, status: int = 200) -> Response:
    content_type = mimetypes.guess_type(str(path))[0]
    return response_from_bytes(Path(path).read_bytes(), url, status, content_type)


def run_callback(crawler: Crawler, response: Response) -> tuple[list[RawCourse], list[Request]]:
    """Items and follow-up requests the spider's callback for ``response.url`` yields."""
    callback = crawler.spider.callback_for_url(response.url)
    output = callback(response)
    if inspect.isgenerator(output) or isinstance(output, Iterable):
        results = list(output or [])
    else:
        results = [] if output is None else [output]
    items = [r for r in results if isinstance(r, RawCourse | dict)]
    requests = [r for r in results if isinstance(r, Request)]
    return items, requests


def normalising_pipelines(crawler: Crawler) -> list:
    """Every configured pipeline that does not write to the catalogue, in order."""
    ordered = sorted(crawler.settings.getdict("ITEM_PIPELINES").items(), key=lambda kv: kv[1])
    pipelines = []
    for path, _order in ordered:
        cls = load_object(path)
        if getattr(cls, "writes_catalogue", False):
            continue
        pipelines.append(cls.from_crawler(crawler))
    return pipelines


def normalise(crawler: Crawler, items: list) -> list[tuple[object, str | None]]:
    """Each item after the pipelines, or None with the reason it was dropped."""
    pipelines = normalising_pipelines(crawler)
    out = []
    for item in items:
        try:
            for pipeline in pipelines:
                item = pipeline.process_item(item)
            out.append((item, None))
        except DropItem as exc:
            out.append((None, str(exc)))
    return out
