"""Whole crawls through Scrapy's engine on damaged recordings, on SQLite and PostgreSQL.

Each test first crawls the intact recordings, then a damaged copy, and checks that the
crawl finishes, that the reasons land in crawl_run, and that nothing stored is lost.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.db import make_engine
from storage.models import CrawlRun, Listing, Session
from tests.conftest import moisson, replay_crawl

PAGE = "https://www.fun-mooc.fr/api/v1.0/courses/?limit=10&offset={}"


def crawl(db_url, recordings=None, *extra):
    return replay_crawl(db_url, *extra, recordings=recordings)


def edit_index(recordings, edit):
    index_file = recordings / "fun_mooc" / "index.json"
    index = json.loads(index_file.read_text())
    edit(index["responses"])
    index_file.write_text(json.dumps(index, indent=2))


def entry(responses, url):
    return next(r for r in responses if r["url"] == url)


def edit_page(recordings, name, edit):
    path = recordings / "fun_mooc" / name
    page = json.loads(path.read_text())
    edit(page["objects"])
    path.write_text(json.dumps(page, ensure_ascii=False))


def last_run(engine):
    with engine.connect() as conn:
        return conn.execute(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()


def listing_snapshot(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            select(Listing.external_id, Listing.content_hash, Listing.missing_since)
        )
        return {row.external_id: (row.content_hash, row.missing_since) for row in rows}


def test_faults_in_one_crawl(db_url, recordings_copy):
    first = crawl(db_url)
    assert first.returncode == 0, first.stderr
    engine = make_engine(db_url)
    before = listing_snapshot(engine)
    assert len(before) == 26

    def damage(responses):
        page0 = entry(responses, PAGE.format(0))
        responses.insert(responses.index(page0), {**page0, "status": 500, "body": None})
        entry(responses, PAGE.format(10))["status"] = 404  # paging stops there

    edit_index(recordings_copy, damage)

    def untitle_and_reverse(objects):
        objects[1]["title"] = ""  # 1184
        run = objects[2]["course_runs"][0]  # 1212
        run["start"], run["end"] = run["end"], run["start"]

    edit_page(recordings_copy, "courses-0.json", untitle_and_reverse)
    result = crawl(db_url, recordings_copy)
    assert result.returncode == 1, result.stderr  # finished, though not healthy
    assert "fun_mooc" in result.stdout

    run = last_run(engine)
    assert run.finish_reason == "finished"
    assert run.stats["retry/count"] >= 1  # the 500 was retried, then the 200 served
    assert run.dropped_by_reason == {"missing_title": 1, "not_french": 1}
    assert run.stats["moisson/pages/failed/http_404"] == 1
    assert run.stats["moisson/paging/stopped/failed_page"] == 1  # page 20 never asked for
    assert run.stats["moisson/sessions/end_before_start"] == 1
    assert run.errors >= 1
    assert run.listings_changed == 1  # 1212 lost its end date
    assert run.listings_unchanged == 7

    after = listing_snapshot(engine)
    assert after.keys() == before.keys()  # nothing lost, nothing hidden
    assert all(missing is None for _hash, missing in after.values())
    with engine.connect() as conn:
        listing_id = conn.execute(select(Listing.id).where(Listing.external_id == "1212")).scalar()
        ends = conn.execute(select(Session.end).where(Session.listing_id == listing_id)).all()
        assert ends == [(None,)]
        assert conn.execute(select(func.count(CrawlRun.id))).scalar_one() == 2
    engine.dispose()


def test_invalid_json_page(db_url, recordings_copy):
    assert crawl(db_url).returncode == 0
    (recordings_copy / "fun_mooc" / "courses-10.json").write_text('{"meta": {"count": 10, "obj')
    result = crawl(db_url, recordings_copy)
    assert result.returncode == 1, result.stderr  # a page lost: not healthy
    engine = make_engine(db_url)
    run = last_run(engine)
    assert run.stats["moisson/pages/failed/unparseable"] == 1
    assert run.stats["moisson/paging/stopped/failed_page"] == 1
    assert run.listings_unchanged == 9  # page 0 only: paging stops at the page that failed
    assert any(r.startswith("paging stopped at") for r in run.health_reasons)
    assert len(listing_snapshot(engine)) == 26
    engine.dispose()


def test_page_cut_short(db_url, recordings_copy):
    assert crawl(db_url).returncode == 0
    edit_index(recordings_copy, lambda rs: entry(rs, PAGE.format(20)).update(truncate_at=900))
    result = crawl(db_url, recordings_copy)
    assert result.returncode == 1, result.stderr
    engine = make_engine(db_url)
    run = last_run(engine)
    assert run.stats["moisson/pages/failed/ResponseFailed"] == 1
    assert run.listings_unchanged == 19  # pages 0 and 10
    assert all(missing is None for _hash, missing in listing_snapshot(engine).values())
    engine.dispose()


def test_same_crawl_twice_is_idempotent(db_url):
    assert crawl(db_url).returncode == 0
    engine = make_engine(db_url)
    before = listing_snapshot(engine)
    with engine.connect() as conn:
        sessions = conn.execute(select(func.count(Session.id))).scalar_one()
    assert crawl(db_url).returncode == 0
    run = last_run(engine)
    assert (run.listings_new, run.listings_changed, run.listings_unchanged) == (0, 0, 26)
    assert listing_snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count(Session.id))).scalar_one() == sessions
    engine.dispose()


def test_unreachable_database_is_a_clear_error(tmp_path):
    result = crawl("postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert result.returncode == 2
    assert "cannot open the catalogue database" in result.stderr


def test_unknown_spider_is_a_usage_error():
    result = moisson("crawl", "nope", "--replay", timeout=120)
    assert result.returncode == 2
    assert "unknown spider" in result.stderr
