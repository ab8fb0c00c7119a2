"""Incremental nights beyond course pages: API records' stated change date, list pages' 304.

Canal-U's OAI-PMH records state their last change (the header's ``datestamp``,
``CanalUSpider.modified_field``): a record whose date did not move is seen, not rebuilt;
one whose date moved is stored again; a date that cannot be read is counted and the
record read as usual. A list page (an API page, a sitemap) read in full whose courses all
came into the catalogue keeps its validators: the next night asks for it conditionally,
the replay answers 304, and each course it listed is seen. A page one of whose courses did
not come in (Udemy's sitemap lists English courses, dropped) is read in full again.
"""

from __future__ import annotations

from sqlalchemy import select

from crawlers.incremental import Known
from storage.catalogue import CatalogueWriter
from storage.db import make_engine
from storage.models import Listing, ListPage
from tests.test_incremental import listings, night

COURSE = "oai:canal-u.tv:71201"
STAMP = "<identifier>oai:canal-u.tv:71201</identifier><datestamp>2026-09-14T10:02:11Z</datestamp>"
COURSES = "https://www.fun-mooc.fr/api/v1.0/courses/"
TITLE = "<dc:title>Introduction à la sociologie des organisations</dc:title>"


def list_pages(db_url) -> dict[str, ListPage]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return {row.url: row for row in conn.execute(select(ListPage))}
    finally:
        engine.dispose()


def listed_on(db_url) -> dict[str, str | None]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Listing.external_id, Listing.listed_on))
            return {row.external_id: row.listed_on for row in rows}
    finally:
        engine.dispose()


def rewrite(recordings, changes: dict[str, str]) -> None:
    page = recordings / "canal_u" / "listrecords-1.xml"
    text = page.read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    page.write_text(text, encoding="utf-8")


def test_api_records_whose_modified_date_did_not_move_are_seen(db_url):
    first = night(db_url, "canal_u")
    stored = first["new"]
    assert stored == 3 and not first["incremental"]["skipped_modified"]
    before = listings(db_url)
    assert before[COURSE].lastmod == "2026-09-14T10:02:11Z"

    second = night(db_url, "canal_u")
    assert second["healthy"] is True, second["reasons"]
    assert second["incremental"]["skipped_modified"] == stored
    assert second["items"] == 0  # nothing built, normalised or written again
    assert (second["new"], second["changed"], second["unchanged"]) == (0, 0, stored)
    assert second["missing"] == 0
    after = listings(db_url)
    assert {k: r.content_hash for k, r in after.items()} == {
        k: r.content_hash for k, r in before.items()
    }
    assert {r.last_seen_run_id for r in after.values()} == {second["crawl_run_id"]}


def test_a_record_whose_modified_date_moved_is_stored_again(db_url, recordings_copy):
    night(db_url, "canal_u", recordings_copy)
    rewrite(
        recordings_copy,
        {
            STAMP: STAMP.replace("2026-09-14T10:02:11Z", "2026-11-10T09:00:00Z"),
            TITLE: TITLE.replace("organisations", "organisations (2e édition)"),
        },
    )
    second = night(db_url, "canal_u", recordings_copy)
    assert second["incremental"]["skipped_modified"] == 2
    assert (second["items"], second["changed"], second["unchanged"]) == (1, 1, 2)
    assert second["missing"] == 0
    assert listings(db_url)[COURSE].lastmod == "2026-11-10T09:00:00Z"


def test_an_unreadable_modified_date_is_counted_and_the_record_read(db_url, recordings_copy):
    night(db_url, "canal_u", recordings_copy)
    rewrite(recordings_copy, {STAMP: STAMP.replace("2026-09-14T10:02:11Z", "mi-septembre")})
    second = night(db_url, "canal_u", recordings_copy)
    assert second["incremental"]["bad_change_date"] == 1
    assert second["incremental"]["skipped_modified"] == 2
    assert second["items"] == 1  # read as usual: built, normalised, stored
    assert (second["new"], second["changed"] + second["unchanged"]) == (0, 3)
    assert second["missing"] == 0


def test_api_pages_answered_304_see_their_courses(db_url):
    first = night(db_url, "fun_mooc")
    stored = first["new"]
    # the first courses page lists a course the language pipeline drops (not French): its
    # validators are not kept, it is read in full each night; the two others are kept
    assert first["dropped"] == {"not_french": 1}
    pages = list_pages(db_url)
    assert sorted(pages) == [f"{COURSES}?limit=10&offset={n}" for n in (10, 20)]
    assert all(p.etag for p in pages.values())
    assert pages[f"{COURSES}?limit=10&offset=10"].next_url == f"{COURSES}?limit=10&offset=20"
    assert pages[f"{COURSES}?limit=10&offset=20"].next_url is None
    on_kept_pages = [k for k, url in listed_on(db_url).items() if url in pages]
    assert len(on_kept_pages) == 17

    second = night(db_url, "fun_mooc")
    assert second["healthy"] is True, second["reasons"]
    assert second["incremental"]["conditional"] == 2
    assert second["incremental"]["not_modified"] == 2  # paging went on from the stored next
    assert second["items"] == first["items"] - 17  # only the first page's courses built
    assert (second["new"], second["changed"], second["unchanged"]) == (0, 0, stored)
    assert second["missing"] == 0
    assert second["bytes"] < first["bytes"]
    after = listings(db_url)
    assert {r.last_seen_run_id for r in after.values()} == {second["crawl_run_id"]}
    assert list_pages(db_url).keys() == pages.keys()  # a 304 keeps the page's validators


def test_a_sitemap_answered_304_sees_its_courses_by_their_rules(db_url):
    first = night(db_url, "openclassrooms")
    assert first["new"] == 5
    (sitemap,) = list_pages(db_url)
    assert set(listed_on(db_url).values()) == {sitemap}

    second = night(db_url, "openclassrooms")
    assert second["incremental"]["conditional"] == 1  # the sitemap
    assert second["incremental"]["not_modified"] == 1
    # each course of its last read, by the lastmod it stated then: not asked for
    assert second["incremental"]["skipped_lastmod"] == 5
    assert (second["requests"], second["unchanged"], second["missing"]) == (2, 5, 0)


def test_a_sitemap_listing_a_course_that_did_not_come_in_keeps_no_validators(db_url):
    first = night(db_url, "udemy")
    assert first["dropped"].get("not_french")  # English course pages of its sitemap
    # so the sitemap is read in full next night (tests/test_incremental.py: its course
    # pages are then asked for one by one)
    assert list_pages(db_url) == {}
    assert set(listed_on(db_url).values()) == {"https://www.udemy.com/sitemap/courses.xml?p=1"}


def test_a_kept_list_page_names_exactly_the_listings_of_its_last_read(engine):
    from tests.test_storage import record, run_store

    run_store(engine, [record("a"), record("b"), record("c")])
    writer = CatalogueWriter(engine)
    platform_id = writer.platform_id("fun_mooc", "FUN-MOOC", "https://www.fun-mooc.fr", "fun_mooc")
    page = {"url": "https://x/p1", "etag": '"1"', "last_modified": None, "next_url": "https://x/p2"}
    listed = [(platform_id, "a"), (platform_id, "b")]
    writer.keep_list_pages("fun_mooc", [{**page, "listed": listed}], [], [platform_id])
    state = Known.of(writer.incremental_state("fun_mooc"))
    assert {r["external_id"] for r in state.list_pages["https://x/p1"]["listings"]} == {"a", "b"}

    # read in full again: "b" moved away, "c" came; the page keeps only its new read's
    again = {**page, "etag": '"2"', "listed": [(platform_id, "a"), (platform_id, "c")]}
    writer.keep_list_pages("fun_mooc", [again], [], [platform_id])
    state = Known.of(writer.incremental_state("fun_mooc"))
    known = state.list_pages["https://x/p1"]
    assert {r["external_id"] for r in known["listings"]} == {"a", "c"}
    assert (known["etag"], known["next_url"]) == ('"2"', "https://x/p2")
    assert state.listings[("fun_mooc", "b")]["listed_on"] is None

    # read in full, but a course did not come in: forgotten, read in full next night
    writer.keep_list_pages("fun_mooc", [], ["https://x/p1"], [platform_id])
    assert Known.of(writer.incremental_state("fun_mooc")).list_pages == {}


def test_the_summary_line_names_api_skips_and_unreadable_dates():
    from types import SimpleNamespace

    from moisson.summary import details

    result = SimpleNamespace(
        dropped={}, lost={}, faults={}, finish_reason="finished", reasons=[],
        incremental={"conditional": 2, "not_modified": 2, "skipped_lastmod": 0,
                     "skipped_modified": 3, "bad_change_date": 1},
    )  # fmt: skip
    (line,) = details(result)
    assert "2 not modified (304)" in line and "3 skipped (API modified)" in line
    assert line.endswith("; 1 unreadable change dates")
