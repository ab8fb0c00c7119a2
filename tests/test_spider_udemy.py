"""The Udemy spider: real English landing pages, built French ones, and the affiliate API."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import fresh_crawler, harvest, parse_body, recorded

API_PAGE = "https://www.udemy.com/api-2.0/courses/?language=fr&page=1&page_size=100"


@pytest.fixture(scope="module")
def found():
    return harvest("udemy")


def test_sitemap_index_then_course_pages(found):
    urls = [r.url for r in found.requests]
    assert urls[0] == "https://www.udemy.com/sitemap/courses.xml?p=1"  # topics sitemap skipped
    assert "https://www.udemy.com/sitemap/topics.xml" not in urls
    assert not any(u.endswith("/learn/") for u in urls)
    assert len(found.items) == 7


def test_real_english_page_exact_values(found):
    course = found.by_id("4016590")
    assert course["title"] == "Copywriting: B2B Copywriting, Content Writing, Copy Writing"
    assert course["url"] == "https://www.udemy.com/course/b2b-copywriting/"
    assert course["language"] == "en"
    assert course["organisations"] == ["Dekker Fraser, MBA"]
    assert course["rating"] == "4.5" and course["rating_count"] == 341
    assert course["enrolments"] == "32,474 students"
    assert course["categories"] == ["Marketing", "Content Marketing", "Copywriting"]
    assert found.by_id("576504")["price"] == 0  # isAccessibleForFree


def test_built_french_page_carries_the_real_api_values(found):
    course = found.by_id("859184")
    assert course["title"] == "Les Data Sciences de A à Z"
    assert course["language"] == "fr"
    assert course["organisations"] == ["Hadelin de Ponteves"]
    assert course["url"] == "https://www.udemy.com/course/les-data-sciences-de-a-a-z/"


@pytest.mark.parametrize("index", range(7))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] == "udemy" and item["external_id"].isdigit()
    assert item["url"].startswith("https://www.udemy.com/course/")
    assert item["title"] and item["language"] and item["organisations"]
    assert item["rating"] is not None and item["rating_count"] > 0


@freeze_time(REFERENCE_TIME)
def test_english_courses_are_dropped_with_their_reason(found):
    kept, dropped = found.normalised()
    assert sorted(kept) == ["2391766", "2600016", "2845456", "859184"]
    assert sorted(dropped) == [
        "not_french: https://www.udemy.com/course/b2b-copywriting/: course language en",
        "not_french: https://www.udemy.com/course/learn_power_bi_for_free/: course language en",
        # its CourseInstance states no language: it is taught in the course's
        "not_french: https://www.udemy.com/course/the-melody-of-english/: sessions only in ['en']",
    ]


def test_affiliate_api_page():
    items, follow, _ = parse_body("udemy", recorded("udemy", "api-courses-fr-1.json"), API_PAGE)
    assert follow == []  # "next" is null
    assert [i["external_id"] for i in items] == [
        "2371066",
        "859184",
        "2600016",
        "2845456",
        "2391766",
    ]
    scrum = items[3]
    assert scrum["title"] == "SCRUM et le best-of des méthodes agiles de gestion de projet"
    assert scrum["language"] == "fr_FR"
    assert scrum["price"] == 24.99 and scrum["currency"] == "EUR"
    assert scrum["organisations"] == ["Pascal Lochert", "Catherine Kong"]
    assert scrum["url"] == (
        "https://www.udemy.com/course/scrum-et-le-best-of-des-methodes-agiles-de-gestion-de-projet/"
    )
    assert items[0]["language"] == "en_US"


def test_api_follows_next_with_its_credentials():
    crawler = fresh_crawler("udemy", UDEMY_CLIENT_ID="id", UDEMY_CLIENT_SECRET="secret")
    first = crawler.spider.api_request(1)
    assert first.headers["Authorization"] == b"Basic aWQ6c2VjcmV0"
    page = json.loads(recorded("udemy", "api-courses-fr-1.json"))
    page["next"] = API_PAGE.replace("page=1", "page=2")
    from scrapy import Request
    from scrapy.http import TextResponse

    response = TextResponse(
        first.url, body=json.dumps(page).encode(), encoding="utf-8", request=first
    )
    follow = [r for r in crawler.spider.parse_api(response) if isinstance(r, Request)]
    assert [r.url for r in follow] == [page["next"]]
    assert follow[0].headers["Authorization"] == b"Basic aWQ6c2VjcmV0"
