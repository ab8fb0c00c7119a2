"""The records moved to the ``records`` package (below pipelines and storage); these names
stay importable from here for the code that used them."""

from records.course import CourseRecord, OrganisationIdentity, SessionRecord, Workload

__all__ = ["CourseRecord", "OrganisationIdentity", "SessionRecord", "Workload"]
