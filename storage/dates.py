"""The dates the catalogue takes: one supported range for every stored session date.

A date outside it is a platform's error (« 0001-01-01 », a year typed 20205) and would
overflow the read index's arithmetic on time (``storage.readindex``: a state starts 30
days before a session does). The writer sets such a record aside in the quarantine with
the reason (``storage.catalogue``) instead of storing it.
"""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Supported: ``EARLIEST <= date < LATEST``."""

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
