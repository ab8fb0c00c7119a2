"""Canal-U over OAI-PMH: Sickle reads the pages and names the next one, Scrapy fetches."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import harvest, parse_body, recorded

OAI = "https://www.canal-u.tv/oai"
FIRST = f"{OAI}?verb=ListRecords&metadataPrefix=oai_dc"
TOKEN = "oai_dc%7C2026-11-15T11%3A00%3A00Z%7C4"


@pytest.fixture(scope="module")
def found():
    return harvest("canal_u")


def test_the_resumption_token_sickle_reads_is_the_next_request(found):
    assert [r.url for r in found.requests] == [f"{OAI}?resumptionToken={TOKEN}&verb=ListRecords"]


def test_the_last_page_asks_for_nothing_more():
    body = recorded("canal_u", "listrecords-2.xml")
    items, requests, _stats = parse_body(
        "canal_u", body, f"{OAI}?resumptionToken=x&verb=ListRecords"
    )
    assert requests == [] and [i["external_id"] for i in items] == ["oai:canal-u.tv:71230"]


def test_only_course_records_and_the_others_counted(found):
    assert [i["external_id"] for i in found.items] == [
        "oai:canal-u.tv:71201",
        "oai:canal-u.tv:71215",
        "oai:canal-u.tv:71230",
    ]
    stats = found.crawler.stats.get_stats()
    assert stats["moisson/records/skipped/not_a_course"] == 2  # a documentary, a conference
    assert stats["moisson/records/deleted"] == 1


def test_exact_values(found):
    lecture = found.by_id("oai:canal-u.tv:71201")
    assert lecture["platform"] == "canal_u"
    assert lecture["title"] == "Introduction à la sociologie des organisations"
    assert lecture["url"] == (
        "https://www.canal-u.tv/chaines/utjj/introduction-a-la-sociologie-des-organisations"
    )
    assert lecture["organisations"] == ["Université Toulouse - Jean Jaurès"]
    assert lecture["categories"] == ["Sociologie", "Organisations"]
    assert lecture["duration"] == "PT1H12M40S" and lecture["language"] == "fr"
    assert lecture["kind"] == "Cours magistral"
    assert lecture["raw"]["header"]["setSpecs"] == ["chaine:uoh"]


def test_an_oai_error_page_is_counted():
    error = (
        b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"<responseDate>2026-11-15T11:00:00Z</responseDate><request>x</request>"
        b'<error code="badResumptionToken">expired</error></OAI-PMH>'
    )
    items, requests, stats = parse_body(
        "canal_u", error, f"{OAI}?resumptionToken=x&verb=ListRecords"
    )
    assert items == [] and requests == []
    assert stats["moisson/pages/failed/unparseable"] == 1
    assert stats["moisson/paging/stopped/failed_page"] == 1


def test_no_records_match_is_an_empty_list_not_a_failure():
    empty = (
        b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"<responseDate>2026-11-15T11:00:00Z</responseDate><request>x</request>"
        b'<error code="noRecordsMatch"/></OAI-PMH>'
    )
    items, requests, stats = parse_body("canal_u", empty, FIRST)
    assert items == [] and requests == []
    assert "moisson/pages/failed" not in stats


def test_a_page_that_is_not_xml_is_counted():
    items, _requests, stats = parse_body("canal_u", b"<html><p>maintenance", FIRST)
    assert items == []
    assert stats["moisson/pages/failed/unparseable"] == 1


@freeze_time(REFERENCE_TIME)
def test_pipelines(found):
    kept, dropped = found.normalised()
    assert sorted(kept) == sorted(i["external_id"] for i in found.items) and dropped == []
    assert kept["oai:canal-u.tv:71215"].duration_hours_min == 0.8
