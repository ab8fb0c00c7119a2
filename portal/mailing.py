"""E-mail alerts: settings, signed links, the mails themselves, and their delivery over SMTP.

Used by the portal (subscription, confirmation, unsubscription) and by ``moisson alerts``
(digests and the outbox). Links are signed by itsdangerous with ``MOISSON_ALERTS_SECRET``
and carry a random nonce whose SHA-256 the subscription keeps: a link cannot be guessed
(signature and 128 random bits), the confirmation link expires (``CONFIRM_FOR``) and works
once (its hash is cleared), and an unsubscription link dies with the address it deletes.
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from fastapi.exceptions import RequestValidationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from portal import formatting
from storage import alerts as store

CONFIRM_FOR = timedelta(hours=48)
UNCONFIRMED_KEPT = timedelta(days=7)  # `moisson alerts purge`
PER_ADDRESS = (5, timedelta(days=1))  # subscriptions an address may make in that time
PER_CLIENT = (10, timedelta(hours=1))  # subscriptions one client may ask in that time
DIGEST_ITEMS = 20  # news per subscription in one digest; the rest is a link
STARTING_IN = timedelta(days=7)
# an address as a form may send it: one @, no blank or control character, a dotted domain
ADDRESS = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")
MAX_ADDRESS = 254

_mails = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates") / "mail"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_mails.finalize = formatting.printable
_mails.globals.update(french_date=formatting.french_date)


class AlertsUnavailable(RuntimeError):
    """Alerts are not configured: what is missing, for an operator."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = None
    sender: str = "Moisson <alertes@localhost>"
    timeout: float = 30.0

    @classmethod
    def from_environment(cls, env=os.environ) -> SmtpSettings | None:
        """``MOISSON_SMTP_HOST`` (and ``_PORT``, ``_STARTTLS``, ``_USER``, ``_PASSWORD``),
        ``MOISSON_ALERTS_FROM``; None without a host."""
        host = env.get("MOISSON_SMTP_HOST")
        if not host:
            return None
        port = env.get("MOISSON_SMTP_PORT", "587")
        if not port.isdigit():
            raise AlertsUnavailable(f"MOISSON_SMTP_PORT {port!r} is not a port number")
        return cls(
            host=host,
            port=int(port),
            starttls=env.get("MOISSON_SMTP_STARTTLS", "true").lower() not in ("0", "false", "no"),
            user=env.get("MOISSON_SMTP_USER") or None,
            password=env.get("MOISSON_SMTP_PASSWORD") or None,
            sender=env.get("MOISSON_ALERTS_FROM") or cls.sender,
        )


def default_sender() -> str:
    """``MOISSON_ALERTS_FROM``, for mails queued by a portal that has no SMTP settings."""
    return os.environ.get("MOISSON_ALERTS_FROM") or SmtpSettings.sender


class Links:
    """The signed links of alerts: confirmation (expiring) and unsubscription."""

    def __init__(self, secret: str):
        if not secret or len(secret) < 32:
            raise AlertsUnavailable(
                "MOISSON_ALERTS_SECRET must be at least 32 characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        self._confirm = URLSafeTimedSerializer(secret, salt="moisson-alerts-confirm")
        self._unsubscribe = URLSafeSerializer(secret, salt="moisson-alerts-unsubscribe")

    @staticmethod
    def nonce() -> str:
        return secrets.token_urlsafe(16)

    def confirm_token(self, subscription_id: int, nonce: str) -> str:
        return self._confirm.dumps([subscription_id, nonce])

    def unsubscribe_token(self, subscription_id: int, nonce: str) -> str:
        return self._unsubscribe.dumps([subscription_id, nonce])

    def read_confirm(self, token: str) -> tuple[int, str] | None:
        try:
            return _pair(self._confirm.loads(token, max_age=CONFIRM_FOR.total_seconds()))
        except (SignatureExpired, BadSignature):
            return None

    def read_unsubscribe(self, token: str) -> tuple[int, str] | None:
        try:
            return _pair(self._unsubscribe.loads(token))
        except BadSignature:
            return None


def _pair(value) -> tuple[int, str] | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        return value[0], value[1]
    return None


def valid_address(text: str | None) -> str | None:
    """The address, trimmed and with its domain in lower case, or None if unusable."""
    text = (text or "").strip()
    if len(text) > MAX_ADDRESS or not ADDRESS.fullmatch(text):
        return None
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


# -- the mails -------------------------------------------------------------------------------------


def message(
    sender: str,
    address: str,
    subject: str,
    template: str,
    context: dict,
    unsubscribe_url: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """A French mail in plain text and HTML; with an unsubscription link, the RFC 8058
    headers for a one-click unsubscription from the mail client."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = address
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> "))
    if now is not None:
        mail["Date"] = format_datetime(now)
    context = {**context, "unsubscribe_url": unsubscribe_url}
    if unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(_mails.get_template(f"{template}.txt").render(context))
    mail.add_alternative(_mails.get_template(f"{template}.html").render(context), subtype="html")
    return mail


def deliver(settings: SmtpSettings, mail_text: str) -> None:
    """Hand one stored mail to the SMTP server; smtplib's exceptions say what went wrong."""
    from email import message_from_string, policy

    mail = message_from_string(mail_text, policy=policy.SMTP)
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(mail)


def send_outbox(engine, settings: SmtpSettings, now, kind: str | None = None) -> dict[str, int]:
    """Send every pending mail of the outbox, one at a time: claimed (committed) before the
    SMTP conversation, marked sent right after the server's acceptance. A refusal of the
    address is final (failed); a server that cannot be reached leaves it pending."""
    counts = {"sent": 0, "failed": 0, "pending": 0}
    for outbox_id in store.pending_ids(engine, kind):
        row = store.claim(engine, outbox_id)
        if row is None:
            continue
        try:
            deliver(settings, row["message"])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            code = getattr(exc, "smtp_code", None) or 550
            permanent = code >= 500 or row["attempts"] >= 5
            state = store.FAILED if permanent else store.PENDING
            store.finish(engine, outbox_id, state, now, error=str(exc)[:500])
            counts["failed" if permanent else "pending"] += 1
            continue
        except (OSError, smtplib.SMTPException) as exc:
            state = store.FAILED if row["attempts"] >= 5 else store.PENDING
            store.finish(engine, outbox_id, state, now, error=str(exc)[:500])
            counts["failed" if state == store.FAILED else "pending"] += 1
            if state == store.PENDING:
                break  # the server is away: the rest waits for the next run
            continue
        store.finish(engine, outbox_id, store.SENT, now)
        counts["sent"] += 1
    return counts


# -- digests ---------------------------------------------------------------------------------------


def search_matches(catalogue, query: str, now) -> list[tuple]:
    """(id, title) of the courses a kept search selects at ``now``;
    ``RequestValidationError`` when the search rules no longer accept it."""
    from portal.params import search_from_query
    from storage.search import matching_courses

    return matching_courses(catalogue, search_from_query(query).filters, now)


def _search_news(catalogue, query: str, seen: list[int] | None, now, url):
    """A kept search's news: the courses it selects now that it did not select at the
    subscriber's last digest (``seen``, recorded at confirmation and with each digest),
    newest first; and the ids to remember. A course that newly matches (a new course, or
    one whose new session puts it in the chosen state) is news once."""
    from portal.params import search_from_query

    params = search_from_query(query)
    matches = search_matches(catalogue, query, now)
    keys = [course_id for course_id, _title in matches]
    if seen is None:  # nothing recorded yet: what matches now is the starting point
        return None, keys
    known = set(seen)
    news = [(i, title) for i, title in reversed(matches) if i not in known]
    if not news:
        return None, keys
    search_url = url("search_page") + (f"?{query}" if query else "")
    section = {
        "title": f"Nouveaux cours pour votre recherche{_query_words(params)}",
        "url": search_url,
        "items": [
            {"text": title, "url": url("course_page", course_id=i)}
            for i, title in news[:DIGEST_ITEMS]
        ],
        "more": max(0, len(news) - DIGEST_ITEMS),
    }
    return section, keys


def _query_words(params) -> str:
    return f" « {params.filters.q} »" if params.filters.q else ""


def _course_news(catalogue, course_id: int, seen: set[str], since, now, url):
    """A followed course's news: new sessions, enrolments opening, a start within 7 days."""
    from storage.search import course_detail

    course = course_detail(catalogue, course_id, now)
    if course is None:
        return None, []
    sessions = store.course_sessions(catalogue, course_id)
    items = []
    for s in sessions:
        start, end = s["start"], s["end"]
        where = s["platform_label"]
        if end is not None and end <= now:
            continue
        if start is not None and since + STARTING_IN < start <= now + STARTING_IN and start > now:
            text = f"Commence le {formatting.french_date(start)} ({where})"
        elif s["enrolment_start"] is not None and since < s["enrolment_start"] <= now:
            until = s["enrolment_end"]
            text = "Inscriptions ouvertes" + (
                f" jusqu'au {formatting.french_date(until)}" if until else ""
            )
            text += f" ({where})"
        elif s["key"] not in seen:
            text = (
                "Nouvelle session"
                + (f" le {formatting.french_date(start)}" if start else "")
                + f" ({where})"
            )
        else:
            continue
        items.append({"text": text, "url": s["url"] or url("course_page", course_id=course_id)})
    keys = [s["key"] for s in sessions]
    if not items:
        return None, keys
    page = url("course_page", course_id=course_id)
    section = {"title": course["title"], "url": page, "items": items[:DIGEST_ITEMS]}
    section["more"] = max(0, len(items) - DIGEST_ITEMS)
    return section, keys


def compose_digests(alerts_engine, catalogue, links: Links, sender: str, now, url) -> int:
    """For each confirmed address without today's digest, what is new since its last mail,
    put in the outbox (nothing when nothing is new). ``url(name, **params)`` makes the
    portal's absolute URLs. Returns the number of digests queued."""
    from portal.formatting import PARIS

    day = now.astimezone(PARIS).date().isoformat()
    queued = 0
    for address, subscriptions in store.confirmed_by_address(alerts_engine).items():
        if store.digest_sent_on(alerts_engine, address, day):
            continue
        sections, seen = [], {}
        for sub in subscriptions:
            since = sub["last_mailed_at"] or sub["confirmed_at"]
            if sub["course_id"] is not None:
                section, keys = _course_news(
                    catalogue, sub["course_id"], set(sub["seen"] or []), since, now, url
                )
                seen[sub["id"]] = keys
            else:
                try:
                    section, keys = _search_news(
                        catalogue, sub["search"] or "", sub["seen"], now, url
                    )
                    seen[sub["id"]] = keys
                except RequestValidationError:  # a kept search the rules now refuse
                    section = None
            if section:
                sections.append(section)
        if not sections:
            store.mark_mailed(alerts_engine, address, now, seen)
            continue
        first = subscriptions[0]
        leave = links.unsubscribe_token(first["id"], first["unsubscribe_key"])
        mail = message(
            sender,
            address,
            "Du nouveau dans vos alertes Moisson",
            "digest",
            {"sections": sections},
            unsubscribe_url=url("alert_unsubscribe", token=leave),
            now=now,
        )
        if store.queue_digest(alerts_engine, address, day, mail.as_string(), now, seen):
            queued += 1
    return queued
