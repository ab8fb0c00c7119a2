"""ROME 4.0 in the catalogue: read a release of France Travail's CSV tables, check it, load it.

A release is the open-data zip (``RefRomeCsv.zip``) or a folder of its files, each
``unix_<table>_v4NN_utf8.csv`` (or ``.csv.gz``, as shipped in ``storage/data/rome``), with
``version.txt`` naming the release (« Numero de version : 60 »). Everything is read and
checked before the catalogue is touched: a malformed, truncated or inconsistent release, or
one that is not the version its files say, raises ``RomeError`` and the version in use stays.
A release replaces the previous one whole, in one transaction; the courses' links to jobs
name jobs by code (``CourseJob``) and are kept (docs/JOBS.md).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from storage import readindex
from storage.bulk import chunks
from storage.models import CourseJob, RomeItem, RomeJob, RomeJobItem, RomeTitle, RomeVersion

SNAPSHOT = Path(__file__).with_name("data") / "rome"
ATTRIBUTION = "Source : France Travail, ROME 4.0 version {number}"
MAX_DOWNLOAD = 200 * 2**20  # the official zip is about 20 MiB
JOB_CODE = re.compile(r"^[A-N]\d{4}$")
FILE_NAME = re.compile(r"(?:^|/)unix_(?P<table>[a-z_]+)_v(?P<version>\d+)_utf8\.csv(?:\.gz)?$")
VERSION_LINE = re.compile(r"Num[ée]ro de version\s*:\s*(\d+)", re.IGNORECASE)

# The tables read, with the columns each must have (the official headers).
TABLES = {
    "referentiel_code_rome": ("code_rome", "code_ogr", "libelle_rome", "code_rome_parent"),
    "referentiel_appellation": (
        "code_ogr",
        "libelle_appellation_long",
        "libelle_appellation_court",
        "code_rome",
        "classification",
    ),
    "referentiel_competence": ("code_ogr", "libelle_competence", "cat_comp", "sous_cat_comp"),
    "referentiel_savoir": (
        "code_ogr_savoir",
        "libelle_savoir",
        "categorie_savoir",
        "sous_categorie_savoir",
    ),
    "liens_rome_referentiels": ("code_rome", "code_compo_bloc", "code_rubrique", "code_ogr"),
    "coherence_item": ("code_rome", "code_ogr", "coeur_metier"),
    "grand_domaine": ("code_grand_domaine", "libelle_grand_domaine"),
    "domaine_professionnel": ("code_domaine_professionnel", "libelle_domaine_professionnel"),
    "texte": ("code_rome", "libelle_type_texte", "position_phrase", "libelle_texte"),
}
TAGS = ("transition_eco", "transition_num", "transition_demo", "emploi_reglemente", "emploi_cadre")
# liens_rome_referentiels: block 5 is the skills, by rubric; block 2 the job titles
SKILLS_BLOCK = "5"
RUBRICS = {"1": "savoir_faire", "2": "savoir_etre", "3": "savoir"}


class RomeError(ValueError):
    """A release that cannot be loaded: the message says which file and why."""


@dataclass
class Release:
    number: int
    title: str | None
    published: str | None
    source: str
    jobs: list[dict] = field(default_factory=list)
    titles: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    job_items: list[dict] = field(default_factory=list)

    @property
    def attribution(self) -> str:
        return ATTRIBUTION.format(number=self.number)

    def counts(self) -> dict[str, int]:
        return {
            "jobs": len(self.jobs),
            "titles": len(self.titles),
            "items": len(self.items),
            "job_items": len(self.job_items),
        }


# -- reading ------------------------------------------------------------------------------


class _Files:
    """The members of a zip or the files of a folder, by their name inside the release."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir():
            self.names = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
            self._zip = None
        else:
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise RomeError(f"{path} is neither a folder nor a zip archive: {exc}") from exc
            self.names = self._zip.namelist()

    def read(self, name: str) -> bytes:
        try:
            data = self._zip.read(name) if self._zip else (self.path / name).read_bytes()
            return gzip.decompress(data) if name.endswith(".gz") else data
        except (zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile, OSError) as exc:
            raise RomeError(f"{name}: cannot be read, truncated or damaged ({exc})") from exc

    def close(self):
        if self._zip:
            self._zip.close()


def _version(files: _Files) -> tuple[int, str | None, str | None]:
    names = [n for n in files.names if n.rsplit("/", 1)[-1].lower() == "version.txt"]
    if not names:
        raise RomeError(f"{files.path}: no version.txt, so the release is unknown")
    text = files.read(names[0]).decode("utf-8", errors="replace")
    found = VERSION_LINE.search(text)
    if not found:
        raise RomeError(f"{names[0]}: no « Numero de version : NN » line, the release is unknown")
    title = re.search(r"Titre/commentaire\s*:\s*(.+)", text)
    published = re.search(r"Date de publication\s*:\s*(\S+)", text)
    return (
        int(found.group(1)),
        title.group(1).strip() if title else None,
        published.group(1).strip() if published else None,
    )


def _rows(files: _Files, number: int) -> dict[str, list[dict]]:
    """Every table of ``TABLES``, checked: the release's version, the header, each row's width."""
    found: dict[str, str] = {}
    for name in files.names:
        match = FILE_NAME.search(name)
        if match and match.group("table") in TABLES:
            expected = f"4{number:02d}"
            if match.group("version") != expected:
                raise RomeError(
                    f"{name}: a file of ROME v{match.group('version')}, but version.txt says "
                    f"version {number} (files v{expected}): not one release"
                )
            found[match.group("table")] = name
    missing = sorted(set(TABLES) - set(found))
    if missing:
        raise RomeError(f"{files.path}: no unix_{missing[0]}_v4NN_utf8.csv (missing: {missing})")
    tables = {}
    for table, name in found.items():
        try:
            text = files.read(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RomeError(f"{name}: not UTF-8 ({exc})") from exc
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
        try:
            header = next(reader, None)
            if not header or not set(TABLES[table]) <= set(header):
                raise RomeError(f"{name}: header {header} lacks {TABLES[table]}")
            rows = []
            for row in reader:
                if len(row) != len(header):
                    raise RomeError(
                        f"{name}, line {reader.line_num}: {len(row)} fields where the header "
                        f"has {len(header)} (a truncated or malformed file)"
                    )
                rows.append(dict(zip(header, row, strict=True)))
        except csv.Error as exc:
            raise RomeError(
                f"{name}, line {reader.line_num}: malformed or truncated CSV ({exc})"
            ) from exc
        if not rows:
            raise RomeError(f"{name}: no rows")
        tables[table] = rows
    return tables


def _tags(row: dict) -> dict | None:
    tags = {k: row[k] for k in TAGS if row.get(k) and row[k] != "N"}
    return tags or None


def _integer(value: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise RomeError(f"{where}: {value!r} is not an OGR code") from None


def _build(release: Release, tables: dict[str, list[dict]]) -> None:
    """The catalogue's rows from the tables, refusing a release whose tables disagree."""
    grand = {r["code_grand_domaine"]: r["libelle_grand_domaine"] for r in tables["grand_domaine"]}
    domains = {
        r["code_domaine_professionnel"]: r["libelle_domaine_professionnel"]
        for r in tables["domaine_professionnel"]
    }
    texts: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for r in tables["texte"]:
        position = int(r["position_phrase"]) if r["position_phrase"].isdigit() else 0
        key = (r["code_rome"], r["libelle_type_texte"])
        texts.setdefault(key, []).append((position, r["libelle_texte"]))

    def text(code: str, kind: str) -> str | None:
        parts = sorted(texts.get((code, kind), []))
        return "\n".join(t for _, t in parts) or None

    for r in tables["referentiel_code_rome"]:
        code = r["code_rome"]
        if not JOB_CODE.match(code):
            raise RomeError(f"referentiel_code_rome: {code!r} is not a ROME code")
        release.jobs.append(
            {
                "code": code,
                "ogr": _integer(r["code_ogr"], f"job {code}"),
                "label": r["libelle_rome"],
                "domain": code[:3],
                "domain_label": domains.get(code[:3]),
                "grand_domain": code[0],
                "grand_domain_label": grand.get(code[0]),
                "tags": _tags(r),
                "definition": text(code, "definition"),
                "access": text(code, "acces_metier"),
            }
        )
    codes = {j["code"] for j in release.jobs}

    def known(code: str, where: str) -> str:
        if code not in codes:
            raise RomeError(f"{where}: job {code!r} is not in referentiel_code_rome")
        return code

    for r in tables["referentiel_appellation"]:
        release.titles.append(
            {
                "ogr": _integer(r["code_ogr"], "referentiel_appellation"),
                "job_code": known(r["code_rome"], f"title {r['code_ogr']}"),
                "label": r["libelle_appellation_long"],
                "short_label": r["libelle_appellation_court"] or None,
                "synonym": r["classification"] == "SYNONYME",
            }
        )
    for r in tables["referentiel_competence"]:
        kind = "savoir_etre" if r["cat_comp"].startswith("Savoir-être") else "savoir_faire"
        release.items.append(
            {
                "ogr": _integer(r["code_ogr"], "referentiel_competence"),
                "kind": kind,
                "label": r["libelle_competence"],
                "category": r["cat_comp"] or None,
                "subcategory": r["sous_cat_comp"] or None,
                "tags": _tags(r),
            }
        )
    for r in tables["referentiel_savoir"]:
        release.items.append(
            {
                "ogr": _integer(r["code_ogr_savoir"], "referentiel_savoir"),
                "kind": "savoir",
                "label": r["libelle_savoir"],
                "category": r["categorie_savoir"] or None,
                "subcategory": r["sous_categorie_savoir"] or None,
                "tags": _tags(r),
            }
        )
    items = {i["ogr"]: i for i in release.items}
    core = {
        (r["code_rome"], r["code_ogr"]): r["coeur_metier"] or None for r in tables["coherence_item"]
    }
    seen = set()
    for r in tables["liens_rome_referentiels"]:
        if r["code_compo_bloc"] != SKILLS_BLOCK or r["code_rubrique"] not in RUBRICS:
            continue
        ogr = _integer(r["code_ogr"], "liens_rome_referentiels")
        if ogr not in items:
            raise RomeError(f"liens_rome_referentiels: item {ogr} is in neither item table")
        key = (known(r["code_rome"], f"link to item {ogr}"), ogr)
        if key in seen:
            continue
        seen.add(key)
        release.job_items.append(
            {"job_code": key[0], "item_ogr": ogr, "core": core.get((key[0], r["code_ogr"]))}
        )


def read_release(path: Path | str | None = None, source: str | None = None) -> Release:
    """Read and check a release (default: the snapshot shipped in ``storage/data/rome``)."""
    path = Path(path) if path else SNAPSHOT
    if not path.exists():
        raise RomeError(f"{path}: no such file or folder")
    files = _Files(path)
    try:
        number, title, published = _version(files)
        release = Release(number, title, published, source or str(path))
        _build(release, _rows(files, number))
    finally:
        files.close()
    return release


# -- loading ------------------------------------------------------------------------------


def _version_row(engine: Engine):
    with engine.connect() as conn:
        return conn.execute(
            select(RomeVersion.number, RomeVersion.title, RomeVersion.loaded_at)
            .order_by(RomeVersion.loaded_at.desc(), RomeVersion.id.desc())
            .limit(1)
        ).first()


def version_summary(engine: Engine) -> dict | None:
    """The release in use, for ``moisson stats``: number, title, attribution; None if none."""
    row = _version_row(engine)
    if row is None:
        return None
    return {
        "number": row.number,
        "title": row.title,
        "loaded_at": row.loaded_at.isoformat(),
        "attribution": ATTRIBUTION.format(number=row.number),
    }


@dataclass
class LoadResult:
    number: int
    loaded: bool  # False: that version was already in use
    counts: dict[str, int]
    previous: int | None


def load(engine: Engine, release: Release, force: bool = False) -> LoadResult:
    """Replace the referential with ``release`` in one transaction.

    An older release than the one in use is refused (``force`` loads it anyway, and
    reloads the same one); the courses' links are not touched.
    """
    current = _version_row(engine)
    previous = current.number if current else None
    if previous is not None and not force:
        if release.number < previous:
            raise RomeError(
                f"version {release.number} is older than version {previous} in use "
                "(--force to load it anyway)"
            )
        if release.number == previous:
            return LoadResult(release.number, False, release.counts(), previous)
    with engine.begin() as conn:
        for model in (RomeJobItem, RomeItem, RomeTitle, RomeJob):
            conn.execute(delete(model))
        for model, rows in (
            (RomeJob, release.jobs),
            (RomeTitle, release.titles),
            (RomeItem, release.items),
            (RomeJobItem, release.job_items),
        ):
            for chunk in chunks(rows, 5000):
                conn.execute(insert(model), list(chunk))
        conn.execute(
            insert(RomeVersion).values(
                number=release.number,
                title=release.title,
                published=release.published,
                source=release.source,
                counts=release.counts(),
                loaded_at=datetime.now(UTC),
            )
        )
        # the read index's facets over jobs (labels, domains, codes this release lacks)
        linked = conn.execute(select(CourseJob.course_id).distinct()).scalars().all()
        readindex.refresh_facets(conn, linked, RomeJob.__tablename__)
    return LoadResult(release.number, True, release.counts(), previous)


def ensure_loaded(engine: Engine) -> None:
    """Load the shipped snapshot when no release is in use (the demo catalogue)."""
    if _version_row(engine) is None:
        load(engine, read_release())


def download(url: str, timeout: float = 60.0, opener: Callable = urllib.request.urlopen) -> Path:
    """The release at ``url`` in a temporary file (the caller removes it)."""
    descriptor, name = tempfile.mkstemp(suffix=".zip")
    path = Path(name)
    try:
        with opener(url, timeout=timeout) as response, open(descriptor, "wb") as handle:
            size = 0
            while block := response.read(2**20):
                size += len(block)
                if size > MAX_DOWNLOAD:
                    raise RomeError(f"{url}: more than {MAX_DOWNLOAD // 2**20} MiB, refused")
                handle.write(block)
    except urllib.error.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise RomeError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        path.unlink(missing_ok=True)
        raise RomeError(f"{url}: cannot be fetched ({exc})") from exc
    except RomeError:
        path.unlink(missing_ok=True)
        raise
    return path


def update(engine: Engine, url: str, timeout: float = 60.0) -> LoadResult:
    """Fetch the official zip at ``url``, check it, load it if newer than the one in use."""
    path = download(url, timeout)
    try:
        return load(engine, read_release(path, source=url))
    finally:
        path.unlink(missing_ok=True)


def stale_links(engine: Engine) -> int:
    """Course links to job codes the referential in use no longer has."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(CourseJob)
            .where(CourseJob.job_code.not_in(select(RomeJob.code)))
        ).scalar_one()
