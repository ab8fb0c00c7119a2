"""Topics: the platform's categories through its mapping, else rules on title and description."""

from __future__ import annotations

import logging

from pipelines.common import Pipeline, normalised
from pipelines.normalise.topics import course_topics

logger = logging.getLogger(__name__)


class TopicsPipeline(Pipeline):
    def process_item(self, item):
        description = " ".join(
            t for t in (item.get("introduction"), item.get("description")) if isinstance(t, str)
        )
        found = course_topics(
            item.get("categories"), item.get("title"), description, item.get("platform")
        )
        if found.unmapped:
            # A category missing from pipelines/data/topic_categories.json: worth adding.
            self.inc("normalise/topics/unmapped_category", len(found.unmapped))
            logger.debug("unmapped categories of %s: %s", item.get("platform"), found.unmapped)
        if found.topics:
            normalised(item)["topics"] = list(found.topics)
        else:
            self.inc("normalise/topics/unparsed")
        return item
