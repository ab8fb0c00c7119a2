"""The days the catalogue can hold and be asked about.

Python's ``date`` reaches years 1 to 9999, but a day at either end cannot be turned into an
instant in another time zone (Paris, UTC) nor moved by a day without overflowing; and no
course runs before 1900 or after 2999. A date outside this range is refused with a clear
error where it enters, never carried to a query.
"""

from __future__ import annotations

from datetime import date

SUPPORTED_DATE_RANGE = (date(1900, 1, 1), date(2999, 12, 31))
