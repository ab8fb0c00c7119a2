"""From a real document to the API and the page: what the platform states arrives.

The real Intercarif export (tests/data/realdata) goes through the LHEO spider, the
pipelines and the catalogue writer; a schema.org course with two instances of different
workloads goes the same way. The API and the course page then show the qualification
levels, the hours, the effort of each session, the enrolment window and one organisation
with its legal name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawlers.items import RawCourse
from crawlers.offline import normalise
from storage import db
from storage.catalogue import CatalogueWriter, RunSummary
from tests.recorded import fresh_crawler
from tests.test_realdata_lheo import read

NOW = datetime(2017, 10, 1, 12, tzinfo=UTC)


def _store(engine, platform: str, records) -> None:
    writer = CatalogueWriter(engine)
    platform_id = writer.platform_id(platform, platform, f"https://{platform}.example", platform)
    run_id = writer.start_run(platform, platform_id, NOW, replay=True)
    counts = writer.store(run_id, platform_id, [(r, {"id": r.external_id}) for r in records], NOW)
    summary = RunSummary(
        finish_reason="finished",
        finished_at=NOW + timedelta(minutes=1),
        items_scraped=len(records),
        errors=0,
        dropped_by_reason={},
        stats={},
    )
    writer.finish_run(run_id, summary, counts)


def _records():
    item, _, crawler = read("anotea-intercarif-data-test.xml")
    ((lheo, _),) = normalise(crawler, [item.copy()])
    course = RawCourse(
        platform="schema_org",
        external_id="python",
        url="https://cours.example/python",
        title="Python pour tous",
        organisations=["Université Exemple"],
        sessions=[
            {"key": "a", "start": "2017-11-06", "effort": "2 heures par semaine"},
            {"key": "b", "start": "2018-02-05", "effort": "4 à 5 heures par semaine"},
        ],
    )
    ((two_runs, _),) = normalise(fresh_crawler("schema_org"), [course])
    return lheo["record"], two_runs["record"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from portal.app import create_app

    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('fidelity') / 'c.sqlite3'}")
    db.ensure_schema(engine)
    lheo, two_runs = _records()
    _store(engine, "lheo", [lheo])
    _store(engine, "schema_org", [two_runs])
    with TestClient(create_app(engine, clock=lambda: NOW)) as test_client:
        yield test_client
    engine.dispose()


def _course(client, title: str) -> dict:
    listed = client.get("/api/v1/courses", params={"q": title}).json()["courses"]
    (summary,) = [c for c in listed if c["title"] == title]
    return client.get(f"/api/v1/courses/{summary['id']}").json()


def test_lheo_course_in_the_api(client):
    course = _course(client, "Développeur web")
    assert course["qualification"] == {"entry": "sans_niveau", "exit": "3"}
    assert course["level"] is None
    assert course["duration"]["hours_min"] == course["duration"]["hours_max"] == 697
    assert course["effort"] == {"hours_per_week_min": 35, "hours_per_week_max": 35}
    assert course["certificate"]["kind"] == "diploma"
    (organisation,) = course["organisations"]
    assert organisation["name"] == "Anotea Formation"
    assert organisation["legal_name"] == "Centre de formation Anotéa"
    assert organisation["siret"] is None  # the anonymised 15-digit number is no SIRET
    (session,) = course["sessions"]
    assert session["enrolment_end"] == "2018-05-22T21:59:59Z"
    assert session["end"] == "2018-06-01T21:59:59Z"


def test_lheo_course_page_shows_the_qualification(client):
    course = _course(client, "Développeur web")
    page = client.get(f"/cours/{course['id']}").text
    assert '<dt>Niveau de sortie</dt><dd class="qualification-exit">CAP / niveau 3</dd>' in page
    entry = '<dt>Niveau d\'entrée</dt><dd class="qualification-entry">sans niveau spécifique</dd>'
    assert entry in page
    assert "<dt>Niveau</dt>" not in page  # no invented difficulty


def test_each_session_keeps_its_effort_in_the_api_and_the_page(client):
    course = _course(client, "Python pour tous")
    assert [s["effort"]["text"] for s in course["sessions"]] == [
        "2 heures par semaine",
        "4 à 5 heures par semaine",
    ]
    assert [s["effort"]["hours_per_week_max"] for s in course["sessions"]] == [2, 5]
    assert course["effort"] == {"hours_per_week_min": 2, "hours_per_week_max": 5}
    page = client.get(f"/cours/{course['id']}").text
    assert '<th scope="col">Durée et charge</th>' in page
    assert "<td>2 h par semaine</td>" in page and "<td>4 à 5 h par semaine</td>" in page
