"""What visitors read: French dates and badges, and third-party HTML made safe.

Course descriptions come from the platforms, so they are untrusted HTML: ``sanitise`` keeps
an allow-list of harmless tags through nh3 (the Ammonia sanitiser) before anything renders
them, in pages as in the API. Stored text may hold control characters that XML and HTML
forbid: ``printable`` drops them from every page, feed, sitemap and calendar.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import nh3
from babel.dates import format_date
from markupsafe import Markup

from pipelines.normalise.qualification import qualification_label

PARIS = ZoneInfo("Europe/Paris")
LABELS_FILE = Path(__file__).with_name("data") / "labels.json"
ALLOWED_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "a",
    "h3",
    "h4",
    "h5",
    "blockquote",
    "code",
    "pre",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# tags that end a line of text: stripping them must leave a space between the words
BLOCK_BOUNDARY = re.compile(
    r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|td|th|blockquote|pre|section|article)\b[^>]*>",
    re.IGNORECASE,
)
# what XML 1.0 cannot carry (C0 controls but tab, line feed and carriage return; U+FFFE and
# U+FFFF), and HTML calls a parse error
NOT_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@cache
def labels() -> dict[str, dict[str, str]]:
    return json.loads(LABELS_FILE.read_text(encoding="utf-8"))


def label(kind: str, value) -> str:
    key = str(value).lower() if isinstance(value, bool) else str(value)
    return labels()[kind].get(key, key)


def printable(value):
    """Text without the characters XML forbids; markup stays markup, other values pass."""
    if isinstance(value, Markup):
        return Markup(NOT_PRINTABLE.sub("", value))
    if isinstance(value, str):
        return NOT_PRINTABLE.sub("", value)
    return value


def sanitise(description: str | None) -> str | None:
    """Third-party HTML reduced to an allow-list; scripts, styles, handlers, bad URLs go."""
    if not description:
        return description
    return nh3.clean(
        description,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
    )


def plain_text(description: str | None) -> str:
    """The words of third-party HTML, without any markup (feeds, JSON-LD, meta tags)."""
    if not description:
        return ""
    spaced = BLOCK_BOUNDARY.sub(" ", description)  # « <li>a</li><li>b</li> »: « a b »
    return " ".join(html.unescape(nh3.clean(spaced, tags=set())).split())


def local_date(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def french_date(moment: datetime | None, now: datetime | None = None) -> str:
    """« 12 mars » this year, « 12 mars 2027 » otherwise, in Paris time."""
    if moment is None:
        return ""
    day = local_date(moment)
    if now is not None and day.year == local_date(now).year:
        return format_date(day, "d MMMM", locale="fr_FR")
    return format_date(day, "d MMMM y", locale="fr_FR")


def prediction_text(prediction: dict | None) -> str:
    """« Prochaine session probable : septembre 2027 (d'après 4 sessions depuis 2019) »."""
    if not prediction:
        return ""
    month = format_date(local_date(prediction["expected"]), "MMMM y", locale="fr_FR")
    evidence = prediction["evidence"]
    since = local_date(evidence["first"]).year
    return (
        f"Prochaine session probable : {month} "
        f"(d'après {evidence['sessions']} sessions depuis {since})"
    )


def track_record_text(record: dict | None) -> str:
    """« 4 sessions depuis septembre 2019, sur FUN-MOOC et OpenClassrooms »."""
    if not record:
        return ""
    month = format_date(local_date(record["since"]), "MMMM y", locale="fr_FR")
    runs = record["runs"]
    when = f"1 session, en {month}" if runs == 1 else f"{runs} sessions depuis {month}"
    return f"{when}, sur {and_text(record['platforms'])}"


def rating_sources_text(sources: list[dict]) -> str:
    """Each platform's rating as it gives it: « FUN-MOOC 8/10 (4/5, 12 avis) ; … »."""
    parts = []
    for source in sources:
        value = f"{number_text(source['value'])}/{number_text(source['scale'])}"
        details = [] if source["scale"] == 5 else [f"{number_text(source['value_5'])}/5"]
        if source["count"] is not None:
            details.append(f"{count_text(source['count'])} avis")
        parts.append(
            f"{source['platform_label']} {value}" + (f" ({', '.join(details)})" if details else "")
        )
    return " ; ".join(parts)


def and_text(items: list[str]) -> str:
    """« a, b et c »."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


def days_until(moment: datetime, now: datetime) -> int:
    return (local_date(moment) - local_date(now)).days


def badges(course: dict, now: datetime) -> list[dict]:
    """The state badges of a course (or of one session), most useful first.

    Each is ``{"state", "text"}``; the text is what « which course can I start soon? »
    needs: until when one can enrol, in how many days the next session starts, or that
    nothing is known. A course's dates come from the session each badge is about.
    """
    states = course["states"]
    sessions = course.get("sessions", [course])
    out = []
    if "enrolment_open" in states:
        session = _first(sessions, "enrolment_open")
        until = session.get("enrolment_end") if session else None
        text = (
            f"Inscriptions ouvertes jusqu'au {french_date(until, now)}"
            if until
            else "Inscriptions ouvertes"
        )
        out.append({"state": "enrolment_open", "text": text})
    upcoming = [s["start"] for s in sessions if "upcoming" in s["states"]]
    if "starting_soon" in states and upcoming:
        days = days_until(min(upcoming), now)
        if days <= 0:
            text = "Commence aujourd'hui"
        elif days == 1:
            text = "Commence demain"
        else:
            text = f"Commence dans {days} jours"
        out.append({"state": "starting_soon", "text": text})
    if "self_paced" in states:
        out.append({"state": "self_paced", "text": "À votre rythme"})
    if "ongoing" in states:
        session = _first(sessions, "ongoing")
        end = session.get("end") if session else None
        text = f"En cours jusqu'au {french_date(end, now)}" if end else "En cours"
        out.append({"state": "ongoing", "text": text})
    if "upcoming" in states and "starting_soon" not in states:
        text = f"Prochaine session le {french_date(min(upcoming), now)}" if upcoming else "À venir"
        out.append({"state": "upcoming", "text": text})
    if "archived" in states:
        out.append({"state": "archived", "text": "Archivé – prochaine session inconnue"})
    return out


def _first(sessions: list[dict], state: str) -> dict | None:
    return next((s for s in sessions if state in s["states"]), None)


def weeks_text(duration: dict) -> str:
    low, high = duration.get("weeks_min"), duration.get("weeks_max")
    if low is None and high is None:
        hours_low, hours_high = duration.get("hours_min"), duration.get("hours_max")
        return _range(hours_low, hours_high, "heure", "heures")
    return _range(low, high, "semaine", "semaines")


def effort_text(effort: dict) -> str:
    text = _range(effort.get("hours_per_week_min"), effort.get("hours_per_week_max"), "h", "h")
    return f"{text} par semaine" if text else ""


def qualification_text(level: str | None) -> str:
    """« CAP / niveau 3 »: a qualification id as qualification_levels.json labels it."""
    return qualification_label(level) or (level or "")


def session_workload_text(session: dict) -> str:
    """What one session alone states of its length and effort: « 6 semaines · 3 h par semaine »."""
    parts = [weeks_text(session.get("duration") or {}), effort_text(session.get("effort") or {})]
    return " · ".join(p for p in parts if p)


def number_text(value: float | None) -> str:
    """A decimal the French way: ``4.57`` → ``"4,57"``."""
    return "" if value is None else _number(round(value, 2))


def count_text(value: int | None) -> str:
    """A count with its thousands apart: ``5123`` → ``"5 123"``."""
    return "" if value is None else f"{value:,}".replace(",", " ")


def beside(stated: str | None, normalised: str | None) -> str:
    """The platform's words with Moisson's reading beside them where they differ:
    ``beside("Approfondi", "avancé")`` → ``"Approfondi (avancé)"``."""
    if not stated:
        return normalised or ""
    if not normalised or stated.casefold() == normalised.casefold():
        return stated
    return f"{stated} ({normalised})"


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _range(low, high, one: str, many: str) -> str:
    if low is None and high is None:
        return ""
    if low is None or high is None or low == high:
        value = low if low is not None else high
        return f"{_number(value)} {one if value <= 1 else many}"
    return f"{_number(low)} à {_number(high)} {many}"


def price_text(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return ""
    if amount == 0:
        return "gratuit"
    return f"{_number(amount)} {currency or '€'}".replace("EUR", "€")
