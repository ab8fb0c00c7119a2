"""Is this listing the same course as that one? Pure functions, no SQL.

Titles are compared on a key that forgets what platforms change freely (case, accents,
punctuation, "MOOC", session and year markers, the organisation's name); organisations on
a canonical key through an alias referential (``storage/data/organisation_aliases.csv``,
``establishments_other.csv`` and ``establishments_fr.csv``, the ministry's open data).
Near misses stay apart because some tokens must agree exactly: numbers and ordinals
("partie 1" / "partie 2"), and the level when both sides state it.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from rapidfuzz import fuzz

DATA = Path(__file__).with_name("data")

STOPWORDS = frozenset(
    [
        "a",
        "au",
        "aux",
        "avec",
        "d",
        "de",
        "des",
        "du",
        "en",
        "et",
        "l",
        "la",
        "le",
        "les",
        "par",
        "pour",
        "sur",
        "un",
        "une",
        "niveau",
        "the",
        "of",
        "and",
        "to",
        "in",
        "for",
    ]
)
GENERIC = frozenset(["mooc", "spoc", "cours", "formation", "ligne", "online", "course"])
_YEAR = re.compile(r"\b20[0-9]{2}(\s*20[0-9]{2})?\b")
_CODE_SUFFIX = re.compile(r"\b(s|session)0?\d{1,2}$")
_NON_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")
_ORGANISATION_PARTS = re.compile(r"\s[-–—]\s|[()]")
_SEPARATOR = re.compile(r"\s*(?::|\s[-–—|]\s|\()\s*")
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7"}
_ORDINALS = {
    "premier": "1",
    "premiere": "1",
    "un": "1",
    "deux": "2",
    "deuxieme": "2",
    "second": "2",
    "seconde": "2",
    "trois": "3",
    "troisieme": "3",
    "quatre": "4",
    "quatrieme": "4",
    "first": "1",
    "two": "2",
    "three": "3",
}
_PART_WORDS = frozenset(
    [
        "partie",
        "part",
        "module",
        "niveau",
        "tome",
        "volume",
        "chapitre",
        "episode",
        "saison",
        "level",
        "unit",
        "bloc",
    ]
)
_ABBREVIATIONS = {"univ": "universite", "inst": "institut", "ec": "ecole", "st": "saint"}


def fold(text: str) -> str:
    """Lower case, no accents, curly quotes straightened, words separated by single spaces."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("œ", "oe"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class TitleKey:
    text: str  # folded, without generic words and session markers
    tokens: frozenset[str]  # content words, for candidate search
    markers: frozenset[str]  # numbers and ordinals that must agree
    head: str = ""  # the folded title before its last separator (":", " - ", "|", "(")
    subtitle: str = ""  # the folded words after it


@cache
def _run_data() -> dict:
    return json.loads((DATA / "run_markers.json").read_text(encoding="utf-8"))


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _run_marker() -> re.Pattern:
    """« session 2 », « session de printemps », « 3e édition », « printemps 2025 »,
    « Spring session » (folded)."""
    data = _run_data()
    run, ordinal = _alternation(data["run_words"]), _alternation(data["ordinals"])
    season = _alternation(data["seasons"])
    when = _alternation(data["seasons"] + data["months"])
    return re.compile(
        rf"\b(?:(?:{ordinal})\s+(?:{run})|(?:{run})\s*(?:n\s*)?(?:(?:de|d|du|of)\s+)?"
        rf"(?:{when}|\d{{1,4}})|(?:{season})\s+(?:20\d\d|{run}))\b"
    )


@cache
def _generic_subtitles() -> frozenset[str]:
    """The generic subtitles as a title key writes them (« cours en ligne » → « en »)."""
    return frozenset(" ".join(_words(fold(s), ())) for s in _run_data()["generic_subtitles"])


def _words(folded: str, organisations: tuple[str, ...]) -> list[str]:
    """Folded words without run and year markers, the organisation's name, "MOOC"…"""
    text = _YEAR.sub(" ", _run_marker().sub(" ", folded))
    for name in organisations:  # "Gestion de projet - Centrale Lille" on a CPF listing
        name = fold(name)
        if name and len(name) > 3 and name in text and name != text.strip():
            text = text.replace(name, " ")
    return [w for w in text.split() if w not in GENERIC]


def title_key(title: str, organisations: tuple[str, ...] = ()) -> TitleKey:
    separators = list(_SEPARATOR.finditer(title))
    head = subtitle = ""
    if separators:
        head = " ".join(_words(fold(title[: separators[-1].start()]), organisations))
        subtitle = " ".join(_words(fold(title[separators[-1].end() :]), organisations))
    words = _words(fold(title), organisations)
    markers = set()
    for position, word in enumerate(words):
        previous = words[position - 1] if position else ""
        digits = _DIGITS.findall(word)
        if digits:
            markers.update(str(int(d)) for d in digits)
        elif previous in _PART_WORDS and (word in _ROMAN or word in _ORDINALS):
            markers.add(_ROMAN.get(word) or _ORDINALS[word])
        elif word in _ROMAN and position == len(words) - 1 and position > 0:
            markers.add(_ROMAN[word])
        elif word in _ORDINALS and word.endswith(("ieme", "iere")):
            markers.add(_ORDINALS[word])
    text = " ".join(words)
    tokens = frozenset(w for w in words if w not in STOPWORDS and not w.isdigit())
    return TitleKey(
        text=text, tokens=tokens, markers=frozenset(markers), head=head, subtitle=subtitle
    )


ALIAS_FILES = (  # the first file that names a group gives its canonical name
    ("organisation_aliases.csv", "canonical", "alias"),  # kept by hand, Moisson's own names
    ("establishments_other.csv", "name", "alias"),  # kept by hand: schools outside the list
    ("establishments_fr.csv", "name", "alias"),  # built from the ministry's open data
)


@cache
def _alias_table() -> tuple[dict[str, str], dict[str, str]]:
    """Every known name's key → its group's canonical key; canonical key → display name.

    The files are joined: two rows sharing a name are one organisation (« Essec » and
    « ESSEC Business School » through the ministry's row, « Paris 1 » in both the hand table
    and the ministry's), so a group's names come from all of them. A group's canonical key
    and name are those of the first file, and first row, that names it.
    """
    parent: dict[str, str] = {}
    order: dict[str, int] = {}  # when a key was first named

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    display: dict[str, str] = {}
    for filename, name_column, alias_column in ALIAS_FILES:
        path = DATA / filename
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                name, alias = row[name_column], row[alias_column]
                canonical, other = organisation_key_plain(name), organisation_key_plain(alias)
                if not canonical or not other:
                    continue
                for key in (canonical, other):
                    if key not in parent:
                        parent[key], order[key] = key, len(order)
                if filename != "establishments_fr.csv":
                    display.setdefault(canonical, name)
                roots = sorted({root(canonical), root(other)}, key=order.__getitem__)
                if len(roots) == 2:
                    parent[roots[1]] = roots[0]  # the group named first keeps its key
    keys = {key: root(key) for key in parent}
    names = {key: display[key] for key in set(keys.values()) if key in display}
    return keys, names


def _aliases() -> dict[str, str]:
    return _alias_table()[0]


def canonical_name(name: str) -> str:
    """The name the alias table gives an organisation, or the name as written."""
    return _alias_table()[1].get(organisation_key(name), name.strip())


def organisation_key_plain(name: str) -> str:
    words = [_ABBREVIATIONS.get(w, w) for w in fold(name).split()]
    return " ".join(w for w in words if w not in STOPWORDS)


@lru_cache(maxsize=65536)
def organisation_key(name: str) -> str:
    """The canonical key of an organisation, through the alias table.

    Platforms often write an acronym with its expansion ("CNED - Centre national
    d'enseignement à distance", "Inria (Institut national …)"): when the whole name is not
    known, each of its parts is tried.
    """
    plain = organisation_key_plain(name)
    if plain in _aliases():
        return _aliases()[plain]
    for part in _ORGANISATION_PARTS.split(name):
        key = organisation_key_plain(part)
        if key in _aliases():
            return _aliases()[key]
    return plain


@lru_cache(maxsize=65536)
def organisations_agree(a: frozenset[str], b: frozenset[str]) -> bool | None:
    """True when they share an organisation, False when they clearly differ, None if unknown."""
    if not a or not b:
        return None
    if a & b:
        return True
    # a typo, not a different institution: "Sorbonne Université" is not "Paris 1 …-Sorbonne"
    return any(fuzz.ratio(x, y) >= 92 for x in a for y in b)


@dataclass(frozen=True)
class Candidate:
    """What matching needs to know of one listing."""

    title: TitleKey
    organisations: frozenset[str]
    level: str | None = None
    platform: str | None = None


@dataclass(frozen=True)
class Match:
    same: bool
    score: float
    reason: str


# Thresholds chosen on tests/data/linkage_pairs.jsonl (see docs/LINKAGE.md).
SCORE_WITH_ORGANISATION = 88.0
SCORE_WITHOUT_ORGANISATION = 96.0


def compare(a: Candidate, b: Candidate) -> Match:
    if a.title.markers != b.title.markers:
        return Match(False, 0.0, "numbers differ")
    # A course open to every level (normalised "tous_niveaux") fits any stated level.
    if a.level and b.level and a.level != b.level and "tous_niveaux" not in (a.level, b.level):
        return Match(False, 0.0, "levels differ")
    organisations = organisations_agree(a.organisations, b.organisations)
    if organisations is False:
        return Match(False, 0.0, "organisations differ")
    if a.title.text == b.title.text:
        return Match(True, 100.0, "same title")
    short, long = sorted((a.title, b.title), key=lambda key: len(key.text))
    if organisations and long.head == short.text and _subtitle_adds_nothing(a, b, short, long):
        # the same title plus a subtitle: "Recherche reproductible : principes … : les bases"
        return Match(True, 90.0 + 10.0 * len(short.tokens) / len(long.tokens), "subtitle added")
    if not _tokens_pair_up(a.title.tokens, b.title.tokens):
        return Match(False, 0.0, "a content word differs")
    score = fuzz.token_sort_ratio(a.title.text, b.title.text)
    needed = SCORE_WITH_ORGANISATION if organisations else SCORE_WITHOUT_ORGANISATION
    return Match(score >= needed, float(score), "fuzzy title")


def _subtitle_adds_nothing(a: Candidate, b: Candidate, short: TitleKey, long: TitleKey) -> bool:
    """Is the long title the short one plus a subtitle that names no other course?

    A series shares its head on one platform (« Excel for Everyone » / « Excel for
    Everyone: Data Management », « Embedded Systems Essentials with Arm » / « …: Getting
    Started », all real edX courses), so two listings of one platform never join this way.
    Across platforms (or when a platform is not known), a subtitle joins when it is generic
    (« les bases », « MOOC »), when the head alone is specific (three content words or
    more), or, between two known platforms, when the head has two content words at least.
    """
    if a.platform and a.platform == b.platform:
        return False
    if long.subtitle in _generic_subtitles():
        return bool(short.tokens)
    if len(short.tokens) >= 3:
        return True
    cross_platform = a.platform and b.platform and a.platform != b.platform
    return bool(cross_platform) and len(short.tokens) >= 2


def stem(word: str) -> str:
    """French and English plurals: "méthodologiques" and "méthodologique" are one word."""
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def _tokens_pair_up(a: frozenset[str], b: frozenset[str]) -> bool:
    """Every content word of one title has its twin in the other (plural or typo aside).

    A word that appears on one side only ("Critical" / "Complex", "Python" / "R",
    "Ancient Masterpieces") makes two different courses, however close the scores.
    """
    left = {stem(w) for w in a}
    right = {stem(w) for w in b}
    only_left, only_right = sorted(left - right), sorted(right - left)
    if len(only_left) != len(only_right):
        return False
    return all(fuzz.ratio(x, y) >= 85 for x, y in zip(only_left, only_right, strict=True))
