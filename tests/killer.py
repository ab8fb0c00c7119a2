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


def upgrade_killed_at(url: str, statement: int) -> None:
    """``storage.db.upgrade`` of ``url`` that SIGKILLs its own process just before the
    migrations' ``statement``-th SQL statement (1-based), as a power cut or ``kill -9``
    would; it returns only if the migrations need fewer statements."""
    from sqlalchemy import event

    from storage.db import make_engine, upgrade

    engine = make_engine(url)
    sent = 0

    def before(*_args):
        nonlocal sent
        sent += 1
        if sent >= statement:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(engine, "before_cursor_execute", before)
    upgrade(engine)
    print(sent)


if __name__ == "__main__":  # python -m tests.killer URL N
    import sys

    upgrade_killed_at(sys.argv[1], int(sys.argv[2]))
