"""Freshness: only healthy runs mark listings missing; three misses hide; a return restores.

Whole crawls replay edited copies of the FUN-MOOC recordings, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.db import make_engine
from storage.models import CrawlRun, Listing, ListingChange, Session
from tests.test_crawl_replay import PAGE, crawl, edit_index, entry

FOLDER = "fun_mooc"


def all_objects(recordings):
    objects = []
    for name in ("courses-0.json", "courses-10.json", "courses-20.json"):
        objects += json.loads((recordings / FOLDER / name).read_text())["objects"]
    return objects


def publish(recordings, objects, page_size=10):
    """Rewrite the course pages as richie would serve these objects."""
    folder = recordings / FOLDER
    index_file = folder / "index.json"
    index = json.loads(index_file.read_text())
    responses = [r for r in index["responses"] if "/courses/" not in r["url"]]
    for offset in range(0, max(len(objects), 1), page_size):
        chunk = objects[offset : offset + page_size]
        name = f"published-{offset}.json"
        meta = {"count": len(chunk), "offset": offset, "total_count": len(objects)}
        (folder / name).write_text(json.dumps({"meta": meta, "objects": chunk}))
        responses.append(
            {
                "url": PAGE.format(offset),
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": name,
            }
        )
    index["responses"] = responses
    index_file.write_text(json.dumps(index))


def runs(engine):
    with engine.connect() as conn:
        return conn.execute(select(CrawlRun).order_by(CrawlRun.id)).all()


def listing_state(engine, external_id):
    with engine.connect() as conn:
        return conn.execute(
            select(Listing.missing_since, Listing.missing_runs, Listing.hidden, Listing.id).where(
                Listing.external_id == external_id
            )
        ).one()


def missing_ids(engine):
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(Listing.external_id).where(Listing.missing_since.is_not(None))
            ).scalars()
        )


def test_three_healthy_misses_hide_and_a_return_restores(db_url, recordings_copy):
    engine = make_engine(db_url)
    objects = all_objects(recordings_copy)
    assert crawl(db_url, recordings_copy).returncode == 0
    gone = [o for o in objects if o["id"] in {"1142", "1233"}]
    publish(recordings_copy, [o for o in objects if o not in gone])

    for night in (1, 2, 3):
        result = crawl(db_url, recordings_copy)
        assert result.returncode == 0, result.stderr
        state = listing_state(engine, "1142")
        assert state.missing_runs == night
        assert state.missing_since is not None
        assert state.hidden is (night >= 3)
    assert missing_ids(engine) == {"1142", "1233"}
    assert all(run.healthy for run in runs(engine))

    with engine.connect() as conn:
        listing_id = listing_state(engine, "1142").id
        changes_before = conn.execute(
            select(ListingChange.id).where(ListingChange.listing_id == listing_id)
        ).all()
    publish(recordings_copy, objects)  # both courses are back
    assert crawl(db_url, recordings_copy).returncode == 0
    state = listing_state(engine, "1142")
    assert (state.missing_since, state.missing_runs, state.hidden) == (None, 0, False)
    assert missing_ids(engine) == set()
    with engine.connect() as conn:  # back with its history, not as a new listing
        assert (
            conn.execute(
                select(ListingChange.id).where(ListingChange.listing_id == listing_id)
            ).all()
            == changes_before
        )
    engine.dispose()


def test_half_the_items_is_unhealthy_and_marks_nothing(db_url, recordings_copy):
    engine = make_engine(db_url)
    objects = all_objects(recordings_copy)
    assert crawl(db_url, recordings_copy).returncode == 0
    publish(recordings_copy, objects[:14])  # 13 French courses of 26
    assert crawl(db_url, recordings_copy).returncode == 1  # not healthy
    last = runs(engine)[-1]
    assert last.healthy is False
    assert any("under 80%" in reason for reason in last.health_reasons)
    assert missing_ids(engine) == set()
    engine.dispose()


def test_crash_marks_nothing(db_url, recordings_copy):
    engine = make_engine(db_url)
    assert crawl(db_url, recordings_copy).returncode == 0
    # a run that stops early: Scrapy closes it with a reason other than "finished"
    result = crawl(db_url, recordings_copy, "--set", "CLOSESPIDER_ITEMCOUNT=3")
    assert result.returncode == 1
    last = runs(engine)[-1]
    assert last.finish_reason == "closespider_itemcount"
    assert last.healthy is False
    assert missing_ids(engine) == set()
    engine.dispose()


def test_error_storm_marks_nothing(db_url, recordings_copy):
    engine = make_engine(db_url)
    objects = all_objects(recordings_copy)
    assert crawl(db_url, recordings_copy).returncode == 0
    publish(recordings_copy, objects[:-1])  # one course gone, so something could be marked

    def storm(responses):
        page = entry(responses, PAGE.format(20))
        at = responses.index(page)
        responses[at:at] = [{**page, "status": 503, "body": None}] * 10  # outlasts retries

    edit_index(recordings_copy, storm)
    result = crawl(db_url, recordings_copy)
    assert result.returncode == 1
    last = runs(engine)[-1]
    assert last.healthy is False
    assert any("errors logged" in reason for reason in last.health_reasons)
    assert missing_ids(engine) == set()
    engine.dispose()


def test_killed_run_leaves_a_consistent_catalogue(db_url, recordings_copy):
    engine = make_engine(db_url)
    killed = crawl(
        db_url,
        recordings_copy,
        "--set",
        "MOISSON_STORE_BATCH_SIZE=5",
        "--set",
        'EXTENSIONS={"tests.killer.KillAfterItems": 0}',
        "--set",
        "KILL_AFTER_ITEMS=12",
    )
    assert killed.returncode == -9
    (run,) = runs(engine)
    assert run.finished_at is None and run.healthy is None
    with engine.connect() as conn:
        stored = conn.execute(select(Listing.id)).all()
        # whole committed batches of 5 only; the batch in flight left no trace
        assert 5 <= len(stored) < 26 and len(stored) % 5 == 0
        orphans = conn.execute(
            select(Session.id)
            .outerjoin(Listing, Session.listing_id == Listing.id)
            .where(Listing.id.is_(None))
        ).all()
        assert orphans == []

    result = crawl(db_url, recordings_copy)
    assert result.returncode == 0, result.stderr
    last = runs(engine)[-1]
    assert last.healthy is True
    assert (last.listings_new, last.listings_unchanged) == (26 - len(stored), len(stored))
    assert missing_ids(engine) == set()
    engine.dispose()
