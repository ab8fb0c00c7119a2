"""Security of the read side: hostile descriptions and titles, a catalogue that cannot be
written through the portal, and clear refusals when the catalogue cannot be read."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from portal.formatting import plain_text, sanitise
from storage import db
from storage.db import DatabaseUnavailable
from storage.readonly import open_readonly
from tests.portal_catalogue import HOSTILE_DESCRIPTION, catalogue, client  # noqa: F401
from tests.test_ops_postgres import roles  # noqa: F401 (fixture)

DANGEROUS = [
    re.compile(r"<script", re.I),
    re.compile(r"<style", re.I),
    re.compile(r"<iframe", re.I),
    re.compile(r"<svg", re.I),
    re.compile(r"\son\w+\s*=", re.I),  # event handler attributes
    re.compile(r"javascript:", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"alert\('(script|svg)'\)"),  # the content of removed scripts goes too
]


def assert_harmless(html: str) -> None:
    for pattern in DANGEROUS:
        assert not pattern.search(html), f"{pattern.pattern} survived in {html!r}"


def test_sanitiser_keeps_the_text_and_safe_markup():
    clean = sanitise(HOSTILE_DESCRIPTION)
    assert_harmless(clean)
    assert "<p>Un cours <strong>sûr</strong>.</p>" in clean
    assert '<a href="https://exemple.fr/" rel="nofollow noopener noreferrer ugc">bon lien</a>' in (
        clean
    )
    assert "piège" in clean
    assert_harmless(plain_text(HOSTILE_DESCRIPTION))
    assert plain_text("<p>Cours &amp; <b>TD</b></p>") == "Cours & TD"
    # words of separate lines stay apart (LHEO's lists, JSON-LD descriptions)
    assert plain_text("<ul><li>Plan</li><li>Saisie</li></ul>Fin<br/>là") == "Plan Saisie Fin là"


def test_hostile_description_in_the_course_page(client, catalogue):  # noqa: F811
    html = client.get(f"/cours/{catalogue.ids['oc-hostile']}").text
    start = html.index('<section aria-labelledby="description-title"')
    description = html[start : html.index("</section>", start)]
    assert_harmless(description)
    assert "<strong>sûr</strong>" in description
    # the page's only scripts are the JSON-LD block, and it holds no closing tag
    assert len(re.findall(r"<script", html)) == 1
    json_ld = html[html.index('type="application/ld+json">') :]
    json_ld = json_ld[json_ld.index(">") + 1 : json_ld.index("</script>")]
    data = json.loads(json_ld)
    assert data["name"] == "Sécurité web </script><script>alert('titre')</script>"
    assert "<" not in json_ld
    assert_harmless(data["description"])


def test_hostile_title_is_escaped_everywhere(client, catalogue):  # noqa: F811
    course_id = catalogue.ids["oc-hostile"]
    for url in ("/", f"/cours/{course_id}", "/flux.atom?q=securite", "/?q=s%C3%A9curit%C3%A9"):
        body = client.get(url).text
        assert "<script>alert('titre')" not in body, url
        assert "&lt;/script&gt;&lt;script&gt;alert(&#39;titre&#39;)" in body or "\\u003c" in body


def test_hostile_description_in_the_api(client, catalogue):  # noqa: F811
    course = client.get(f"/api/v1/courses/{catalogue.ids['oc-hostile']}").json()
    assert_harmless(course["description"])
    assert "<strong>sûr</strong>" in course["description"]


def test_the_portal_engine_cannot_write(catalogue):  # noqa: F811
    for statement in (
        "DELETE FROM course",
        "UPDATE course SET title = 'x'",
        "INSERT INTO platform (name) VALUES ('pirate')",
        "CREATE TABLE pirate (id INTEGER)",
        "DROP TABLE listing",
    ):
        with (
            pytest.raises(Exception, match=r"(?i)read.?only|readonly"),  # noqa: B017
            catalogue.engine.begin() as conn,
        ):
            conn.execute(text(statement))
    with catalogue.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM course")).scalar() > 0


def test_the_portal_has_no_write_route(client):  # noqa: F811
    for method in ("post", "put", "patch", "delete"):
        for url in ("/api/v1/courses", "/api/v1/courses/1", "/", "/cours/1"):
            assert getattr(client, method)(url).status_code == 405


def test_missing_catalogue_is_a_clear_error(tmp_path):
    with pytest.raises(DatabaseUnavailable, match="no catalogue at .*moisson demo"):
        open_readonly(f"sqlite:///{tmp_path / 'absent.sqlite3'}")
    assert not (tmp_path / "absent.sqlite3").exists()  # and nothing was created


def test_outdated_schema_is_a_clear_error(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine, "0002")
    engine.dispose()
    with pytest.raises(DatabaseUnavailable, match="schema is at 0002.*moisson db upgrade"):
        open_readonly(sqlite_url)


def test_serve_refuses_a_missing_catalogue(tmp_path):
    from tests.test_cli import moisson

    result = moisson("serve", "--db", f"sqlite:///{tmp_path / 'absent.sqlite3'}", cwd=tmp_path)
    assert result.returncode == 2
    assert "no catalogue at" in result.stderr
    result = moisson("serve", "--now", "2026-11-15", cwd=tmp_path)
    assert result.returncode == 2
    assert "not an ISO time with offset" in result.stderr


@pytest.mark.postgres
def test_the_portal_role_of_operations_searches_in_french(roles):  # noqa: F811
    """As docs/OPERATIONS.md sets it up: the crawler migrates (0003 included) and writes,
    the portal's role reads, full-text search and all, and cannot write."""
    from datetime import datetime

    from storage.search import CourseFilters, search_courses
    from tests.conftest import REFERENCE_TIME
    from tests.test_ops_postgres import moisson

    crawler_url, portal_url = roles
    crawl = moisson(
        "crawl", "fun_mooc", "--replay", "--db", crawler_url, "--reference-time", REFERENCE_TIME
    )
    assert crawl.returncode == 0, crawl.stderr
    engine = open_readonly(portal_url)
    now = datetime.fromisoformat(REFERENCE_TIME)
    found = search_courses(engine, CourseFilters(q="ethiques"), now)
    assert [c["title"] for c in found.courses] == ["Éthique de la recherche"]
    with pytest.raises(Exception, match="read-only"), engine.begin() as conn:  # noqa: B017
        conn.execute(text("DELETE FROM session"))
    engine.dispose()
