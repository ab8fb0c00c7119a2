"""The same listing twice in one run (a course on two API pages) is stored once."""

from pipelines.common import Pipeline, drop


class RunDuplicatesPipeline(Pipeline):
    def __init__(self, crawler=None):
        super().__init__(crawler)
        self.seen: set[tuple[str, str]] = set()

    def process_item(self, item):
        record = item["record"]
        key = (record.platform, record.external_id)
        if key in self.seen:
            raise drop(self.crawler, "duplicate_in_run", f"{record.url}: already seen this run")
        self.seen.add(key)
        return item
