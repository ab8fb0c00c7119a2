"""The browsable API documentation at ``/api/docs``: Swagger UI served by the portal itself.

The portal must work offline and on a private network, so the page may not load anything
from another host (FastAPI's default page takes Swagger UI from a CDN).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from portal.app import create_app


class _Assets(HTMLParser):
    """Every URL the page loads: script sources and linked stylesheets and icons."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.links[attrs["href"]] = attrs.get("rel", "")


def _assets(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def client():
    # The page and its files do not read the catalogue: an empty database is enough.
    engine = create_engine("sqlite://")
    with TestClient(create_app(engine)) as test_client:
        yield test_client
    engine.dispose()


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


def test_docs_page_loads_swagger_ui_from_the_portal(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html and "https://" not in html, "the page names another host"
    assert "'/api/v1/openapi.json'" in html
    assets = _assets(html)
    stylesheets = [url for url, rel in assets.links.items() if "stylesheet" in rel]
    assert assets.scripts and stylesheets, html
    for url in [*assets.scripts, *assets.links]:
        assert _local(url), url


def test_every_file_the_docs_page_loads_is_served(client):
    assets = _assets(client.get("/api/docs").text)
    for url in assets.scripts:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "javascript" in response.headers["content-type"], url
    assert any("SwaggerUIBundle" in client.get(url).text for url in assets.scripts)
    for url, rel in assets.links.items():
        response = client.get(url)
        assert response.status_code == 200, url
        expected = "text/css" if "stylesheet" in rel else "image/"
        assert response.headers["content-type"].startswith(expected), url
    assert client.get("/api/docs/static/no-such-file.js").status_code == 404


def test_oauth2_redirect_is_local_and_docs_stay_out_of_the_schema(client):
    redirect = client.get("/api/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "<script src=" not in redirect.text
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/api/docs")]


def test_docs_follow_the_root_path_behind_a_proxy():
    engine = create_engine("sqlite://")
    with TestClient(create_app(engine), root_path="/moisson") as client:
        html = client.get("/api/docs").text
    engine.dispose()
    assert "'/moisson/api/v1/openapi.json'" in html
    assets = _assets(html)
    for url in [*assets.scripts, *assets.links]:
        assert url.startswith("/moisson/api/docs/static/"), url
