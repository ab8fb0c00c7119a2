"""The command line end to end: demo in a fresh directory, stats, parse, db."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import RECORDINGS, REFERENCE_TIME, ROOT, moisson


def demo_platforms() -> set[str]:
    """The platforms the demo's spiders declare: their own, or each of their sites'."""
    from crawlers.offline import offline_crawler
    from crawlers.replay import spiders_with_recordings

    platforms = set()
    for name in spiders_with_recordings(RECORDINGS):
        spider = offline_crawler(name).spider
        sites = getattr(spider, "sites", None)
        platforms.update([s["platform"] for s in sites] if sites else [spider.platform])
    return platforms


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("MOISSON_DATABASE_URL", raising=False)
    import os

    return dict(os.environ)


def test_demo_builds_the_default_catalogue_offline(tmp_path, clean_env):
    result = moisson("demo", cwd=tmp_path, env=clean_env)
    assert result.returncode == 0, result.stderr
    assert "fun_mooc" in result.stdout
    database = tmp_path / "var" / "catalogue.sqlite3"
    assert database.exists()

    stats = moisson("stats", "--json", cwd=tmp_path, env=clean_env)
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)
    assert counts["courses"] >= 25
    assert counts["by_platform"]["fun_mooc"] == 26
    # Every platform of every spider with recordings, each with three French courses at
    # least; each platform's own test pins its own figures (tests/test_spider_*.py).
    assert set(counts["by_platform"]) == demo_platforms()
    assert all(count >= 3 for count in counts["by_platform"].values()), counts["by_platform"]
    assert counts["sessions"] >= 30

    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        titles = {row[0] for row in conn.execute("select title from course")}
        assert "Introduction à l'intelligence artificielle" in titles
        assert "Machine learning in Python with scikit-learn" not in titles  # English only
        run = conn.execute(
            "select spider, finish_reason, replay, items_stored, dropped_by_reason from crawl_run"
            " where spider = 'fun_mooc'"
        ).fetchone()
        assert run[:4] == ("fun_mooc", "finished", 1, 26)
        assert json.loads(run[4]) == {"not_french": 1}
        orgs = {row[0] for row in conn.execute("select name from organisation")}
        assert "Université Paris 1 Panthéon-Sorbonne" in orgs

    again = moisson("demo", cwd=tmp_path, env=clean_env)
    assert again.returncode == 0, again.stderr

    every_run = str(2 * counts["crawl_runs"])
    runs = moisson("runs", "--json", "--limit", every_run, cwd=tmp_path, env=clean_env)
    runs = json.loads(runs.stdout)["runs"]
    assert len(runs) == 2 * counts["crawl_runs"]  # one run per spider per demo
    assert all(r["healthy"] for r in runs)
    fun = [r for r in runs if r["spider"] == "fun_mooc"]
    assert fun[0]["listings_unchanged"] == fun[1]["listings_new"] == 26
    assert sum(r["listings_new"] for r in runs) == counts["listings"]
    table = moisson("runs", cwd=tmp_path, env=clean_env).stdout
    assert "healthy" in table and "fun_mooc" in table
    history = moisson("history", "fun_mooc:1024", cwd=tmp_path, env=clean_env)
    assert history.returncode == 0, history.stderr
    assert "Python 3" in history.stdout and "first seen" in history.stdout
    as_json = json.loads(
        moisson("history", "fun_mooc:1024", "--json", cwd=tmp_path, env=clean_env).stdout
    )
    assert as_json["listing"]["course_id"] and len(as_json["changes"]) == 1
    unknown = moisson("history", "fun_mooc:nope", cwd=tmp_path, env=clean_env)
    assert unknown.returncode == 2 and "no listing" in unknown.stderr
    assert json.loads(moisson("stats", "--json", cwd=tmp_path, env=clean_env).stdout) == {
        **counts,
        "crawl_runs": 2 * counts["crawl_runs"],
    }


def test_database_from_environment(tmp_path, clean_env):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    env = {**clean_env, "MOISSON_DATABASE_URL": url}
    assert moisson("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "elsewhere.sqlite3").exists()
    assert not (tmp_path / "var").exists()
    current = moisson("db", "current", cwd=tmp_path, env=env)
    assert current.stdout.split()[0] != "None"


def test_parse_prints_raw_items(clean_env):
    result = moisson(
        "parse",
        "fun_mooc",
        str(RECORDINGS / "fun_mooc" / "courses-20.json"),
        "--url",
        "https://www.fun-mooc.fr/api/v1.0/courses/?limit=10&offset=20",
        env=clean_env,
    )
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(items) == 7
    assert items[0]["title"] == "Introduction aux réseaux de télécommunications"
    assert items[0]["raw"]["id"] == items[0]["external_id"]


def test_parse_normalise_shows_records_and_drops(clean_env):
    result = moisson(
        "parse",
        "fun_mooc",
        str(RECORDINGS / "fun_mooc" / "courses-0.json"),
        "--url",
        "https://www.fun-mooc.fr/api/v1.0/courses/?limit=10&offset=0",
        "--normalise",
        "--reference-time",
        REFERENCE_TIME,
        env=clean_env,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 10
    assert [line["dropped"] for line in lines if "dropped" in line] == [
        "not_french: https://www.fun-mooc.fr/fr/cours/machine-learning-in-python-with-scikit-learn/"
        ": sessions only in ['en']"
    ]
    first = lines[0]
    assert first["sessions"][0]["start"] == "2026-11-02T08:00:00Z"
    assert first["fetched_at"] == "2026-11-15T11:00:00Z"


def test_parse_unknown_spider_and_missing_file(tmp_path, clean_env):
    assert moisson("parse", "nope", "x.json", "--url", "https://x/", env=clean_env).returncode == 2
    missing = moisson(
        "parse", "fun_mooc", str(tmp_path / "x.json"), "--url", "https://x/", env=clean_env
    )
    assert missing.returncode == 2
    assert "No such file" in missing.stderr


def test_demo_with_a_broken_recordings_folder_fails_clearly(tmp_path, clean_env):
    broken = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, broken)
    (broken / "fun_mooc" / "index.json").write_text("{not json")
    result = moisson(
        "demo",
        "--recordings",
        str(broken),
        "--db",
        f"sqlite:///{tmp_path / 'c.sqlite3'}",
        env=clean_env,
    )
    assert result.returncode != 0
    assert "cannot read recordings index" in result.stdout + result.stderr


def test_lint_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout


def test_parse_says_why_a_page_yields_no_course(tmp_path, clean_env):
    url = "https://www.fun-mooc.fr/api/v1.0/courses/?limit=10&offset=0"
    bad = tmp_path / "courses.json"
    bad.write_text('{"not": "a course list"}')
    failed = moisson("parse", "fun_mooc", str(bad), "--url", url, env=clean_env)
    assert failed.returncode == 1  # the page itself was not understood
    assert failed.stdout == ""
    assert "moisson parse: 0 item(s), 0 follow-up request(s)" in failed.stderr
    assert "moisson parse: page failed: unparseable 1" in failed.stderr
    sitemap = moisson(
        "parse",
        "udemy",
        str(RECORDINGS / "udemy" / "sitemap.xml"),
        "--url",
        "https://www.udemy.com/sitemap.xml",
        env=clean_env,
    )
    assert sitemap.returncode == 0 and sitemap.stdout == ""
    assert "no course on this page: it leads to other pages" in sitemap.stderr
    english = moisson(
        "parse",
        "udemy",
        str(RECORDINGS / "udemy" / "course-b2b-copywriting.html"),
        "--url",
        "https://www.udemy.com/course/b2b-copywriting/",
        "--normalise",
        env=clean_env,
    )
    assert english.returncode == 0
    assert "moisson parse: 1 item(s), 0 kept, 0 follow-up request(s)" in english.stderr
    assert "moisson parse: dropped: not_french 1" in english.stderr


def test_parse_says_a_page_is_not_a_course_page(clean_env):
    page = str(RECORDINGS / "schema_org" / "p1-droit-des-entreprises.html")
    news = "https://www.pantheonsorbonne.fr/actualites/une-annonce"
    result = moisson("parse", "schema_org", page, "--url", news, env=clean_env)
    assert result.returncode == 1 and result.stdout == ""
    assert f"moisson parse: not a course page: {news} is an HTML page" in result.stderr
    assert "formation-en-ligne" in result.stderr  # the rules it does not match
    assert "sitemap" not in result.stderr
    course = news.replace("actualites/une-annonce", "formation-en-ligne/droit-des-entreprises")
    result = moisson("parse", "schema_org", page, "--url", course, env=clean_env)
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "Droit des entreprises"
