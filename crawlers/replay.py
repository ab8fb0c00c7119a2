"""Serve recorded responses to spiders, through Scrapy's real engine and middlewares.

A recordings folder ``<root>/<spider>/index.json`` lists responses::

    {"responses": [{"url": ..., "status": 200, "headers": {...}, "body": "file.json"}]}

Several entries for one URL are served in order (a 500 then a 200 exercises the retry
middleware); the last one repeats. ``"truncate_at": N`` serves only the first N bytes of
the body and flags the loss of data, as a connection cut short would. A URL with no
recording is answered 404 and counted, so a spider change that asks for new pages shows
up in the stats instead of reaching the network.

Conditional requests are answered as a server would: every replayed response carries
the ``ETag`` its entry records or, if none, one derived from its body's bytes, and the
``Last-Modified`` its entry records, if any; a request whose ``If-None-Match`` names
that ETag, or whose ``If-Modified-Since`` is not earlier than that Last-Modified, gets a
``304 Not Modified`` with no body (``replay/not_modified``), unless the entry's status is
not a 2xx (RFC 9110 13.2.1: an error answer ignores the preconditions) or the entry is
cut short (it stands for a failing connection). A second replayed night
therefore costs what a second night on the platform would (benchmarks/incremental.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from email.utils import parsedate_to_datetime
from pathlib import Path

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed
from twisted.web.http import _DataLoss
from w3lib.url import canonicalize_url

logger = logging.getLogger(__name__)

DEFAULT_RECORDINGS = Path(__file__).with_name("recordings")


def recordings_root(settings) -> Path:
    return Path(settings.get("MOISSON_RECORDINGS_DIR") or DEFAULT_RECORDINGS)


def spiders_with_recordings(root: Path = DEFAULT_RECORDINGS) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/index.json"))


class RecordingError(ValueError):
    """A recordings folder is malformed."""


def load_index(folder: Path) -> dict[str, list[dict]]:
    index_file = folder / "index.json"
    try:
        entries = json.loads(index_file.read_text(encoding="utf-8"))["responses"]
    except (OSError, ValueError, KeyError) as exc:
        raise RecordingError(f"cannot read recordings index {index_file}: {exc}") from exc
    by_url: dict[str, list[dict]] = defaultdict(list)
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("url"):
            raise RecordingError(f"{index_file}: response #{number} has no url")
        if entry.get("body") and not (folder / entry["body"]).is_file():
            raise RecordingError(f"{index_file}: body file {entry['body']!r} is missing")
        by_url[canonicalize_url(entry["url"])].append(entry)
    return by_url


class ReplayDownloadHandler(BaseDownloadHandler):
    def __init__(self, crawler):
        super().__init__(crawler)
        self._index: dict[str, list[dict]] | None = None
        self._served: dict[str, int] = defaultdict(int)
        self._folder: Path | None = None

    def _load(self) -> None:
        spider = self.crawler.spider
        self._folder = recordings_root(self.crawler.settings) / spider.name
        self._index = load_index(self._folder)

    async def download_request(self, request: Request) -> Response:
        if self._index is None:
            self._load()
        key = canonicalize_url(request.url)
        stats = self.crawler.stats
        entries = self._index.get(key)
        if not entries:
            stats.inc_value("replay/unrecorded")
            logger.warning("no recording for %s: answering 404", request.url)
            return Response(url=request.url, status=404, body=b"", request=request)
        position = min(self._served[key], len(entries) - 1)
        self._served[key] += 1
        entry = entries[position]
        stats.inc_value("replay/served")
        body = (self._folder / entry["body"]).read_bytes() if entry.get("body") else b""
        headers = Headers(entry.get("headers") or {})
        if not headers.get("ETag"):
            headers["ETag"] = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        # RFC 9110, 13.2.1: preconditions are ignored when the answer would not be a 2xx;
        # an entry cut short stands for a connection that fails, asked for or not
        intact = 200 <= int(entry.get("status", 200)) < 300 and "truncate_at" not in entry
        if intact and not_modified(request, headers):
            stats.inc_value("replay/not_modified")
            kept = {k: headers[k] for k in (b"ETag", b"Last-Modified") if headers.get(k)}
            return Response(
                url=request.url, status=304, headers=kept, body=b"", request=request,
                flags=["replayed"],
            )  # fmt: skip
        flags = ["replayed"]
        if "truncate_at" in entry:
            body = body[: int(entry["truncate_at"])]
            if self.crawler.settings.getbool("DOWNLOAD_FAIL_ON_DATALOSS"):
                raise ResponseFailed([Failure(_DataLoss())])
            flags.append("dataloss")
        respcls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return respcls(
            url=request.url,
            status=int(entry.get("status", 200)),
            headers=headers,
            body=body,
            flags=flags,
            request=request,
        )


def not_modified(request: Request, headers: Headers) -> bool:
    """Whether a server holding a response with ``headers`` answers ``request`` with a 304."""
    asked_tag = request.headers.get("If-None-Match")
    if asked_tag is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = {t.strip() for t in asked_tag.split(b",")}
        return b"*" in tags or headers.get("ETag") in tags
    asked_since, modified = request.headers.get("If-Modified-Since"), headers.get("Last-Modified")
    if asked_since is None or modified is None:
        return False
    try:
        since = parsedate_to_datetime(asked_since.decode("latin-1"))
        return parsedate_to_datetime(modified.decode("latin-1")) <= since
    except (TypeError, ValueError):
        return False
