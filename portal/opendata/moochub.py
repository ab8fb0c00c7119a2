"""MOOChub v3: a JSON:API document of ``Course`` resources (MOOChub/schema, v3.0.1).

The whole selection is one page (``links.first`` and ``links.last`` are ``self``), streamed
course by course. A course's ``url`` is its page on its first source platform, its
``publisher`` that platform, its ``creator`` its organisations; its id is a UUID derived
from its page on the portal (stable across exports). The catalogue's licence and
attribution are in the document's ``meta``; a course's ``license`` is its content's
(``course_licence`` of ``portal/data/opendata.json``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator

from portal import formatting
from portal.opendata import Export, source_pages, terms
from portal.opendata.jsonld import iso_duration

LEARNING_RESOURCE_TYPE = {
    "identifier": "https://w3id.org/kim/hcrt/course",
    "type": "Concept",
    "inScheme": "https://w3id.org/kim/hcrt/scheme",
}
CREDENTIALS = {  # Moisson's certificate kinds → MOOChub's CredentialType
    "attestation": "confirmation of participation",
    "certificate": "certificate",
    "diploma": "certificate",
}
MEDIA_TYPE = "application/vnd.api+json"
ENDPOINT = "/api/v1/export/moochub"  # where the portal serves it (``links`` of a file export)


def _organisation(name: str, url: str | None = None) -> dict:
    return {"type": "Organization", "name": formatting.printable(name), "url": url}


def _dates(sessions: list[dict], key: str) -> list[str] | None:
    found = sorted({s[key].isoformat() for s in sessions if s[key] is not None})
    return found or None


def course_resource(course: dict, export: Export) -> dict:
    page = export.course_url(course["id"])
    sources = source_pages(course)
    publisher = (
        _organisation(sources[0]["platform_label"])
        if sources
        else _organisation(terms()["publisher"], export.base_url)
    )
    creators = [_organisation(o["name"]) for o in course["organisations"]] or [publisher]
    effort = course["effort"]
    hours = effort["hours_per_week_max"] or effort["hours_per_week_min"]
    attributes = {
        "name": formatting.printable(course["title"]),
        "courseCode": str(course["id"]),
        "learningResourceType": LEARNING_RESOURCE_TYPE,
        "courseMode": ["online"],
        "inLanguage": [course["language"]] if course["language"] else None,
        "startDate": _dates(course["sessions"], "start"),
        "endDate": _dates(course["sessions"], "end"),
        "description": formatting.plain_text(course["description"]) or None,
        "publisher": publisher,
        "url": sources[0]["url"] if sources else page,
        "license": [terms()["course_licence"]],
        "creator": creators,
        "keywords": [t["label"] for t in course["topics"]] or None,
        "dateModified": course["updated_at"].isoformat(),
    }
    duration = iso_duration(course)
    if duration:
        attributes["duration"] = duration
    if hours:
        attributes["workload"] = {"timeValue": max(1, round(hours)), "timeUnit": "h/week"}
    if course["free"] is not None:
        attributes["access"] = ["free" if course["free"] else "paid"]
    price = course["price"]
    if course["free"] or price["amount"] is not None:
        attributes["offer"] = [
            {
                "price": 0 if course["free"] else price["amount"],
                "priceCurrency": price["currency"] or "EUR",
                "paymentFrequency": "one-time",
                "category": "course",
            }
        ]
    credential = CREDENTIALS.get(course["certificate"]["kind"])
    if credential:
        attributes["educationalCredentialsAwarded"] = [credential]
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, page)),
        "type": "Course",
        "attributes": attributes,
    }


def write_moochub(courses: Iterable[dict], export: Export) -> Iterator[str]:
    """``{"links": …, "meta": …, "data": [course, …]}``, one course per piece."""
    t = terms()
    url = export.self_url or f"{export.base_url}{ENDPOINT}"
    head = {
        "links": {"self": url, "first": url, "last": url},
        "meta": {
            "publisher": t["publisher"],
            "attribution": t["attribution"],
            "license": t["licence"],
            "generated": export.generated_at.isoformat(),
        },
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "data": ['
    separator = "\n"
    encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for all
    for course in courses:
        yield separator + encode(course_resource(course, export))
        separator = ",\n"
    yield "\n]}\n"
