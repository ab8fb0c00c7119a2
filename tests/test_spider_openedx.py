"""The Open edX base on its sites (FUN's LMS, EDUlib's): course runs paged by pagination.next,
one listing per course."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from crawlers.bases.common import UnparseablePage
from crawlers.bases.openedx import course_key
from crawlers.spiders.openedx import OpenEdxSitesSpider
from tests.conftest import REFERENCE_TIME
from tests.recorded import fresh_crawler, harvest, parse_body, recorded

LMS = "https://lms.fun-mooc.fr"
API = f"{LMS}/api/courses/v1/courses/"
EDULIB = "https://cours.edulib.org"
SITES = {"fun_lms": LMS, "edulib_lms": EDULIB}  # the data file's sites, in its order


@pytest.fixture(scope="module")
def found():
    return harvest("openedx")


def test_sites_come_from_the_data_file():
    spider = fresh_crawler("openedx").spider
    assert [s["platform"] for s in spider.sites] == list(SITES)
    assert spider.platform_info("fun_lms")["base_url"] == LMS
    assert spider.platform_info("edulib_lms") == {
        "label": "EDUlib — cours (LMS Open edX)",
        "base_url": EDULIB,
    }
    assert spider.allowed_domains == ["lms.fun-mooc.fr", "cours.edulib.org"]
    assert spider.timezone_for("edulib_lms") == "America/Montreal"  # Québec
    assert spider.timezone_for("fun_lms") == "Europe/Paris"  # the spider's own


def test_course_key():
    assert course_key("course-v1:univ-lorraine+30001+session03") == "univ-lorraine+30001"
    assert course_key("FUN/0001/Trimestre_1_2014") == "FUN+0001"
    with pytest.raises(ValueError, match="not a course run id"):
        course_key("not-a-course-run-id")


def ids(found, platform):
    return sorted(i["external_id"] for i in found.items if i["platform"] == platform)


def test_each_site_pages_through_its_own_pagination_next(found):
    assert [r.url for r in found.requests] == [
        f"{base}/api/courses/v1/courses/?page=2&page_size=100" for base in SITES.values()
    ]


def test_each_item_is_on_its_own_sites_platform(found):
    for item in found.items:
        assert item["url"].startswith(SITES[item["platform"]] + "/courses/")
        assert item["image"].startswith(SITES[item["platform"]] + "/")
        assert item["source_url"].startswith(SITES[item["platform"]] + "/api/courses/v1/")


def test_runs_of_one_course_are_sessions_of_one_listing(found):
    assert ids(found, "fun_lms") == [
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


def test_edulib_two_runs_old_and_new_run_ids_are_one_listing(found):
    assert ids(found, "edulib_lms") == ["HEC+EF-101", "HEC+MKT-101", "PolyMtl+DDI101"]
    marketing = found.by_id("HEC+MKT-101")
    assert marketing["platform"] == "edulib_lms"
    assert marketing["title"] == "Introduction au marketing"
    assert marketing["url"] == f"{EDULIB}/courses/course-v1:HEC+MKT-101+H2027/about"
    assert marketing["organisations"] == ["HEC Montréal"]
    assert marketing["code"] == "MKT-101" and marketing["effort"] == "6 heures par semaine"
    assert marketing["language"] == "fr"
    assert marketing["source_url"] == f"{EDULIB}/api/courses/v1/courses/?page=2&page_size=100"
    # the 2015 run has an id of the older ORG/NUMBER/RUN form, the 2027 one course-v1:
    assert [s["key"] for s in marketing["sessions"]] == [
        "HEC/MKT-101/H2015",
        "course-v1:HEC+MKT-101+H2027",
    ]
    assert marketing["sessions"][0] == {
        "key": "HEC/MKT-101/H2015",
        "start": "2015-01-12T05:00:00Z",
        "end": "2015-03-02T04:59:00Z",
        "enrolment_start": "2014-11-17T05:00:00Z",
        "enrolment_end": "2015-02-02T04:59:00Z",
        "languages": [],
        "pace": "scheduled",
        "effort": "6 heures par semaine",
    }
    latest = marketing["sessions"][1]
    assert latest["start"] == "2027-01-11T14:00:00Z" and latest["end"] == "2027-03-01T04:59:00Z"
    assert latest["enrolment_start"] == "2026-11-02T14:00:00Z"
    assert latest["enrolment_end"] == "2027-01-25T04:59:00Z"
    assert marketing["image"] == (
        f"{EDULIB}/asset-v1:HEC+MKT-101+H2027+type@asset+block@course_image.jpg"
    )


def test_edulib_self_paced_and_upcoming_courses(found):
    finance = found.by_id("HEC+EF-101")
    assert finance["title"] == "Comprendre les états financiers"
    assert [(s["pace"], s["end"], s["enrolment_end"]) for s in finance["sessions"]] == [
        ("self_paced", None, None)
    ]
    durable = found.by_id("PolyMtl+DDI101")
    assert durable["title"] == "L'ingénieur, source de solutions durables"
    assert durable["organisations"] == ["Polytechnique Montréal"]
    assert durable["effort"] == "18 heures"
    assert [(s["start"], s["enrolment_end"], s["pace"]) for s in durable["sessions"]] == [
        ("2027-01-18T14:00:00Z", "2027-02-01T04:59:00Z", "scheduled")
    ]


def test_one_site_alone():
    alone = OpenEdxSitesSpider(site="edulib_lms")  # -a site=edulib_lms
    assert [s["platform"] for s in alone.sites] == ["edulib_lms"]
    assert alone.allowed_domains == ["cours.edulib.org"]


@freeze_time(REFERENCE_TIME)
def test_pipelines(found):
    kept, dropped = found.normalised()
    assert sorted(kept) == [
        "AgroParisTech+10002",
        "HEC+EF-101",
        "HEC+MKT-101",
        "Paris-Saclay+71001",
        "PolyMtl+DDI101",
        "univ-lorraine+30001",
    ]
    assert dropped == []
    assert [s.pace for s in kept["HEC+EF-101"].sessions] == ["self_paced"]
    assert [s.start.isoformat() for s in kept["HEC+MKT-101"].sessions] == [
        "2015-01-12T05:00:00+00:00",
        "2027-01-11T14:00:00+00:00",
    ]
    assert [s.pace for s in kept["AgroParisTech+10002"].sessions] == ["self_paced"]
    assert [s.pace for s in kept["Paris-Saclay+71001"].sessions] == ["scheduled"]


def test_moisson_parse_of_a_first_page_says_its_runs_are_held():
    from moisson.parse import parse_report
    from tests.conftest import RECORDINGS

    first = parse_report(
        "openedx",
        RECORDINGS / "openedx" / "edulib-courses-page-1.json",
        f"{EDULIB}/api/courses/v1/courses/?page_size=100",
    )
    assert (first.items, first.requests, first.held) == (0, 1, 3)
    assert first.explanation()[1:] == [
        "3 object(s) read and held: the spider makes them items when the paging ends "
        "(on the last page), not on this one"
    ]
    last = parse_report(
        "openedx",
        RECORDINGS / "openedx" / "edulib-courses-page-2.json",
        f"{EDULIB}/api/courses/v1/courses/?page=2&page_size=100",
    )
    assert (last.items, last.requests, last.held) == (1, 0, 0)


def test_a_host_of_no_configured_site_names_the_data_file():
    items, _requests, stats = parse_body(
        "openedx", recorded("openedx", "edulib-courses-page-2.json"),
        "https://lms.exemple.fr/api/courses/v1/courses/?page_size=100",
    )  # fmt: skip
    assert items == [] and stats["moisson/pages/failed/unparseable"] == 1
    spider = fresh_crawler("openedx").spider
    with pytest.raises(
        UnparseablePage, match=r"crawlers/data/openedx_sites.json names lms.fun-mooc"
    ):
        spider.site_for("https://lms.exemple.fr/api/courses/v1/courses/")
