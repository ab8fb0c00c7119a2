"""Rules every spider keeps: named like its file, a declared platform, recordings with their
provenance, and a test of its own on those recordings."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import crawlers.spiders
from crawlers.replay import load_index
from moisson.crawl import spider_names
from tests.conftest import RECORDINGS, ROOT

SPIDERS = spider_names()
TEMPLATE_MARKER = "moisson new-spider: write real assertions"


def spider_class(name):
    from scrapy.spiderloader import SpiderLoader

    from moisson.crawl import project_settings

    return SpiderLoader.from_settings(project_settings()).load(name)


def test_every_spider_module_imports_cleanly():
    modules = [m.name for m in pkgutil.iter_modules(crawlers.spiders.__path__)]
    assert modules, "no spider modules"
    for module in modules:
        importlib.import_module(f"crawlers.spiders.{module}")
    assert sorted(modules) == sorted(SPIDERS)  # one spider per file, one file per spider


@pytest.mark.parametrize("name", SPIDERS)
def test_name_matches_file(name):
    assert spider_class(name).__module__ == f"crawlers.spiders.{name}"


@pytest.mark.parametrize("name", SPIDERS)
def test_declares_its_platform(name):
    cls = spider_class(name)
    if cls.platform is None:  # a spider of several sites names each one's platform
        from crawlers.offline import offline_crawler

        spider = offline_crawler(name).spider
        platforms = [s["platform"] for s in spider.sites]
        assert platforms and all(spider.platform_info(p)["label"] for p in platforms)
    else:
        assert isinstance(cls.platform, str) and cls.platform
        assert cls.platform_label and cls.base_url.startswith("https://")


@pytest.mark.parametrize("name", SPIDERS)
def test_has_recordings_with_provenance(name):
    folder = RECORDINGS / name
    assert load_index(folder), f"{folder}/index.json lists no response"
    metadata = json.loads((folder / "METADATA.json").read_text())
    assert metadata["spider"] == name
    assert metadata["provenance"], "say where the recordings come from"
    assert "captured" in metadata


@pytest.mark.parametrize("name", SPIDERS)
def test_every_recorded_url_has_a_callback(name):
    from crawlers.offline import offline_crawler

    spider = offline_crawler(name).spider
    for urls in load_index(RECORDINGS / name).values():
        assert callable(spider.callback_for_url(urls[0]["url"]))


@pytest.mark.parametrize("name", SPIDERS)
def test_has_a_recording_based_test(name):
    candidates = [
        ROOT / "tests" / f"test_spider_{name}.py",
        ROOT / "tests" / f"test_{name}_spider.py",
    ]
    existing = [p for p in candidates if p.exists()]
    assert existing, f"write tests/test_spider_{name}.py"
    source = existing[0].read_text()
    assert TEMPLATE_MARKER not in source, "the generated test still waits for real assertions"
    assert f'"{name}"' in source and "assert" in source
