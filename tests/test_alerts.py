"""E-mail alerts end to end, against a real SMTP server on loopback (aiosmtpd).

subscribe → confirmation mail → confirm → a catalogue write → `moisson alerts send` (a real
subprocess) → digest → one-click unsubscribe; and a send killed with SIGKILL mid-way, rerun:
every address gets its digest exactly once.
"""

from __future__ import annotations

import email
import os
import re
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from starlette.testclient import TestClient

from pipelines.records import CourseRecord, SessionRecord
from portal.alerts import Alerts
from portal.app import create_app
from portal.mailing import Links, SmtpSettings, search_matches
from storage import alerts as store
from storage.readonly import open_readonly
from tests.conftest import ROOT
from tests.portal_catalogue import _record as course_record
from tests.portal_catalogue import store_records

NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)
SECRET = "x" * 48
PUBLIC = "https://cours.example.fr"
ADDRESS = "apprenant@example.org"


class Inbox:
    """An aiosmtpd handler keeping every message; ``kill_at`` SIGKILLs the sender process
    when that message (1-based) arrives, before it is accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.kill_at: int | None = None
        self.sender_pid: int | None = None
        self.arrived = 0

    async def handle_DATA(self, server, session, envelope):
        self.arrived += 1
        if self.kill_at is not None and self.arrived == self.kill_at and self.sender_pid:
            os.kill(self.sender_pid, signal.SIGKILL)
            return "451 sender gone"
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.SMTP))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _record(external_id: str, title: str, start_in_days: int | None = None) -> CourseRecord:
    starts = [] if start_in_days is None else [NOW + timedelta(days=start_in_days)]
    return dated_course(external_id, title, starts)


def dated_course(external_id: str, title: str, starts: list[datetime]) -> CourseRecord:
    """A course of six-week sessions starting at ``starts``."""
    sessions = [
        SessionRecord(
            key=s.date().isoformat(), start=s, end=s + timedelta(weeks=6), pace="scheduled"
        )
        for s in starts
    ]
    return course_record(external_id, title, description="Un cours.", sessions=sessions)


def _write(url: str, records: list[CourseRecord], when: datetime) -> None:
    """A direct catalogue write, as a nightly crawl's store does."""
    store_records(url, records, when)[0].engine.dispose()


@pytest.fixture
def catalogue(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    _write(url, [_record("oc-python", "Apprenez à programmer en Python", 60)], NOW)
    return url


def _env(url: str, port: int) -> dict:
    return {
        **os.environ,
        "MOISSON_ALERTS_DATABASE_URL": url,
        "MOISSON_ALERTS_SECRET": SECRET,
        "MOISSON_SMTP_HOST": "127.0.0.1",
        "MOISSON_SMTP_PORT": str(port),
        "MOISSON_SMTP_STARTTLS": "false",
        "MOISSON_ALERTS_FROM": "Moisson <alertes@cours.example.fr>",
        "MOISSON_PUBLIC_URL": PUBLIC,
    }


def _send_args(url: str, when: datetime) -> list[str]:
    """``moisson alerts send`` as cron runs it after the crawl, at ``when``."""
    return [
        sys.executable,
        "-m",
        "moisson.cli",
        "alerts",
        "send",
        "--db",
        url,
        "--now",
        when.isoformat(),
    ]


def _send(url: str, port: int, when: datetime) -> subprocess.CompletedProcess:
    return subprocess.run(
        _send_args(url, when),
        env=_env(url, port),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _portal(url: str, port: int, clock=lambda: NOW) -> TestClient:
    alerts = Alerts(
        engine=store.open_alerts_engine(url),
        links=Links(SECRET),
        smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False),
    )
    app = create_app(open_readonly(url), clock=clock, public_url=PUBLIC, alerts=alerts)
    return TestClient(app, base_url=PUBLIC)


def _link(mail, pattern: str) -> str:
    text = mail.get_body(("plain",)).get_content()
    found = re.search(rf"{re.escape(PUBLIC)}{pattern}\S+", text)
    assert found, text
    return urlsplit(found.group(0)).path


def _subscriptions(url: str) -> int:
    engine = store.open_alerts_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(store.subscription)).scalar_one()
    engine.dispose()
    return count


def test_the_whole_cycle_subscribe_confirm_digest_unsubscribe(catalogue, smtp):
    inbox, port = smtp
    client = _portal(catalogue, port)
    page = client.get("/?q=python")
    assert 'name="adresse"' in page.text and "Prévenez-moi" in page.text

    answer = client.post(
        "/alertes/recherche?q=python&page=2", content=f"adresse={ADDRESS}", headers=FORM
    )
    assert answer.status_code == 200, answer.text
    assert ADDRESS not in answer.text  # the address is never written back
    assert len(inbox.messages) == 1  # the confirmation, and only it
    confirmation = inbox.messages[0]
    assert confirmation["To"] == ADDRESS
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert confirmation.get_body(("html",)) is not None

    # before confirmation nothing is sent, whatever is new
    _write(catalogue, [_record("oc-python-2", "Python pour la science des données")], NOW)
    before = _send(catalogue, port, NOW + timedelta(hours=1))
    assert before.returncode == 0, before.stderr
    assert len(inbox.messages) == 1

    confirm = _link(confirmation, "/alertes/confirmer/")
    assert client.get(confirm).status_code == 200  # a button, no action
    assert _confirmed(catalogue) == 0
    assert client.post(confirm).status_code == 200
    assert _confirmed(catalogue) == 1
    assert client.post(confirm).status_code == 400  # used once

    # the nightly crawl brings a new Python course, then the send run
    tomorrow = NOW + timedelta(days=1)
    _write(catalogue, [_record("oc-python-3", "Python avancé : les décorateurs", 40)], tomorrow)
    _write(catalogue, [_record("oc-cuisine", "Cuisine française", 40)], tomorrow)
    sent = _send(catalogue, port, tomorrow + timedelta(hours=1))
    assert sent.returncode == 0, sent.stderr
    assert len(inbox.messages) == 2
    digest = inbox.messages[1]
    text = digest.get_body(("plain",)).get_content()
    assert "Python avancé : les décorateurs" in text
    assert "Cuisine" not in text  # not of the search
    assert "Python pour la science" not in text  # before the confirmation: not news
    assert digest.get_body(("html",)) is not None
    unsubscribe = digest["List-Unsubscribe"].strip("<>")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # one digest a day at most, even with news
    _write(catalogue, [_record("oc-python-4", "Python et les tests", 40)], tomorrow)
    assert _send(catalogue, port, tomorrow + timedelta(hours=3)).returncode == 0
    assert len(inbox.messages) == 2

    # the next night: only what the search did not select at the last digest, although
    # that course was written before the last digest went out
    day3 = tomorrow + timedelta(days=1)
    assert _send(catalogue, port, day3 + timedelta(hours=1)).returncode == 0
    assert len(inbox.messages) == 3
    text = inbox.messages[2].get_body(("plain",)).get_content()
    assert "Python et les tests" in text
    for told in ("décorateurs", "science des données", "Apprenez à programmer"):
        assert told not in text
    # nothing new: no mail
    assert _send(catalogue, port, day3 + timedelta(days=1)).returncode == 0
    assert len(inbox.messages) == 3

    # RFC 8058 one-click: a POST to the header's URL deletes the address
    gone = client.post(
        urlsplit(unsubscribe).path, content="List-Unsubscribe=One-Click", headers=FORM
    )
    assert gone.status_code == 200
    assert _subscriptions(catalogue) == 0
    assert client.post(urlsplit(unsubscribe).path).status_code == 400
    _write(catalogue, [_record("oc-python-5", "Python et Django", 40)], day3 + timedelta(days=2))
    assert _send(catalogue, port, day3 + timedelta(days=2, hours=1)).returncode == 0
    assert len(inbox.messages) == 3


def test_a_search_announces_a_course_that_newly_matches_once(catalogue, smtp):
    """A course that did not match the search at confirmation and matches after a crawl
    (its new session makes it upcoming) is news once; the courses matching all along never."""
    inbox, port = smtp
    _write(catalogue, [_record("oc-cuisine", "Cuisine française")], NOW)  # no session
    client = _portal(catalogue, port)
    answer = client.post(
        "/alertes/recherche?state=upcoming", content=f"adresse={ADDRESS}", headers=FORM
    )
    assert answer.status_code == 200, answer.text
    assert client.post(_link(inbox.messages[0], "/alertes/confirmer/")).status_code == 200

    later = NOW + timedelta(days=1)
    _write(catalogue, [_record("oc-cuisine", "Cuisine française", 30)], later)
    assert _send(catalogue, port, later + timedelta(hours=1)).returncode == 0
    digests = [m for m in inbox.messages if m["Subject"].startswith("Du nouveau")]
    assert len(digests) == 1
    text = digests[0].get_body(("plain",)).get_content()
    assert "Cuisine française" in text
    assert "Apprenez à programmer" not in text  # upcoming at confirmation already
    assert _send(catalogue, port, later + timedelta(days=1)).returncode == 0
    assert len([m for m in inbox.messages if m["Subject"].startswith("Du nouveau")]) == 1


FORM = {"content-type": "application/x-www-form-urlencoded"}


def _confirmed(url: str) -> int:
    engine = store.open_alerts_engine(url)
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(store.subscription)
            .where(store.subscription.c.confirmed_at.is_not(None))
        ).scalar_one()
    engine.dispose()
    return count


def test_a_followed_course_announces_its_new_session_and_its_start(catalogue, smtp):
    inbox, port = smtp
    engine = store.open_alerts_engine(catalogue)
    with open_readonly(catalogue).connect() as conn:
        from storage.models import Listing

        course_id = conn.execute(
            select(Listing.course_id).where(Listing.external_id == "oc-python")
        ).scalar_one()
    sub = store.subscribe(engine, ADDRESS, NOW, "h", "k", lambda _id: "x", course_id=course_id)
    assert store.confirm(engine, sub, "h", NOW)
    later = NOW + timedelta(days=54)  # the session of day 60 now starts within 7 days
    record = _record("oc-python", "Apprenez à programmer en Python", 60)
    record.sessions.append(
        SessionRecord(key="s2", start=NOW + timedelta(days=200), pace="scheduled")
    )
    _write(catalogue, [record], later)
    assert _send(catalogue, port, later).returncode == 0
    digests = [m for m in inbox.messages if m["Subject"].startswith("Du nouveau")]
    assert len(digests) == 1
    text = digests[0].get_body(("plain",)).get_content()
    assert "Commence le 14 janvier 2027" in text
    assert "Nouvelle session le 3 juin 2027" in text


def test_a_send_killed_mid_way_neither_loses_nor_doubles_a_mail(catalogue, smtp):
    inbox, port = smtp
    engine = store.open_alerts_engine(catalogue)
    addresses = [f"lecteur{i}@example.org" for i in range(6)]

    def matches(search):  # what the portal records at confirmation
        return [i for i, _title in search_matches(open_readonly(catalogue), search, NOW)]

    for address in addresses:
        sub = store.subscribe(engine, address, NOW, "h", "k", lambda _id: "x", search="q=python")
        assert store.confirm(engine, sub, "h", NOW, search_matches=matches)
    with engine.begin() as conn:
        conn.execute(store.outbox.delete())
    tomorrow = NOW + timedelta(days=1)
    _write(catalogue, [_record("oc-python-3", "Python avancé : les décorateurs", 40)], tomorrow)

    inbox.kill_at = 3
    run = subprocess.Popen(
        _send_args(catalogue, tomorrow),
        env=_env(catalogue, port),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    inbox.sender_pid = run.pid
    run.communicate(timeout=120)
    assert run.returncode == -signal.SIGKILL
    assert len(inbox.messages) == 2
    assert store.outbox_counts(engine).get(store.SENDING) == 1  # the one it was sending

    inbox.kill_at = None
    again = _send(catalogue, port, tomorrow + timedelta(minutes=5))
    assert again.returncode == 0, again.stderr
    received = sorted(str(m["To"]) for m in inbox.messages)
    assert received == sorted(addresses)  # each once: none lost, none doubled
    assert store.outbox_counts(engine) == {store.SENT: len(addresses)}


def test_unconfirmed_addresses_are_purged_after_seven_days(catalogue):
    engine = store.open_alerts_engine(catalogue)
    store.subscribe(engine, "vieux@example.org", NOW, "h1", "k1", lambda _id: "x", search="")
    store.subscribe(
        engine,
        "recent@example.org",
        NOW + timedelta(days=5),
        "h2",
        "k2",
        lambda _id: "x",
        search="",
    )
    assert store.purge_unconfirmed(engine, NOW + timedelta(days=7, hours=1), timedelta(days=7)) == 1
    with engine.connect() as conn:
        left = set(conn.execute(select(store.subscription.c.address)).scalars())
        waiting = set(conn.execute(select(store.outbox.c.address)).scalars())
    assert left == waiting == {"recent@example.org"}


def test_the_alerts_engine_cannot_write_the_catalogue(catalogue):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    engine = store.open_alerts_engine(catalogue)
    with pytest.raises(DatabaseError, match="not authorized"), engine.begin() as conn:
        conn.execute(text("UPDATE course SET title = 'pris'"))


def test_abuse_bad_addresses_client_and_address_limits(catalogue, smtp):
    inbox, port = smtp
    client = _portal(catalogue, port)
    bad = client.post("/alertes/recherche", content="adresse=pas-une-adresse", headers=FORM)
    assert bad.status_code == 422 and "pas-une-adresse" not in bad.text
    for i in range(10):
        ok = client.post("/alertes/recherche", content=f"adresse={ADDRESS}", headers=FORM)
        assert ok.status_code == 200, i
    assert _subscriptions(catalogue) == 5  # the address's limit, silently
    assert len(inbox.messages) == 5
    refused = client.post("/alertes/recherche", content="adresse=autre@example.org", headers=FORM)
    assert refused.status_code == 429  # the client's limit


def test_links_cannot_be_forged_and_confirmation_expires(catalogue, smtp):
    inbox, port = smtp
    client = _portal(catalogue, port)
    client.post("/alertes/recherche?q=droit", content=f"adresse={ADDRESS}", headers=FORM)
    confirm = _link(inbox.messages[0], "/alertes/confirmer/")
    token = confirm.rsplit("/", 1)[1]
    forged = Links("y" * 48).confirm_token(1, "guess")
    assert client.post(f"/alertes/confirmer/{forged}").status_code == 400
    assert client.post(f"/alertes/confirmer/{token[:-2]}xx").status_code == 400
    assert Links(SECRET).read_confirm(token) is not None
    late = _portal(catalogue, port)
    from freezegun import freeze_time

    with freeze_time(datetime.now(UTC) + timedelta(hours=49)):
        assert late.post(confirm).status_code == 400
    assert _confirmed(catalogue) == 0


def test_without_alerts_the_portal_shows_no_form(catalogue):
    client = TestClient(create_app(open_readonly(catalogue), clock=lambda: NOW))
    assert 'name="adresse"' not in client.get("/?q=python").text
    answer = client.post("/alertes/recherche", content=f"adresse={ADDRESS}", headers=FORM)
    assert answer.status_code == 404


def test_the_commands_say_what_is_missing_and_purge(catalogue):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOISSON_")}
    run = subprocess.run(
        _send_args(catalogue, NOW), env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and "MOISSON_ALERTS_DATABASE_URL" in run.stderr
    short = {**env, "MOISSON_ALERTS_DATABASE_URL": catalogue, "MOISSON_ALERTS_SECRET": "court"}
    run = subprocess.run(
        _send_args(catalogue, NOW), env=short, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and "at least 32 characters" in run.stderr

    engine = store.open_alerts_engine(catalogue)
    store.subscribe(engine, ADDRESS, NOW, "h", "k", lambda _id: "x", search="q=droit")
    later = (NOW + timedelta(days=8)).isoformat()
    purge = [sys.executable, "-m", "moisson.cli", "alerts", "purge", "--now", later]
    done = subprocess.run(
        purge, env=_env(catalogue, 25), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 unconfirmed subscriptions removed")
    assert _subscriptions(catalogue) == 0


def test_prevenez_moi_on_a_course_page(catalogue, smtp):
    inbox, port = smtp
    client = _portal(catalogue, port)
    course = client.get("/api/v1/courses", params={"q": "python"}).json()["courses"][0]
    page = client.get(f"/cours/{course['id']}").text
    assert f'action="{PUBLIC}/cours/{course["id"]}/alerte"' in page
    assert 'for="alert-address"' in page  # the field has its label
    answer = client.post(
        f"/cours/{course['id']}/alerte", content=f"adresse={ADDRESS}", headers=FORM
    )
    assert answer.status_code == 200 and ADDRESS not in answer.text
    (mail,) = inbox.messages
    assert "ce cours" in mail.get_body(("plain",)).get_content()
    assert f"/cours/{course['id']}" in mail.get_body(("plain",)).get_content()
    missing = client.post("/cours/999999/alerte", content=f"adresse={ADDRESS}", headers=FORM)
    assert missing.status_code == 404 and len(inbox.messages) == 1


def test_serve_takes_alerts_only_when_configured(catalogue, monkeypatch):
    from moisson.cli import _portal

    for name in ("MOISSON_ALERTS_DATABASE_URL", "MOISSON_ALERTS_SECRET", "MOISSON_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    engine, app = _portal({"db": catalogue})
    assert app.state.alerts is None
    engine.dispose()
    with pytest.raises(ValueError, match="MOISSON_ALERTS_SECRET"):
        _portal({"db": catalogue, "alerts_db": catalogue})
    monkeypatch.setenv("MOISSON_ALERTS_SECRET", SECRET)
    engine, app = _portal({"db": catalogue, "alerts_db": catalogue})
    assert app.state.alerts is not None and app.state.alerts.smtp is None
    client = TestClient(app)
    assert 'name="adresse"' in client.get("/").text
    queued = client.post("/alertes/recherche", content=f"adresse={ADDRESS}", headers=FORM)
    assert queued.status_code == 200  # no SMTP here: the confirmation waits in the outbox
    assert store.outbox_counts(app.state.alerts.engine) == {store.PENDING: 1}
    app.state.alerts.engine.dispose()
    engine.dispose()
