"""Level: the platform's wording on Moisson's scale, or the audience the course describes.

A course that states no level (richie sites have no level field) gets one only from an
explicit cue of its title or description (« sans prérequis », « Introduction à »),
counted under ``normalise/level/inferred`` so a run shows how many levels were read that way.

A qualification level (``item["qualification"]``: the diploma required at ``entry``, the
one reached at ``exit``) is not a difficulty and never gives one: it is read on its own
scale (``pipelines/normalise/qualification.py``) into ``qualification_entry`` / ``_exit``.
"""

from __future__ import annotations

from pipelines.common import Pipeline, normalised
from pipelines.normalise.level import infer_level, parse_level
from pipelines.normalise.qualification import parse_qualification


class LevelPipeline(Pipeline):
    def process_item(self, item):
        self.read_qualification(item)
        return self.read_level(item)

    def read_qualification(self, item) -> None:
        stated = item.get("qualification") or {}
        out = normalised(item)
        for end in ("entry", "exit"):
            text = stated.get(end)
            if text is None or not str(text).strip():
                continue
            found = parse_qualification(text, item.get("platform"))
            if found.level:
                out[f"qualification_{end}"] = found.level
            elif not found.unstated:
                self.inc("normalise/qualification/unparsed")

    def read_level(self, item):
        out = normalised(item)
        text = item.get("level")
        if text is not None and str(text).strip():
            level = parse_level(text, item.get("platform"))
            if level.level:
                out["level"] = level.level
                return item
            self.inc("normalise/level/unparsed")
        inferred = infer_level(
            item.get("title"), item.get("introduction") or item.get("description")
        )
        if inferred.level:
            out["level"] = inferred.level
            self.inc("normalise/level/inferred")
        return item
