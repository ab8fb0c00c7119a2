"""``moisson demo --jobs``: the shipped ROME loaded first, so the demo's courses get jobs."""

from __future__ import annotations

import re

from storage.db import make_engine
from storage.jobs import linked_share
from storage.rome import version_summary
from tests.conftest import moisson


def test_demo_with_jobs_links_most_courses_with_reasons(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    result = moisson("demo", "--jobs", "--quiet", "--db", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Loading the shipped ROME 4.0 referential")
    said = re.search(r"^Jobs: (\d+) of (\d+) visible courses linked", result.stdout, re.M)
    engine = make_engine(url)
    try:
        linked, visible = linked_share(engine)
        assert (int(said[1]), int(said[2])) == (linked, visible)
        assert linked > visible / 2  # the issue: « links most courses to jobs »
        assert version_summary(engine)["attribution"] in result.stdout
    finally:
        engine.dispose()
