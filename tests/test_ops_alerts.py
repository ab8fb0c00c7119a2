"""Alerts: an unhealthy run is sent by e-mail (SMTP) and to a webhook, with its reasons.

The mail server and the webhook receiver are local (tests.mockserver); a notifier that
cannot reach its server logs an error and does not stop the others.
"""

from __future__ import annotations

import logging

import pytest
from scrapy.settings import Settings

from crawlers.health import Verdict
from crawlers.notifiers import Alert, notify
from tests.mockserver import Fault, RichieSite, free_port
from tests.mockserver.network import SmtpSink
from tests.test_ops_faults import PAGE, crawl_site, spider

REASONS = ["2 errors logged, more than the allowed 0", "finish reason is 'shutdown'"]


@pytest.fixture
def smtp():
    sink = SmtpSink()
    yield sink
    sink.close()


def alert() -> Alert:
    verdict = Verdict(healthy=False, reasons=REASONS)
    stats = {"item_scraped_count": 12, "log_count/ERROR": 2, "unrelated": 1}
    return Alert.from_run("fun_mooc", 41, "shutdown", verdict, stats)


def test_an_alert_goes_by_mail_and_webhook(smtp):
    with RichieSite() as receiver:
        settings = Settings(
            {
                "MOISSON_ALERT_SMTP_HOST": "127.0.0.1",
                "MOISSON_ALERT_SMTP_PORT": smtp.port,
                "MOISSON_ALERT_EMAIL_FROM": "moisson@example.org",
                "MOISSON_ALERT_EMAIL_TO": "ops@example.org,night@example.org",
                "MOISSON_ALERT_WEBHOOK_URL": f"{receiver.url}/hooks/moisson",
            }
        )
        assert notify(settings, alert()) == ["e-mail", "webhook"]
    (mail,) = smtp.messages
    message = mail["message"]
    assert message["Subject"] == "[moisson] fun_mooc: run 41 is not healthy"
    assert message["To"] == "ops@example.org, night@example.org"
    assert len(mail["to"]) == 2
    body = message.get_payload()
    assert all(reason in body for reason in REASONS)
    assert "item_scraped_count: 12" in body and "unrelated" not in body
    ((path, payload),) = receiver.posts
    assert path == "/hooks/moisson"
    assert payload["event"] == "moisson.run.unhealthy"
    assert (payload["spider"], payload["crawl_run_id"], payload["healthy"]) == (
        "fun_mooc",
        41,
        False,
    )
    assert payload["reasons"] == REASONS


def test_nothing_configured_sends_nothing():
    assert notify(Settings(), alert()) == []


def test_a_notifier_that_fails_is_logged_and_the_others_still_send(smtp, caplog):
    settings = Settings(
        {
            "MOISSON_ALERT_SMTP_HOST": "127.0.0.1",
            "MOISSON_ALERT_SMTP_PORT": smtp.port,
            "MOISSON_ALERT_EMAIL_TO": "ops@example.org",
            "MOISSON_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/nobody-listens",
            "MOISSON_ALERT_TIMEOUT": 2,
        }
    )
    with caplog.at_level(logging.ERROR, logger="crawlers.notifiers"):
        assert notify(settings, alert()) == ["e-mail"]
    assert "could not send the alert for fun_mooc by webhook" in caplog.text
    assert len(smtp.messages) == 1


def test_an_unhealthy_crawl_alerts_and_a_healthy_one_does_not(smtp, tmp_path):
    db = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    with RichieSite() as site:
        alerting = {
            "MOISSON_ALERT_SMTP_HOST": "127.0.0.1",
            "MOISSON_ALERT_SMTP_PORT": str(smtp.port),
            "MOISSON_ALERT_EMAIL_TO": "ops@example.org",
            "MOISSON_ALERT_WEBHOOK_URL": f"{site.url}/hooks/moisson",
        }
        healthy, _summary, _elapsed = crawl_site(db, site, **alerting)
        assert healthy.returncode == 0, healthy.stderr
        assert smtp.messages == [] and site.posts == []

        site.inject(PAGE.format(10), *[Fault.answer(503)] * 3)
        result, summary, _elapsed = crawl_site(db, site, **alerting)
    assert result.returncode == 1
    reasons = spider(summary)["reasons"]
    assert reasons
    ((_path, payload),) = site.posts
    assert payload["reasons"] == reasons
    assert payload["crawl_run_id"] == spider(summary)["crawl_run_id"]
    (mail,) = smtp.messages
    body = mail["message"].get_payload(decode=True).decode()  # long lines come encoded
    assert all(reason in body for reason in reasons)
