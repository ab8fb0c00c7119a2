"""Whitespace, HTML entities, control characters and Unicode NFC, so equal texts compare
equal; and a length limit per field.

Plain fields (title, names, free-text durations) lose tags and entities. Rich fields
(introduction, description) keep their HTML, which the portal sanitises when it renders.
Both lose the C0 control characters (XML and feeds cannot carry them; tabs and newlines
become spaces with the rest of the whitespace). A value longer than its field's limit
(``pipelines/data/text_limits.json``) is cut there and counted under
``normalise/text/truncated/<field>``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from pipelines.common import Pipeline
from pipelines.normalise.text import load_data

PLAIN_FIELDS = ("title", "code", "duration", "effort", "level", "language")
RICH_FIELDS = ("introduction", "description")
LIST_FIELDS = ("categories", "organisations")
TRUNCATED = "normalise/text/truncated/"

_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
# C0 controls that are not whitespace (those are collapsed with the spaces)
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f]")


@lru_cache(maxsize=1)
def limits() -> dict[str, int]:
    return load_data("text_limits.json")


def clean_plain(value):
    """Text without markup: tags removed, entities decoded, spaces collapsed, NFC."""
    if value is None:
        return None
    text = _CONTROLS.sub("", html.unescape(_TAG.sub(" ", str(value))))
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text).strip()
    return text or None


def clean_rich(value):
    """HTML kept as is but for NFC, control characters and collapsed whitespace."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", _CONTROLS.sub("", str(value)))
    text = _SPACES.sub(" ", text).strip()
    return text or None


class CleanTextPipeline(Pipeline):
    def capped(self, field: str, text: str | None, limit_name: str | None = None):
        limit = limits()[limit_name or field]
        if text is None or len(text) <= limit:
            return text
        self.inc(TRUNCATED + field)
        return text[:limit].rstrip()

    def process_item(self, item):
        for field in PLAIN_FIELDS:
            if item.get(field) is not None:
                item[field] = self.capped(field, clean_plain(item[field]))
        for field in RICH_FIELDS:
            if item.get(field) is not None:
                item[field] = self.capped(field, clean_rich(item[field]))
        for field in LIST_FIELDS:
            if item.get(field):
                cleaned = [self.capped(field, clean_plain(v), "list_item") for v in item[field]]
                item[field] = list(dict.fromkeys(v for v in cleaned if v))
        return item
