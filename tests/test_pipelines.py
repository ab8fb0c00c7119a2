"""Each pipeline on hand-made items (their crawler is a real, never-started one)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.items import RawCourse
from crawlers.offline import offline_crawler
from pipelines.clean_text import CleanTextPipeline, clean_plain, clean_rich
from pipelines.common import DropCourse
from pipelines.language import LanguagePipeline, language_code
from pipelines.provenance import ProvenancePipeline
from pipelines.run_duplicates import RunDuplicatesPipeline
from pipelines.sessions import SessionsPipeline, normalise_session, parse_iso_datetime, zone_of
from pipelines.validate import ValidatePipeline
from tests.conftest import REFERENCE_TIME


@pytest.fixture
def crawler():
    return offline_crawler("fun_mooc", MOISSON_REFERENCE_TIME=REFERENCE_TIME)


def item(**fields):
    base = {
        "platform": "fun_mooc",
        "external_id": "42",
        "url": "https://www.fun-mooc.fr/fr/cours/gestion-de-projet/",
        "title": "Gestion de projet",
        "sessions": [{"key": "a", "start": "2027-01-11T00:00:00+00:00", "languages": ["fr"]}],
    }
    base.update(fields)
    return RawCourse(**base)


def stat(crawler, key):
    return crawler.stats.get_value(key)


# provenance


def test_provenance_stamps_spider_and_reference_time(crawler):
    out = ProvenancePipeline.from_crawler(crawler).process_item(RawCourse(title="x"))
    assert out["spider"] == "fun_mooc"
    assert out["platform"] == "fun_mooc"
    assert out["fetched_at"] == "2026-11-15T11:00:00+00:00"


# clean text


def test_clean_plain_removes_tags_entities_and_spaces():
    assert clean_plain("  Droit&nbsp;des <b>entreprises</b>\n ") == "Droit des entreprises"
    assert clean_plain("Cafe\u0301") == "Café"  # NFC
    assert clean_plain("   ") is None


def test_clean_rich_keeps_html():
    assert clean_rich("<p>Ce cours\n\n <strong>initie</strong></p>") == (
        "<p>Ce cours <strong>initie</strong></p>"
    )


def test_clean_text_pipeline_dedupes_names(crawler):
    out = CleanTextPipeline.from_crawler(crawler).process_item(
        item(organisations=["Inria ", "Inria", "", "CNAM"], introduction="<p>a  b</p>")
    )
    assert out["organisations"] == ["Inria", "CNAM"]
    assert out["introduction"] == "<p>a b</p>"


# language


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("fr", "fr"),
        ("fr-FR", "fr"),
        ("fr_FR", "fr"),
        ("Français", "fr"),
        ("English", "en"),
        ("", None),
        (None, None),
        ("klingon", None),
    ],
)
def test_language_code(value, code):
    assert language_code(value) == code


def test_foreign_sessions_are_removed_and_counted(crawler):
    sessions = [
        {"key": "fr", "languages": ["fr"]},
        {"key": "en", "languages": ["en"]},
        {"key": "both", "languages": ["fr", "en"]},
    ]
    out = LanguagePipeline.from_crawler(crawler).process_item(item(sessions=sessions))
    assert [s["key"] for s in out["sessions"]] == ["fr", "both"]
    assert out["language"] == "fr"
    assert stat(crawler, "moisson/sessions/dropped/not_french") == 1


def test_course_only_in_english_is_dropped_with_reason(crawler):
    with pytest.raises(DropCourse) as caught:
        LanguagePipeline.from_crawler(crawler).process_item(
            item(sessions=[{"key": "en", "languages": ["en"]}])
        )
    assert caught.value.reason == "not_french"
    assert stat(crawler, "moisson/dropped/not_french") == 1


def test_course_without_sessions_takes_the_platform_language(crawler):
    out = LanguagePipeline.from_crawler(crawler).process_item(item(sessions=[]))
    assert out["language"] == "fr"


def test_declared_foreign_language_without_sessions_is_dropped(crawler):
    with pytest.raises(DropCourse):
        LanguagePipeline.from_crawler(crawler).process_item(item(sessions=[], language="en"))


# sessions


def test_parse_iso_datetime():
    assert parse_iso_datetime("2027-01-11T08:00:00+01:00") == datetime(2027, 1, 11, 7, tzinfo=UTC)
    assert parse_iso_datetime("2027-01-11T08:00:00Z") == datetime(2027, 1, 11, 8, tzinfo=UTC)
    # naive means Paris time (UTC+1 in winter, UTC+2 in summer)
    assert parse_iso_datetime("2027-01-11T08:00:00") == datetime(2027, 1, 11, 7, tzinfo=UTC)
    assert parse_iso_datetime("2027-07-11") == datetime(2027, 7, 10, 22, tzinfo=UTC)
    assert parse_iso_datetime("9999-12-31T00:00:00+00:00") is None
    assert parse_iso_datetime(None) is None


def test_richie_open_run_is_self_paced():
    session = normalise_session(
        {
            "key": "k",
            "start": "2025-09-01T00:00:00+00:00",
            "end": "9999-12-31T00:00:00+00:00",
            "enrolment_start": "2025-08-01T00:00:00+00:00",
            "enrolment_end": "9999-12-31T00:00:00+00:00",
            "languages": ["fr"],
            "price": "0.00",
            "price_currency": "EUR",
            "offer": "free",
            "certificate_offer": "paid",
            "certificate_price": 49,
        }
    )
    assert session["pace"] == "self_paced"
    assert session["end"] is None and session["enrolment_end"] is None
    assert session["price"] == 0.0 and session["currency"] == "EUR"
    assert session["certificate"] == "paid" and session["certificate_price"] == 49.0


def test_no_end_date_stays_scheduled():
    session = normalise_session(
        {
            "key": "k",
            "start": "2026-01-05T00:00:00+00:00",
            "end": "9999-12-31T00:00:00+00:00",
            "enrolment_end": "2026-02-01T00:00:00+00:00",
        }
    )
    assert session["pace"] == "scheduled" and session["end"] is None


def test_end_before_start_keeps_start_drops_end_and_counts(crawler):
    out = SessionsPipeline.from_crawler(crawler).process_item(
        item(
            sessions=[
                {
                    "key": "k",
                    "start": "2027-03-01T00:00:00+00:00",
                    "end": "2027-01-01T00:00:00+00:00",
                }
            ]
        )
    )
    session = out["sessions_normalised"][0]
    assert session["start"] == datetime(2027, 3, 1, tzinfo=UTC)
    assert session["end"] is None
    assert stat(crawler, "moisson/sessions/end_before_start") == 1


def test_unparseable_date_is_counted_not_fatal(crawler):
    out = SessionsPipeline.from_crawler(crawler).process_item(
        item(sessions=[{"key": "k", "start": "bientôt", "end": "2027-01-01T00:00:00+00:00"}])
    )
    assert out["sessions_normalised"][0]["start"] is None
    assert out["sessions_normalised"][0]["end"] == datetime(2027, 1, 1, tzinfo=UTC)
    assert stat(crawler, "normalise/dates/unparsed") == 1


# validate


def normalised(crawler, **fields):
    it = item(**fields)
    for cls in (ProvenancePipeline, CleanTextPipeline, LanguagePipeline, SessionsPipeline):
        it = cls.from_crawler(crawler).process_item(it)
    return it


def test_validate_builds_the_record(crawler):
    out = ValidatePipeline.from_crawler(crawler).process_item(normalised(crawler))
    record = out["record"]
    assert record.title == "Gestion de projet"
    assert record.sessions[0].start == datetime(2027, 1, 11, tzinfo=UTC)
    assert len(record.content_hash()) == 64


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": None}, "missing_title"),
        ({"title": ""}, "missing_title"),
        ({"url": None}, "missing_url"),
        ({"url": "javascript:alert(1)"}, "invalid"),
    ],
)
def test_validate_drops_with_reason(crawler, fields, reason):
    with pytest.raises(DropCourse) as caught:
        ValidatePipeline.from_crawler(crawler).process_item(normalised(crawler, **fields))
    assert caught.value.reason == reason
    assert stat(crawler, f"moisson/dropped/{reason}") == 1


def test_content_hash_ignores_provenance(crawler):
    a = ValidatePipeline.from_crawler(crawler).process_item(normalised(crawler))["record"]
    b = a.model_copy(update={"fetched_at": datetime(2030, 1, 1, tzinfo=UTC), "source_url": "x"})
    assert a.content_hash() == b.content_hash()
    c = a.model_copy(update={"title": "Gestion de projets"})
    assert a.content_hash() != c.content_hash()


# within-run duplicates


def test_second_sighting_in_a_run_is_dropped(crawler):
    validate = ValidatePipeline.from_crawler(crawler)
    dedupe = RunDuplicatesPipeline.from_crawler(crawler)
    dedupe.process_item(validate.process_item(normalised(crawler)))
    with pytest.raises(DropCourse) as caught:
        dedupe.process_item(validate.process_item(normalised(crawler)))
    assert caught.value.reason == "duplicate_in_run"


# one rule for a day written without a time: an end lasts until 23:59:59 of that day


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("end", "2018-12-10", datetime(2018, 12, 10, 22, 59, 59, tzinfo=UTC)),  # winter: UTC+1
        ("enrolment_end", "2018-07-10", datetime(2018, 7, 10, 21, 59, 59, tzinfo=UTC)),
        ("start", "2018-12-10", datetime(2018, 12, 9, 23, tzinfo=UTC)),
        ("enrolment_start", "2018-12-10", datetime(2018, 12, 9, 23, tzinfo=UTC)),
        # a time, even midnight, is kept as written
        ("end", "2018-12-10T00:00:00", datetime(2018, 12, 9, 23, tzinfo=UTC)),
        ("end", "2018-12-10T00:00:00+00:00", datetime(2018, 12, 10, tzinfo=UTC)),
    ],
)
def test_date_only_end_runs_to_the_end_of_its_day(key, value, expected):
    assert normalise_session({"key": "k", key: value})[key] == expected


def test_iso_and_free_text_date_only_ends_agree():
    iso = normalise_session({"key": "k", "end": "2027-01-31"})
    text = normalise_session({"key": "k", "end": "31 janvier 2027"}, today=datetime(2026, 11, 15))
    assert iso["end"] == text["end"] == datetime(2027, 1, 31, 22, 59, 59, tzinfo=UTC)


def test_dates_without_offset_are_in_the_platforms_zone():
    montreal = normalise_session(
        {"key": "k", "end": "2027-01-31"}, zone=zone_of("America/Montreal")
    )
    assert montreal["end"] == datetime(2027, 2, 1, 4, 59, 59, tzinfo=UTC)  # UTC-5
    own = normalise_session({"key": "k", "start": "2027-01-31T09:00", "timezone": "Asia/Tokyo"})
    assert own["start"] == datetime(2027, 1, 31, 0, tzinfo=UTC)


def test_unknown_session_timezone_is_counted_and_paris_kept():
    counters = {}
    session = normalise_session(
        {"key": "k", "start": "2027-01-31", "timezone": "Mars/Olympus"}, counters
    )
    assert session["start"] == datetime(2027, 1, 30, 23, tzinfo=UTC)
    assert counters == {"normalise/timezone/unparsed": 1}
    with pytest.raises(ValueError, match="unknown timezone"):
        zone_of("Mars/Olympus")


def test_spider_timezone_reaches_the_sessions_pipeline(crawler):
    crawler.spider = type("Spider", (), {"timezone": "America/Montreal"})()
    out = SessionsPipeline.from_crawler(crawler).process_item(
        item(sessions=[{"key": "a", "end": "2027-01-31"}])
    )
    assert out["sessions_normalised"][0]["end"] == datetime(2027, 2, 1, 4, 59, 59, tzinfo=UTC)


def test_each_session_keeps_its_own_effort_and_the_course_their_span(crawler):
    from pipelines.duration import DurationEffortPipeline

    raw = item(
        sessions=[
            {"key": "a", "start": "2027-01-11", "effort": "2 heures par semaine"},
            {"key": "b", "start": "2027-03-01", "effort": "4 à 5 heures par semaine"},
        ]
    )
    out = DurationEffortPipeline.from_crawler(crawler).process_item(
        SessionsPipeline.from_crawler(crawler).process_item(raw)
    )
    first, second = out["sessions_normalised"]
    assert first["effort_text"] == "2 heures par semaine"
    assert (first["effort_hours_per_week_min"], first["effort_hours_per_week_max"]) == (2, 2)
    assert (second["effort_hours_per_week_min"], second["effort_hours_per_week_max"]) == (4, 5)
    assert out["normalised"]["effort_hours_per_week_min"] == 2
    assert out["normalised"]["effort_hours_per_week_max"] == 5
    record = ValidatePipeline.from_crawler(crawler).process_item(out)["record"]
    assert record.sessions[1].effort_hours_per_week_max == 5


def test_a_sites_timezone_reaches_the_sessions_pipeline(crawler):
    """A spider of several sites: each site's ``timezone`` (its data file entry) reads its
    bare dates; a site without one keeps the spider's zone."""
    from crawlers.bases.common import MoissonSpider

    spider = type("Sites", (MoissonSpider,), {"name": "sites"})()
    spider.sites = [
        {"platform": "quebec", "timezone": "America/Montreal"},
        {"platform": "paris"},
    ]
    crawler.spider = spider
    pipeline = SessionsPipeline.from_crawler(crawler)
    ends = [
        pipeline.process_item(
            item(platform=platform, sessions=[{"key": "a", "end": "2027-01-31"}])
        )["sessions_normalised"][0]["end"]
        for platform in ("quebec", "paris")
    ]
    assert ends == [
        datetime(2027, 2, 1, 4, 59, 59, tzinfo=UTC),  # UTC-5
        datetime(2027, 1, 31, 22, 59, 59, tzinfo=UTC),  # UTC+1
    ]


def test_an_unknown_site_timezone_is_refused_with_its_file_and_site(tmp_path):
    from crawlers.bases.sites import check_timezone

    with pytest.raises(ValueError, match=r"x\.json: site 'quebec': unknown timezone 'Mars/Oly"):
        check_timezone({"platform": "quebec", "timezone": "Mars/Olympus"}, tmp_path / "x.json")
    check_timezone({"platform": "quebec", "timezone": "America/Montreal"}, tmp_path / "x.json")
