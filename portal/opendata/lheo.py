"""LHEO 2.3 XML (``http://lheo.gouv.fr/2.3``), the French standard for training offers.

A course is a ``formation``; each of its visible listings (one platform's offer of it) is an
``action`` taught entirely at distance (``modalites-enseignement`` 2), with the listing's
sessions; the first organisation is the ``organisme-formation-responsable``. LHEO requires
elements online courses rarely state (SIRET, activity number, an enrolment address, dates):
those are written with the values LHEO exports use for "not stated"
(``lheo_unknown`` in ``portal/data/opendata.json``). Each action's ``extras`` name its
source platform and page; the document's ``extras`` carry the licence and attribution.

The document is written element by element with lxml's incremental ``xmlfile``, so it
escapes every text and holds one formation at a time. Codes: qualification levels are
LHEO's ``dict-niveaux`` codes (``platform_code``, the reverse of the spider's reading); the
course's official codes (``storage.codes``: ROME jobs linked from stated codes, stated
Formacode, NSF, RNCP and RS codes) go where the XSD puts them (``DOMAIN_CODES``,
``CERTIFICATION_CODES``); a code the XSD's length does not allow is left out.
"""

from __future__ import annotations

import copy
import io
import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache

from lxml import etree

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


@cache
def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


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


def _add(parent, name: str, text: str | None = None, **attributes):
    element = etree.SubElement(parent, _q(name), attributes or None)
    if text is not None:
        element.text = text
    return element


def _urlweb(parent, name: str, url: str | None) -> None:
    """``<name><urlweb>url</urlweb></name>`` when the URL fits LHEO's 3 to 400 characters."""
    url = formatting.printable(url or "")
    if 3 <= len(url) <= 400:
        _add(_add(parent, name), "urlweb", url)


def _extras(parent, info: str, values: dict[str, str | None]) -> None:
    extras = _add(parent, "extras", info=info)
    for key, value in values.items():
        if value:
            _add(extras, "extra", formatting.printable(str(value)), info=key)


def _level(value: str | None) -> str:
    """LHEO's ``dict-niveaux`` code of a qualification id; 0 « information non communiquée »."""
    return platform_code(value, "lheo") or "0"


@cache
def _enrolment_address():
    """``adresse-inscription``, the same for every session: built once, copied (in C)."""
    unknown = terms()["lheo_unknown"]
    address = _add(etree.Element(_q("adresse-inscription"), nsmap={None: NS}), "adresse")
    _add(address, "ligne", "Inscription en ligne")
    _add(address, "codepostal", unknown["codepostal"])
    _add(address, "ville", unknown["text"])
    return address.getparent()


def _session(action, session: dict | None) -> None:
    element = _add(action, "session")
    period = _add(element, "periode")
    _add(period, "debut", _day(session["start"] if session else None))
    _add(period, "fin", _day(session["end"] if session else None))
    element.append(copy.deepcopy(_enrolment_address()))
    if session is not None:
        _urlweb(element, "url-session", session["url"])


@cache
def _action_terms():
    """The elements every action states alike (a holder of them: copied, then moved)."""
    unknown = terms()["lheo_unknown"]
    holder = etree.Element(_q("action"), nsmap={None: NS})
    _add(
        holder, "code-public-vise", unknown["code_public_vise"], ref=unknown["code_public_vise_ref"]
    )
    _add(holder, "niveau-entree-obligatoire", "0")
    _add(holder, "modalites-alternance", unknown["text"])
    _add(holder, "modalites-enseignement", "2")  # dict-FOAD: entirely at distance
    _add(holder, "conditions-specifiques", unknown["text"])
    _add(holder, "prise-en-charge-frais-possible", "0")
    return holder


def _action(formation, course: dict, listing: dict, export: Export) -> None:
    sessions = [
        s
        for s in course["sessions"]
        if s["platform"] == listing["platform"] and s["url"] == listing["url"]
    ]
    paces = {s["pace"] for s in sessions if s["pace"]}
    action = _add(formation, "action", numero=f"{course['id']}-{listing['platform']}")
    pace = formatting.label("pace", sorted(paces)[0]) if paces else None
    _add(action, "rythme-formation", _text(pace, 3000))
    action.extend(copy.deepcopy(_action_terms()))
    open_entry = bool(paces) and paces <= {"self_paced", "always_open"}
    _add(action, "modalites-entrees-sorties", "1" if open_entry else "0")
    _urlweb(action, "url-action", listing["url"])
    for session in sessions or [None]:
        _session(action, session)
    if course["language"] and len(course["language"]) == 2:
        _add(action, "langue-formation", course["language"])
    price = course["price"]["amount"]
    if course["free"]:
        _add(action, "prix-total-TTC", "0")
    elif price is not None and len(f"{price:.2f}") <= 10:
        _add(action, "prix-total-TTC", f"{price:.2f}")
    duration = formatting.weeks_text(course["duration"])
    if duration:
        _add(action, "duree-indicative", _text(duration, 150))
    hours = course["duration"]["hours_max"] or course["duration"]["hours_min"]
    if hours:
        _add(action, "nombre-heures-total", str(round(hours)))
    _extras(
        action,
        "source",
        {
            "plateforme": listing["platform_label"],
            "url": listing["url"],
            "fiche": export.course_url(course["id"]),
        },
    )


@cache
def _organisation_contacts():
    """The organisation's (empty) address and contact, alike for all: a holder of them."""
    holder = etree.Element(_q("organisme-formation-responsable"), nsmap={None: NS})
    _add(_add(holder, "coordonnees-organisme"), "coordonnees")
    _add(_add(holder, "contact-organisme"), "coordonnees")
    return holder


def _organisation(formation, course: dict) -> None:
    unknown = terms()["lheo_unknown"]
    organisations = course["organisations"]
    first = organisations[0] if organisations else None
    name = (
        first["name"]
        if first
        else (course["listings"][0]["platform_label"] if course["listings"] else None)
    )
    element = _add(formation, "organisme-formation-responsable")
    _add(element, "numero-activite", unknown["numero_activite"])
    siret = _add(element, "SIRET-organisme-formation")
    _add(siret, "SIRET", (first or {}).get("siret") or unknown["siret"])
    _add(element, "nom-organisme", _text(name, 250))
    _add(element, "raison-sociale", _text((first or {}).get("legal_name") or name, 250))
    element.extend(copy.deepcopy(_organisation_contacts()))


def formation(course: dict, export: Export):
    """The ``formation`` element of one course."""
    element = etree.Element(
        _q("formation"),
        nsmap={None: NS},
        numero=str(course["id"]),
        datecrea=_day(course["created_at"]),
        datemaj=_day(course["updated_at"]),
    )
    description = _text(formatting.plain_text(course["description"]), 3000)
    kind = course["certificate"]["kind"]
    codes = course["codes"]
    domain = _add(element, "domaine-formation")
    for register, (name, shortest, longest, most) in DOMAIN_CODES.items():
        for code in [c for c in codes[register] if shortest <= len(c) <= longest][:most]:
            _add(domain, name, code)
    _add(element, "intitule-formation", _text(course["title"], 255))
    _add(element, "objectif-formation", description)
    _add(
        element,
        "resultats-attendus",
        _text(formatting.label("certificate", kind) if kind else None, 3000),
    )
    _add(element, "contenu-formation", description)
    _add(element, "certifiante", "1" if kind == "diploma" else "0")
    contact = _add(_add(element, "contact-formation"), "coordonnees")
    _add(_add(contact, "web"), "urlweb", export.course_url(course["id"]))
    _add(element, "parcours-de-formation", "1")
    _add(element, "code-niveau-entree", _level(course["qualification"]["entry"]))
    certifications = [
        (name, code)
        for register, (name, shortest, longest) in CERTIFICATION_CODES.items()
        for code in codes[register]
        if shortest <= len(code) <= longest
    ]
    for name, code in certifications[:MOST_CERTIFICATIONS]:
        _add(_add(element, "certification"), name, code)
    if course["qualification"]["exit"]:
        _add(element, "code-niveau-sortie", _level(course["qualification"]["exit"]))
    _urlweb(element, "url-formation", export.course_url(course["id"]))
    listings = course["listings"] or [
        {"platform": "moisson", "platform_label": terms()["publisher"], "url": None}
    ]
    for listing in listings:
        _action(element, course, listing, export)
    _organisation(element, course)
    return element


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
    courses = itertools.chain([first], courses)
    buffer = io.BytesIO()

    def take() -> bytes:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data

    with etree.xmlfile(buffer, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(_q("lheo"), nsmap={None: NS}):
            with xf.element(_q("offres")):
                for course in courses:
                    xf.write(formation(course, export))
                    if buffer.tell() > CHUNK:
                        xf.flush()
                        yield take()
            licence = etree.Element(
                _q("lheo"), nsmap={None: NS}
            )  # a holder: extras are written one by one
            _extras(
                licence,
                "licence",
                {
                    "licence": t["licence"]["name"],
                    "url-licence": t["licence"]["url"],
                    "attribution": t["attribution"],
                    "editeur": t["publisher"],
                    "date-export": export.generated_at.isoformat(),
                    "portail": export.base_url,
                },
            )
            xf.write(licence[0])
    yield take()
