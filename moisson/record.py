"""``moisson record``: save a response into a spider's recordings, with URL and provenance.

The response is fetched once, politely (the project's user agent, robots.txt obeyed), and
stored as a body file plus an ``index.json`` entry; ``METADATA.json`` notes where and when
it was captured. With ``--from-file FILE --source TEXT`` the body is a file written by hand
(from the platform's documented format, a sample in its source code…): it is stored the
same way, and ``METADATA.json`` says it was BUILT, from what, and when. Replays and tests
then serve exactly those bytes.
"""

from __future__ import annotations

import json
import mimetypes
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from protego import Protego

EXTENSIONS = {"application/json": ".json", "text/html": ".html", "application/xml": ".xml",
              "text/xml": ".xml", "text/csv": ".csv", "text/plain": ".txt"}  # fmt: skip


class RecordError(RuntimeError):
    """The page could not be recorded (robots.txt forbids it, network error)."""


class NameTaken(ValueError):
    """``--name`` is not a plain file name, or names the body of another recorded URL."""


def check_name(folder: Path, name: str, url: str) -> None:
    """Refuse a body name that would escape ``folder`` or overwrite another URL's body."""
    if not name or name in (".", "..") or Path(name).name != name or name.startswith("."):
        raise NameTaken(f"--name {name!r}: give a plain file name, without a folder")
    if name in ("index.json", "METADATA.json"):
        raise NameTaken(f"--name {name!r} is the folder's own {name}; choose another name")
    for entry in _index(folder)["responses"]:
        if entry.get("body") == name and entry.get("url") != url:
            raise NameTaken(
                f"--name {name!r} already holds the body of {entry['url']} in {folder}; "
                "choose another name (a site prefix keeps several sites' files apart)"
            )


def _index(folder: Path) -> dict:
    index_file = folder / "index.json"
    return json.loads(index_file.read_text()) if index_file.exists() else {"responses": []}


def dumps(value, indent: int = 0) -> str:
    """JSON as the hand-written recordings files are: indented, a list of scalars on one line."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 2)}"
                 for k, v in value.items()]  # fmt: skip
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        items = [f"{inner}{dumps(v, indent + 2)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


@dataclass
class Fetched:
    url: str
    status: int
    content_type: str | None
    body: bytes


def fetch(url: str, user_agent: str, timeout: float = 60) -> Fetched:
    """One GET of ``url``, after checking the site's robots.txt; HTTP errors are recorded too."""
    parts = urlparse(url)
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    try:
        robots = _get(robots_url, user_agent, timeout)
        if robots.status == 200 and not Protego.parse(
            robots.body.decode("utf-8", "replace")
        ).can_fetch(url, user_agent):
            raise RecordError(f"robots.txt of {parts.netloc} forbids {url}")
        return _get(url, user_agent, timeout)
    except urllib.error.URLError as exc:
        raise RecordError(f"cannot fetch {url}: {exc.reason}") from exc


def _get(url: str, user_agent: str, timeout: float) -> Fetched:
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Fetched(response.url, response.status, response.headers.get("Content-Type"),
                           response.read())  # fmt: skip
    except urllib.error.HTTPError as exc:
        return Fetched(url, exc.code, exc.headers.get("Content-Type"), exc.read())


def from_file(path: Path, url: str, status: int = 200, content_type: str | None = None):
    """A hand-built response: the bytes of ``path`` as served at ``url``."""
    try:
        body = Path(path).read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not 100 <= status <= 599:
        raise RecordError(f"--status {status}: not an HTTP status")
    content_type = content_type or mimetypes.guess_type(str(path))[0]
    return Fetched(url, status, content_type, body)


def save_response(
    folder: Path,
    fetched: Fetched,
    fetched_at: datetime | None = None,
    name: str | None = None,
    built_from: str | None = None,
) -> Path:
    """Store ``fetched`` in ``folder`` (body file, index entry, provenance); return the body.

    ``built_from`` (what a hand-built body was written from) marks it BUILT rather than
    captured, in ``METADATA.json`` and its index entry. The file's provenance goes to
    ``METADATA.json``'s ``provenance`` when that is a per-file map (what ``moisson
    new-spider`` starts), else, beside a hand-written ``provenance`` text, to its ``files``.
    ``name`` must not be another URL's body (``NameTaken``); without it the name comes from
    the URL, prefixed with the host in a folder that holds other hosts' responses.
    """
    if name:
        check_name(folder, name, fetched.url)
    folder.mkdir(parents=True, exist_ok=True)
    fetched_at = fetched_at or datetime.now(UTC)
    index = _index(folder)
    name = name or _file_name(fetched, folder, index)
    body_path = folder / name
    body_path.write_bytes(fetched.body)
    index_file = folder / "index.json"
    entry = {
        "url": fetched.url,
        "status": fetched.status,
        "headers": {"Content-Type": fetched.content_type} if fetched.content_type else {},
        "body": name,
        "recorded_at": fetched_at.isoformat(),
    }
    if built_from:
        entry["built"] = True
    index["responses"] = [r for r in index["responses"] if r.get("url") != fetched.url] + [entry]
    index_file.write_text(dumps(index) + "\n")
    metadata_file = folder / "METADATA.json"
    metadata = json.loads(metadata_file.read_text()) if metadata_file.exists() else {}
    metadata.setdefault("spider", folder.name)
    text = metadata.get("provenance")
    per_file = metadata.setdefault("files", {}) if isinstance(text, str) and text else None
    if per_file is None:
        per_file = metadata["provenance"] = text if isinstance(text, dict) else {}
    if built_from:
        per_file[name] = (
            f"BUILT, not captured: {built_from}; served as {fetched.url}; added on "
            f"{fetched_at.isoformat()} (moisson record --from-file)"
        )
    else:
        per_file[name] = f"CAPTURED from {fetched.url} on {fetched_at.isoformat()} (moisson record)"
    captured = metadata.get("captured")
    if captured is None or (set(per_file) == {name} and per_file is metadata["provenance"]):
        metadata["captured"] = not built_from
    elif captured is not (not built_from):
        metadata["captured"] = "partly"
    metadata_file.write_text(dumps(metadata) + "\n")
    return body_path


def _file_name(fetched: Fetched, folder: Path, index: dict) -> str:
    parts = urlparse(fetched.url)
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.path} {parts.query}").strip("-")[:80] or "root"
    hosts = {urlparse(r.get("url", "")).netloc for r in index["responses"]}
    if hosts - {parts.netloc}:  # several sites' files in one folder: say whose
        site = parts.netloc.removeprefix("www.")
        stem = re.sub(r"[^A-Za-z0-9]+", "-", site).strip("-") + "-" + stem
    mime = (fetched.content_type or "").split(";")[0].strip()
    extension = EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".bin"
    name, number = f"{stem}{extension}", 1
    while (folder / name).exists():
        number += 1
        name = f"{stem}-{number}{extension}"
    return name
