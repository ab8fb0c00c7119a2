"""What the crawling side and the catalogue share, below both.

``pipelines`` builds a ``CourseRecord`` from each listing and ``storage`` writes it; the
topic taxonomy names the slugs a record's ``topics`` may hold, and the catalogue's ``topic``
table is synced from it. This package imports neither side (tests/test_layers.py).
"""

from records.course import CourseRecord, OrganisationIdentity, SessionRecord, Workload

__all__ = ["CourseRecord", "OrganisationIdentity", "SessionRecord", "Workload"]
