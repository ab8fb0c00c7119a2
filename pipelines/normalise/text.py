"""Folding and numbers shared by the normalisers.

Platforms write the same words with and without accents, with typographic apostrophes,
non-breaking spaces and odd capitals; every normaliser matches on the folded text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"

_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-"})


@cache
def load_data(name: str) -> dict:
    """A JSON data file of ``pipelines/data``, without its ``_comment`` keys."""
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def strip_tags(text: str) -> str:
    return _TAG.sub(" ", text)


def fold(text: str) -> str:
    """Lower case, no accents, plain apostrophes and dashes, single spaces."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _SPACES.sub(" ", text).strip()


def number_words() -> dict[str, float]:
    return load_data("french_numbers.json")["numbers"]


def number_pattern() -> str:
    """A regular expression for an amount: digits (``1,5``) or a number word."""
    words = "|".join(sorted(number_words(), key=len, reverse=True))
    return rf"(?:\d+(?:[.,]\d+)?|{words})"


def to_number(token: str) -> float | None:
    """``"1,5"`` → 1.5, ``"deux"`` → 2.0; None for anything else."""
    token = token.strip()
    if not token:
        return None
    words = number_words()
    if token in words:
        return float(words[token])
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def spelled_numbers_as_digits(folded: str) -> str:
    """Compound number words as digits: « dix-sept semaines » → « 17 semaines ».

    text2num reads French compounds (« vingt et un », « quatre-vingt-dix ») that a word
    list cannot; it leaves « un », « une », « deux » as words, which ``number_words``
    reads. Applied on folded text, where text2num still recognises the words (French
    number words carry no accents).
    """
    from text_to_num import alpha2digit

    return alpha2digit(folded, "fr")


def plain_number(value: float | None):
    """An integral float as an int, so ``[5, 7]`` prints as the platform wrote it."""
    if value is None:
        return None
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value
