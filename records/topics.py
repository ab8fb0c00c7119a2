"""Moisson's French topic taxonomy (``records/data/topics.json``), two levels deep.

The normaliser (pipelines/normalise/topics.py) chooses a course's topics among these
slugs; storage/topics.py syncs the taxonomy into the ``topic`` table.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "topics.json"
MAX_TOPICS = 3  # a course has one to three topics, a parent listed before its child


@lru_cache(maxsize=1)
def taxonomy() -> dict[str, dict]:
    """Slug → {slug, label, parent}, parents before children."""
    entries = json.loads(DATA.read_text(encoding="utf-8"))["topics"]
    return {entry["slug"]: entry for entry in entries}
