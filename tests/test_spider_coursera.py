"""The Coursera spider: catalogue pages built on the real courses.v1 envelope."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import fresh_crawler, harvest, index_entries, parse_body, recorded

FIRST, SECOND = (e["url"] for e in index_entries("coursera")[1:3])


@pytest.fixture(scope="module")
def found():
    return harvest("coursera")


def test_paging_follows_paging_next(found):
    assert "start=100" in SECOND
    assert [r.url for r in found.requests] == [SECOND]


def test_only_french_courses_become_items(found):
    assert [i["external_id"] for i in found.items] == [
        "Vq5b5s3DEeWmuQ5aSuEuIw",
        "dWqNPMRqEeWZ3Q4tQ8cHgA",
        "kZrmSA5hEeaE1BJ0zVZqGQ",
        "nM3E-UqoEeuWlQ5BJNN6Lg",
        "Ch4x3X8tEe6pdgqaKBy3pQ",
    ]
    # English courses with French subtitles are not taught in French
    assert found.crawler.stats.get_value("moisson/records/skipped/not_french") == 3


def test_exact_values(found):
    java = found.items[0]
    assert java["title"] == "Initiation à la programmation (en Java)"
    assert java["url"] == "https://www.coursera.org/learn/initiation-programmation-java"
    assert java["organisations"] == ["École polytechnique fédérale de Lausanne"]
    assert java["effort"] == "6 à 8 heures par semaine"
    assert java["language"] == "fr"
    assert java["categories"] == ["computer-science"]
    assert java["certificate"] == "VerifiedCert"
    assert found.by_id("kZrmSA5hEeaE1BJ0zVZqGQ")["language"] == "fr-FR"
    assert found.by_id("Ch4x3X8tEe6pdgqaKBy3pQ")["certificate"] is None


@pytest.mark.parametrize("index", range(5))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] == "coursera"
    assert item["url"].startswith("https://www.coursera.org/learn/")
    assert item["title"] and item["organisations"] and item["effort"]
    assert item["raw"]["id"] == item["external_id"]


@freeze_time(REFERENCE_TIME)
def test_pipelines_keep_all(found):
    kept, dropped = found.normalised()
    assert len(kept) == 5 and dropped == []


def test_real_envelope_without_elements_is_counted_not_fatal():
    body = recorded("coursera", "envelope-2016-empty-elements.json")
    items, follow, stats = parse_body("coursera", body, FIRST, "application/json")
    assert items == [] and follow == []
    assert stats["moisson/pages/failed/empty_page"] == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda course: None,
        lambda course: [course],
        lambda course: {**course, "primaryLanguages": 7},
        lambda course: {**course, "domainTypes": ["computer-science"]},
    ],
    ids=["null", "a list", "languages a number", "domains strings"],
)
def test_a_malformed_record_is_skipped_counted_and_paging_goes_on(damage):
    page = json.loads(recorded("coursera", "courses-0.json"))
    page["elements"][0] = damage(page["elements"][0])
    items, follow, stats = parse_body("coursera", json.dumps(page).encode(), FIRST)
    assert [i["external_id"] for i in items] == [
        "dWqNPMRqEeWZ3Q4tQ8cHgA",
        "kZrmSA5hEeaE1BJ0zVZqGQ",
        "nM3E-UqoEeuWlQ5BJNN6Lg",
    ]
    assert [r.url for r in follow] == [SECOND]
    assert stats["moisson/objects/malformed"] == 1


def test_an_empty_page_stops_paging_and_says_so():
    body = recorded("coursera", "envelope-2016-empty-elements.json")
    _items, _follow, stats = parse_body("coursera", body, FIRST, "application/json")
    assert stats["moisson/paging/stopped/empty_page"] == 1


def test_the_page_ceiling_refuses_the_next_page():
    crawler = fresh_crawler("coursera", MOISSON_MAX_PAGES=1)
    crawler.stats.set_value("moisson/paging/pages", 1)  # the first page was asked for
    _items, follow, stats = parse_body(
        "coursera", recorded("coursera", "courses-0.json"), FIRST, crawler=crawler
    )
    assert follow == []
    assert stats["moisson/paging/stopped/ceiling"] == 1
    assert stats["moisson/paging/stopped_at"] == SECOND
