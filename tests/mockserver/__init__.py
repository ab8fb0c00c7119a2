"""A local test web server for fault tests: a richie site and a plain course catalogue.

It listens on 127.0.0.1 only, on a free port, in a thread of the test process; the crawl
under test runs in a subprocess and reaches it through ``MOISSON_TEST_SITE_URL``. Every
request is recorded (path and time), so tests can bound and check what was fetched.

- ``RichieSite`` serves the FUN-MOOC recordings (crawlers/recordings/fun_mooc, built from
  richie's documented format, see its METADATA.json) as richie's API would, and injects
  faults on chosen URLs: ``Fault.timeout``, ``reset``, ``status`` (with headers such as
  Retry-After), ``oversize``, ``redirect_loop``; ``stop_after`` shuts the whole server
  down after N requests, as a platform going offline mid-crawl.
- ``CatalogueSite`` is a generated HTML catalogue of a few hundred course pages, for the
  distributed (Redis) crawl.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from w3lib.url import canonicalize_url

RECORDINGS = Path(__file__).resolve().parents[2] / "crawlers" / "recordings" / "fun_mooc"


def free_port() -> int:
    """A port free now, for sites that must keep their address across restarts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def key(path: str) -> str:
    """A request path with its query in canonical order (how faults and pages are found)."""
    url = canonicalize_url("http://site" + path)
    return url[len("http://site") :]


@dataclass
class Fault:
    kind: str
    status: int = 200
    headers: tuple = ()
    seconds: float = 0.0
    size: int = 0

    @classmethod
    def timeout(cls, seconds: float) -> Fault:
        """Accept the request, then say nothing for ``seconds``."""
        return cls("timeout", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection with a TCP reset before answering."""
        return cls("reset")

    @classmethod
    def answer(cls, status: int, **headers) -> Fault:
        return cls("status", status=status, headers=tuple(headers.items()))

    @classmethod
    def oversize(cls, size: int) -> Fault:
        """A 200 whose body is ``size`` bytes."""
        return cls("oversize", size=size)

    @classmethod
    def redirect_loop(cls) -> Fault:
        """A 302 to the same page with one more hop, for ever."""
        return cls("redirect")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a crawl's concurrent connections must not wait for accept()


class _Handler(BaseHTTPRequestHandler):
    site: MockSite

    def do_GET(self):  # noqa: N802 (http.server's name)
        site = self.server.site
        number = site.record(self.path)
        if site.on_request is not None:
            site.on_request(self.path)
        if site.stop_after is not None and number > site.stop_after:
            self.close_connection = True
            site.stop_in_background()
            return
        if site.latency:
            site.stopped.wait(site.latency)
        # the client may give up on us, which is what some faults are for
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            site.serve(self)

    def do_POST(self):  # noqa: N802
        """Webhook receiver: keep the JSON body, answer 204."""
        length = int(self.headers.get("Content-Length") or 0)
        self.server.site.posts.append((self.path, json.loads(self.rfile.read(length))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        pass


class MockSite:
    def __init__(self, port: int = 0):
        self.requests: list[tuple[float, str]] = []
        self.posts: list[tuple[str, dict]] = []
        self.on_request = None  # called with each path, before it is served
        self.latency = 0.0  # seconds each answer takes, as a real server's would
        self.faults: dict[str, list[Fault]] = {}
        self.stop_after: int | None = None
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.site = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.stopped = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> MockSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if not self.stopped.is_set():
            self.stopped.set()
            self.server.shutdown()
            self.server.server_close()

    def stop_in_background(self) -> None:
        threading.Thread(target=self.stop, daemon=True).start()

    def record(self, path: str) -> int:
        with self.lock:
            self.requests.append((time.monotonic(), path))
            return len(self.requests)

    def counts(self) -> Counter:
        return Counter(key(path) for _when, path in self.requests)

    def inject(self, path: str, *faults: Fault) -> None:
        """Serve ``faults`` in turn to the next requests for ``path``, then the page."""
        self.faults.setdefault(key(path), []).extend(faults)

    def next_fault(self, path: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(key(path))
            return queue.pop(0) if queue else None

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        if "hop=" in handler.path:
            return self.redirect(handler)
        fault = self.next_fault(handler.path)
        if fault is None:
            return self.page(handler)
        if fault.kind == "timeout":
            self.stopped.wait(fault.seconds)
            handler.close_connection = True
        elif fault.kind == "reset":
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
        elif fault.kind == "status":
            self.send(handler, fault.status, b"", "text/plain", dict(fault.headers))
        elif fault.kind == "oversize":
            self.send(handler, 200, b" " * fault.size, "application/json")
        elif fault.kind == "redirect":
            self.redirect(handler)

    def redirect(self, handler) -> None:
        parts = urlsplit(handler.path)
        hop = int(parse_qs(parts.query).get("hop", ["0"])[0]) + 1
        query = "&".join(p for p in parts.query.split("&") if not p.startswith("hop="))
        location = f"{parts.path}?{query}&hop={hop}"
        self.send(handler, 302, b"", "text/plain", {"Location": location})

    @staticmethod
    def send(handler, status, body: bytes, content_type: str, headers=None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def page(self, handler) -> None:
        raise NotImplementedError


class RichieSite(MockSite):
    """richie's API, answering with the FUN-MOOC recordings' bodies."""

    def __init__(self, port: int = 0, recordings: Path = RECORDINGS):
        super().__init__(port=port)
        index = json.loads((recordings / "index.json").read_text())["responses"]
        self.pages = {}
        for entry in index:
            parts = urlsplit(entry["url"])
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            body = (recordings / entry["body"]).read_bytes()
            content_type = entry.get("headers", {}).get("Content-Type", "application/json")
            self.pages[key(path)] = (body, content_type)

    def page(self, handler) -> None:
        found = self.pages.get(key(handler.path))
        if found is None:
            self.send(handler, 404, b"not found", "text/plain")
        else:
            self.send(handler, 200, found[0], found[1])


class CatalogueSite(MockSite):
    """``/catalogue/`` links to ``pages`` index pages, each linking to ``per_page`` courses."""

    def __init__(self, port: int = 0, pages: int = 10, per_page: int = 30):
        super().__init__(port=port)
        self.index_pages, self.per_page = pages, per_page

    def course_ids(self) -> list[int]:
        return list(range(1, self.index_pages * self.per_page + 1))

    def page(self, handler) -> None:
        parts = urlsplit(handler.path)
        if parts.path == "/robots.txt":
            return self.send(handler, 200, b"User-agent: *\nDisallow:\n", "text/plain")
        if parts.path == "/catalogue/":
            page = int(parse_qs(parts.query).get("page", ["0"])[0])
            if page == 0:
                links = [f"/catalogue/?page={n}" for n in range(1, self.index_pages + 1)]
            else:
                first = (page - 1) * self.per_page + 1
                links = [f"/cours/{n}/" for n in range(first, first + self.per_page)]
            body = "".join(f'<a href="{link}">{link}</a>\n' for link in links)
            return self.send(
                handler, 200, f"<html><body>{body}</body></html>".encode(), "text/html"
            )
        if parts.path.startswith("/cours/"):
            number = parts.path.strip("/").split("/")[-1]
            body = (
                f"<html lang='fr'><body><h1>Cours numéro {number}</h1>"
                f"<time class='start' datetime='2026-12-0{int(number) % 9 + 1}'></time>"
                "</body></html>"
            )
            return self.send(handler, 200, body.encode(), "text/html; charset=utf-8")
        return self.send(handler, 404, b"not found", "text/plain")


class RichieAndCatalogueSite(RichieSite, CatalogueSite):
    """Both sites on one address, for crawls of several spiders at once."""

    def page(self, handler) -> None:
        if urlsplit(handler.path).path.startswith(("/catalogue/", "/cours/")):
            return CatalogueSite.page(self, handler)
        return RichieSite.page(self, handler)
