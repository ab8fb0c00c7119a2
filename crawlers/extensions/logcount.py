"""``log_count/<LEVEL>`` per spider, when several spiders share one process.

Scrapy's LogCount extension counts every record of the process in every crawler's stats,
so under ``moisson crawl --all`` one platform's errors made every other platform
unhealthy. This replacement counts a record for the crawler whose spider it names (Scrapy
and Moisson log with ``extra={"spider": ...}`` or through ``spider.logger``); a record that
names no spider is counted by every spider then running, since it cannot be told apart,
which errs on the side of an unhealthy verdict.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.utils.log import LogCounterHandler


class _OwnRecords(logging.Filter):
    def __init__(self, crawler):
        super().__init__()
        self.crawler = crawler

    def filter(self, record: logging.LogRecord) -> bool:
        spider = getattr(record, "spider", None)
        if spider is None:
            return True
        return spider is self.crawler.spider


class SpiderLogCount:
    def __init__(self, crawler):
        self.crawler = crawler
        self.handler: LogCounterHandler | None = None

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        self.handler = LogCounterHandler(self.crawler, level=self.crawler.settings.get("LOG_LEVEL"))
        self.handler.addFilter(_OwnRecords(self.crawler))
        logging.root.addHandler(self.handler)

    def spider_closed(self, spider, reason) -> None:
        if self.handler is not None:
            logging.root.removeHandler(self.handler)
            self.handler = None
