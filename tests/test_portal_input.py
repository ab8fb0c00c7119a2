"""What a visitor may send that the catalogue cannot take: a clear 4xx, never a 500.

Out-of-range days, ids past a 64-bit integer, NUL bytes (PostgreSQL refuses them in text)
are refused once, by the parameters' declared bounds (portal/params.py); every test runs on
SQLite and on PostgreSQL (the catalogue fixture's two parameters).
"""

from __future__ import annotations

import pytest

from tests.portal_catalogue import catalogue, client  # noqa: F401 (fixtures)

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
    assert body["detail"][0]["loc"][-1] == name


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
