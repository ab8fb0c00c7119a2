"""The export formats by name, and writing them to files (``moisson export``, nightly dumps)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from portal.opendata import Export
from portal.opendata.jsonld import write_jsonld
from portal.opendata.lheo import write_lheo
from portal.opendata.moochub import MEDIA_TYPE as MOOCHUB_MEDIA_TYPE
from portal.opendata.moochub import write_moochub
from portal.opendata.tabular import datapackage, write_csv

DATAPACKAGE = "datapackage.json"


@dataclass(frozen=True)
class Format:
    name: str
    write: Callable[[Iterable[dict], Export], Iterator[str | bytes]]
    media_type: str
    file_name: str  # in a dump, and the name a download is offered under
    description: str


FORMATS = {
    f.name: f
    for f in (
        Format(
            "lheo",
            write_lheo,
            "application/xml",
            "moisson-lheo.xml",
            "LHEO 2.3 XML: formations, actions (one per platform) and sessions",
        ),
        Format(
            "jsonld",
            write_jsonld,
            "application/x-ndjson",
            "moisson-courses.jsonld",
            "schema.org Course JSON-LD, one per line (JSON Lines)",
        ),
        Format(
            "moochub",
            write_moochub,
            MOOCHUB_MEDIA_TYPE,
            "moisson-moochub.json",
            "MOOChub v3 JSON:API document of Course resources",
        ),
        Format(
            "csv",
            write_csv,
            "text/csv; charset=utf-8",
            "moisson-courses.csv",
            "CSV, one course per row, described by datapackage.json",
        ),
    )
}


class Counted:
    """An iterable of courses that counts those read."""

    def __init__(self, courses: Iterable[dict]):
        self.courses = courses
        self.count = 0

    def __iter__(self):
        for course in self.courses:
            self.count += 1
            yield course


def write_file(fmt: Format, courses: Iterable[dict], export: Export, path: Path) -> int:
    """The export written to ``path`` (through a temporary file beside it, renamed when
    complete, so a reader never sees half a file); the number of courses. A CSV gets its
    ``datapackage.json`` beside it."""
    counted = Counted(courses)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as out:
            for piece in fmt.write(counted, export):
                out.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    if fmt.name == "csv":
        package = json.dumps(datapackage(export, path.name), ensure_ascii=False, indent=2)
        (path.parent / DATAPACKAGE).write_text(package + "\n", encoding="utf-8")
    return counted.count
