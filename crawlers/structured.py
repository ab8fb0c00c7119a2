"""schema.org data embedded in a page, whatever its syntax, as plain nodes.

Course pages state their course as JSON-LD, microdata or RDFa. ``extruct`` reads the three;
this module brings them to one shape (``{"@type": "Course", "name": ..., "provider":
{...}}``) so a spider looks for a ``Course`` once. JSON-LD blocks are read one by one:
a single block that is not valid JSON must not hide the valid ones next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import extruct
from extruct.jsonld import JsonLdExtractor
from lxml import etree
from scrapy.http import Response

SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:")


@dataclass
class StructuredData:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    invalid_jsonld: list[str] = field(default_factory=list)  # why each bad block was refused


def read_structured_data(response: Response) -> StructuredData:
    """Every schema.org node of the page: JSON-LD, microdata and RDFa."""
    found = StructuredData()
    for script in response.xpath('//script[@type="application/ld+json"]'):
        block = script.root
        try:
            found.nodes.extend(JsonLdExtractor().extract_items(block))
        except ValueError as exc:
            found.invalid_jsonld.append(f"{type(exc).__name__}: {exc}")
    try:
        other = extruct.extract(
            response.text,
            base_url=response.url,
            syntaxes=["microdata", "rdfa"],
            uniform=True,
            errors="strict",
        )
    except (ValueError, etree.LxmlError):
        other = {}
    found.nodes.extend(other.get("microdata") or [])
    found.nodes.extend(compact_rdfa(other.get("rdfa") or []))
    return found


def type_names(node: Any) -> set[str]:
    """``{"Course"}`` for ``"Course"``, ``"schema:Course"`` or ``"http://schema.org/Course"``."""
    if not isinstance(node, dict):
        return set()
    types = node.get("@type") or []
    if isinstance(types, str):
        types = [types]
    return {_local(t) for t in types if isinstance(t, str)}


def nodes_of_type(nodes: list[Any], *types: str) -> list[dict[str, Any]]:
    """Nodes of one of ``types``, found at the top level or inside ``@graph``."""
    wanted = set(types)
    out = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        if type_names(node) & wanted:
            out.append(node)
        graph = node.get("@graph")
        if isinstance(graph, list):
            out.extend(nodes_of_type(graph, *types))
    return out


def as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def first(value: Any) -> Any:
    values = as_list(value)
    return values[0] if values else None


def name_of(value: Any) -> str | None:
    """The name of a Thing given as a string or as a node with ``name``."""
    if isinstance(value, dict):
        value = value.get("name")
        value = first(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def names(value: Any) -> list[str]:
    return [n for n in map(name_of, as_list(value)) if n]


def url_of(value: Any) -> str | None:
    """A URL given as a string, or as an ImageObject/Thing with ``url`` or ``contentUrl``."""
    value = first(value)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    return value if isinstance(value, str) and value else None


def _local(name: str) -> str:
    for prefix in SCHEMA_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def compact_rdfa(expanded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """RDFa comes out of extruct as expanded JSON-LD; give it the compact shape.

    ``{"@type": ["http://schema.org/Course"], "http://schema.org/name": [{"@value": "X"}]}``
    becomes ``{"@type": "Course", "name": "X"}``; references to other nodes of the page
    (``{"@id": "_:b1"}``) are replaced by those nodes, so a course carries its instances.
    """
    by_id = {n.get("@id"): n for n in expanded if isinstance(n, dict) and n.get("@id")}
    referenced: set[str] = set()

    def convert(node: dict[str, Any], seen: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, values in node.items():
            if key == "@type":
                types = [_local(t) for t in as_list(values)]
                out["@type"] = types[0] if len(types) == 1 else types
            elif key == "@id" and not str(values).startswith("_:"):
                out["@id"] = values  # blank node ids change on every read: not kept
            elif key.startswith(SCHEMA_PREFIXES):
                converted = [convert_value(v, seen) for v in as_list(values)]
                out[_local(key)] = converted[0] if len(converted) == 1 else converted
        return out

    def convert_value(value: Any, seen: frozenset[str]) -> Any:
        if not isinstance(value, dict):
            return value
        if "@value" in value:
            return value["@value"]
        target = value.get("@id")
        if target in by_id and target not in seen:
            referenced.add(target)
            return convert(by_id[target], seen | {target})
        return target

    converted = [
        (convert(n, frozenset({n.get("@id")})), n.get("@id"))
        for n in expanded
        if isinstance(n, dict) and type_names(n)
    ]
    # Nodes already nested in another (a CourseInstance in its Course) are not repeated.
    return [n for n, source in converted if source not in referenced]
