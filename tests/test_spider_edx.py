"""The edX spider on its recording: the 16 real French hits of edx.org's search index."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import fresh_crawler, harvest, index_entries, parse_body, recorded

FIRST = index_entries("edx")[1]["url"]


@pytest.fixture(scope="module")
def found():
    return harvest("edx")


def test_first_page_asks_for_french(found):
    assert fresh_crawler("edx").spider.first_page_url() == FIRST
    assert "language%3AFrench" in FIRST
    assert found.requests == []  # nbPages is 1


def test_exact_values(found):
    first = found.items[0]
    assert first["external_id"] == "course-universite-de-montreal-francais-elementaire-1"
    assert first["title"] == "Français élémentaire 1"
    assert first["url"] == (
        "https://www.edx.org/learn/language/universite-de-montreal-francais-elementaire-1"
    )
    assert first["organisations"] == ["Université de Montréal"]
    assert first["language"] == "French"
    assert first["level"] == "Introductory"
    assert first["duration"] == "5 semaines"
    assert first["enrolments"] == 4254
    assert first["categories"] == ["Language"]
    assert first["kind"] == "course"
    assert first["introduction"].startswith("<p>A French course for beginners!")
    alzheimer = found.by_id(
        "course-sorbonne-universite-la-maladie-dalzheimer-comprendre-pour-aider"
    )
    assert alzheimer["title"] == "La maladie d’Alzheimer : comprendre pour mieux aider"
    assert alzheimer["organisations"] == ["Sorbonne Université"]


@pytest.mark.parametrize("index", range(16))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] == "edx" and item["external_id"].startswith("course-")
    assert item["url"].startswith("https://www.edx.org/learn/")
    assert item["language"] == "French"
    assert item["organisations"] and item["enrolments"] > 0
    assert item["raw"]["marketing_url"] == item["url"]


@freeze_time(REFERENCE_TIME)
def test_pipelines_keep_all(found):
    kept, dropped = found.normalised()
    assert len(kept) == 16 and dropped == []
    assert {r.language for r in kept.values()} == {"fr"}


def test_paging_follows_nb_pages():
    page = json.loads(recorded("edx", "product-page-0.json"))
    page.update(nbPages=3, page=1)
    url = FIRST.replace("page=0", "page=1")
    _items, follow, _ = parse_body("edx", json.dumps(page).encode(), url, "application/json")
    assert [r.url for r in follow] == [FIRST.replace("page=0", "page=2")]


def test_algolia_response_without_hits_is_counted():
    body = json.dumps({"hits": [], "nbHits": 0, "page": 0, "nbPages": 0}).encode()
    items, follow, stats = parse_body("edx", body, FIRST, "application/json")
    assert items == [] and follow == []
    assert stats["moisson/pages/failed/no_hits"] == 1


def test_algolia_error_body_is_unparseable():
    body = b'{"message":"Invalid Application-ID or API key","status":403}'
    items, _follow, stats = parse_body("edx", body, FIRST, "application/json")
    assert items == [] and stats["moisson/pages/failed/unparseable"] == 1
