"""Session dates from French (and English) free text.

« Du 3 mars au 12 avril 2025 », « Début : 15 sept. », « Inscriptions jusqu'au 1er
octobre », « À votre rythme »: a scanner finds the date mentions of the common shapes
with regular expressions, pairs them into ranges, gives each a role (course or enrolment,
start or end) from the words before it, then completes missing years and days the way a
reader does. dateparser is kept for what the scanner does not know (relative dates:
« dans 3 jours », « lundi prochain »), because it costs about 0.5 ms a call; results are
cached, platforms repeat the same strings thousands of times.

Conventions (docs/NORMALISATION.md): a month without a day is its first day for a start
and its last day for an end; a range whose first part has no year takes the year of the
second part (the year before if that would put the start after the end); a date without
a year takes its next occurrence on or after ``today`` unless the text says it is past.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from pipelines.normalise.text import fold, load_data

PARIS = ZoneInfo("Europe/Paris")
DATE_KEYS = ("start", "end", "enrolment_start", "enrolment_end")
PACES = ("scheduled", "self_paced", "always_open")


@dataclass(frozen=True)
class Dates:
    start: date | datetime | None = None
    end: date | datetime | None = None
    enrolment_start: date | datetime | None = None
    enrolment_end: date | datetime | None = None
    pace: str | None = None
    unparsed: str | None = None

    def as_json(self) -> dict:
        out = {key: _iso(getattr(self, key)) for key in DATE_KEYS}
        out["pace"] = self.pace
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class _Mention:
    """One date as written: any part may be missing until it is completed."""

    begin: int
    stop: int
    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    tz: timezone | None = None


def _data() -> dict:
    return load_data("dates.json")


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _word_regex(words) -> re.Pattern:
    return re.compile(rf"(?<![a-z])(?:{_alternation(words)})")


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern]:
    data = _data()
    months = _alternation(list(data["months"]) + list(data["month_abbreviations"]))
    weekdays = _alternation(data["weekdays"])
    day = r"(?P<day>1er|1re|premier|[0-3]?\d)"
    time = (
        r"(?:[\s,(]*(?:a\s+)?(?P<hour>[0-2]?\d)\s*(?:h|:)\s*(?P<minute>[0-5]\d)?(?![\d])"
        r"(?:\s*(?:heure de paris|heure francaise|\(?utc\)?))?\)?)?"
    )
    return {
        "iso": re.compile(
            r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
            r"(?:[t ](?P<hour>\d{2}):(?P<minute>\d{2})(?::\d{2}(?:\.\d+)?)?"
            r"\s*(?P<tz>z|[+-]\d{2}:?\d{2})?)?(?!\d)"
        ),
        "ymd": re.compile(
            r"(?<![\d/.])(?P<year>(?:19|20)\d{2})(?P<ysep>[/.])(?P<month>[01]\d)(?P=ysep)"
            r"(?P<day>[0-3]\d)(?![\d/.])"
        ),
        "compact": re.compile(
            r"(?<!\d)(?P<year>(?:19|20)\d{2})(?P<month>\d{2})(?P<day>\d{2})(?!\d)"
        ),
        # 28/11/2027, 28.11.27, 28-11-2027 (a dash only with a four-digit year: "3-5 mars")
        "dmy": re.compile(
            r"(?<![\d/.-])(?P<day>[0-3]?\d)(?:(?P<sep>[/.])(?P<month>[01]?\d)(?P=sep)"
            r"(?P<year>\d{4}|\d{2})|-(?P<month_dash>[01]?\d)-(?P<year_dash>(?:19|20)\d{2}))"
            r"(?![\d/]|-\d)" + time
        ),
        # "Février : 4 au 19", "Février\nDu lundi 15 …", "Mars 2024, le 3 mars": a month
        # that heads the dates listed after it (what lies between the two, folded)
        "heading": re.compile(
            r"^\s*(?:(?:19|20)\d{2}\s*)?(?::[^:]{0,40}|,?\s*(?:(?:du|le|les|des|from|on)\s*)?)$"
        ),
        "my": re.compile(r"(?<![\d/.])(?P<month>[01]?\d)/(?P<year>(?:19|20)\d{2})(?![\d/])"),
        "text": re.compile(
            rf"(?<![a-z0-9])(?:(?:{weekdays})\.?,?\s+)?(?:{day}(?:er|re)?\s+|(?P<mid>mi-?\s*))?"
            rf"(?P<month>{months})(?![a-z])\.?(?:,?\s+(?P<year>(?:19|20)\d{{2}})(?!\d))?" + time
        ),
        "english": re.compile(
            rf"(?<![a-z0-9])(?P<month>{months})(?![a-z])\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
            rf"(?!\d)(?:,?\s+(?P<year>(?:19|20)\d{{2}})(?!\d))?"
        ),
        "bare_day": re.compile(
            rf"(?<![\d/.])(?P<day>1er|1re|[0-3]?\d)\s*(?:au|-|a|et(?: le)?)\s*"
            rf"(?=(?:(?:{weekdays})\.?\s+)?(?:1er|[0-3]?\d)\s+(?:{months}))"
        ),
        "connector": re.compile(
            r"^\s*(?:,\s*)?(?:\(?(?:au |le )?(?:matin|soir|midi)\)?\s*)?"
            r"(?:au|-|a|jusqu'au|jusqu'a|to|until|through|et le|et)\s*$"
        ),
        "enrolment": _word_regex(data["enrolment_words"]),
        "enrol_in": re.compile(
            rf"((?<![a-z])(?:{_alternation(data['enrolment_words'])})[a-z]*)\s+"
            rf"(?:aux?|a la|a l'|en|pour|to|for)\s*(?:{_alternation(data['course_words'])})[a-z]*"
        ),
        "course": _word_regex(data["course_words"]),
        "start": _word_regex(data["start_words"]),
        "weak": _word_regex(data["weak_start_words"]),
        "end": _word_regex(data["end_words"]),
        "past": _word_regex(data["past_words"]),
        "not_session": _word_regex(data["not_session_words"]),
        "relative": _word_regex(data["relative_words"]),
    }


def _month_number(name: str) -> int | None:
    data = _data()
    name = name.rstrip(".")
    return data["months"].get(name) or data["month_abbreviations"].get(name)


def _day_number(text: str | None) -> int | None:
    if not text:
        return None
    if text in ("1er", "1re", "premier"):
        return 1
    return int(text)


def _tz(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def _scan(text: str) -> list[_Mention]:
    """Every date mention, earliest first; overlapping shapes keep the longest."""
    patterns = _patterns()
    abbreviations = _data()["month_abbreviations"]
    found: list[_Mention] = []
    for kind in ("iso", "ymd", "compact", "dmy", "my", "text", "english", "bare_day"):
        for m in patterns[kind].finditer(text):
            groups = m.groupdict()
            mention = _Mention(m.start(), m.end())
            if kind == "bare_day":
                mention.day = _day_number(groups["day"])
                mention.stop = m.start() + len(groups["day"])
                found.append(mention)
                continue
            month = groups.get("month") or groups.get("month_dash")
            if kind in ("text", "english"):
                bare_month = month.rstrip(".")
                if bare_month in abbreviations and not (groups.get("day") or groups.get("year")):
                    continue  # "sept" alone is the number seven
                mention.month = _month_number(bare_month)
            else:
                mention.month = int(month)
            year = groups.get("year") or groups.get("year_dash")
            if year:
                mention.year = int(year) + (2000 if len(year) == 2 else 0)
            mention.day = 15 if groups.get("mid") is not None else _day_number(groups.get("day"))
            if groups.get("hour") is not None and kind != "english":
                hour = int(groups["hour"])
                if hour <= 23:
                    mention.hour, mention.minute = hour, int(groups.get("minute") or 0)
            mention.tz = _tz(groups.get("tz"))
            found.append(mention)
    found.sort(key=lambda m: (m.begin, -(m.stop - m.begin)))
    kept: list[_Mention] = []
    for mention in found:
        if kept and mention.begin < kept[-1].stop:
            continue
        kept.append(mention)
    followers = [*kept[1:], None] if kept else []
    dates, heading_year = [], None
    for mention, following in zip(kept, followers, strict=True):
        if _is_heading(text, mention, following):
            heading_year = mention.year  # « Février 2026 : du 2 au 6 février »
            continue
        if mention.year is not None or mention.month is None:
            heading_year = heading_year if mention.year is None else None
        else:
            mention.year = heading_year
        dates.append(mention)
    return dates


def _is_heading(text: str, mention: _Mention, following: _Mention | None) -> bool:
    """« Février : 4 au 19 février 2023 »: a month without a day that titles the next date.

    A colon (« Septembre : rentrée le 8 septembre »), or only a comma or « du » / « le »,
    stands between the two; « septembre au 15 janvier » and « septembre - 15 janvier »
    stay ranges.
    """
    return (
        following is not None
        and mention.day is None
        and mention.month is not None
        and following.day is not None
        and bool(_patterns()["heading"].match(text[mention.stop : following.begin]))
    )


def _last_keyword(context: str, kinds: tuple[str, ...]) -> str | None:
    """Which kind of keyword comes last in ``context`` (the closest to the date)."""
    patterns = _patterns()
    best, best_key = None, (-1, -1)
    for kind in kinds:
        for m in patterns[kind].finditer(context):
            key = (m.end(), len(m.group()))
            if key > best_key:
                best, best_key = kind, key
    return best


def _complete(mention: _Mention, role: str) -> bool:
    """Fill a missing day from the role; False when the date cannot exist."""
    if mention.month is None or mention.year is None or not 1 <= mention.month <= 12:
        return False
    if mention.day is None:
        last = calendar.monthrange(mention.year, mention.month)[1]
        mention.day = last if role == "end" else 1
    try:
        date(mention.year, mention.month, mention.day)
    except ValueError:
        return False
    return True


def _value(mention: _Mention) -> date | datetime:
    day = date(mention.year, mention.month, mention.day)
    if mention.hour is None:
        return day
    moment = datetime(day.year, day.month, day.day, mention.hour, mention.minute or 0)
    return moment.replace(tzinfo=mention.tz or PARIS)


def _as_day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _next_year_for(month: int, day: int | None, today: date, past: bool, role: str) -> int:
    """The year of the next occurrence on or after today (the last one before, if past)."""
    for year in (today.year, today.year + 1) if not past else (today.year, today.year - 1):
        probe_day = day or (calendar.monthrange(year, month)[1] if role == "end" else 1)
        probe_day = min(probe_day, calendar.monthrange(year, month)[1])
        candidate = date(year, month, probe_day)
        if (candidate >= today) if not past else (candidate <= today):
            return year
    return today.year + (1 if not past else -1)


def parse_dates(text, today: date | None = None) -> Dates:
    """Start, end, enrolment dates and pace stated by ``text``; never raises."""
    if text is None or not str(text).strip():
        return Dates(unparsed="empty")
    today = today or datetime.now(PARIS).date()
    return _parse_cached(fold(str(text))[:500], today)


@lru_cache(maxsize=65536)
def _parse_cached(folded: str, today: date) -> Dates:
    try:
        return _parse(folded, today)
    except (ValueError, OverflowError) as exc:  # a date out of range, never a crash
        return Dates(unparsed=f"invalid date: {exc}")


def _pace_of(folded: str) -> str | None:
    for pace, phrases in _data()["paces"].items():
        if any(phrase in folded for phrase in phrases):
            return pace
    return None


def _parse(folded: str, today: date) -> Dates:
    patterns = _patterns()
    pace = _pace_of(folded)
    mentions = _scan(folded)
    if not mentions:
        if pace:
            return Dates(pace=pace)
        return _fallback(folded, today)
    past = bool(patterns["past"].search(folded))

    # Pair mentions into ranges: "du 3 mars au 12 avril", "3-5 mars", "15/09 - 20/10".
    units: list[tuple[_Mention, _Mention | None]] = []
    index = 0
    while index < len(mentions):
        first = mentions[index]
        following = mentions[index + 1] if index + 1 < len(mentions) else None
        between = folded[first.stop : following.begin] if following else ""
        if following is not None and patterns["connector"].match(between):
            units.append((first, following))
            index += 2
        else:
            if first.month is not None:  # a bare day is only a date as part of a range
                units.append((first, None))
            index += 1

    slots: dict[str, date | datetime] = {}
    role = "course"
    previous_stop = 0
    invalid = ignored = False
    for first, second in units:
        context = folded[previous_stop : first.begin]
        previous_stop = (second or first).stop
        if _last_keyword(context[-30:], ("not_session",)):
            ignored = True
            continue  # "Mis à jour le 2 octobre 2024" dates the page, not a session
        # "Inscriptions aux cours": the course is what one enrols in, the role stays.
        said = _last_keyword(patterns["enrol_in"].sub(r"\1", context), ("enrolment", "course"))
        if said is not None:
            role = said
        if second is not None:
            if first.month is None:
                first.month = second.month
            if first.year is None and second.year is not None:
                first.year = second.year
                if (first.month, first.day or 1) > (second.month, second.day or 31):
                    first.year -= 1
            if second.year is None:
                second.year = (
                    _next_year_for(second.month, second.day, today, past, "end")
                    if second.month
                    else None
                )
                if first.year is None and second.year is not None:
                    first.year = second.year
                    if (first.month, first.day or 1) > (second.month, second.day or 31):
                        first.year -= 1
            if not (_complete(first, "start") and _complete(second, "end")):
                invalid = True
                continue
            pair = (("start", first), ("end", second))
        else:
            which = _last_keyword(context, ("start", "end")) or _last_keyword(context, ("weak",))
            position = (
                "end" if which == "end" or (which is None and role == "enrolment") else "start"
            )
            if first.year is None:
                first.year = _next_year_for(first.month, first.day, today, past, position)
            if not _complete(first, position):
                invalid = True
                continue
            pair = ((position, first),)
        for position, mention in pair:
            key = position if role == "course" else f"enrolment_{position}"
            slots.setdefault(key, _value(mention))

    if not slots:
        if pace:
            return Dates(pace=pace)
        if invalid:
            return Dates(unparsed="invalid date")
        return Dates(unparsed="not a session date" if ignored else "no date found")
    for begin, finish in (("start", "end"), ("enrolment_start", "enrolment_end")):
        if begin in slots and finish in slots and _as_day(slots[finish]) < _as_day(slots[begin]):
            return Dates(unparsed="end before start")
    if pace is None and ("start" in slots or "end" in slots):
        pace = "scheduled"
    return Dates(pace=pace, **slots)


def _fallback(folded: str, today: date) -> Dates:
    """Relative dates, through dateparser; anything else is reported, not guessed."""
    if not _patterns()["relative"].search(folded):
        return Dates(unparsed="no date found")
    import dateparser

    base = datetime(today.year, today.month, today.day, 12, 0)
    found = dateparser.parse(
        folded,
        languages=["fr", "en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future",
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    if found is None:
        return Dates(unparsed="no date found")
    which = _last_keyword(folded, ("start", "end"))
    role = _last_keyword(folded, ("enrolment", "course")) or "course"
    position = "end" if which == "end" or (which is None and role == "enrolment") else "start"
    key = position if role == "course" else f"enrolment_{position}"
    values = {key: found.date()}
    pace = "scheduled" if key in ("start", "end") else None
    return Dates(pace=pace, **values)
