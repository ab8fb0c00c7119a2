"""Whole responses of the read routes, kept for about a minute.

A page or an API answer is a function of its URL, the host it names in absolute links, the
time (states are computed at the time of the request) and the catalogue. The counts and
facets are already kept for the minute they were computed in (``storage.cache``), so the
portal is never more than a minute behind a crawl; this ASGI middleware gives whole answers
the same contract: the body of each successful ``GET`` is kept for 30 to 50 seconds of
wall-clock time (each entry its own span, so entries do not all expire at once and a busy
portal never recomputes every page in the same second), and only while the request's
clock stays within a minute of the one the answer was computed at (a portal whose clock
is moved, as tests do, computes afresh). Once expired, an answer is still given for up to
``STALE_FOR`` seconds to the requests that come while one of them computes it afresh.

Every kept answer carries an ``ETag`` (a hash of its body), answers ``If-None-Match`` with
``304 Not Modified``, and says ``Cache-Control: public, max-age=60`` so a reverse proxy may
keep it as long. ``X-Cache: hit|miss`` says which way a response came.

Not kept: other methods, other statuses, responses that set a cookie, bodies over
``MAX_BODY`` bytes, and the paths in ``UNCACHED`` (alert forms write, exports stream).
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta

MAX_BODY = 256 * 1024  # with 512 entries, at most 128 MiB; a page is 20 to 60 KiB
LIFETIME = (30.0, 50.0)  # seconds of wall-clock time an answer is kept, drawn per entry
STALE_FOR = 10.0  # seconds an expired answer is still given while it is computed afresh
MAX_AGE_HEADER = b"public, max-age=60"
UNCACHED = ("/alertes", "/api/v1/export", "/static")


def _etag(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def _matches(if_none_match: bytes | None, etag: bytes) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")]
    return b"*" in candidates or etag in candidates


class AnswerStore:
    """A thread-safe LRU of answers, each kept for its own span of ``LIFETIME``.

    When an answer has expired, the first request for it computes it afresh while the
    others meanwhile get the expired one (at most ``STALE_FOR`` seconds past its span):
    twenty clients asking for the same page in the same second cost one computation, not
    twenty.
    """

    def __init__(self, size: int, timer: Callable[[], float] = time.monotonic):
        self.size = size
        self._timer = timer
        self._entries: OrderedDict[Hashable, list] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, key: Hashable, now: datetime):
        """The answer to give for ``key`` at ``now``, or None: then the caller computes it and
        gives it to ``store`` (or calls ``abandon``)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                value, computed_at, expires, refreshing = entry
                moment = self._timer()
                same_time = abs(now - computed_at) < timedelta(minutes=1)
                if same_time and (
                    moment < expires or (refreshing and moment < expires + STALE_FOR)
                ):
                    self._entries.move_to_end(key)
                    return value
                if same_time and moment < expires + STALE_FOR:
                    entry[3] = True  # this caller refreshes it; the others get it meanwhile
                else:
                    del self._entries[key]
        return None

    def store(self, key: Hashable, now: datetime, value) -> None:
        expires = self._timer() + random.uniform(*LIFETIME)  # noqa: S311 - spreads expiries
        with self._lock:
            self._entries[key] = [value, now, expires, False]
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def abandon(self, key: Hashable) -> None:
        """The refresh of ``key`` gave nothing to keep: the next request tries again."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry[3] = False


class ResponseCache:
    """ASGI middleware: ``GET`` answers of ``app`` kept in ``store`` (see the module)."""

    def __init__(self, app, store: AnswerStore, clock: Callable[[], datetime]):
        self.app = app
        self.store = store
        self.clock = clock

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or self.store.size <= 0
            or scope.get("path", "").startswith(UNCACHED)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = (
            scope["path"],
            scope.get("query_string", b""),
            scope.get("scheme"),
            headers.get(b"host"),
            scope.get("root_path", ""),
        )
        if_none_match = headers.get(b"if-none-match")
        now = self.clock()
        kept = self.store.lookup(key, now)
        if kept is not None:
            await _answer(send, *kept, if_none_match, b"hit")
            return

        start: dict = {}
        chunks: list[bytes] = []
        size = 0
        keep = True
        stored = False

        async def capture(message):
            nonlocal size, keep, stored
            if message["type"] == "http.response.start":
                start.update(message)
                keep = message["status"] == 200 and not any(
                    name.lower() == b"set-cookie" for name, _ in message.get("headers", [])
                )
                if keep:
                    return  # held back: the ETag is known once the body is
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > MAX_BODY:  # too big to keep: what was held, then the rest as it comes
                    keep = False
                    await send(start)
                    await send({**message, "body": b"".join(chunks)})
                    return
                if not message.get("more_body", False):
                    body = b"".join(chunks)
                    response_headers = [
                        (name, value)
                        for name, value in start.get("headers", [])
                        if name.lower() not in (b"content-length", b"etag", b"cache-control")
                    ]
                    kept = (response_headers, body, _etag(body))
                    self.store.store(key, now, kept)
                    stored = True
                    await _answer(send, *kept, if_none_match, b"miss")
                return
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if not stored:
                self.store.abandon(key)


async def _answer(send, response_headers, body, etag, if_none_match, how) -> None:
    extra = [(b"etag", etag), (b"cache-control", MAX_AGE_HEADER), (b"x-cache", how)]
    if _matches(if_none_match, etag):
        headers = [(n, v) for n, v in response_headers if n.lower() != b"content-type"]
        await send({"type": "http.response.start", "status": 304, "headers": headers + extra})
        await send({"type": "http.response.body", "body": b""})
        return
    length = (b"content-length", str(len(body)).encode())
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*response_headers, length, *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})
