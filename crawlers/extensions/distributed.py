"""Keep a worker of a distributed crawl alive while its peers may still add requests.

With scrapy-redis, a worker whose own engine is idle finds the shared queue empty while
another worker is still parsing a page that will queue more. Closing then would leave
the whole crawl to the others; so an idle worker waits until the shared queue has stayed
empty for ``MOISSON_REDIS_IDLE_SECONDS`` before it closes. An idle Scrapy engine looks at
its scheduler every 5 seconds, so the wait should be several times that.
"""

from __future__ import annotations

import time

from scrapy import signals
from scrapy.exceptions import DontCloseSpider


class WaitForPeers:
    def __init__(self, crawler):
        self.crawler = crawler
        self.patience = crawler.settings.getfloat("MOISSON_REDIS_IDLE_SECONDS", 30)
        self.idle_since: float | None = None
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.busy, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def busy(self, *args, **kwargs) -> None:
        self.idle_since = None

    def spider_idle(self, spider) -> None:
        if self.crawler.engine.scheduler.has_pending_requests():
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.patience:
            raise DontCloseSpider
