"""Bad course pages through Scrapy's real engine: counted by reason, nothing stored lost.

The OpenClassrooms recordings are crawled intact, then again with each course page
broken a different way: a 404, a redirect to the login page, a JSON-LD block that is not
JSON, a page without structured data, a page whose schema.org data is not a Course.
"""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import select

from storage.db import make_engine
from storage.models import CrawlRun, Listing
from tests.conftest import REFERENCE_TIME, ROOT

OC = "https://openclassrooms.com"


def crawl(db_url, recordings=None):
    command = [sys.executable, "-m", "moisson.cli", "crawl", "openclassrooms", "--replay"]
    command += ["--db", db_url, "--reference-time", REFERENCE_TIME]
    if recordings is not None:
        command += ["--recordings", str(recordings)]
    # every page is read again: the broken ones keep their sitemap lastmod and validators,
    # which an incremental night would trust (tests/test_incremental.py tests that night)
    command += ["--set", "MOISSON_INCREMENTAL=False"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


def break_pages(recordings):
    folder = recordings / "openclassrooms"
    index_file = folder / "index.json"
    index = json.loads(index_file.read_text())
    responses = index["responses"]

    def entry(path):
        return next(r for r in responses if r["url"] == OC + path)

    entry("/fr/courses/7168871-apprenez-les-bases-du-langage-python")["status"] = 404
    login = f"{OC}/fr/login?target=/fr/courses/7425346-initiez-vous-a-la-gestion-de-projet"
    redirected = entry("/fr/courses/7425346-initiez-vous-a-la-gestion-de-projet")
    redirected.update(status=302, body=None, headers={"Location": login})
    (folder / "login.html").write_text(
        "<html lang='fr'><body><form id='login'></form></body></html>"
    )
    responses.append({"url": login, "status": 200, "headers": {"Content-Type": "text/html"},
                      "body": "login.html"})  # fmt: skip
    page = folder / "course-6900846.html"
    page.write_text(page.read_text().replace('"Course",', '"Course",,'))
    (folder / "path-518.html").write_text("<html lang='fr'><body><h1>Parcours</h1></body></html>")
    entry("/fr/courses/4425126-testez-votre-projet-avec-python")["body"] = (
        "chapter-4425126-2-5.html"
    )
    index_file.write_text(json.dumps(index))


def test_bad_pages_are_counted_and_nothing_is_lost(db_url, recordings_copy):
    assert crawl(db_url).returncode == 0
    engine = make_engine(db_url)
    with engine.connect() as conn:
        before = dict(conn.execute(select(Listing.external_id, Listing.content_hash)).all())
    assert len(before) == 5

    break_pages(recordings_copy)
    result = crawl(db_url, recordings_copy)
    assert result.returncode == 1, result.stderr  # finished, but not healthy

    with engine.connect() as conn:
        run = conn.execute(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
        after = dict(conn.execute(select(Listing.external_id, Listing.content_hash)).all())
        missing = conn.execute(select(Listing.missing_since)).scalars().all()
    assert run.finish_reason == "finished"
    assert run.healthy is False
    failed = {k.rsplit("/", 1)[-1]: v for k, v in run.stats.items() if "pages/failed/" in k}
    assert failed == {
        "http_404": 1,
        "login_redirect": 1,
        "invalid_jsonld": 1,
        "no_structured_data": 1,
        "wrong_type": 1,
    }
    assert run.items_scraped == 0
    assert after == before  # nothing stored is lost or changed
    assert missing == [None] * 5
    engine.dispose()
