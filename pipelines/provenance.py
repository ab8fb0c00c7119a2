"""Stamp every item with where and when it was collected."""

from pipelines.common import Pipeline, reference_time


class ProvenancePipeline(Pipeline):
    def __init__(self, crawler=None):
        super().__init__(crawler)
        settings = crawler.settings if crawler is not None else None
        self.fetched_at = reference_time(settings).isoformat()

    def process_item(self, item):
        spider = getattr(self.crawler, "spider", None)
        if spider is not None:
            item.setdefault("spider", spider.name)
            item.setdefault("platform", getattr(spider, "platform", spider.name))
        item.setdefault("fetched_at", self.fetched_at)
        return item
