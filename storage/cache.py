"""A small, thread-safe memo of read results for the minute they were computed in.

Counts and facets over a whole catalogue cost a pass over its sessions, yet the catalogue
changes only when a crawl writes and states change with the clock: remembering them for
the current minute (the key holds the minute) makes a busy landing page cheap and is never
more than a minute behind a crawl. Pages of results are not memoised.

An entry also lives at most a minute of wall-clock time, whatever "now" says: a portal
whose clock is frozen (``moisson serve --now``) still sees each crawl within a minute.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

MAX_AGE = 60.0  # seconds of wall-clock time


class MinuteCache:
    def __init__(self, size: int = 512, timer: Callable[[], float] = time.monotonic):
        self.size = size
        self._timer = timer
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, now: datetime, compute: Callable[[], Any]) -> Any:
        if self.size <= 0:
            return compute()
        full_key = (now.replace(second=0, microsecond=0), key)
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is not None and self._timer() - entry[1] < MAX_AGE:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return entry[0]
        value = compute()  # outside the lock: two threads may both compute, both correct
        with self._lock:
            self.misses += 1
            self._entries[full_key] = (value, self._timer())
            self._entries.move_to_end(full_key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value
