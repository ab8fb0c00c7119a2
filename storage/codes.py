"""A course's official codes, as the exports and the course page describe them.

- **ROME** (jobs): the course's links to jobs made from codes its listings state (method
  ``code`` of ``CourseJob``, so codes the loaded ROME referential knows; docs/JOBS.md). Jobs
  found from the course's text are not official codes and are not among them.
- **Formacode**, **NSF** (training domains), **RNCP**, **RS** (the qualifications the course
  leads to): as its visible listings state them (``record["codes"]``, kept by the CPF and
  LHEO spiders), in the listings' order, each once. RNCP and RS codes are written without
  their register's prefix (« RNCP35030 » and « 35030 » are one code).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from storage.models import CourseJob

# the registers of the codes a course states, in the order they are described
STATED_REGISTERS = ("formacode", "nsf", "rncp", "rs")
# the registers of the qualifications a course leads to, as the records name them
QUALIFICATION_REGISTERS = {"rncp": "RNCP", "rs": "RS"}


def stated_code(register: str, code) -> str:
    """A stated code as the exports write it: trimmed, an RNCP or RS code without its prefix."""
    text = str(code).strip()
    prefix = QUALIFICATION_REGISTERS.get(register)
    if prefix:
        text = text.upper().removeprefix(prefix).strip()
    return text


def course_codes(stated: Iterable[dict | None], rome: Iterable[str]) -> dict[str, list[str]]:
    """The official codes of a course: its ROME job codes (method ``code``) and the codes
    ``stated`` by its visible listings (each one's ``record["codes"]``, in their order)."""
    found: dict[str, list[str]] = {"rome": sorted(rome)}
    for register in STATED_REGISTERS:
        found[register] = []
    for codes in stated:
        for register in STATED_REGISTERS:
            for code in (codes or {}).get(register) or []:
                code = stated_code(register, code)
                if code and code not in found[register]:
                    found[register].append(code)
    return found


def coded_jobs(conn: Connection, course_ids: list[int]) -> dict[int, list[str]]:
    """The ROME codes each course is linked to from codes its listings state: one statement."""
    out = defaultdict(list)
    for course_id, code in conn.execute(
        select(CourseJob.course_id, CourseJob.job_code).where(
            CourseJob.course_id.in_(bindparam("ids", expanding=True)), CourseJob.method == "code"
        ),
        {"ids": course_ids},
    ):
        out[course_id].append(code)
    return out
