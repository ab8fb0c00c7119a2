"""LHEO 2.3 XML (``http://lheo.gouv.fr/2.3``), the French standard for training offers.

A course is a ``formation``; each of its visible listings (one platform's offer of it) is an
``action`` taught entirely at distance (``modalites-enseignement`` 2), with the listing's
sessions; the first organisation is the ``organisme-formation-responsable``. LHEO requires
elements online courses rarely state (SIRET, activity number, an enrolment address, dates):
those are written with the values LHEO exports use for "not stated"
(``lheo_unknown`` in ``portal/data/opendata.json``). Each action's ``extras`` name its
source platform and page; the document's ``extras`` carry the licence and attribution.

The document is written as text, a formation at a time, from templates of the elements
every formation states alike: each text and attribute goes through ``_escape`` /
``_attribute`` (what libxml2 escapes, so the document is the one lxml would serialise), and
at most a chunk of about 64 KiB is held. Building an element tree per course cost most of
the export's time (docs/BENCHMARKS.md). Codes: qualification levels are
LHEO's ``dict-niveaux`` codes (``platform_code``, the reverse of the spider's reading); the
course's official codes (``storage.codes``: ROME jobs linked from stated codes, stated
Formacode, NSF, RNCP and RS codes) go where the XSD puts them (``DOMAIN_CODES``,
``CERTIFICATION_CODES``); a code the XSD's length does not allow is left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache

from pipelines.normalise.qualification import platform_code
from portal import formatting
from portal.opendata import EmptyExport, Export, terms

NS = "http://lheo.gouv.fr/2.3"
CHUNK = 65536

# register → (element, shortest, longest, how many at most): the XSD's domaine-formation,
# in the order its sequence names them
DOMAIN_CODES = {
    "formacode": ("code-FORMACODE", 5, 5, 5),
    "nsf": ("code-NSF", 3, 3, 3),
    "rome": ("code-ROME", 5, 5, 5),
}
# register → (element, shortest, longest): one ``certification`` each, at most five in all
CERTIFICATION_CODES = {"rncp": ("code-RNCP", 1, 10), "rs": ("code-RS", 3, 10)}
MOST_CERTIFICATIONS = 5


def _escape(text: str) -> str:
    """Text as XML character data (what libxml2 escapes in text)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _attribute(value: str) -> str:
    """A value as a double-quoted XML attribute (what libxml2 escapes there)."""
    return _escape(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _el(name: str, text: str) -> str:
    """``<name>text</name>``, the text escaped."""
    return f"<{name}>{_escape(text)}</{name}>"


def _text(value, limit: int) -> str:
    """Printable text within LHEO's length, « - » when there is none."""
    text = " ".join(formatting.printable(str(value or "")).split())
    if not text:
        return terms()["lheo_unknown"]["text"]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day(moment: datetime | None) -> str:
    if moment is None:
        return terms()["lheo_unknown"]["date"]
    day = formatting.local_date(moment)
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _urlweb(name: str, url: str | None) -> str:
    """``<name><urlweb>url</urlweb></name>`` when the URL fits LHEO's 3 to 400 characters."""
    url = formatting.printable(url or "")
    if 3 <= len(url) <= 400:
        return f"<{name}><urlweb>{_escape(url)}</urlweb></{name}>"
    return ""


def _extras(info: str, values: dict[str, str | None], namespace: str = "") -> str:
    items = "".join(
        f'<extra info="{_attribute(key)}">{_escape(formatting.printable(str(value)))}</extra>'
        for key, value in values.items()
        if value
    )
    if not items:
        return f'<extras{namespace} info="{_attribute(info)}"/>'
    return f'<extras{namespace} info="{_attribute(info)}">{items}</extras>'


def _level(value: str | None) -> str:
    """LHEO's ``dict-niveaux`` code of a qualification id; 0 « information non communiquée »."""
    return platform_code(value, "lheo") or "0"


@cache
def _enrolment_address() -> str:
    """``adresse-inscription``, the same for every session."""
    unknown = terms()["lheo_unknown"]
    return (
        "<adresse-inscription><adresse>"
        + _el("ligne", "Inscription en ligne")
        + _el("codepostal", unknown["codepostal"])
        + _el("ville", unknown["text"])
        + "</adresse></adresse-inscription>"
    )


def _session(session: dict | None) -> str:
    period = (
        f"<periode><debut>{_day(session['start'] if session else None)}</debut>"
        f"<fin>{_day(session['end'] if session else None)}</fin></periode>"
    )
    url = _urlweb("url-session", session["url"]) if session is not None else ""
    return f"<session>{period}{_enrolment_address()}{url}</session>"


@cache
def _action_terms() -> str:
    """The elements every action states alike."""
    unknown = terms()["lheo_unknown"]
    return (
        f'<code-public-vise ref="{_attribute(unknown["code_public_vise_ref"])}">'
        f"{_escape(unknown['code_public_vise'])}</code-public-vise>"
        + _el("niveau-entree-obligatoire", "0")
        + _el("modalites-alternance", unknown["text"])
        + _el("modalites-enseignement", "2")  # dict-FOAD: entirely at distance
        + _el("conditions-specifiques", unknown["text"])
        + _el("prise-en-charge-frais-possible", "0")
    )


def _action(course: dict, listing: dict, export: Export) -> str:
    sessions = [
        s
        for s in course["sessions"]
        if s["platform"] == listing["platform"] and s["url"] == listing["url"]
    ]
    paces = {s["pace"] for s in sessions if s["pace"]}
    pace = formatting.label("pace", sorted(paces)[0]) if paces else None
    open_entry = bool(paces) and paces <= {"self_paced", "always_open"}
    parts = [
        f'<action numero="{_attribute(str(course["id"]) + "-" + listing["platform"])}">',
        _el("rythme-formation", _text(pace, 3000)),
        _action_terms(),
        _el("modalites-entrees-sorties", "1" if open_entry else "0"),
        _urlweb("url-action", listing["url"]),
    ]
    parts.extend(_session(session) for session in sessions or [None])
    if course["language"] and len(course["language"]) == 2:
        parts.append(_el("langue-formation", course["language"]))
    price = course["price"]["amount"]
    if course["free"]:
        parts.append("<prix-total-TTC>0</prix-total-TTC>")
    elif price is not None and len(f"{price:.2f}") <= 10:
        parts.append(f"<prix-total-TTC>{price:.2f}</prix-total-TTC>")
    duration = formatting.weeks_text(course["duration"])
    if duration:
        parts.append(_el("duree-indicative", _text(duration, 150)))
    hours = course["duration"]["hours_max"] or course["duration"]["hours_min"]
    if hours:
        parts.append(f"<nombre-heures-total>{round(hours)}</nombre-heures-total>")
    parts.append(
        _extras(
            "source",
            {
                "plateforme": listing["platform_label"],
                "url": listing["url"],
                "fiche": export.course_url(course["id"]),
            },
        )
    )
    parts.append("</action>")
    return "".join(parts)


# the organisation's (empty) address and contact, alike for all
ORGANISATION_CONTACTS = (
    "<coordonnees-organisme><coordonnees/></coordonnees-organisme>"
    "<contact-organisme><coordonnees/></contact-organisme>"
)


def _organisation(course: dict) -> str:
    unknown = terms()["lheo_unknown"]
    organisations = course["organisations"]
    first = organisations[0] if organisations else None
    name = (
        first["name"]
        if first
        else (course["listings"][0]["platform_label"] if course["listings"] else None)
    )
    return (
        "<organisme-formation-responsable>"
        + _el("numero-activite", unknown["numero_activite"])
        + "<SIRET-organisme-formation>"
        + _el("SIRET", (first or {}).get("siret") or unknown["siret"])
        + "</SIRET-organisme-formation>"
        + _el("nom-organisme", _text(name, 250))
        + _el("raison-sociale", _text((first or {}).get("legal_name") or name, 250))
        + ORGANISATION_CONTACTS
        + "</organisme-formation-responsable>"
    )


def _domain(codes: dict[str, list[str]]) -> str:
    inner = "".join(
        _el(name, code)
        for register, (name, shortest, longest, most) in DOMAIN_CODES.items()
        for code in [c for c in codes[register] if shortest <= len(c) <= longest][:most]
    )
    return f"<domaine-formation>{inner}</domaine-formation>" if inner else "<domaine-formation/>"


def formation(course: dict, export: Export) -> str:
    """The ``formation`` element of one course, as XML text."""
    page = export.course_url(course["id"])
    description = _escape(_text(formatting.plain_text(course["description"]), 3000))
    kind = course["certificate"]["kind"]
    codes = course["codes"]
    parts = [
        f'<formation xmlns="{NS}" numero="{course["id"]}" '
        f'datecrea="{_day(course["created_at"])}" datemaj="{_day(course["updated_at"])}">',
        _domain(codes),
        _el("intitule-formation", _text(course["title"], 255)),
        f"<objectif-formation>{description}</objectif-formation>",
        _el(
            "resultats-attendus",
            _text(formatting.label("certificate", kind) if kind else None, 3000),
        ),
        f"<contenu-formation>{description}</contenu-formation>",
        "<certifiante>1</certifiante>" if kind == "diploma" else "<certifiante>0</certifiante>",
        f"<contact-formation><coordonnees><web><urlweb>{_escape(page)}</urlweb></web>"
        "</coordonnees></contact-formation>",
        "<parcours-de-formation>1</parcours-de-formation>",
        _el("code-niveau-entree", _level(course["qualification"]["entry"])),
    ]
    certifications = [
        (name, code)
        for register, (name, shortest, longest) in CERTIFICATION_CODES.items()
        for code in codes[register]
        if shortest <= len(code) <= longest
    ]
    parts.extend(
        f"<certification>{_el(name, code)}</certification>"
        for name, code in certifications[:MOST_CERTIFICATIONS]
    )
    if course["qualification"]["exit"]:
        parts.append(_el("code-niveau-sortie", _level(course["qualification"]["exit"])))
    parts.append(_urlweb("url-formation", page))
    listings = course["listings"] or [
        {"platform": "moisson", "platform_label": terms()["publisher"], "url": None}
    ]
    parts.extend(_action(course, listing, export) for listing in listings)
    parts.append(_organisation(course))
    parts.append("</formation>")
    return "".join(parts)


def write_lheo(courses: Iterable[dict], export: Export) -> Iterator[bytes]:
    """The LHEO document, UTF-8, in chunks of about 64 KiB.

    LHEO's ``offres`` holds at least one ``formation``: a selection of no course raises
    ``EmptyExport`` before the first byte, rather than write a document that is not LHEO.
    """
    t = terms()
    courses = iter(courses)
    first = next(courses, None)
    if first is None:
        raise EmptyExport("no course selected: an LHEO document holds at least one formation")
    pieces = [f"<?xml version='1.0' encoding='utf-8'?>\n<lheo xmlns=\"{NS}\"><offres>"]
    size = 0
    for course in itertools.chain([first], courses):
        piece = formation(course, export)
        pieces.append(piece)
        size += len(piece)
        if size > CHUNK:
            yield "".join(pieces).encode("utf-8")
            pieces, size = [], 0
    licence = _extras(
        "licence",
        {
            "licence": t["licence"]["name"],
            "url-licence": t["licence"]["url"],
            "attribution": t["attribution"],
            "editeur": t["publisher"],
            "date-export": export.generated_at.isoformat(),
            "portail": export.base_url,
        },
        namespace=f' xmlns="{NS}"',
    )
    pieces.append(f"</offres>{licence}</lheo>")
    yield "".join(pieces).encode("utf-8")
