"""A Scrapy extension that kills its own process with SIGKILL after N scraped items.

Loaded only by tests (``--set EXTENSIONS={"tests.killer.KillAfterItems": 0}``) to show that
a crawl killed in the middle of the store leaves a consistent catalogue.
"""

import os
import signal

from scrapy import signals


class KillAfterItems:
    def __init__(self, crawler):
        self.limit = crawler.settings.getint("KILL_AFTER_ITEMS")
        self.seen = 0
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_scraped(self, item):
        self.seen += 1
        if self.seen >= self.limit:
            os.kill(os.getpid(), signal.SIGKILL)
