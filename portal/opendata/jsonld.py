"""schema.org ``Course`` JSON-LD: the one builder of the course page's ``<script>`` block and of
the JSON Lines export (one ``Course`` per line).

Empty values are left out; text goes through ``formatting.printable`` as on the page.
``sdLicense`` / ``sdPublisher`` say whose structured data this is and under which licence;
``sameAs`` lists the course's pages on its platforms (the source of every description).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from portal import formatting
from portal.formatting import NOT_PRINTABLE
from portal.opendata import Export, source_pages, terms

CREDENTIALS = ("certificate", "diploma")  # certificate kinds that are a credential awarded
# official codes (``storage.codes``): the qualification registers name the credential
# awarded (its ``identifier``); the others are the course's ``educationalAlignment``
QUALIFICATIONS = {"rncp": "RNCP", "rs": "RS"}
ALIGNMENTS = {"rome": "ROME", "formacode": "Formacode", "nsf": "NSF"}


def iso_duration(course: dict) -> str | None:
    """ISO 8601 duration of the course as stated: hours, else weeks (the upper bound)."""
    d = course["duration"]
    hours = d["hours_max"] if d["hours_max"] is not None else d["hours_min"]
    if hours is not None:
        return f"PT{hours:g}H"
    weeks = d["weeks_max"] if d["weeks_max"] is not None else d["weeks_min"]
    return f"P{weeks:g}W" if weeks is not None else None


def _offers(course: dict) -> list[dict]:
    if course["free"]:
        return [{"@type": "Offer", "category": "Free", "price": 0, "priceCurrency": "EUR"}]
    price = course["price"]
    if price["amount"] is None:
        return []
    return [
        {
            "@type": "Offer",
            "category": "Paid",
            "price": price["amount"],
            "priceCurrency": price["currency"] or "EUR",
        }
    ]


def _credential(course: dict) -> dict | None:
    kind, exit_level = course["certificate"]["kind"], course["qualification"]["exit"]
    identifiers = [
        {"@type": "PropertyValue", "propertyID": register, "value": _p(code)}
        for key, register in QUALIFICATIONS.items()
        for code in course["codes"][key]
    ]
    if kind not in CREDENTIALS and exit_level is None and not identifiers:
        return None
    return _compact(
        {
            "@type": "EducationalOccupationalCredential",
            "credentialCategory": formatting.label("certificate", kind)
            if kind in CREDENTIALS
            else None,
            "educationalLevel": formatting.qualification_text(exit_level) if exit_level else None,
            "identifier": identifiers or None,
        }
    )


def _alignments(course: dict) -> list[dict] | None:
    """The course's ROME jobs and training domains (Formacode, NSF) as ``AlignmentObject``s."""
    found = [
        {
            "@type": "AlignmentObject",
            "alignmentType": "educationalSubject",
            "educationalFramework": framework,
            "targetName": _p(code),
        }
        for key, framework in ALIGNMENTS.items()
        for code in course["codes"][key]
    ]
    return found or None


def _p(text):
    """A text from the catalogue made printable as the page around it (None stays None)."""
    return NOT_PRINTABLE.sub("", text) if type(text) is str else formatting.printable(text)


def _compact(data: dict) -> dict:
    """Without its empty (None) values."""
    return {k: v for k, v in data.items() if v is not None}


def _instance(s: dict) -> dict:
    return _compact(
        {
            "@type": "CourseInstance",
            "courseMode": "online",
            "startDate": s["start"].isoformat() if s["start"] else None,
            "endDate": s["end"].isoformat() if s["end"] else None,
            "inLanguage": _p(s["language"]),
            "url": _p(s["url"]),
            "provider": {"@type": "Organization", "name": _p(s["platform_label"])},
            "courseWorkload": _p(s["effort"]["text"]),
        }
    )


def course_json_ld(course: dict, url: str) -> dict:
    """The schema.org ``Course`` of a course (``course_detail``) whose page is at ``url``.

    Empty values are left out and every text from the catalogue goes through ``_p``
    (``formatting.printable``), each where it is placed: the object is built once a course
    in an export, so nothing walks it again."""
    licence = terms()["licence"]
    data = {
        "@context": "https://schema.org",
        "@type": "Course",
        "@id": _p(url),
        "name": _p(course["title"]),
        "url": _p(url),
        "description": _p(formatting.plain_text(course["description"])[:5000]) or None,
        "inLanguage": _p(course["language"]),
        "provider": [
            _compact({"@type": "Organization", "name": _p(org["name"])})
            for org in course["organisations"]
        ],
        "educationalLevel": formatting.label("level", course["level"]) if course["level"] else None,
        "timeRequired": iso_duration(course),
        "isAccessibleForFree": course["free"],
        "offers": _offers(course) or None,
        "occupationalCredentialAwarded": _credential(course),
        "educationalAlignment": _alignments(course),
        "about": [_p(topic["label"]) for topic in course["topics"]] or None,
        "sameAs": [_p(page["url"]) for page in source_pages(course)] or None,
        "dateModified": course["updated_at"].isoformat(),
        "sdPublisher": {"@type": "Organization", "name": terms()["publisher"]},
        "sdLicense": licence["url"],
        "hasCourseInstance": [_instance(s) for s in course["sessions"]],
    }
    if course["rating"]["value_5"] is not None:
        data["aggregateRating"] = _compact(
            {
                "@type": "AggregateRating",
                "ratingValue": course["rating"]["value_5"],
                "bestRating": 5,
                "worstRating": 0,
                "ratingCount": course["rating"]["count"],
            }
        )
    return _compact(data)


def write_jsonld(courses: Iterable[dict], export: Export) -> Iterator[str]:
    """JSON Lines: one ``Course`` per line, UTF-8, no line break inside a line."""
    encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # one encoder for all
    for course in courses:
        yield encode(course_json_ld(course, export.course_url(course["id"]))) + "\n"
