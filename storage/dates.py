"""The days the catalogue can hold and be asked about: one supported range.

Python's ``date`` reaches years 1 to 9999, but a day at either end cannot be turned into an
instant in another time zone (Paris, UTC) nor moved by a day without overflowing (the read
index's states start 30 days before a session does), and no course runs before 1900 or
after 2999. A date outside this range is a platform's error (« 0001-01-01 », a year typed
20205) or a hostile query: the writer sets such a record aside in the quarantine with the
reason (``storage.catalogue``), the portal refuses such a parameter with a 422
(``portal.params``); neither ever reaches a query.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

SUPPORTED_DATE_RANGE = (date(1900, 1, 1), date(2999, 12, 31))
"""The first and the last supported day, both included."""

EARLIEST = datetime.combine(SUPPORTED_DATE_RANGE[0], time(), tzinfo=UTC)
LATEST = datetime.combine(SUPPORTED_DATE_RANGE[1] + timedelta(days=1), time(), tzinfo=UTC)
"""Supported instants: ``EARLIEST <= moment < LATEST``."""

SESSION_DATES = ("start", "end", "enrolment_start", "enrolment_end")


def supported(moment: datetime | None) -> bool:
    return moment is None or EARLIEST <= moment < LATEST


def unsupported_session_date(sessions) -> str | None:
    """Why these sessions (``SessionRecord``s) cannot be stored, or None if they can."""
    for session in sessions:
        for key in SESSION_DATES:
            moment = getattr(session, key)
            if not supported(moment):
                return (
                    f"session {session.key!r}: {key} {moment.isoformat()} outside the "
                    f"supported range {EARLIEST.year}-{LATEST.year - 1}"
                )
    return None
