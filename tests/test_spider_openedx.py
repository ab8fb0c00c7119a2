"""The Open edX base on FUN's LMS: course runs paged by pagination.next, one listing per course."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from crawlers.bases.openedx import course_key
from tests.conftest import REFERENCE_TIME
from tests.recorded import fresh_crawler, harvest, parse_body, recorded

LMS = "https://lms.fun-mooc.fr"
API = f"{LMS}/api/courses/v1/courses/"


@pytest.fixture(scope="module")
def found():
    return harvest("openedx")


def test_sites_come_from_the_data_file():
    spider = fresh_crawler("openedx").spider
    assert [s["platform"] for s in spider.sites] == ["fun_lms"]
    assert spider.platform_info("fun_lms")["base_url"] == LMS
    assert spider.allowed_domains == ["lms.fun-mooc.fr"]


def test_course_key():
    assert course_key("course-v1:univ-lorraine+30001+session03") == "univ-lorraine+30001"
    assert course_key("FUN/0001/Trimestre_1_2014") == "FUN+0001"
    with pytest.raises(ValueError, match="not a course run id"):
        course_key("not-a-course-run-id")


def test_paging_follows_pagination_next(found):
    assert [r.url for r in found.requests] == [f"{API}?page=2&page_size=100"]


def test_runs_of_one_course_are_sessions_of_one_listing(found):
    assert sorted(i["external_id"] for i in found.items) == [
        "AgroParisTech+10002",
        "Paris-Saclay+71001",
        "univ-lorraine+30001",
    ]
    writing = found.by_id("univ-lorraine+30001")
    assert writing["platform"] == "fun_lms"
    assert writing["title"] == "Écrire et raconter : atelier d'écriture créative"
    assert writing["url"] == f"{LMS}/courses/course-v1:univ-lorraine+30001+session04/about"
    assert writing["organisations"] == ["Université de Lorraine"]
    assert writing["code"] == "30001" and writing["effort"] == "3 heures par semaine"
    assert writing["language"] == "fr"
    assert [s["key"] for s in writing["sessions"]] == [
        "course-v1:univ-lorraine+30001+session03",
        "course-v1:univ-lorraine+30001+session04",
    ]
    latest = writing["sessions"][1]
    assert latest["start"] == "2027-01-11T08:00:00Z" and latest["end"] == "2027-03-08T22:59:00Z"
    assert latest["enrolment_start"] == "2026-10-19T08:00:00Z"
    assert latest["enrolment_end"] == "2027-02-15T22:59:00Z"
    assert latest["pace"] == "scheduled"
    assert [r["id"] for r in writing["raw"]["runs"]] == [s["key"] for s in writing["sessions"]]


def test_self_paced_run(found):
    agro = found.by_id("AgroParisTech+10002")
    assert agro["title"] == "Agroécologie : principes et pratiques"
    assert agro["sessions"] == [
        {
            "key": "course-v1:AgroParisTech+10002+autorythme",
            "start": "2025-09-01T08:00:00Z",
            "end": None,
            "enrolment_start": "2025-08-25T08:00:00Z",
            "enrolment_end": None,
            "languages": [],
            "pace": "self_paced",
            "effort": "2 heures par semaine",
        }
    ]
    assert agro["image"] == (
        f"{LMS}/asset-v1:AgroParisTech+10002+autorythme+type@asset+block@course_image.jpg"
    )


def test_a_hidden_run_is_counted_not_listed(found):
    assert found.crawler.stats.get_value("moisson/objects/hidden") == 1
    assert not any(i["external_id"].startswith("CNAM+") for i in found.items)


def test_a_malformed_run_is_skipped_counted_and_named():
    page = json.loads(recorded("openedx", "courses-page-2.json"))
    page["results"] += [{**page["results"][0], "id": "not-a-course-run-id"}, "a string"]
    items, _requests, stats = parse_body(
        "openedx", json.dumps(page).encode(), f"{API}?page=2&page_size=100"
    )
    assert [i["external_id"] for i in items] == ["univ-lorraine+30001"]
    assert stats["moisson/objects/malformed"] == 2
    assert "not-a-course-run-id (ValueError" in stats["moisson/objects/malformed_ids"][0]


def test_a_page_alone_makes_its_listings_when_paging_ends_there():
    body = recorded("openedx", "courses-page-2.json")
    items, requests, _stats = parse_body("openedx", body, f"{API}?page=2&page_size=100")
    assert requests == [] and [i["external_id"] for i in items] == ["univ-lorraine+30001"]


def test_an_unreadable_page_is_counted_and_stops_paging():
    items, requests, stats = parse_body(
        "openedx", b"<html>maintenance</html>", f"{API}?page_size=100"
    )
    assert items == [] and requests == []
    assert stats["moisson/pages/failed/unparseable"] == 1
    assert stats["moisson/paging/stopped/failed_page"] == 1


@freeze_time(REFERENCE_TIME)
def test_pipelines(found):
    kept, dropped = found.normalised()
    assert sorted(kept) == ["AgroParisTech+10002", "Paris-Saclay+71001", "univ-lorraine+30001"]
    assert dropped == []
    assert [s.pace for s in kept["AgroParisTech+10002"].sessions] == ["self_paced"]
    assert [s.pace for s in kept["Paris-Saclay+71001"].sessions] == ["scheduled"]
