"""Live progress of a crawl: bars on a terminal, plain lines in a log.

An operator watching a terminal sees one bar per spider (requests, items, dropped,
errors; the bar fills once the spider knows how many items to expect, from the stat
``moisson/items/expected``). Under cron or systemd nobody watches, so the same figures
go out as one plain line per spider every ``interval`` seconds and when a spider closes.
"""

from __future__ import annotations

import sys
from typing import TextIO

from scrapy import signals

EXPECTED = "moisson/items/expected"


def figures(stats: dict) -> dict[str, int]:
    return {
        "requests": stats.get("downloader/request_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "dropped": stats.get("item_dropped_count", 0),
        "errors": stats.get("log_count/ERROR", 0),
    }


def line(spider: str, stats: dict, state: str = "running") -> str:
    counts = figures(stats)
    expected = stats.get(EXPECTED)
    items = f"{counts['items']}/{expected}" if expected else str(counts["items"])
    return (
        f"moisson: {spider} {state}: {counts['requests']} requests, {items} items, "
        f"{counts['dropped']} dropped, {counts['errors']} errors"
    )


class Progress:
    """Watches crawlers inside the running reactor; ``stop`` after the process ends."""

    def __init__(self, stream: TextIO | None = None, interval: float = 60.0, live=None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval if not self.live else 0.5
        self.crawlers: list = []
        self.loop = None
        self.bars = None
        self.tasks: dict[str, int] = {}

    def watch(self, crawlers: list) -> None:
        from twisted.internet import reactor, task

        self.crawlers = crawlers
        for crawler in crawlers:
            crawler.signals.connect(self._closed(crawler), signal=signals.spider_closed, weak=False)
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bars = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            for crawler in crawlers:
                self.tasks[crawler.spidercls.name] = self.bars.add_task(
                    crawler.spidercls.name, total=None, counts=""
                )
            self.bars.start()
        self.loop = task.LoopingCall(self.tick)
        reactor.callWhenRunning(self.loop.start, self.interval, now=False)

    def _closed(self, crawler):
        def spider_closed(spider, reason):
            stats = crawler.stats.get_stats()
            if self.live:
                self._update(crawler.spidercls.name, stats, done=True)
            else:
                print(line(crawler.spidercls.name, stats, f"closed ({reason})"), file=self.stream)

        return spider_closed

    def _update(self, name: str, stats: dict, done: bool = False) -> None:
        counts = figures(stats)
        expected = stats.get(EXPECTED)
        self.bars.update(
            self.tasks[name],
            completed=counts["items"] + counts["dropped"],
            total=(counts["items"] + counts["dropped"]) if done else expected,
            counts=(
                f"req {counts['requests']}  items {counts['items']}  "
                f"dropped {counts['dropped']}  errors {counts['errors']}"
            ),
        )

    def tick(self) -> None:
        for crawler in self.crawlers:
            stats = crawler.stats.get_stats()
            if "finish_reason" in stats:
                continue
            if self.live:
                self._update(crawler.spidercls.name, stats)
            else:
                print(line(crawler.spidercls.name, stats), file=self.stream, flush=True)

    def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.bars is not None:
            self.bars.stop()


class CommandProgress:
    """One rich progress bar on stderr for a long command (``moisson jobs relink``,
    ``jobs refresh-offers``): the block gets ``advance(done, total)``. Without a terminal
    (cron, a pipe, a log) it says nothing: the command's summary is the record."""

    def __init__(self, label: str, quiet: bool = False, stream: TextIO | None = None):
        self.label, self.quiet = label, quiet
        self.stream = stream or sys.stderr
        self.progress = None

    def __enter__(self):
        if not self.quiet and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(file=self.stream),
            )
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=None)
        return self.advance

    def advance(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
