"""The language a course's title and description are written in (ISO 639-1).

py3langid (a maintained fork of langid.py) ships its model inside the package and never
downloads anything. Short texts are where detectors err, so the candidates are limited
to the languages course platforms publish in, and an answer below ``MIN_CONFIDENCE`` is
reported as not understood rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.normalise.text import strip_tags

CANDIDATES = ("fr", "en", "es", "de", "it", "pt", "nl", "ar", "zh", "ru", "ja", "pl", "tr")
MIN_CONFIDENCE = 0.9
MIN_LETTERS = 12
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(frozen=True)
class Language:
    language: str | None = None
    confidence: float | None = None
    unparsed: str | None = None

    def as_json(self) -> dict:
        out = {"language": self.language}
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def detect_language(title: str | None, description: str | None = None) -> Language:
    """The language of a course's texts, or a reason why it cannot be told; never raises."""
    text = " ".join(strip_tags(t) for t in (title, description) if isinstance(t, str))
    return _detect_cached(" ".join(text.split())[:2000])


@lru_cache(maxsize=4096)
def _detect_cached(text: str) -> Language:
    if len(_LETTERS.findall(text)) < MIN_LETTERS:
        return Language(unparsed="text too short")
    code, confidence = _identifier().classify(text)
    confidence = float(confidence)
    if confidence < MIN_CONFIDENCE:
        return Language(confidence=confidence, unparsed=f"uncertain ({code} {confidence:.2f})")
    return Language(language=str(code), confidence=confidence)
