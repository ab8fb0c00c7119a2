"""A small, thread-safe memo of read results for the minute they were computed in.

Counts and facets over a whole catalogue cost a pass over its sessions, yet the catalogue
changes only when a crawl writes and states change with the clock: remembering them for
the current minute (the key holds the minute) makes a busy landing page cheap and is never
more than a minute behind a crawl. Pages of results are not memoised.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any


class MinuteCache:
    def __init__(self, size: int = 512):
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, now: datetime, compute: Callable[[], Any]) -> Any:
        if self.size <= 0:
            return compute()
        full_key = (now.replace(second=0, microsecond=0), key)
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return self._entries[full_key]
        value = compute()  # outside the lock: two threads may both compute, both correct
        with self._lock:
            self.misses += 1
            self._entries[full_key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value
