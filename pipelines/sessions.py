"""Sessions: dates to timezone-aware UTC, open ends, impossible ranges, pace.

Platforms give ISO dates here; a date that is not ISO (a future spider's « Du 3 mars au 12
avril ») goes through the dates normaliser (``pipelines/normalise/dates.py``), which also
reads a free-text pace (« À votre rythme »). A date without an offset is in the platform's
zone: the session's ``timezone`` key, else its site's ``timezone`` in a data file of sites,
else the spider's ``timezone`` attribute, else Europe/Paris. One rule for every day written
without a time, ISO ("2018-12-10") or free text: as a start it begins at 00:00, as an end
(course or enrolment) it lasts until 23:59:59 of that day in that zone. Richie writes "no
end" as year 9999 (its MAX_DATE); any year from 9999 on means "open". A session whose end
precedes its start keeps its start and loses its end, and is counted. A price that is not a
finite number (``NaN``) is dropped and counted; the session and its course stay.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pipelines.common import Pipeline, reference_time
from pipelines.language import language_code
from pipelines.normalise.dates import parse_dates

PARIS = ZoneInfo("Europe/Paris")
OPEN_YEAR = 9999
DATE_KEYS = ("start", "end", "enrolment_start", "enrolment_end")
END_KEYS = ("end", "enrolment_end")
PACES = ("scheduled", "self_paced", "always_open")


class UnparsedDate(ValueError):
    pass


def parse_iso_datetime(value, key: str = "start", zone: ZoneInfo = PARIS) -> datetime | None:
    """An aware UTC datetime from an ISO string, or None for an open ("9999") date.

    ``key`` says which date it is: a date-only end lasts until the end of its day.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return _moment(value, key, zone) if value.year < OPEN_YEAR else None
    else:
        text = str(value).strip()
        if text[:4].isdigit() and int(text[:4]) >= OPEN_YEAR:
            return None
        try:
            return _moment(date.fromisoformat(text), key, zone)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise UnparsedDate(f"not an ISO date: {text[:60]!r}") from exc
    if moment.year >= OPEN_YEAR:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _amount(value, counters: dict[str, int]) -> float | None:
    """A price; not a finite number (NaN, Infinity) is no price, counted."""
    if value is None or value == "":
        return None
    try:
        amount = float(str(value).replace(",", "."))
    except ValueError:
        return None
    if not math.isfinite(amount):
        _count(counters, "normalise/price/not_finite")
        return None
    return amount


def _moment(value: date | datetime, key: str, zone: ZoneInfo = PARIS) -> datetime:
    """A date as an aware UTC datetime: a day starts at 00:00 and, as an end, ends at 23:59:59."""
    if isinstance(value, datetime):
        moment = value
    elif key in END_KEYS:
        moment = datetime.combine(value, time()) + timedelta(days=1, seconds=-1)
    else:
        moment = datetime.combine(value, time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _count(counters: dict[str, int], key: str) -> None:
    counters[key] = counters.get(key, 0) + 1


def zone_of(name: str | None) -> ZoneInfo:
    """The zone named ``name`` (an IANA name such as "America/Montreal"), Paris if none."""
    if not name:
        return PARIS
    try:
        return ZoneInfo(str(name))
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown timezone {name!r}") from exc


def normalise_session(
    raw: dict,
    counters: dict[str, int] | None = None,
    today: date | None = None,
    zone: ZoneInfo = PARIS,
) -> dict:
    """One raw session as a SessionRecord dict; ``today`` anchors free-text dates.

    ``zone`` is the platform's; a session's own ``timezone`` key overrides it.
    """
    counters = counters if counters is not None else {}
    if raw.get("timezone"):
        try:
            zone = zone_of(raw["timezone"])
        except ValueError:
            _count(counters, "normalise/timezone/unparsed")
    session: dict = {"key": str(raw.get("key"))}
    open_ended = set()
    free_text: dict[str, datetime] = {}
    text_pace = None
    for key in DATE_KEYS:
        value = raw.get(key)
        try:
            session[key] = parse_iso_datetime(value, key, zone)
        except UnparsedDate:
            session[key] = None
            parsed = parse_dates(value, today)
            if parsed.unparsed:
                _count(counters, "normalise/dates/unparsed")
                continue
            text_pace = text_pace or parsed.pace
            found = {k: getattr(parsed, k) for k in DATE_KEYS if getattr(parsed, k) is not None}
            # "start": "Du 3 mars au 12 avril" states the end too; a lone date is this key's.
            if key not in found and len(found) == 1:
                found = {key: next(iter(found.values()))}
            for found_key, found_value in found.items():
                free_text.setdefault(found_key, _moment(found_value, found_key, zone))
            continue
        if value not in (None, "") and session[key] is None:
            open_ended.add(key)
    for key, moment in free_text.items():
        if session.get(key) is None and key not in open_ended:
            session[key] = moment
    if session["start"] and session["end"] and session["end"] < session["start"]:
        session["end"] = None
        counters["moisson/sessions/end_before_start"] = (
            counters.get("moisson/sessions/end_before_start", 0) + 1
        )
    pace = raw.get("pace")
    if pace is not None and pace not in PACES:
        parsed_pace = parse_dates(pace, today).pace if isinstance(pace, str) else None
        if parsed_pace is None:
            _count(counters, "normalise/pace/unparsed")
        pace = parsed_pace
    pace = pace or text_pace
    if pace is None:
        if {"end", "enrolment_end"} <= open_ended:
            pace = "self_paced"
        elif session["start"] is not None:
            pace = "scheduled"
    session["pace"] = pace
    codes = [c for c in map(language_code, raw.get("languages") or []) if c]
    session["language"] = "fr" if "fr" in codes else (codes[0] if codes else None)
    session["price"] = _amount(raw.get("price"), counters)
    session["currency"] = raw.get("currency") or raw.get("price_currency")
    session["offer"] = raw.get("offer")
    session["certificate"] = raw.get("certificate_offer")
    session["certificate_price"] = _amount(raw.get("certificate_price"), counters)
    # as stated; pipelines/duration.py reads them into hours and weeks
    for key in ("duration", "effort"):
        value = raw.get(key)
        session[f"{key}_text"] = None if value in (None, "") else str(value)
    return session


class SessionsPipeline(Pipeline):
    def __init__(self, crawler=None):
        super().__init__(crawler)
        settings = crawler.settings if crawler is not None else None
        self.today = reference_time(settings).astimezone(PARIS).date()
        self.spider = getattr(crawler, "spider", None) if crawler is not None else None
        self.zone = zone_of(getattr(self.spider, "timezone", None))
        self.zones: dict[str | None, ZoneInfo] = {}

    def zone_for(self, platform: str | None) -> ZoneInfo:
        """The platform's zone: its site's (``spider.timezone_for``), else the spider's."""
        if platform not in self.zones:
            own = getattr(self.spider, "timezone_for", None)
            self.zones[platform] = zone_of(own(platform)) if callable(own) else self.zone
        return self.zones[platform]

    def process_item(self, item):
        counters: dict[str, int] = {}
        zone = self.zone_for(item.get("platform"))
        item["sessions_normalised"] = [
            normalise_session(raw, counters, self.today, zone) for raw in item.get("sessions") or []
        ]
        for key, count in counters.items():
            self.inc(key, count)
        return item
