"""The store's reliability: what a bad record, an interrupted migration or a crowded
course must not cost the catalogue (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from storage.catalogue import CatalogueWriter
from storage.db import current_revision, ensure_schema, head_revision, make_engine, table_names
from storage.models import Course, CrawlRun, Listing, QuarantinedRecord
from tests.conftest import ROOT, moisson, replay_crawl
from tests.test_storage import T0, record

# -- an interrupted first migration ------------------------------------------------------------


def _upgrade_killed_at(url: str, statement: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.killer", url, str(statement)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_a_first_upgrade_killed_anywhere_leaves_a_usable_catalogue(tmp_path):
    """``kill -9`` of the first ``moisson db upgrade`` before each of many of its SQL
    statements: every later command works and builds the complete schema."""
    whole = _upgrade_killed_at(f"sqlite:///{tmp_path / 'whole.sqlite3'}", 10**9)
    assert whole.returncode == 0, whole.stderr
    statements = int(whole.stdout)
    expected = table_names(make_engine(f"sqlite:///{tmp_path / 'whole.sqlite3'}"))
    points = sorted({2, *range(5, statements, max(1, statements // 8)), statements - 1})
    for point in points:
        url = f"sqlite:///{tmp_path / f'killed-{point}.sqlite3'}"
        killed = _upgrade_killed_at(url, point)
        assert killed.returncode == -9, (point, killed.stdout, killed.stderr)
        engine = make_engine(url)
        ensure_schema(engine)  # what every later command does first
        assert current_revision(engine) == head_revision(), point
        assert table_names(engine) == expected, point
        engine.dispose()
    # and the command line on the last one, as an operator would run it
    later = moisson("stats", "--db", url)
    assert later.returncode == 0, later.stderr


# -- a record the catalogue cannot take ------------------------------------------------------------


def _patch_session_start(recordings, page: str, index: int, start: str) -> str:
    """In the copy ``recordings``: the ``index``-th course of FUN-MOOC's ``page`` gets a
    first session starting at ``start``; returns the course's id."""
    path = recordings / "fun_mooc" / page
    data = json.loads(path.read_text())
    course = data["objects"][index]
    course["course_runs"][0]["start"] = start
    path.write_text(json.dumps(data, ensure_ascii=False))
    return str(course["id"])


def test_a_bad_session_date_is_quarantined_and_the_batch_stored(db_url, recordings_copy):
    bad = _patch_session_start(recordings_copy, "courses-10.json", 0, "0001-01-01T00:00:00Z")
    result = replay_crawl(db_url, "--json", recordings=recordings_copy)
    summary = json.loads(result.stdout)["spiders"]["fun_mooc"]
    assert summary["faults"] == {"items set aside in the quarantine": 1}, result.stderr
    assert summary["items"] == 26

    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(Listing.external_id)).scalars())
        quarantined = conn.execute(select(QuarantinedRecord.__table__)).all()
        run_id = conn.execute(select(func.max(CrawlRun.id))).scalar()
    engine.dispose()
    assert len(stored) == 25 and bad not in stored
    [row] = quarantined
    assert (row.external_id, row.crawl_run_id) == (bad, run_id)
    assert "start 0001-01-01T00:00:00+00:00 outside the supported range 1900-2999" in row.reason
    assert row.record["sessions"][0]["start"].startswith("0001-01-01")

    listed = moisson("quarantine", "--db", db_url)
    assert listed.returncode == 0, listed.stderr
    assert f"fun_mooc:{bad}" in listed.stdout and "outside the supported range" in listed.stdout

    # fixed on the platform: the next crawl stores it and it leaves the quarantine
    result = replay_crawl(db_url, "--json")
    assert json.loads(result.stdout)["spiders"]["fun_mooc"]["faults"] == {}
    assert json.loads(moisson("quarantine", "--db", db_url, "--json").stdout) == {"records": []}


def test_a_failed_batch_is_retried_record_by_record(engine):
    """A record whose writing fails for a reason the date rule does not foresee (here its
    platform record cannot be stored as JSON) costs only itself."""
    writer = CatalogueWriter(engine)
    platform = writer.platform_id("fun_mooc", "FUN-MOOC", "https://www.fun-mooc.fr", "fun_mooc")
    run = writer.start_run("fun_mooc", platform, T0, replay=True)
    entries = [(record(f"c{i}", f"Cours numéro {i}"), {"id": i}) for i in range(5)]
    entries[2] = (entries[2][0], {"id": 2, "bad": {1, 2}})  # a set is not JSON
    counts = writer.store(run, platform, entries, T0)
    assert (counts.new, counts.quarantined) == (4, 1)
    with engine.connect() as conn:
        stored = set(conn.execute(select(Listing.external_id)).scalars())
        [row] = conn.execute(select(QuarantinedRecord.__table__)).all()
        assert conn.execute(select(func.count(Course.id))).scalar() == 4
    assert stored == {"c0", "c1", "c3", "c4"}
    assert row.external_id == "c2" and "JSON serializable" in row.reason
    # the writer's linkage index forgot the rolled-back batch: a new record links fine
    assert writer.store(run, platform, [(record("c9", "Cours numéro 0"), {})], T0).new == 1


# -- a course listed many times ----------------------------------------------------------------


def test_deciding_a_listing_compares_each_course_candidate_once(monkeypatch):
    """What keeps storing linear when thousands of listings share one course (the actions
    of one LHEO formation): the candidate search finds one group per course and candidate,
    so deciding a listing costs the same whether its course has 2 or 2,000 listings."""
    from storage import linkage

    calls = []
    real = linkage.compare
    monkeypatch.setattr(linkage, "compare", lambda a, b: calls.append(1) or real(a, b))
    index = linkage.CourseIndex(linkage.Overrides({}, {frozenset(("lheo:a1", "lheo:x"))}))
    for course in (1, 2):
        candidate = linkage.candidate_of(f"Formation {course} : gestion", ["Afpa"], None)
        for i in range(2000):
            index.add(f"lheo:a{course * 10000 + i}", course, candidate)
    decision = index.decide(
        "lheo:new", linkage.candidate_of("Formation 2 : gestion", ["Afpa"], None)
    )
    assert (decision.course_id, decision.method) == (2, "exact")
    assert len(calls) <= 2
    # a listing moved or retitled leaves its group; an emptied group leaves the search
    index.add("lheo:a10000", 3, linkage.candidate_of("Autre chose", ["Afpa"], None))
    assert len(index.groups) == 3
    index.add("lheo:a10000", 1, linkage.candidate_of("Formation 1 : gestion", ["Afpa"], None))
    assert len(index.groups) == 2


# -- values the catalogue must not take as they come -------------------------------------------


def _normalised(crawler, **fields):
    from crawlers.offline import normalise
    from tests.test_pipelines import item

    [(kept, reason)] = normalise(crawler, [item(**fields)])
    assert reason is None, reason
    return kept["record"]


@pytest.fixture
def crawler():
    from crawlers.offline import offline_crawler
    from tests.conftest import REFERENCE_TIME

    return offline_crawler("fun_mooc", MOISSON_REFERENCE_TIME=REFERENCE_TIME)


def test_a_nan_session_price_loses_the_price_not_the_course(crawler):
    session = {"key": "a", "start": "2027-01-11T00:00:00+00:00", "languages": ["fr"]}
    nan = {**session, "price": float("nan"), "certificate_price": "Infinity"}
    record = _normalised(crawler, sessions=[nan, {**session, "key": "b", "price": "NaN"}])
    assert [(s.price, s.certificate_price) for s in record.sessions] == [(None, None)] * 2
    assert crawler.stats.get_value("normalise/price/not_finite") == 3


def test_control_characters_are_stripped_from_stored_text(crawler):
    record = _normalised(
        crawler,
        title="Droit\x00 des\x1b entre\x08prises\x0b\x0cet\ttravail\r\n",
        description="<p>Un\x07 cours</p>",
        organisations=["Universit\x01é de Lille"],
    )
    assert record.title == "Droit des entreprises et travail"
    assert record.description == "<p>Un cours</p>"
    assert record.organisations == ["Université de Lille"]


def test_long_texts_are_capped_and_counted(crawler):
    from pipelines.clean_text import limits

    long_description = "<p>" + "mot " * 40_000 + "</p>"  # 160 KB: a course page's worth
    record = _normalised(crawler, title="Gestion " * 500, description=long_description)
    assert len(record.title) <= limits()["title"]
    assert len(record.description) <= limits()["description"]
    assert record.description.startswith("<p>mot mot")
    stats = crawler.stats.get_stats()
    assert stats["normalise/text/truncated/title"] == 1
    assert stats["normalise/text/truncated/description"] == 1


def test_a_half_built_schema_is_named_not_reported_as_unreachable(tmp_path):
    """A catalogue left half built by an interrupted non-atomic upgrade (tables, no
    revision): a clear message and the usage exit status, not "already exists"."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'half.sqlite3'}"
    engine = make_engine(url)
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    result = moisson("stats", "--db", url)
    assert result.returncode == 2
    assert "holds tables its schema revision (none) does not account for" in result.stderr
    assert "Traceback" not in result.stderr
