"""French badges and dates, from session dicts as storage.search builds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.formatting import badges, effort_text, french_date, price_text, weeks_text
from storage.search import course_states, next_session, session_states

NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)  # 12:00 in Paris


def session(start=None, end=None, enrolment_start=None, enrolment_end=None, pace="scheduled"):
    s = {
        "start": start,
        "end": end,
        "enrolment_start": enrolment_start,
        "enrolment_end": enrolment_end,
        "pace": pace,
    }
    s["states"] = session_states(s, NOW)
    return s


def course(*sessions):
    states = course_states(list(sessions), NOW)
    return {
        "states": states,
        "sessions": list(sessions),
        "next_session": next_session(list(sessions)),
    }


def texts(item):
    return [b["text"] for b in badges(item, NOW)]


@pytest.mark.parametrize(
    "start, text",
    [
        (NOW + timedelta(hours=5), "Commence aujourd'hui"),
        (NOW + timedelta(hours=14), "Commence demain"),  # 01:00 in Paris the next day
        (NOW + timedelta(days=5), "Commence dans 5 jours"),
        (NOW + timedelta(days=30), "Commence dans 30 jours"),
        (NOW + timedelta(days=31), "Prochaine session le 16 décembre"),
        (NOW + timedelta(days=60), "Prochaine session le 14 janvier 2027"),
    ],
)
def test_start_badges(start, text):
    assert texts(course(session(start=start, end=start + timedelta(weeks=4)))) == [text]


def test_enrolment_badges_name_the_last_day_in_paris_time():
    end = datetime(2026, 3, 12, 22, 59, tzinfo=UTC)  # 23:59 on 12 March in Paris
    s = session(
        start=NOW + timedelta(days=200),
        enrolment_start=NOW - timedelta(days=1),
        enrolment_end=end.replace(year=2027),
    )
    assert texts(course(s))[0] == "Inscriptions ouvertes jusqu'au 12 mars 2027"
    open_ended = session(start=NOW + timedelta(days=3), enrolment_start=NOW - timedelta(days=1))
    assert texts(course(open_ended)) == ["Inscriptions ouvertes", "Commence dans 3 jours"]


def test_self_paced_ongoing_and_archived():
    assert texts(course(session(pace="self_paced"))) == ["Inscriptions ouvertes", "À votre rythme"]
    ongoing = session(start=NOW - timedelta(days=3), end=datetime(2026, 12, 20, 22, tzinfo=UTC))
    assert texts(course(ongoing)) == ["En cours jusqu'au 20 décembre"]
    past = session(start=NOW - timedelta(days=90), end=NOW - timedelta(days=30))
    assert texts(course(past)) == ["Archivé – prochaine session inconnue"]
    assert texts(course()) == ["Archivé – prochaine session inconnue"]  # no session at all
    undated = session()
    assert texts(course(undated)) == ["Archivé – prochaine session inconnue"]


def test_a_course_takes_the_badges_of_all_its_sessions():
    ongoing = session(start=NOW - timedelta(days=3), end=NOW + timedelta(days=30))
    soon = session(
        start=NOW + timedelta(days=9),
        enrolment_start=NOW - timedelta(days=5),
        enrolment_end=NOW + timedelta(days=8),
    )
    later = session(start=NOW + timedelta(days=100))
    item = course(later, ongoing, soon)
    assert item["states"] == ["enrolment_open", "starting_soon", "ongoing", "upcoming"]
    assert item["next_session"] is soon
    assert texts(item) == [
        "Inscriptions ouvertes jusqu'au 23 novembre",
        "Commence dans 9 jours",
        "En cours jusqu'au 15 décembre",
    ]


def test_facts_in_french():
    assert french_date(None) == ""
    assert weeks_text({"weeks_min": 6, "weeks_max": 8}) == "6 à 8 semaines"
    assert weeks_text({"weeks_min": 1, "weeks_max": 1}) == "1 semaine"
    assert weeks_text({"weeks_min": None, "weeks_max": None, "hours_min": 2.5}) == "2,5 heures"
    assert effort_text({"hours_per_week_min": 2, "hours_per_week_max": 4}) == "2 à 4 h par semaine"
    assert effort_text({}) == ""
    assert price_text(0, "EUR") == "gratuit"
    assert price_text(49.9, "EUR") == "49,9 €"
