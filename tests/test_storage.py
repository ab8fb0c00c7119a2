"""Storage on SQLite and PostgreSQL: migrations, upserts, idempotence, changes, runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pipelines.records import CourseRecord, SessionRecord
from storage import db
from storage.catalogue import CatalogueWriter, RunSummary, StoreCounts
from storage.matching import organisation_key
from storage.models import (
    Course,
    CrawlRun,
    Listing,
    ListingChange,
    Organisation,
    Session,
    course_organisation,
)
from storage.queries import catalogue_stats

T0 = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)
EXPECTED_TABLES = {
    "course",
    "job_offers",
    "course_organisation",
    "course_topic",
    "crawl_run",
    "listing",
    "listing_change",
    "organisation",
    "platform",
    "session",
    "topic",
}


def record(external_id="c1", title="Introduction à la statistique avec R", **kwargs):
    sessions = kwargs.pop(
        "sessions",
        [
            SessionRecord(
                key="s1",
                start=datetime(2027, 1, 11, 8, tzinfo=UTC),
                end=datetime(2027, 3, 1, 22, tzinfo=UTC),
                pace="scheduled",
                language="fr",
            )
        ],
    )
    return CourseRecord(
        platform="fun_mooc",
        external_id=external_id,
        url=f"https://www.fun-mooc.fr/fr/cours/{external_id}/",
        title=title,
        organisations=kwargs.pop("organisations", ["Université Paris 1 Panthéon-Sorbonne"]),
        sessions=sessions,
        **kwargs,
    )


def count(engine, column):
    with engine.connect() as conn:
        return conn.execute(select(func.count(column))).scalar_one()


def run_store(engine, entries, when=T0):
    writer = CatalogueWriter(engine)
    platform_id = writer.platform_id("fun_mooc", "FUN-MOOC", "https://www.fun-mooc.fr", "fun_mooc")
    run_id = writer.start_run("fun_mooc", platform_id, when, replay=True)
    counts = writer.store(run_id, platform_id, [(r, {"id": r.external_id}) for r in entries], when)
    writer.finish_run(
        run_id,
        RunSummary(
            finish_reason="finished",
            finished_at=when + timedelta(minutes=1),
            items_scraped=len(entries) + 1,
            errors=0,
            dropped_by_reason={"not_french": 1},
            stats={"item_scraped_count": len(entries), "start_time": when},
        ),
        counts,
    )
    return run_id, counts


def test_migrations_upgrade_from_empty_and_downgrade(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    assert set(db.table_names(engine)) >= EXPECTED_TABLES
    assert db.current_revision(engine) == db.head_revision()
    db.downgrade(engine, "base")
    assert set(db.table_names(engine)) & EXPECTED_TABLES == set()
    db.ensure_schema(engine)  # and back up again
    assert set(db.table_names(engine)) >= EXPECTED_TABLES
    engine.dispose()


def test_sqlite_uses_wal(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.ensure_schema(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_store_inserts_listing_course_sessions_organisations(engine):
    _run, counts = run_store(engine, [record("c1"), record("c2", title="Gestion de projet")])
    assert (counts.new, counts.changed, counts.unchanged) == (2, 0, 0)
    assert count(engine, Listing.id) == 2
    assert count(engine, Course.id) == 2
    assert count(engine, Session.id) == 2
    assert count(engine, Organisation.id) == 1  # same organisation, stored once
    assert count(engine, course_organisation.c.course_id) == 2
    with engine.connect() as conn:
        listing = conn.execute(select(Listing).where(Listing.external_id == "c1")).one()
        session = conn.execute(select(Session).where(Session.listing_id == listing.id)).one()
    assert listing.raw == {"id": "c1"}
    assert listing.record["title"] == "Introduction à la statistique avec R"
    assert listing.first_seen == T0 and listing.last_seen == T0
    assert session.start == datetime(2027, 1, 11, 8, tzinfo=UTC)
    assert session.start.tzinfo is not None


def test_same_crawl_twice_changes_nothing(engine):
    entries = [record("c1"), record("c2", title="Gestion de projet")]
    run_store(engine, entries)
    before = catalogue_stats(engine)
    _run, counts = run_store(engine, entries, when=T0 + timedelta(days=1))
    assert (counts.new, counts.changed, counts.unchanged) == (0, 0, 2)
    after = catalogue_stats(engine)
    assert {k: v for k, v in after.items() if k != "crawl_runs"} == {
        k: v for k, v in before.items() if k != "crawl_runs"
    }
    assert count(engine, ListingChange.id) == 2  # the two first sightings, nothing more
    with engine.connect() as conn:
        listing = conn.execute(select(Listing).where(Listing.external_id == "c1")).one()
    assert listing.first_seen == T0
    assert listing.last_seen == T0 + timedelta(days=1)


def test_a_change_is_recorded_with_its_fields(engine):
    run_store(engine, [record("c1")])
    changed = record(
        "c1",
        sessions=[
            SessionRecord(key="s2", start=datetime(2027, 9, 1, tzinfo=UTC), pace="scheduled"),
            SessionRecord(key="s3", pace="self_paced"),
        ],
    )
    _run, counts = run_store(engine, [changed], when=T0 + timedelta(days=1))
    assert (counts.new, counts.changed) == (0, 1)
    with engine.connect() as conn:
        changes = conn.execute(select(ListingChange).order_by(ListingChange.id)).all()
        keys = sorted(conn.execute(select(Session.key)).scalars())
    assert len(changes) == 2
    assert changes[1].changed_fields == ["sessions"]
    assert changes[1].old_hash == changes[0].new_hash != changes[1].new_hash
    assert keys == ["s2", "s3"]  # sessions replaced, not accumulated
    assert count(engine, Course.id) == 1


def test_crawl_run_is_recorded(engine):
    run_id, _counts = run_store(engine, [record("c1")])
    with engine.connect() as conn:
        run = conn.execute(select(CrawlRun).where(CrawlRun.id == run_id)).one()
    assert run.spider == "fun_mooc"
    assert run.finish_reason == "finished"
    assert run.started_at == T0
    assert run.items_stored == 1 and run.listings_new == 1
    assert run.items_dropped == 1 and run.dropped_by_reason == {"not_french": 1}
    assert run.stats["start_time"] == T0.isoformat()


def test_store_batches_many_listings(engine):
    entries = [record(f"c{i}", title=f"Cours numéro {i}") for i in range(1200)]
    _run, counts = run_store(engine, entries)
    assert counts.new == 1200
    assert count(engine, Listing.id) == 1200
    _run, counts = run_store(engine, entries)
    assert counts.unchanged == 1200


def test_naive_datetimes_are_refused(engine):
    writer = CatalogueWriter(engine)
    with pytest.raises(Exception, match="naive datetime"):
        writer.start_run("fun_mooc", None, datetime(2026, 1, 1), replay=False)


def test_counts_add():
    total = StoreCounts()
    total.add(StoreCounts(1, 2, 3))
    total.add(StoreCounts(1, 0, 0))
    assert (total.new, total.changed, total.unchanged) == (2, 2, 3)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Université Paris 1 Panthéon-Sorbonne", "universite paris 1 pantheon sorbonne"),
        ("  CNAM ", "conservatoire national arts metiers"),
        ("Paris 1", "universite paris 1 pantheon sorbonne"),
        ("Institut Mines-Télécom", "institut mines telecom"),
    ],
)
def test_organisation_key(name, key):
    assert organisation_key(name) == key
