"""Sessions: dates to timezone-aware UTC, open ends, impossible ranges, pace.

Platforms give ISO dates here (free French text is the dates normaliser's job). A date
without an offset is Paris time. Richie writes "no end" as year 9999 (its MAX_DATE);
any year from 9999 on means "open". A session whose end precedes its start keeps its
start and loses its end, and is counted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from pipelines.common import Pipeline
from pipelines.language import language_code

PARIS = ZoneInfo("Europe/Paris")
OPEN_YEAR = 9999
DATE_KEYS = ("start", "end", "enrolment_start", "enrolment_end")
PACES = ("scheduled", "self_paced", "always_open")


class UnparsedDate(ValueError):
    pass


def parse_iso_datetime(value) -> datetime | None:
    """An aware UTC datetime from an ISO string, or None for an open ("9999") date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = str(value).strip()
        if text[:4].isdigit() and int(text[:4]) >= OPEN_YEAR:
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise UnparsedDate(f"not an ISO date: {text[:60]!r}") from exc
    if moment.year >= OPEN_YEAR:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(UTC)


def _amount(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def normalise_session(raw: dict, counters: dict[str, int] | None = None) -> dict:
    counters = counters if counters is not None else {}
    session: dict = {"key": str(raw.get("key"))}
    open_ended = set()
    for key in DATE_KEYS:
        value = raw.get(key)
        try:
            session[key] = parse_iso_datetime(value)
        except UnparsedDate:
            session[key] = None
            counters["normalise/dates/unparsed"] = counters.get("normalise/dates/unparsed", 0) + 1
            continue
        if value not in (None, "") and session[key] is None:
            open_ended.add(key)
    if session["start"] and session["end"] and session["end"] < session["start"]:
        session["end"] = None
        counters["moisson/sessions/end_before_start"] = (
            counters.get("moisson/sessions/end_before_start", 0) + 1
        )
    pace = raw.get("pace")
    if pace not in PACES:
        pace = None
    if pace is None:
        if {"end", "enrolment_end"} <= open_ended:
            pace = "self_paced"
        elif session["start"] is not None:
            pace = "scheduled"
    session["pace"] = pace
    codes = [c for c in map(language_code, raw.get("languages") or []) if c]
    session["language"] = "fr" if "fr" in codes else (codes[0] if codes else None)
    session["price"] = _amount(raw.get("price"))
    session["currency"] = raw.get("currency") or raw.get("price_currency")
    session["offer"] = raw.get("offer")
    session["certificate"] = raw.get("certificate_offer")
    session["certificate_price"] = _amount(raw.get("certificate_price"))
    return session


class SessionsPipeline(Pipeline):
    def process_item(self, item):
        counters: dict[str, int] = {}
        item["sessions_normalised"] = [
            normalise_session(raw, counters) for raw in item.get("sessions") or []
        ]
        for key, count in counters.items():
            self.inc(key, count)
        return item
