"""The run lifecycle extension comes with the catalogue store, and only with it."""

from __future__ import annotations

import pytest
from scrapy.crawler import Crawler
from scrapy.spiderloader import SpiderLoader

from crawlers.extensions.crawl_run import CrawlRunLifecycle
from crawlers.settings import project_settings


def extensions(**overrides) -> list[type]:
    settings = project_settings(TWISTED_REACTOR_ENABLED=False, **overrides)
    crawler = Crawler(SpiderLoader.from_settings(settings).load("fun_mooc"), settings)
    crawler._apply_settings()  # add-ons, then extensions, as a crawl starts them
    return [type(extension) for extension in crawler.extensions.middlewares]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, True),
        # a test or an operator replacing EXTENSIONS does not lose the run's row
        ({"EXTENSIONS": {"tests.killer.KillAfterItems": 0}}, True),
        ({"ITEM_PIPELINES": {}}, False),
        ({"ITEM_PIPELINES": {"pipelines.validate.ValidatePipeline": 800}}, False),
    ],
)
def test_the_lifecycle_runs_when_a_pipeline_writes_the_catalogue(overrides, expected):
    assert (CrawlRunLifecycle in extensions(**overrides)) is expected


def test_the_lifecycle_closes_after_the_per_spider_log_count():
    # SpiderLogCount stops counting when the spider closes: the verdict's own log lines
    # must not count as the run's warnings and errors, as before the extension existed
    from crawlers.extensions.logcount import SpiderLogCount

    loaded = extensions()
    assert loaded.index(SpiderLogCount) < loaded.index(CrawlRunLifecycle)
