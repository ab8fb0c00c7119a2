"""Jobs on the French pages (ROME 4.0): « Métiers visés » on a course page, the job page
``/metiers/{code}`` and the job search ``/metiers``, on SQLite and PostgreSQL."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.portal_catalogue import catalogue, client, shipped_release  # noqa: F401 (fixtures)
from tests.test_portal_pages import structure


def page(client, path, **params):  # noqa: F811
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return html_lib.unescape(response.text)


def test_course_page_names_the_jobs_it_prepares_for(client, catalogue):  # noqa: F811
    course_id = catalogue.ids["oc-stat-r"]
    links = client.get(f"/api/v1/courses/{course_id}").json()["jobs"]
    assert links
    html = page(client, f"/cours/{course_id}")
    assert '<h2 id="jobs-title">Métiers visés</h2>' in html
    for link in links:
        assert f'href="http://testserver/metiers/{link["code"]}">{link["label"]}</a>' in html
        assert "parce que ce cours couvre : " + ", ".join(link["reasons"]) in html


def test_course_page_names_stated_codes_and_qualifications(client, catalogue):  # noqa: F811
    html = page(client, f"/cours/{catalogue.ids['oc-stats']}")
    assert 'href="http://testserver/metiers/M1419">Data analyst</a>' in html
    assert "code ROME indiqué par la plateforme" in html
    assert "Z9999" not in html
    assert ">RNCP35030</a>" in html and ">RS5234</a>" in html
    assert "https://www.francecompetences.fr/recherche/rncp/35030/" in html


def test_a_course_without_jobs_has_no_jobs_section(client):  # noqa: F811
    courses = client.get("/api/v1/courses", params={"per_page": 100, "facets": False}).json()
    for course in courses["courses"]:
        detail = client.get(f"/api/v1/courses/{course['id']}").json()
        if not detail["jobs"] and not detail["qualifications"]:
            assert "Métiers visés" not in page(client, f"/cours/{course['id']}")
            return
    pytest.skip("every course of the test catalogue has a job")


def test_job_page_shows_definition_core_skills_courses_and_source(client, catalogue):  # noqa: F811
    job = client.get("/api/v1/jobs/M1419", params={"per_page": 100}).json()
    html = page(client, "/metiers/M1419")
    doc = structure(html)
    assert doc.html_lang == "fr" and doc.headings.count("h1") == 1
    assert "<h1>Data analyst <small>(M1419)</small></h1>" in html
    assert job["definition"] in html
    for skill in job["core_skills"]:
        assert f"<li>{skill['label']}</li>" in html
    assert shipped_release().attribution in html
    assert "Source : France Travail, ROME 4.0 version " in html
    stats = catalogue.ids["oc-stats"]
    assert f'<li class="course" data-course="{stats}">' in html
    listed = re.findall(r'data-course="(\d+)"', html)
    assert listed == [str(c["id"]) for c in job["courses"]]  # the API's order: open first
    closeness = re.findall(r'<span class="closeness">([^<]*)</span>', html)
    assert closeness == [c["closeness"] for c in job["courses"]]


def test_job_page_past_its_last_page_says_so(client):  # noqa: F811
    total = client.get("/api/v1/jobs/M1419").json()["total"]
    html = page(client, "/metiers/M1419", page=50)
    assert f"Pas de cours sur cette page : la liste en compte {total} sur 1 page." in html


def test_job_page_address_is_the_code_in_capitals(client):  # noqa: F811
    response = client.get("/metiers/m1419", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "http://testserver/metiers/M1419"


def test_job_page_for_an_unknown_or_malformed_code(client):  # noqa: F811
    missing = client.get("/metiers/Z9999")
    assert missing.status_code == 404 and "Aucun métier Z9999 dans le ROME" in missing.text
    malformed = client.get("/metiers/comptable")
    assert malformed.status_code == 422 and "Adresse invalide" in malformed.text


def test_job_search_page_finds_jobs_with_their_course_counts(client):  # noqa: F811
    html = page(client, "/metiers", q="data analyst")
    assert 'value="data analyst"' in html
    hits = client.get("/api/v1/jobs", params={"q": "data analyst", "limit": 20}).json()["jobs"]
    assert re.findall(r'<li class="job" data-job="(\w+)">', html) == [h["code"] for h in hits]
    first = hits[0]
    assert first["code"] == "M1419"
    assert '<a href="http://testserver/metiers/M1419">Data analyst</a>' in html
    counts = re.findall(r'<span class="courses">([^<]*)</span>', html)
    assert counts[0] == f"{first['courses']} cours"
    assert len(counts) == len(hits)
    assert shipped_release().attribution in html


def test_job_search_page_without_or_with_an_unknown_title(client):  # noqa: F811
    assert 'class="job"' not in page(client, "/metiers")
    assert "Aucun métier ne porte ce nom" in page(client, "/metiers", q="zzzz qqqq")


def test_search_page_header_links_to_the_job_search(client):  # noqa: F811
    assert '<a href="http://testserver/metiers">Métiers</a>' in page(client, "/")


@pytest.mark.parametrize(
    "q, code", [("je veux devenir comptable", "M1203"), ("data analyst", "M1419")]
)
def test_search_words_naming_a_job_show_its_profile_above_the_results(client, q, code):  # noqa: F811
    html = page(client, "/", q=q)
    from portal.pages import JOBS_CLOSE, JOBS_SHOWN

    hits = client.get("/api/v1/jobs", params={"q": q, "limit": JOBS_SHOWN}).json()["jobs"]
    hits = [h for h in hits if h["score"] >= JOBS_CLOSE * hits[0]["score"]]
    found = re.findall(r'<li class="job" data-job="(\w+)">', html)
    assert found == [h["code"] for h in hits] and code in found
    assert html.index('id="jobs-found-title"') < html.index('id="results-title"')
    for hit in hits:
        assert f'<a href="http://testserver/metiers/{hit["code"]}">{hit["label"]}</a>' in html
        if hit["courses"]:  # the link filters by that job, without the words
            link = re.search(
                rf'data-job="{hit["code"]}">[^\n]*\n[^\n]*<a class="filter" href="\?([^"]*)"', html
            )
            assert link.group(1) == f"job={hit['code']}"
            total = client.get(f"/api/v1/courses?{link.group(1)}").json()["total"]
            assert total == hit["courses"]
    assert 'class="jobs-found"' not in page(client, "/", q="zzzz qqqq")
    assert 'class="jobs-found"' not in page(client, "/")


def test_the_search_form_has_job_and_domain_checkboxes_with_labels(client):  # noqa: F811
    facets = client.get("/api/v1/courses", params={"job": "M1419", "per_page": 1}).json()
    html = page(client, "/", job="M1419")
    for name, legend in (("job", "Métier"), ("domain", "Domaine professionnel")):
        box = html[html.index(f'id="facet-{name}"') :]
        box = box[: box.index("</fieldset>")]
        assert f"<legend>{legend}</legend>" in box
        shown = re.findall(rf'name="{name}" value="(\w+)" ?(?:checked)?><label[^>]*>([^<]*)<', box)
        expected = [
            (str(v["value"]), f"{v['label']} ({v['count']})") for v in facets["facets"][name]
        ]
        assert shown == expected and len(shown) > 1
    assert re.search(r'name="job" value="M1419" checked><label[^>]*>Data analyst \(\d+\)', html)


def test_job_offers_show_on_the_job_page_and_in_the_api_once_read(client, catalogue):  # noqa: F811
    from datetime import UTC, datetime

    from sqlalchemy import delete

    from storage.db import make_engine
    from storage.models import JobOffers
    from storage.offers import store

    assert client.get("/api/v1/jobs/M1419").json()["offers"] is None
    assert "en ce moment" not in page(client, "/metiers/M1419"), "never read: nothing shown"
    writer = make_engine(catalogue.url)
    try:
        store(writer, "M1419", 312, datetime(2026, 11, 14, 6, tzinfo=UTC))
        client.app.state.answers.clear()  # the answers above are kept for the minute
        offers = client.get("/api/v1/jobs/M1419").json()["offers"]
        search = "https://candidat.francetravail.fr/offres/recherche?motsCles=M1419"
        assert set(offers) == {"count", "fetched_at", "search_url"}
        assert offers["count"] == 312 and offers["search_url"] == search
        assert datetime.fromisoformat(offers["fetched_at"]) == datetime(2026, 11, 14, 6, tzinfo=UTC)
        html = page(client, "/metiers/M1419")
        assert "<strong>312 offres en ce moment</strong>" in html
        assert "(France Travail, le 14 novembre 2026)" in html
        assert f'<a href="{search}">voir les offres sur francetravail.fr</a>' in html
    finally:
        with writer.begin() as conn:
            conn.execute(delete(JobOffers))
        writer.dispose()
