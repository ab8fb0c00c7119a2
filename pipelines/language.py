"""Keep what is taught in French.

Sessions declared in another language are removed (counted); a course left with no
French session, or declared in another language, is dropped with the reason
``not_french``. A course that states no language (neither itself nor any session) is
read by a language detector on its title and description; only a confident detection
counts (``moisson/language/detected``), and a course confidently written in another
language is dropped as ``not_french``. Otherwise it keeps the platform's default
language when the spider declares one (richie sites are French-language portals).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from pipelines.common import Pipeline, drop
from pipelines.normalise.language import detect_language

TARGET = "fr"
_CODE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")


@cache
def _names() -> dict[str, str]:
    data = json.loads(Path(__file__).with_name("data").joinpath("language_names.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def language_code(value) -> str | None:
    """ISO 639-1 code of a language as a platform writes it, or None if unknown."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _names():
        return _names()[text]
    match = _CODE.match(text)
    if match and len(match.group(1)) == 2:
        return match.group(1)
    return None


class LanguagePipeline(Pipeline):
    def process_item(self, item):
        sessions = item.get("sessions") or []
        kept, foreign = [], []
        for session in sessions:
            codes = {c for c in map(language_code, session.get("languages") or []) if c}
            (foreign if codes and TARGET not in codes else kept).append(session)
        if foreign:
            self.inc("moisson/sessions/dropped/not_french", len(foreign))
            item["sessions"] = kept
        declared = language_code(item.get("language"))
        if sessions and not kept:
            languages = sorted({c for s in foreign for c in s.get("languages") or []})
            raise drop(
                self.crawler,
                "not_french",
                f"{item.get('url') or item.get('external_id')}: sessions only in {languages}",
            )
        if declared and declared != TARGET and not kept:
            raise drop(
                self.crawler,
                "not_french",
                f"{item.get('url') or item.get('external_id')}: course language {declared}",
            )
        stated = declared or any(s.get("languages") for s in sessions)
        if kept and stated or declared == TARGET:
            item["language"] = TARGET
            return item
        if not stated:
            description = item.get("introduction") or item.get("description")
            detected = detect_language(item.get("title"), description)
            if detected.language:
                self.inc("moisson/language/detected")
                if detected.language != TARGET:
                    raise drop(
                        self.crawler,
                        "not_french",
                        f"{item.get('url') or item.get('external_id')}: written in "
                        f"{detected.language} (detected, {detected.confidence:.2f})",
                    )
                item["language"] = TARGET
                return item
            self.inc("normalise/language/unparsed")
        spider = getattr(self.crawler, "spider", None)
        default = getattr(spider, "default_language", None)
        if default:
            item["language"] = default
        elif kept:
            item["language"] = TARGET
        return item
