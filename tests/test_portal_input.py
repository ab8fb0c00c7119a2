"""What a visitor may send that the catalogue cannot take: a clear 4xx, never a 500.

Out-of-range days, ids past a 64-bit integer, NUL bytes (PostgreSQL refuses them in text)
are refused once, by the parameters' declared bounds (portal/params.py); every test runs on
SQLite and on PostgreSQL (the catalogue fixture's two parameters).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from html import unescape

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from storage.db import make_engine
from storage.models import Course, Listing
from tests.conftest import ROOT, moisson
from tests.portal_catalogue import NOW, catalogue, client  # noqa: F401 (fixtures)

ATOM = "{http://www.w3.org/2005/Atom}"

TOO_BIG = str(2**63)
OUT_OF_RANGE_DAYS = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]
API_REFUSALS = [
    *[("/api/v1/courses", {"starts_after": d}, "starts_after") for d in OUT_OF_RANGE_DAYS],
    *[("/api/v1/courses", {"starts_before": d}, "starts_before") for d in OUT_OF_RANGE_DAYS],
    *[
        (f"/api/v1/courses/{i}", {}, "course_id")
        for i in (TOO_BIG, str(2**64), "-1", "0", "9" * 40, "-" + TOO_BIG)
    ],
    ("/api/v1/courses", {"organisation": TOO_BIG}, "organisation"),
    *[
        ("/api/v1/courses", {name: value}, name)
        for name in ("q", "platform", "topic")
        for value in ("\x00", "fun\x00mooc", "a\x01b")
    ],
    ("/api/v1/organisations", {"name": "\x00"}, "name"),
    ("/api/v1/organisations", {"name": "\x1e"}, "name"),  # blank to str.strip()
    ("/api/v1/courses", {"q": "\x1f"}, "q"),
]
PAGE_REFUSALS = [
    *[("/", {"starts_after": d}) for d in OUT_OF_RANGE_DAYS],
    *[("/", {"starts_before": d}) for d in OUT_OF_RANGE_DAYS],
    ("/flux.atom", {"starts_after": "0001-01-01"}),
    ("/flux.atom", {"starts_before": "9999-12-31"}),
    ("/flux.atom", {"platform": "\x00"}),
    *[("/", {name: "\x00"}) for name in ("q", "platform", "topic")],
    *[(f"/cours/{i}", {}) for i in (TOO_BIG, str(2**64), "-1", "9" * 40)],
    *[(f"/cours/{i}.ics", {}) for i in (TOO_BIG, str(2**64), "-1", "9" * 40)],
    *[(f"/sitemap-{i}.xml", {}) for i in (TOO_BIG, str(2**64), "9" * 40)],
]


@pytest.mark.parametrize(("path", "params", "name"), API_REFUSALS)
def test_the_api_refuses_what_the_catalogue_cannot_take(client, path, params, name):  # noqa: F811
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"].startswith(f"invalid parameter — {name}: ")
    # a repeated parameter's loc adds the position of the bad value
    assert [p for p in body["detail"][0]["loc"] if not isinstance(p, int)][-1] == name


@pytest.mark.parametrize(("path", "params"), PAGE_REFUSALS)
def test_pages_refuse_it_in_french(client, path, params):  # noqa: F811
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Paramètre invalide — " in response.text
    assert '<html lang="fr">' in response.text


def test_the_french_message_names_the_bound(client):  # noqa: F811
    response = client.get("/", params={"starts_after": "0001-01-01"})
    assert "la date doit être comprise entre le 1900-01-01 et le 2999-12-31" in response.text
    response = client.get("/", params={"q": "a\x00b"})
    assert "le texte contient un caractère de contrôle" in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"starts_after": "1900-01-01"},
        {"starts_before": "2999-12-31"},
        {"starts_after": "1900-01-01", "starts_before": "2999-12-31"},
        {"q": "tabulation\tet\nretour"},
    ],
)
def test_the_edges_of_the_range_are_searched(client, params):  # noqa: F811
    assert client.get("/api/v1/courses", params=params).status_code == 200
    assert client.get("/", params=params).status_code == 200


def test_the_largest_id_is_only_not_found(client):  # noqa: F811
    largest = str(2**63 - 1)
    assert client.get(f"/api/v1/courses/{largest}").status_code == 404
    assert client.get(f"/cours/{largest}").status_code == 404
    assert client.get(f"/cours/{largest}.ics").status_code == 404


PUBLIC = "https://cours.example.fr"
HOSTILE_HOST = "evil.example"


@pytest.fixture(scope="module")
def public_client(catalogue):  # noqa: F811
    """The portal as deployed: a public URL, the proxy's local name trusted too."""
    from fastapi.testclient import TestClient

    from portal.app import create_app

    app = create_app(catalogue.engine, clock=lambda: NOW, public_url=PUBLIC, hosts=[HOSTILE_HOST])
    with TestClient(app, base_url=f"http://{HOSTILE_HOST}") as test_client:
        yield test_client


def _absolute_outputs(client, course_id: int) -> dict[str, str]:  # noqa: F811
    paths = [
        "/api/v1/courses",
        f"/api/v1/courses/{course_id}",
        "/sitemap.xml",
        "/sitemap-1.xml",
        "/robots.txt",
        f"/cours/{course_id}",
        f"/cours/{course_id}.ics",
        "/flux.atom?state=starting_soon",
        "/?state=starting_soon",
        "/nulle-part",
    ]
    outputs = {}
    for path in paths:
        response = client.get(path, headers={"X-Forwarded-Host": "forwarded.example"})
        assert response.status_code in (200, 404), (path, response.status_code)
        outputs[path] = response.text
    return outputs


def _starting_soon(client) -> int:  # noqa: F811
    """A course with dated sessions, in the feed of every search it matches."""
    found = client.get("/api/v1/courses", params={"state": "starting_soon", "sort": "start"})
    return found.json()["courses"][0]["id"]


def test_a_hostile_host_header_never_reaches_an_absolute_url(public_client):
    course_id = _starting_soon(public_client)
    for path, text in _absolute_outputs(public_client, course_id).items():
        assert HOSTILE_HOST not in text, path
        assert "forwarded.example" not in text, path
    outputs = _absolute_outputs(public_client, course_id)
    page = f"{PUBLIC}/cours/{course_id}"
    assert f'"url":"{page}"' in outputs[f"/api/v1/courses/{course_id}"]
    assert f"<loc>{page}</loc>" in outputs["/sitemap.xml"]
    assert f"Sitemap: {PUBLIC}/sitemap.xml" in outputs["/robots.txt"]
    assert f'<link rel="canonical" href="{page}">' in outputs[f"/cours/{course_id}"]
    assert f'"url": "{page}"' in outputs[f"/cours/{course_id}"]  # JSON-LD
    assert (
        f'<link rel="self" href="{PUBLIC}/flux.atom?state=starting_soon"/>'
        in outputs["/flux.atom?state=starting_soon"]
    )
    assert f"Fiche : {page}" in outputs[f"/cours/{course_id}.ics"].replace("\r\n ", "")
    assert "@cours.example.fr" in outputs[f"/cours/{course_id}.ics"]


def test_without_a_public_url_the_request_builds_them(client, catalogue):  # noqa: F811
    course_id = catalogue.ids["oc-python"]
    body = client.get(f"/api/v1/courses/{course_id}").json()
    assert body["url"] == f"http://testserver/cours/{course_id}"


def test_an_unknown_host_is_refused_when_hosts_are_configured(catalogue):  # noqa: F811
    from fastapi.testclient import TestClient

    from portal.app import create_app

    app = create_app(catalogue.engine, clock=lambda: NOW, public_url=PUBLIC)
    with TestClient(app, base_url=PUBLIC) as test_client:
        assert test_client.get("/api/v1/stats").status_code == 200
        for path in ("/api/v1/stats", "/", "/sitemap.xml", "/robots.txt"):
            response = test_client.get(path, headers={"Host": HOSTILE_HOST})
            assert response.status_code == 400
            assert HOSTILE_HOST not in response.text
    app = create_app(catalogue.engine, clock=lambda: NOW, hosts=["localhost"])
    with TestClient(app, base_url="http://localhost") as test_client:
        assert test_client.get("/api/v1/stats").status_code == 200
        assert test_client.get("/api/v1/stats", headers={"Host": HOSTILE_HOST}).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "cours.example.fr",
        "ftp://cours.example.fr",
        "https://",
        "https://x.fr/?a=1",
        "https://x.fr/\x00",
    ],
)
def test_a_malformed_public_url_is_refused_at_start(catalogue, url):  # noqa: F811
    from portal.app import create_app

    with pytest.raises(ValueError, match="not an http"):
        create_app(catalogue.engine, public_url=url)


CONTROLS = "Cours\x01 de\x0b test\x1f\ufffe"


@pytest.fixture
def control_title(catalogue, client):  # noqa: F811
    """A stored title holding control characters, as a catalogue written before the
    pipeline stripped them would; restored afterwards."""
    course_id = _starting_soon(client)
    writer = make_engine(catalogue.url)
    with writer.begin() as conn:
        before = conn.execute(select(Course.title).where(Course.id == course_id)).scalar_one()
        conn.execute(update(Course).where(Course.id == course_id).values(title=CONTROLS))
        conn.execute(update(Listing).where(Listing.course_id == course_id).values(title=CONTROLS))
    yield course_id
    with writer.begin() as conn:
        conn.execute(update(Course).where(Course.id == course_id).values(title=before))
        conn.execute(update(Listing).where(Listing.course_id == course_id).values(title=before))
    writer.dispose()


def test_control_characters_in_a_stored_title_leave_every_output_well_formed(
    client,  # noqa: F811
    control_title,
):
    course_id = control_title
    atom = client.get("/flux.atom")
    assert atom.status_code == 200
    titles = [t.text for t in ET.fromstring(atom.content).iter(f"{ATOM}title")]
    assert "Cours de test" in titles
    sitemap = client.get("/sitemap.xml")
    ET.fromstring(sitemap.content)
    calendar = Calendar.from_ical(client.get(f"/cours/{course_id}.ics").content)
    assert str(calendar["x-wr-calname"]) == "Cours de test"
    assert all("Cours de test" in str(e["summary"]) for e in calendar.walk("VEVENT"))
    page = client.get(f"/cours/{course_id}").text
    search = client.get("/", params={"state": "starting_soon", "sort": "start"}).text
    for html in (page, search):
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", html)
        assert "Cours de test" in html
    json_ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert json.loads(json_ld.group(1))["name"] == "Cours de test"
    assert client.get(f"/api/v1/courses/{course_id}").json()["title"] == CONTROLS  # JSON escapes


def test_serve_refuses_a_malformed_public_url(catalogue):  # noqa: F811
    result = moisson("serve", "--db", catalogue.url, "--public-url", "cours.example.fr", timeout=60)
    assert result.returncode == 2
    assert "is not an http(s) base URL" in result.stderr


def test_the_published_day_pattern_is_the_supported_range():
    from datetime import timedelta

    from portal.params import DAY_PATTERN
    from storage.dates import SUPPORTED_DATE_RANGE

    first, last = SUPPORTED_DATE_RANGE
    assert re.match(DAY_PATTERN, first.isoformat())
    assert re.match(DAY_PATTERN, last.isoformat())
    assert not re.match(DAY_PATTERN, (first - timedelta(days=1)).isoformat())
    assert not re.match(DAY_PATTERN, (last + timedelta(days=1)).isoformat())


def _get(url: str, headers: dict | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextmanager
def _serving(db_url: str, *options: str, env: dict | None = None):
    """A real ``moisson serve`` on a free loopback port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "moisson.cli", "serve", "--db", db_url, "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--log-level", "warning", *options],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(f"{base}/robots.txt")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_honours_proxy_headers_only_from_configured_proxies(catalogue):  # noqa: F811
    forwarded = {"X-Forwarded-Proto": "https"}
    with _serving(catalogue.url) as base:
        assert f"Sitemap: {base}/sitemap.xml" in _get(f"{base}/robots.txt", forwarded)[1]
    with _serving(catalogue.url, "--forwarded-allow-ips", "127.0.0.1") as base:
        robots = _get(f"{base}/robots.txt", forwarded)[1]
        assert f"Sitemap: {base.replace('http:', 'https:')}/sitemap.xml" in robots


def test_serve_takes_its_public_url_and_hosts_from_the_environment(catalogue):  # noqa: F811
    env = {"MOISSON_PUBLIC_URL": PUBLIC, "MOISSON_TRUSTED_HOSTS": "127.0.0.1"}
    with _serving(catalogue.url, env=env) as base:
        assert f"Sitemap: {PUBLIC}/sitemap.xml" in _get(f"{base}/robots.txt")[1]
        assert _get(f"{base}/robots.txt", {"Host": HOSTILE_HOST})[0] == 400


@pytest.mark.parametrize("day", ["0.0", "1700000000", "2026-1-5", "2026-01-05T00:00:00"])
def test_a_day_is_only_yyyy_mm_dd(client, day):  # noqa: F811
    response = client.get("/api/v1/courses", params={"starts_after": day})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "date_format"
    assert "ISO 8601, the only format the API takes" in response.json()["detail"][0]["msg"]
    page = client.get("/", params={"starts_after": day})
    assert page.status_code == 422
    assert "une date du calendrier au format jj/mm/aaaa est attendue" in page.text


def test_the_pages_take_french_days_and_show_them_the_french_way(client):  # noqa: F811
    """``15/09/2027`` on a page means ``2027-09-15`` (ISO still works); the form shows the
    day as jj/mm/aaaa; a day that is not one is a 422 page in French, never a 500; the API
    refuses the French form and says it takes ISO only."""
    iso = {"starts_after": "2026-12-01", "starts_before": "2027-03-31"}
    french = {"starts_after": "01/12/2026", "starts_before": "31/3/2027"}
    by_iso = client.get("/api/v1/courses", params={**iso, "per_page": 100}).json()
    assert by_iso["total"] > 0
    titles = [c["title"] for c in by_iso["courses"]]
    for given in (iso, french):
        page = client.get("/", params={**given, "per_page": 100})
        assert page.status_code == 200
        shown = re.findall(r'<h3><a href="[^"]*">([^<]*)</a></h3>', page.text)
        assert [unescape(t) for t in shown] == titles
        assert 'id="starts_after" name="starts_after" type="text"' in page.text
        assert 'value="01/12/2026"' in page.text and 'value="31/03/2027"' in page.text
        assert 'placeholder="jj/mm/aaaa"' in page.text and 'lang="fr"' in page.text
    for bad in ("31/02/2027", "15/13/2027", "demain", "2027-13-01"):
        page = client.get("/", params={"starts_after": bad})
        assert page.status_code == 422, bad
        assert "Recherche invalide" in page.text
        assert "au format jj/mm/aaaa" in page.text or "comprise entre" in page.text, bad
    api = client.get("/api/v1/courses", params=french)
    assert api.status_code == 422
    assert "the only format the API takes" in api.json()["message"]
