"""``moisson new-spider``: a new platform's spider, its test and its recordings folder.

The test it writes fails until its author replaces the template's marker with real
assertions on the recordings, so a spider cannot look done before it is tested.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from string import Template
from urllib.parse import urlparse

BASES = ("richie", "schema_org", "json_api", "html")
TEMPLATES = Path(__file__).with_name("templates")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
NAME_LENGTH = 40  # the generated docstrings and class names stay within the line length
LINE_LENGTH = 100  # the project's (pyproject.toml, [tool.ruff])


class ScaffoldError(ValueError):
    """The spider cannot be written as asked (bad name, existing files, bad URL)."""


def new_spider(root: Path, name: str, url: str, base: str = "schema_org") -> list[Path]:
    """Write the spider, its test and its recordings folder under ``root``; return them."""
    if not NAME.match(name):
        raise ScaffoldError(f"spider name {name!r}: lower case letters, digits and _ only")
    if len(name) > NAME_LENGTH:
        raise ScaffoldError(f"spider name {name!r}: at most {NAME_LENGTH} characters")
    if base not in BASES:
        raise ScaffoldError(f"unknown base {base!r}; one of {', '.join(BASES)}")
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ScaffoldError(f"not an http(s) URL: {url!r}")
    base_url = f"{parts.scheme}://{parts.netloc}"
    if base == "richie":
        url = base_url
    spider = root / "crawlers" / "spiders" / f"{name}.py"
    test = root / "tests" / f"test_spider_{name}.py"
    folder = root / "crawlers" / "recordings" / name
    existing = [p for p in (spider, test, folder) if p.exists()]
    if existing:
        raise ScaffoldError(f"already there: {', '.join(map(str, existing))}")
    values = {
        "name": name,
        "cls": "".join(word.capitalize() for word in name.split("_")),
        "label": name.replace("_", " ").title(),
        "url": url,
        "base": base_url,
        "host": parts.netloc,
    }
    spider.write_text(_render(f"spider_{base}.py.tmpl", values), encoding="utf-8")
    test.write_text(_render("test_spider.py.tmpl", values), encoding="utf-8")
    folder.mkdir(parents=True)
    (folder / "index.json").write_text(json.dumps({"responses": []}, indent=2) + "\n")
    metadata = {
        "spider": name,
        "platform": name,
        "captured": None,
        "provenance": {},
        "built_on": date.today().isoformat(),
        "cases": {},
        "cross_listings": {},
        "_todo": "record responses with `moisson record` (captured) or build them from the "
        "platform's documented format and say so here, file by file",
    }
    (folder / "METADATA.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return [spider, test, folder]


def _render(template: str, values: dict[str, str]) -> str:
    """The template filled in; a line made too long by a long URL is exempted from the
    line length (a URL cannot be cut), so the file passes the project's lint as written."""
    text = Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)
    quoted = f'"{values["url"]}"'
    return "\n".join(
        f"{line}  # noqa: E501" if len(line) > LINE_LENGTH and quoted in line else line
        for line in text.split("\n")
    )
