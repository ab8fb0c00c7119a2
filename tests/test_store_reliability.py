"""The store's reliability: what a bad record, an interrupted migration or a crowded
course must not cost the catalogue (issue 11)."""

from __future__ import annotations

import subprocess
import sys

from storage.db import current_revision, ensure_schema, head_revision, make_engine, table_names
from tests.conftest import ROOT, moisson

# -- an interrupted first migration ------------------------------------------------------------


def _upgrade_killed_at(url: str, statement: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.killer", url, str(statement)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_a_first_upgrade_killed_anywhere_leaves_a_usable_catalogue(tmp_path):
    """``kill -9`` of the first ``moisson db upgrade`` before each of many of its SQL
    statements: every later command works and builds the complete schema."""
    whole = _upgrade_killed_at(f"sqlite:///{tmp_path / 'whole.sqlite3'}", 10**9)
    assert whole.returncode == 0, whole.stderr
    statements = int(whole.stdout)
    expected = table_names(make_engine(f"sqlite:///{tmp_path / 'whole.sqlite3'}"))
    points = sorted({2, *range(5, statements, max(1, statements // 8)), statements - 1})
    for point in points:
        url = f"sqlite:///{tmp_path / f'killed-{point}.sqlite3'}"
        killed = _upgrade_killed_at(url, point)
        assert killed.returncode == -9, (point, killed.stdout, killed.stderr)
        engine = make_engine(url)
        ensure_schema(engine)  # what every later command does first
        assert current_revision(engine) == head_revision(), point
        assert table_names(engine) == expected, point
        engine.dispose()
    # and the command line on the last one, as an operator would run it
    later = moisson("stats", "--db", url)
    assert later.returncode == 0, later.stderr
