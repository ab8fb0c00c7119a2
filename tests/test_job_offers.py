"""Job offers per ROME job from France Travail's « Offres d'emploi v2 » API, against a
loopback mock of its token and search endpoints (the answers follow the published API:
``POST …/access_token?realm=/partenaire`` with client credentials, ``GET
…/v2/offres/search?codeROME=…&range=0-0`` with the total in ``Content-Range: offres 0-0/N``,
204 for none); shown on the job page and in ``/api/v1/jobs/{code}``."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update

from moisson.offers import CredentialsRefused, OffersClient, refresh
from storage import offers as cache
from storage.db import ensure_schema, make_engine
from storage.models import Course, CourseJob, Listing, Platform

T0 = datetime(2026, 11, 14, 6, tzinfo=UTC)


class MockFranceTravail(http.server.ThreadingHTTPServer):
    """The token endpoint and the search, each search answer scripted per ROME code: a
    list of answers given in turn (the last one repeats): ``(status, headers)`` or "dead"
    (the connection closed without an answer)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: dict[str, list] = {}
        self.asked: list[str] = []
        self.tokens = 0
        self.token_status = 200
        self.valid = set()  # tokens the search accepts
        self.forms: list[dict] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        server: MockFranceTravail = self.server
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        server.forms.append({"query": url.query, **form})
        if url.path != "/connexion/oauth2/access_token" or server.token_status != 200:
            self._answer(server.token_status, {}, b'{"error": "invalid_client"}')
            return
        server.tokens += 1
        token = f"t{server.tokens}"
        server.valid.add(token)
        body = {"access_token": token, "expires_in": 1499, "token_type": "Bearer"}
        self._answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    def do_GET(self):
        server: MockFranceTravail = self.server
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        code = query.get("codeROME", "")
        server.asked.append(code)
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if url.path != "/partenaire/offresdemploi/v2/offres/search" or query["range"] != "0-0":
            self._answer(400, {}, b"{}")
            return
        if token not in server.valid:
            self._answer(401, {}, b'{"message": "invalid token"}')
            return
        answers = server.script[code]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer == "dead":
            self.close_connection = True
            self.connection.close()
            return
        status, headers = answer
        self._answer(status, headers, b'{"resultats": []}' if status != 204 else b"")

    def _answer(self, status, headers, body):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def mock():
    server = MockFranceTravail()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class Clock:
    """A clock that only moves when the client sleeps: the waits are what it asks for."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(mock, clock=None, **kwargs) -> OffersClient:
    clock = clock or Clock()
    return OffersClient(
        client_id="id",
        client_secret="secret",
        token_url=f"{mock.base}/connexion/oauth2/access_token?realm=%2Fpartenaire",
        api_url=f"{mock.base}/partenaire/offresdemploi",
        calls_per_second=kwargs.pop("calls_per_second", 10.0),
        timeout=5,
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )


def offers(total: int, status: int = 206) -> tuple[int, dict]:
    return status, {"Content-Range": f"offres 0-0/{total}", "Accept-Range": "150"}


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'catalogue.sqlite3'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()


def test_counts_come_from_content_range_and_are_cached_with_their_date(mock, engine):
    mock.script = {"M1805": [offers(312)], "M1203": [offers(1, 200)], "K2111": [(204, {})]}
    counts = refresh(engine, client_for(mock), ["M1805", "M1203", "K2111"])
    assert (counts.jobs, counts.stored, counts.failed) == (3, 3, 0)
    found = cache.offers_of(engine, "M1805")
    assert found["count"] == 312 and found["fetched_at"].tzinfo is not None
    assert (
        found["search_url"] == "https://candidat.francetravail.fr/offres/recherche?motsCles=M1805"
    )
    assert cache.offers_of(engine, "M1203")["count"] == 1
    assert cache.offers_of(engine, "K2111")["count"] == 0, "204: no offer"
    assert cache.offers_of(engine, "A1101") is None, "never asked: nothing"
    # one token for every search, asked as the API wants it
    assert mock.tokens == 1
    form = mock.forms[0]
    assert form["query"] == "realm=%2Fpartenaire" and form["grant_type"] == "client_credentials"
    assert (form["client_id"], form["client_secret"]) == ("id", "secret")
    assert set(form["scope"].split()) == {"api_offresdemploiv2", "o2dsoffre"}


def test_calls_are_spaced_by_the_published_limit(mock, engine):
    mock.script = {code: [offers(5)] for code in ("A1101", "A1102", "A1103")}
    clock = Clock()
    refresh(engine, client_for(mock, clock, calls_per_second=4.0), ["A1101", "A1102", "A1103"])
    # token then three searches, each 1/4 s after the previous (the mock answers instantly
    # on this clock, which only moves when the client sleeps)
    assert clock.sleeps == [0.25, 0.25, 0.25]


def test_429_then_success_is_retried_with_growing_waits(mock, engine):
    mock.script = {
        "M1805": [(429, {}), (503, {}), offers(40)],
        "M1203": [(429, {"Retry-After": "7"}), offers(9)],
    }
    clock = Clock()
    counts = refresh(engine, client_for(mock, clock, calls_per_second=0), ["M1805", "M1203"])
    assert counts.stored == 2 and counts.failed == 0
    assert cache.offers_of(engine, "M1805")["count"] == 40
    assert cache.offers_of(engine, "M1203")["count"] == 9
    assert clock.sleeps == [1.0, 2.0, 7.0], "backoff doubles; Retry-After is obeyed"
    assert mock.asked == ["M1805", "M1805", "M1805", "M1203", "M1203"]


def test_an_expired_token_is_renewed_once(mock, engine):
    mock.script = {"M1805": [offers(3)]}
    client = client_for(mock)
    client.token()
    mock.valid.clear()  # the API forgot it: 401
    assert client.count("M1805") == 3
    assert mock.tokens == 2


def test_a_bad_answer_keeps_the_previous_count_and_is_counted(mock, engine):
    for code, count in (("M1805", 100), ("M1203", 200), ("K2111", 300), ("A1101", 400)):
        cache.store(engine, code, count, T0)
    mock.script = {
        "M1805": [(200, {"Content-Range": "offres 0-0/beaucoup"})],  # malformed
        "M1203": ["dead"],  # the connection dies, every time
        "K2111": [(400, {})],  # refused, not retried
        "A1101": [offers(401)],
    }
    clock = Clock()
    client = client_for(mock, clock, retries=2, calls_per_second=0)
    counts = refresh(engine, client, ["M1805", "M1203", "K2111", "A1101"])
    assert (counts.stored, counts.failed) == (1, 3)
    assert "Content-Range 'offres 0-0/beaucoup'" in counts.failures["M1805"]
    assert "no answer" in counts.failures["M1203"]
    assert "HTTP 400" in counts.failures["K2111"]
    for code, kept in (("M1805", 100), ("M1203", 200), ("K2111", 300)):
        assert cache.offers_of(engine, code) == {
            "count": kept,
            "fetched_at": T0,
            "search_url": cache.PUBLIC_SEARCH_URL.format(code=code),
        }
    assert cache.offers_of(engine, "A1101")["count"] == 401
    assert mock.asked.count("M1203") == 3, "a dead connection is asked again (retries=2)"
    assert mock.asked.count("K2111") == 1


def test_refused_credentials_stop_the_run_and_keep_the_cache(mock, engine):
    cache.store(engine, "M1805", 100, T0)
    mock.token_status = 401
    mock.script = {"M1805": [offers(5)]}
    with pytest.raises(CredentialsRefused, match="refuses the credentials"):
        refresh(engine, client_for(mock), ["M1805"])
    assert cache.offers_of(engine, "M1805")["count"] == 100
    assert mock.asked == []


# -- the command -------------------------------------------------------------------------------


def _linked_catalogue(engine, codes):
    """Visible courses linked to ``codes`` (the referential's jobs need not be loaded for
    the links; the codes asked are those the release in use knows)."""
    from storage.models import RomeJob

    now = datetime.now(UTC)
    with engine.begin() as conn:
        platform = conn.execute(insert(Platform).values(name="p")).inserted_primary_key[0]
        for i, code in enumerate(codes):
            course = conn.execute(
                insert(Course).values(title=f"c{i}", created_at=now, updated_at=now)
            ).inserted_primary_key[0]
            conn.execute(
                insert(Listing).values(
                    platform_id=platform,
                    external_id=str(i),
                    url="https://example.org",
                    title=f"c{i}",
                    content_hash="x",
                    first_seen=now,
                    last_seen=now,
                    course_id=course,
                )
            )
            conn.execute(
                insert(CourseJob).values(course_id=course, job_code=code, method="code", score=1.0)
            )
            conn.execute(
                insert(RomeJob).values(
                    code=code, ogr=i, label=code, domain=code[:3], grand_domain=code[0]
                )
            )
        conn.execute(update(Course).values(visible=True))


def _run(capsys, *argv):
    from moisson.cli import main

    status = main(["jobs", "refresh-offers", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_without_credentials_the_command_does_nothing_and_succeeds(capsys, engine, monkeypatch):
    monkeypatch.delenv("FRANCE_TRAVAIL_CLIENT_ID", raising=False)
    monkeypatch.delenv("FRANCE_TRAVAIL_CLIENT_SECRET", raising=False)
    _linked_catalogue(engine, ["M1805"])
    status, out, _ = _run(capsys, "--db", str(engine.url))
    assert status == 0 and "no France Travail credentials" in out and "nothing done" in out
    assert cache.offers_of(engine, "M1805") is None


def test_the_command_asks_each_linked_job_once(capsys, engine, mock, monkeypatch):
    monkeypatch.setenv("FRANCE_TRAVAIL_CLIENT_ID", "id")
    monkeypatch.setenv("FRANCE_TRAVAIL_CLIENT_SECRET", "secret")
    monkeypatch.setenv(
        "FRANCE_TRAVAIL_TOKEN_URL", f"{mock.base}/connexion/oauth2/access_token?realm=%2Fpartenaire"
    )
    monkeypatch.setenv("FRANCE_TRAVAIL_API_URL", f"{mock.base}/partenaire/offresdemploi")
    _linked_catalogue(engine, ["M1805", "M1203"])
    mock.script = {"M1805": [offers(312)], "M1203": [(200, {"Content-Range": "n/a"})]}
    status, out, _ = _run(capsys, "--db", str(engine.url), "--json")
    assert status == 0
    counts = json.loads(out)
    assert (counts["jobs"], counts["stored"], counts["failed"]) == (2, 1, 1)
    assert sorted(mock.asked) == ["M1203", "M1805"]
    assert cache.offers_of(engine, "M1805")["count"] == 312
    mock.token_status = 400
    mock.valid.clear()
    status, _, err = _run(capsys, "--db", str(engine.url))
    assert status == 1 and "refuses the credentials" in err and "cached counts stay" in err
    assert cache.offers_of(engine, "M1805")["count"] == 312
