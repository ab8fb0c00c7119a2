"""Small ROME releases for tests, cut from the shipped snapshot (storage/data/rome).

``write_release`` keeps the rows of a few jobs (and the items and titles they use) and writes
them as the official open-data zip is laid out (``unix_<table>_v4NN_utf8.csv`` and
``version.txt``), so a test can give ``moisson rome`` another version, a damaged file, or
serve it over loopback HTTP. The catalogue that ships the full snapshot is built once per
session (``rome_catalogue``) and copied by the tests that need it.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path

from storage.rome import SNAPSHOT, TABLES

JOBS = ("M1805", "M1811", "M1203", "K2111")


def snapshot_tables() -> dict[str, tuple[list[str], list[list[str]]]]:
    tables = {}
    for table in TABLES:
        (path,) = SNAPSHOT.glob(f"unix_{table}_v*_utf8.csv.gz")
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        tables[table] = (rows[0], rows[1:])
    return tables


def _subset(tables, jobs):
    keep = {}
    header, rows = tables["liens_rome_referentiels"]
    links = [r for r in rows if r[0] in jobs]
    ogrs = {r[3] for r in links}
    for table, (header, rows) in tables.items():
        if "code_rome" in header:
            i = header.index("code_rome")
            rows = [r for r in rows if r[i] in jobs]
        elif table in ("referentiel_competence", "referentiel_savoir"):
            rows = [r for r in rows if r[0] in ogrs]
        keep[table] = (header, rows)
    return keep


def csv_text(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_release(
    target: Path,
    number: int = 61,
    jobs=JOBS,
    file_version: str | None = None,
    damage=None,
    version_text: str | None = None,
) -> Path:
    """A zip of the release ``number`` holding ``jobs``; ``damage(table, text) -> text`` may
    alter one table's CSV text; ``version_text`` replaces version.txt (None: a good one)."""
    tables = _subset(snapshot_tables(), set(jobs))
    suffix = file_version or f"4{number:02d}"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, (header, rows) in tables.items():
            text = csv_text(header, rows)
            if damage:
                text = damage(table, text)
            archive.writestr(f"RefRomeCsv/unix_{table}_v{suffix}_utf8.csv", text)
        if version_text is None:
            version_text = (
                f"Numero de version : {number}\n\nDate de publication : 01/01/2026\n\n"
                f"Titre/commentaire :  ROME 4.0 version {number} - test\n"
            )
        if version_text:
            archive.writestr("RefRomeCsv/version.txt", version_text)
    return target
