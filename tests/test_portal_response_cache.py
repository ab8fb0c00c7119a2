"""The portal's response cache (portal/response_cache.py), on a small app that counts calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Response
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from portal import response_cache
from portal.response_cache import LIFETIME, STALE_FOR, AnswerStore, ResponseCache
from tests.portal_catalogue import catalogue, client  # noqa: F401 (fixtures)

NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def _app(size: int = 16, clock=None):
    app = FastAPI()
    calls = []

    @app.get("/page")
    def page(q: str = ""):
        calls.append(("page", q))
        return PlainTextResponse(f"page {q} #{len(calls)}")

    @app.get("/missing")
    def missing():
        calls.append(("missing", ""))
        return PlainTextResponse("absent", status_code=404)

    @app.get("/cookie")
    def cookie(response: Response):
        calls.append(("cookie", ""))
        response.set_cookie("seen", "1")
        return {"ok": len(calls)}

    @app.get("/alertes/form")
    def form():
        calls.append(("form", ""))
        return PlainTextResponse(f"form #{len(calls)}")

    @app.get("/big")
    def big():
        calls.append(("big", ""))
        return PlainTextResponse("x" * (response_cache.MAX_BODY + 10))

    @app.post("/page")
    def post():
        calls.append(("post", ""))
        return PlainTextResponse("posted")

    store = AnswerStore(size)
    app.add_middleware(ResponseCache, store=store, clock=clock or Clock())
    return TestClient(app), calls, store


def test_a_second_get_is_answered_from_the_cache_with_its_etag():
    web, calls, _ = _app()
    first = web.get("/page", params={"q": "droit"})
    second = web.get("/page", params={"q": "droit"})
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    assert second.text == first.text == "page droit #1"
    assert calls == [("page", "droit")]
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-length"] == str(len(first.content))
    assert second.headers["content-type"].startswith("text/plain")
    assert first.headers["cache-control"] == "public, max-age=60"

    other = web.get("/page", params={"q": "python"})  # another query: another answer
    assert other.text == "page python #2"
    hosted = web.get("/page", params={"q": "droit"}, headers={"host": "elsewhere.example"})
    assert hosted.headers["x-cache"] == "miss"  # absolute links name the host


def test_if_none_match_gets_304_without_a_body():
    web, calls, _ = _app()
    etag = web.get("/page").headers["etag"]
    again = web.get("/page", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = web.get("/page", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.text == "page  #1"
    assert len(calls) == 1


@pytest.mark.parametrize("path", ["/missing", "/cookie", "/alertes/form", "/big"])
def test_what_is_never_kept(path):
    web, calls, _ = _app()
    first, second = web.get(path), web.get(path)
    assert len(calls) == 2, path
    assert "x-cache" not in second.headers
    assert first.content == second.content or path in ("/cookie", "/alertes/form")
    if path == "/big":  # too big to keep, and given whole
        assert len(second.content) == response_cache.MAX_BODY + 10


def test_other_methods_pass_through_and_size_zero_keeps_nothing():
    web, calls, _ = _app()
    web.post("/page"), web.post("/page")
    assert calls == [("post", ""), ("post", "")]
    web, calls, _ = _app(size=0)
    web.get("/page"), web.get("/page")
    assert len(calls) == 2


def test_a_clock_moved_past_the_minute_computes_afresh():
    clock = Clock()
    web, calls, _ = _app(clock=clock)
    web.get("/page")
    clock.now = NOW + timedelta(seconds=50)  # same answer: states are a minute's
    assert web.get("/page").headers["x-cache"] == "hit"
    clock.now = NOW + timedelta(days=3)
    assert web.get("/page").text == "page  #2"


class Timer:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_an_expired_answer_is_refreshed_once_and_given_stale_meanwhile(monkeypatch):
    monkeypatch.setattr(response_cache, "LIFETIME", (LIFETIME[0], LIFETIME[0]))  # no draw
    timer = Timer()
    store = AnswerStore(4, timer=timer)
    store.store("k", NOW, "old")
    assert store.lookup("k", NOW) == "old"
    timer.t += LIFETIME[0] + 0.1  # expired
    assert store.lookup("k", NOW) is None  # this caller refreshes
    assert store.lookup("k", NOW) == "old"  # the others meanwhile get the old answer
    store.store("k", NOW, "new")
    assert store.lookup("k", NOW) == "new"

    timer.t += LIFETIME[0] + 0.1
    assert store.lookup("k", NOW) is None
    store.abandon("k")  # the refresh failed: the next caller tries again
    assert store.lookup("k", NOW) is None
    timer.t += STALE_FOR + 0.1  # too old even to give meanwhile: gone
    assert store.lookup("k", NOW) is None and store.lookup("k", NOW) is None


def test_the_store_is_bounded_and_least_recently_used_goes_first():
    store = AnswerStore(2)
    store.store("a", NOW, 1)
    store.store("b", NOW, 2)
    assert store.lookup("a", NOW) == 1
    store.store("c", NOW, 3)
    assert store.lookup("b", NOW) is None and store.lookup("a", NOW) == 1


def test_the_portal_keeps_its_pages(client):  # noqa: F811
    first = client.get("/?q=python")
    second = client.get("/?q=python")
    assert first.status_code == second.status_code == 200
    assert second.headers["x-cache"] == "hit" and second.text == first.text
    etag = client.get("/api/v1/stats").headers["etag"]
    assert client.get("/api/v1/stats", headers={"If-None-Match": etag}).status_code == 304
