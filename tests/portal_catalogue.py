"""One catalogue per test module for the read side, on SQLite and on PostgreSQL.

It is built the way production builds it: the FUN-MOOC recordings replayed through the real
spider, pipelines and store (a ``moisson crawl --replay`` subprocess, as Scrapy's reactor
runs once per process), then a few listings of a second platform stored through
``CatalogueWriter`` for what the recordings do not have yet: ratings, levels, topics,
durations, a course on two platforms, hidden listings and a hostile description.
Everything is read at ``NOW``, the recordings' "now". The shipped ROME 4.0 release is loaded
first (read once per session; on SQLite loaded once into a template file copied per module,
on PostgreSQL loaded into each module's schema), so the courses are linked to jobs.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update

from pipelines.records import CourseRecord, SessionRecord
from storage.catalogue import CatalogueWriter, RunSummary, StoreCounts
from storage.db import ensure_schema, make_engine
from storage.models import Listing, Platform
from storage.readonly import open_readonly
from storage.rome import load, read_release
from tests.conftest import PG_ENV, REFERENCE_TIME, replay_crawl

NOW = datetime.fromisoformat(REFERENCE_TIME).astimezone(UTC)
HOSTILE_DESCRIPTION = (
    '<p onclick="steal()" style="position:fixed">Un cours <strong>sûr</strong>.</p>'
    "<script>alert('script')</script><style>body{display:none}</style>"
    "<img src=x onerror=\"alert('img')\">"
    "<a href=\"javascript:alert('lien')\">piège</a>"
    '<a href="https://exemple.fr/" onmouseover="alert(\'survol\')">bon lien</a>'
    '<iframe src="https://evil.example/"></iframe>'
    "<svg><script>alert('svg')</script></svg>"
)
VISIBLE = 26 + 3  # FUN-MOOC's French courses, and three visible OpenClassrooms ones
HOSTILE_TITLE = "Sécurité web </script><script>alert('titre')</script>"


@dataclass
class Catalogue:
    url: str
    engine: object  # read-only engine, what the portal gets
    ids: dict[str, int]  # external id -> course id, for the listings added here


def fun(catalogue, external_id: str) -> int:
    """The course id of a listing, by its platform's id."""
    with catalogue.engine.connect() as conn:
        return conn.execute(
            select(Listing.course_id).where(Listing.external_id == external_id)
        ).scalar_one()


def _record(external_id: str, title: str, **kwargs) -> CourseRecord:
    return CourseRecord(
        platform="openclassrooms",
        external_id=external_id,
        url=f"https://openclassrooms.com/fr/courses/{external_id}",
        title=title,
        language="fr",
        **kwargs,
    )


def extra_records() -> list[CourseRecord]:
    soon = NOW + timedelta(days=5)
    return [
        _record(
            "oc-python",
            "Apprenez à programmer en Python",
            description="<p>Les bases de la <em>programmation</em> : variables, boucles.</p>",
            organisations=["OpenClassrooms"],
            level="debutant",
            topics=["programmation"],
            duration_weeks_min=4,
            duration_weeks_max=4,
            effort_hours_per_week_min=3,
            effort_hours_per_week_max=3,
            free=True,
            price_amount=0,
            currency="EUR",
            certificate="certificate",
            certificate_price=0,
            rating=4.6,
            rating_count=1280,
            enrolments=250000,
            sessions=[SessionRecord(key="open", pace="self_paced", language="fr")],
        ),
        _record(
            "oc-stats",
            "Statistiques descriptives pour l'analyse de données",
            description="Moyennes, médianes, écarts-types.",
            organisations=["CentraleSupélec"],
            level="intermediaire",
            topics=["mathematiques"],
            duration_weeks_min=6,
            duration_weeks_max=8,
            effort_hours_per_week_min=2,
            effort_hours_per_week_max=4,
            free=False,
            price_amount=49,
            currency="EUR",
            certificate="none",
            rating=3.9,
            rating_count=87,
            # as a CPF offer states them: a ROME code (linked by code), one the referential
            # lacks (kept aside), and the qualifications it leads to
            codes={"rome": ["M1419", "Z9999"], "rncp": ["35030"], "rs": ["RS5234"]},
            sessions=[
                SessionRecord(
                    key="2026-12",
                    start=soon,
                    end=soon + timedelta(weeks=6),
                    enrolment_start=NOW - timedelta(days=10),
                    enrolment_end=soon + timedelta(days=2),
                    pace="scheduled",
                    language="fr",
                )
            ],
        ),
        _record(
            "oc-hostile",
            HOSTILE_TITLE,
            description=HOSTILE_DESCRIPTION,
            organisations=["ANSSI"],
            sessions=[
                SessionRecord(
                    key="2027",
                    start=NOW + timedelta(days=90),
                    end=NOW + timedelta(days=130),
                    pace="scheduled",
                    language="fr",
                )
            ],
        ),
        _record(
            "oc-hidden",
            "Cours disparu de la plateforme",
            description="Ce cours n'est plus publié.",
            sessions=[SessionRecord(key="s", start=NOW + timedelta(days=3), pace="scheduled")],
        ),
        # the same course as a FUN-MOOC one (linked below, as deduplication would), but its
        # listing is hidden: its session must not show
        _record(
            "oc-ia-hidden",
            "Introduction à l'intelligence artificielle",
            sessions=[SessionRecord(key="x", start=NOW + timedelta(days=7), pace="scheduled")],
        ),
        # the same course as a FUN-MOOC one, visible: the course shows both platforms
        _record(
            "oc-stat-r",
            "Introduction à la statistique avec R",
            organisations=["Université Paris 1 Panthéon-Sorbonne"],
            rating=4.2,
            rating_count=15,
            sessions=[
                SessionRecord(
                    key="2027-02",
                    start=NOW + timedelta(days=80),
                    end=NOW + timedelta(days=120),
                    enrolment_end=NOW + timedelta(days=79),
                    pace="scheduled",
                    language="fr",
                )
            ],
        ),
    ]


def _crawl_recordings(url: str) -> None:
    result = replay_crawl(url)
    assert result.returncode == 0, result.stderr


def store_records(url: str, records: list[CourseRecord], when: datetime = NOW):
    """OpenClassrooms listings stored as a crawl stores them: (writer, platform id, counts)."""
    engine = make_engine(url)
    ensure_schema(engine)
    writer = CatalogueWriter(engine)
    platform = writer.platform_id(
        "openclassrooms", "OpenClassrooms", "https://openclassrooms.com", None
    )
    run = writer.start_run("openclassrooms", platform, when, replay=True)
    counts = writer.store(run, platform, [(r, {"id": r.external_id}) for r in records], when)
    writer.finish_run(run, RunSummary("finished", when, items_scraped=len(records)), counts)
    return writer, platform, counts


def _add_extras(url: str) -> dict[str, int]:
    records = extra_records()
    writer, platform, counts = store_records(url, records)
    engine = writer.engine
    assert isinstance(counts, StoreCounts) and counts.new == len(records)
    with engine.begin() as conn:
        ids = dict(
            conn.execute(
                select(Listing.external_id, Listing.course_id).where(
                    Listing.platform_id == platform
                )
            ).all()
        )
        fun = dict(
            conn.execute(
                select(Listing.title, Listing.course_id)
                .join(Platform, Platform.id == Listing.platform_id)
                .where(
                    Platform.name == "fun_mooc",
                    Listing.title.in_(
                        [
                            "Introduction à l'intelligence artificielle",
                            "Introduction à la statistique avec R",
                        ]
                    ),
                )
            ).all()
        )
        # the same course on two platforms: where the matcher has not linked them, link
        # them by hand as a maintainer's override would, and recompute the courses
        touched = set()
        for external_id, title in (
            ("oc-ia-hidden", "Introduction à l'intelligence artificielle"),
            ("oc-stat-r", "Introduction à la statistique avec R"),
        ):
            if ids[external_id] != fun[title]:
                touched |= {ids[external_id], fun[title]}
                conn.execute(
                    update(Listing)
                    .where(Listing.external_id == external_id)
                    .values(course_id=fun[title], link_method="override")
                )
                ids[external_id] = fun[title]
        if touched:
            writer.refresh_courses(conn, touched, NOW)
        # hidden as three healthy misses would hide them: the courses are recomputed
        hiding = Listing.external_id.in_(["oc-hidden", "oc-ia-hidden"])
        affected = set(conn.execute(select(Listing.course_id).where(hiding)).scalars())
        conn.execute(update(Listing).where(hiding).values(hidden=True))
        writer.refresh_courses(conn, affected, NOW)
    engine.dispose()
    return ids


def _load_rome(url: str) -> None:
    """The shipped ROME 4.0 release, loaded before any course is stored, so the writer links
    each course to its jobs as production does (docs/JOBS.md)."""
    engine = make_engine(url)
    ensure_schema(engine)
    load(engine, shipped_release())
    engine.dispose()


@functools.cache
def shipped_release():
    """The shipped release, read and checked once per test session."""
    return read_release()


_SQLITE_TEMPLATE: list[Path] = []


def _sqlite_with_rome(tmp_path_factory, path: Path) -> None:
    """An empty SQLite catalogue holding the shipped ROME at ``path``: loaded once per
    session into a template (about 15 s), copied for each module."""
    if not _SQLITE_TEMPLATE:
        template = tmp_path_factory.mktemp("rome") / "template.sqlite3"
        _load_rome(f"sqlite:///{template}")
        _SQLITE_TEMPLATE.append(template)
    shutil.copy(_SQLITE_TEMPLATE[0], path)


def build(url: str, rome_loaded: bool = False) -> Catalogue:
    if not rome_loaded:
        _load_rome(url)
    _crawl_recordings(url)
    ids = _add_extras(url)
    return Catalogue(url=url, engine=open_readonly(url), ids=ids)


def _postgres_schema_url():
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("MOISSON_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"MOISSON_REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    return admin, schema, f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def catalogue(request, tmp_path_factory):
    """The module's catalogue, on each backend in turn, opened read-only."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("portal") / "catalogue.sqlite3"
        _sqlite_with_rome(tmp_path_factory, path)
        built = build(f"sqlite:///{path}", rome_loaded=True)
        yield built
        built.engine.dispose()
        return
    admin, schema, url = _postgres_schema_url()
    built = build(url)
    yield built
    built.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def client(catalogue):
    from fastapi.testclient import TestClient

    from portal.app import create_app

    with TestClient(create_app(catalogue.engine, clock=lambda: NOW)) as test_client:
        yield test_client
