"""Whitespace, HTML entities and Unicode NFC, so equal texts compare equal.

Plain fields (title, names, free-text durations) lose tags and entities. Rich fields
(introduction, description) keep their HTML, which the portal sanitises when it renders.
"""

from __future__ import annotations

import html
import re
import unicodedata

from pipelines.common import Pipeline

PLAIN_FIELDS = ("title", "code", "duration", "effort", "level", "language")
RICH_FIELDS = ("introduction", "description")
LIST_FIELDS = ("categories", "organisations")

_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def clean_plain(value):
    """Text without markup: tags removed, entities decoded, spaces collapsed, NFC."""
    if value is None:
        return None
    text = html.unescape(_TAG.sub(" ", str(value)))
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text).strip()
    return text or None


def clean_rich(value):
    """HTML kept as is but for NFC and collapsed whitespace."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value))
    text = _SPACES.sub(" ", text).strip()
    return text or None


class CleanTextPipeline(Pipeline):
    def process_item(self, item):
        for field in PLAIN_FIELDS:
            if item.get(field) is not None:
                item[field] = clean_plain(item[field])
        for field in RICH_FIELDS:
            if item.get(field) is not None:
                item[field] = clean_rich(item[field])
        for field in LIST_FIELDS:
            if item.get(field):
                cleaned = [clean_plain(v) for v in item[field]]
                item[field] = list(dict.fromkeys(v for v in cleaned if v))
        return item
