"""FutureLearn: the public course feed, French courses only."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import harvest, parse_body, recorded

FEED = "https://www.futurelearn.com/feeds/courses"
BUSINESS = "0f3c6a52-8e1d-4b7a-9c35-2d61f0a4b7e1"
EPIDEMICS = "6c4f1a87-3d2b-4e9f-b150-9e8a7d6c5b43"


@pytest.fixture(scope="module")
def found():
    return harvest("futurelearn")


def test_one_document_no_paging(found):
    assert found.requests == []


def test_only_courses_not_stated_in_another_language(found):
    assert [i["external_id"] for i in found.items] == [
        BUSINESS,
        "2b7e9d14-5f3a-4c6e-8a21-7c90d3e5f812",
        EPIDEMICS,
    ]
    stats = found.crawler.stats.get_stats()
    assert stats["moisson/records/skipped/not_french"] == 2  # English, Spanish


def test_a_malformed_course_is_skipped_counted_and_named():
    feed = json.loads(recorded("futurelearn", "courses.json"))
    feed.append({**feed[0], "uuid": "3e4d5c6b", "runs": "every Monday"})
    items, _requests, stats = parse_body("futurelearn", json.dumps(feed).encode(), FEED)
    assert len(items) == 3
    assert stats["moisson/objects/malformed"] == 1
    assert stats["moisson/objects/malformed_ids"][0].startswith("3e4d5c6b (AttributeError")


def test_exact_values(found):
    business = found.by_id(BUSINESS)
    assert business["platform"] == "futurelearn"
    assert business["title"] == "Le français des affaires : premiers pas"
    assert business["url"] == "https://www.futurelearn.com/courses/francais-des-affaires"
    assert business["organisations"] == ["CCI Paris Île-de-France Éducation"]
    assert business["categories"] == ["Langues", "Business et management"]
    assert business["language"] == "fr" and business["effort"] == "3"
    assert business["sessions"] == [
        {
            "key": "a1d2e3f4-0001-4c00-8000-000000000001",
            "start": "2026-10-05",
            "duration": "4",
            "languages": ["fr"],
        },
        {
            "key": "a1d2e3f4-0001-4c00-8000-000000000002",
            "start": "2027-01-18",
            "duration": "4",
            "languages": ["fr"],
        },
    ]
    assert found.by_id(EPIDEMICS)["language"] is None  # the feed states none


def test_a_feed_that_is_not_an_array_is_counted():
    items, _requests, stats = parse_body("futurelearn", b'{"error": "maintenance"}', FEED)
    assert items == []
    assert stats["moisson/pages/failed/unparseable"] == 1


@freeze_time(REFERENCE_TIME)
def test_pipelines(found):
    kept, dropped = found.normalised()
    assert sorted(kept) == sorted(i["external_id"] for i in found.items) and dropped == []
    assert kept[EPIDEMICS].language == "fr"  # detected
    business = kept[BUSINESS]
    assert business.effort_hours_per_week_min == 3
    assert [s.duration_weeks_min for s in business.sessions] == [4, 4]
