"""The demo catalogue links the cross-listings its recordings declare, and keeps near misses apart.

Each recording's METADATA.json names the courses it shares with FUN-MOOC
(``cross_listings``) and the near misses it carries; the demo must honour both.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storage.db import make_engine
from storage.models import Course, Listing, Platform
from tests.conftest import RECORDINGS, REFERENCE_TIME, moisson


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'catalogue.sqlite3'}"
    result = moisson("demo", "--db", url, "--reference-time", REFERENCE_TIME, timeout=600)
    assert result.returncode == 0, result.stderr
    engine = make_engine(url)
    yield engine
    engine.dispose()


def course_of(engine, platform: str, external_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(Listing.course_id)
            .join(Platform, Platform.id == Listing.platform_id)
            .where(Platform.name == platform, Listing.external_id == external_id)
        ).scalar_one()


def declared_cross_listings() -> list[tuple[tuple[str, str], tuple[str, str]]]:
    pairs = []
    for metadata in sorted(RECORDINGS.glob("*/METADATA.json")):
        data = json.loads(metadata.read_text(encoding="utf-8"))
        for left, right in (data.get("cross_listings") or {}).items():
            platform, _, external_id = left.split()[0].partition(":")
            other = right.split()[0]
            if other.startswith("http") or ":" not in other.split("/")[0]:
                other_platform, other_id = data.get("platform"), other
            else:
                other_platform, _, other_id = other.partition(":")
            pairs.append(((platform, external_id), (other_platform, other_id)))
    return pairs


def test_fewer_courses_than_listings(demo_engine):
    with demo_engine.connect() as conn:
        courses = conn.execute(select(func.count(Course.id))).scalar_one()
        listings = conn.execute(select(func.count(Listing.id))).scalar_one()
    assert courses < listings


def test_declared_cross_listings_share_a_course(demo_engine):
    pairs = declared_cross_listings()
    assert len(pairs) >= 5
    for left, right in pairs:
        assert course_of(demo_engine, *left) == course_of(demo_engine, *right), (left, right)


def test_near_misses_stay_apart(demo_engine):
    cpf = "mon_compte_formation"
    assert course_of(demo_engine, cpf, "40244473200056_PY1-DIST") != course_of(
        demo_engine, cpf, "40244473200056_PY2-DIST"
    )
    assert course_of(demo_engine, cpf, "81234567800019_ANG-PRO-A2") != course_of(
        demo_engine, cpf, "81234567800019_ANG-PRO-B2"
    )  # same title and organisation, levels A2 and B2
    gestion = {
        course_of(demo_engine, "fun_mooc", "1031"),
        course_of(demo_engine, cpf, "30224468400059_GP-FOAD-2025"),
        course_of(demo_engine, "coursera", "kZrmSA5hEeaE1BJ0zVZqGQ"),
    }
    assert len(gestion) == 3  # one title, three organisations
