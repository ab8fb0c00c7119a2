"""Tell an operator that a run is not healthy: e-mail over SMTP and a generic webhook.

Each notifier is configured by settings and skipped when they are absent. A notifier that
fails logs an error and never stops the others or the crawl: the verdict is in the log and
in ``crawl_run`` whatever happens to the alert.

- e-mail: ``MOISSON_ALERT_SMTP_HOST`` (and ``_PORT``, ``_USER``, ``_PASSWORD``,
  ``_STARTTLS``), ``MOISSON_ALERT_EMAIL_FROM``, ``MOISSON_ALERT_EMAIL_TO`` (comma-separated);
- webhook: ``MOISSON_ALERT_WEBHOOK_URL`` receives the alert as a JSON ``POST``.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage

logger = logging.getLogger(__name__)

# What an alert quotes from the run's stats, so the reader sees the run at a glance.
QUOTED_STATS = (
    "item_scraped_count",
    "item_dropped_count",
    "moisson/items/stored",
    "moisson/listings/new",
    "moisson/listings/changed",
    "moisson/listings/unchanged",
    "log_count/ERROR",
    "retry/count",
    "retry/max_reached",
    "downloader/request_count",
    "elapsed_time_seconds",
)


@dataclass
class Alert:
    spider: str
    crawl_run_id: int | None
    finish_reason: str | None
    healthy: bool
    reasons: list[str]
    stats: dict = field(default_factory=dict)

    @classmethod
    def from_run(cls, spider, run_id, finish_reason, verdict, stats: dict) -> Alert:
        quoted = {k: stats[k] for k in QUOTED_STATS if k in stats}
        return cls(spider, run_id, finish_reason, verdict.healthy, list(verdict.reasons), quoted)

    @property
    def subject(self) -> str:
        return f"[moisson] {self.spider}: run {self.crawl_run_id} is not healthy"

    def text(self) -> str:
        lines = [
            f"The crawl of {self.spider} (run {self.crawl_run_id}, finish reason "
            f"{self.finish_reason!r}) is not healthy, so no listing was marked missing.",
            "",
            "Reasons:",
            *(f"- {reason}" for reason in self.reasons),
            "",
            "Stats:",
            *(f"  {key}: {value}" for key, value in self.stats.items()),
            "",
            "What each reason means and what to do: docs/OPERATIONS.md, 'Health checks'.",
        ]
        return "\n".join(lines)

    def payload(self) -> dict:
        return {"event": "moisson.run.unhealthy", "subject": self.subject, **asdict(self)}


def send_email(settings, alert: Alert) -> bool:
    host = settings.get("MOISSON_ALERT_SMTP_HOST")
    recipients = settings.getlist("MOISSON_ALERT_EMAIL_TO")
    if not host or not recipients:
        return False
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = settings.get("MOISSON_ALERT_EMAIL_FROM") or "moisson@localhost"
    message["To"] = ", ".join(recipients)
    message.set_content(alert.text())
    timeout = settings.getfloat("MOISSON_ALERT_TIMEOUT", 10)
    with smtplib.SMTP(
        host, settings.getint("MOISSON_ALERT_SMTP_PORT", 25), timeout=timeout
    ) as smtp:
        if settings.getbool("MOISSON_ALERT_SMTP_STARTTLS"):
            smtp.starttls()
        if settings.get("MOISSON_ALERT_SMTP_USER"):
            smtp.login(settings["MOISSON_ALERT_SMTP_USER"], settings["MOISSON_ALERT_SMTP_PASSWORD"])
        smtp.send_message(message)
    return True


def post_webhook(settings, alert: Alert) -> bool:
    url = settings.get("MOISSON_ALERT_WEBHOOK_URL")
    if not url:
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(alert.payload(), ensure_ascii=False, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    timeout = settings.getfloat("MOISSON_ALERT_TIMEOUT", 10)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (operator's URL)
        response.read()
    return True


NOTIFIERS = {"e-mail": send_email, "webhook": post_webhook}


def notify(settings, alert: Alert, spider=None) -> list[str]:
    """Send ``alert`` through every configured notifier; the names of those that sent it."""
    sent = []
    extra = {"spider": spider} if spider is not None else None
    for name, send in NOTIFIERS.items():
        try:
            if send(settings, alert):
                sent.append(name)
                logger.info("alert for %s sent by %s", alert.spider, name, extra=extra)
        except Exception as exc:  # an alert channel down must not hide the verdict
            logger.error(
                "could not send the alert for %s by %s: %s", alert.spider, name, exc, extra=extra
            )
    return sent
