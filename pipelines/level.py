"""Level: the platform's wording on Moisson's scale, or the audience the course describes.

A course that states no level (richie sites have no level field) gets one only from an
explicit cue of its title or description (« sans prérequis », « Introduction à »),
counted under ``normalise/level/inferred`` so a run shows how many levels were read that way.
"""

from __future__ import annotations

from pipelines.common import Pipeline, normalised
from pipelines.normalise.level import infer_level, parse_level


class LevelPipeline(Pipeline):
    def process_item(self, item):
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
