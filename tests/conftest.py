"""Shared fixtures: the catalogue on SQLite and on PostgreSQL, recordings, frozen time.

PostgreSQL tests read ``MOISSON_TEST_POSTGRES_URL``; without it they skip and say why.
CI sets ``MOISSON_REQUIRE_POSTGRES=1`` so that a missing or dead server fails the run
instead of silently skipping half the storage tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "crawlers" / "recordings"
REFERENCE_TIME = "2026-11-15T12:00:00+01:00"  # the recordings' "now" (see their METADATA)
PG_ENV = "MOISSON_TEST_POSTGRES_URL"


def moisson(*args, cwd=ROOT, env=None, timeout=300) -> subprocess.CompletedProcess:
    """Run the ``moisson`` command line in a child process, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "moisson.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def replay_crawl(db_url, *extra, recordings=None, spider="fun_mooc"):
    """A whole replayed crawl of one spider into ``db_url``, at the recordings' "now"."""
    args = ["crawl", spider, "--replay", "--db", db_url, "--reference-time", REFERENCE_TIME]
    if recordings is not None:
        args += ["--recordings", str(recordings)]
    return moisson(*args, *extra)


def _postgres_url_or_skip() -> str:
    url = os.environ.get(PG_ENV)
    required = os.environ.get("MOISSON_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail(f"MOISSON_REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    return url


@pytest.fixture
def postgres_url():
    """A fresh schema in the test server, dropped afterwards; the URL pins search_path."""
    base = _postgres_url_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("MOISSON_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {base} unusable: {exc}")
        pytest.skip(f"PostgreSQL at {base} unusable: {exc}")
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """The same test on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(db_url):
    from storage.db import ensure_schema, make_engine

    engine = make_engine(db_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def recordings_copy(tmp_path):
    """A private copy of the built-in recordings that a test may damage."""
    target = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, target)
    return target
