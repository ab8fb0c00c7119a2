"""Regional training offers published as LHEO XML (Carif-Oref, Intercarif, ONISEP).

LHEO (Langage Harmonisé d'Échange d'informations sur l'Offre de formation, lheo.org) nests
``offres/formation/action/session``; ``organisme-formation-responsable`` names the school.
One spider reads every feed of ``crawlers/data/lheo_feeds.json`` (or the ``LHEO_FEEDS``
setting, a list of the same objects) and keeps the actions taught entirely at distance
(``modalites-enseignement`` in ``distance_codes`` of ``crawlers/data/lheo_codes.json``);
an action taught face to face is counted (``moisson/actions/not_distance``); the
``LHEO_MODALITIES`` setting (a list of codes) keeps other modalities. One item is
one action: its id is ``<feed>:<formation numero>/<action numero>``.

What an action states, read as the real Intercarif and ONISEP exports write it:
- duration in hours from ``nombre-heures-total`` (else ``nombre-heures-centre`` plus
  ``nombre-heures-entreprise``), else ``duree-indicative``; effort from the
  ``duree-hebdo`` extra (hours a week);
- each session's dates (``periode``) and enrolment window (``periode-inscription``);
- ``code-niveau-entree`` / ``code-niveau-sortie`` are qualification levels (CAP, bac…),
  stated as ``qualification``, never as a difficulty (LHEO states none);
- the certificate from the RNCP and RS codes, ``certifiante``, and ``resultats-attendus``
  when it names what is delivered (« Attestation de fin de formation »);
- the responsible organisation once, by ``nom-organisme`` (else ``raison-sociale``),
  with its legal name and SIRET; a SIRET that is not 14 digits is counted
  (``moisson/fields/lost/siret/invalid``), not stored.
Texts that only hold a placeholder (« - ») state nothing (``placeholders`` of
``lheo_codes.json``); ``<br />`` inside texts becomes a line break.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from scrapy import Request
from scrapy.http import Response

from crawlers.bases.common import MoissonSpider
from crawlers.items import RawCourse

DATA = Path(__file__).resolve().parent.parent / "data"
BREAK = re.compile(r"<br\s*/?>", re.I)
TAG = re.compile(r"<[^>]+>")
SIRET = re.compile(r"^\d{14}$")


@cache
def codes() -> dict[str, Any]:
    return json.loads((DATA / "lheo_codes.json").read_text(encoding="utf-8"))


def default_feeds() -> list[dict[str, str]]:
    return json.loads((DATA / "lheo_feeds.json").read_text(encoding="utf-8"))["feeds"]


class LheoSpider(MoissonSpider):
    name = "lheo"
    platform = "lheo"
    platform_label = "Offres de formation LHEO (Carif-Oref)"
    base_url = "https://www.lheo.org"
    default_language = "fr"

    def feeds(self) -> list[dict[str, str]]:
        return self.crawler.settings.getlist("LHEO_FEEDS") or default_feeds()

    async def start(self):
        for feed in self.feeds():
            yield Request(
                feed["url"],
                callback=self.parse_feed,
                errback=self.request_failed,
                cb_kwargs={"feed": feed["name"]},
            )

    def parse_feed(self, response: Response, feed: str | None = None):
        feed = feed or self.feed_name(response.url)
        if "dataloss" in response.flags:
            self.page_failed(response, response.url, "unparseable", "feed cut short (data loss)")
            return
        try:
            root = etree.fromstring(response.body, parser=etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            self.page_failed(response, response.url, "invalid_xml", str(exc))
            return
        formations = root.xpath("//*[local-name()='formation']")
        if not formations:
            self.page_failed(response, response.url, "empty_feed", "no <formation> in the feed")
        distance = set(
            self.crawler.settings.getlist("LHEO_MODALITIES") or codes()["distance_codes"]
        )
        for formation in formations:
            for action in _children(formation, "action"):
                if _text(action, "modalites-enseignement") not in distance:
                    self.crawler.stats.inc_value("moisson/actions/not_distance")
                    continue
                yield self.action_item(feed, formation, action, response)

    def action_item(self, feed: str, formation, action, response: Response) -> RawCourse:
        url = _text(action, "url-action/urlweb") or _text(formation, "url-formation/urlweb")
        price = _stated(_text(action, "prix-total-TTC"))
        identities = self.organisation(_first_child(formation, "organisme-formation-responsable"))
        return RawCourse(
            platform=self.platform,
            external_id=f"{feed}:{formation.get('numero')}/{action.get('numero')}",
            url=_absolute(url),
            source_url=response.url,
            title=_text(formation, "intitule-formation"),
            introduction=_prose(_text(formation, "objectif-formation")),
            description=_prose(_text(formation, "contenu-formation")),
            duration=_duration(action),
            effort=_weekly_hours(action),
            qualification=_qualification(formation),
            organisations=[i["name"] for i in identities],
            organisation_identities=identities,
            price=price,
            currency="EUR" if price else None,
            certificate=_certificate(formation),
            kind="formation",
            codes=_codes(formation),
            sessions=[self.session(s) for s in _children(action, "session")],
            raw={
                "feed": feed,
                "formation": formation.get("numero"),
                "action": etree.tostring(action, encoding="unicode"),
            },
        )

    def organisation(self, school) -> list[dict[str, Any]]:
        """The responsible organisation, once: short name, legal name, SIRET."""
        short = _stated(_text(school, "nom-organisme"))
        legal = _stated(_text(school, "raison-sociale"))
        if not (short or legal):
            return []
        siret = _stated(_text(school, "SIRET-organisme-formation/SIRET"))
        if siret and not SIRET.match(siret):
            self.crawler.stats.inc_value("moisson/fields/lost/siret/invalid")
            siret = None
        identity = {"name": short or legal, "legal_name": legal, "siret": siret}
        return [identity]

    @staticmethod
    def session(session) -> dict[str, Any]:
        return {
            "key": session.get("numero") or _text(session, "periode/debut") or "",
            "start": _lheo_date(_text(session, "periode/debut")),
            "end": _lheo_date(_text(session, "periode/fin")),
            "enrolment_start": _lheo_date(_text(session, "periode-inscription/periode/debut")),
            "enrolment_end": _lheo_date(_text(session, "periode-inscription/periode/fin")),
            "languages": ["fr"],
        }

    def feed_name(self, url: str) -> str:
        return next((f["name"] for f in self.feeds() if f["url"] == url), "feed")

    def callback_for_url(self, url: str):
        return self.parse_feed


def _stated(value: str | None) -> str | None:
    """None for a text that is only one of LHEO's placeholders (« - »)."""
    return None if value is None or value in codes()["placeholders"] else value


def _prose(value: str | None) -> str | None:
    value = _stated(value)
    return BREAK.sub("\n", value).strip() or None if value else None


def _hours(value: str | None) -> float | None:
    try:
        hours = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None
    return hours if hours > 0 else None


def _duration(action) -> str | None:
    """« 697 heures » from the action's total hours (or centre + company), else its own words."""
    total = _hours(_text(action, "nombre-heures-total"))
    if total is None:
        parts = [_hours(_text(action, f"nombre-heures-{p}")) for p in ("centre", "entreprise")]
        total = sum(p for p in parts if p) or None
    if total is not None:
        return f"{total:g} heures"
    return _stated(_text(action, "duree-indicative"))


def _weekly_hours(action) -> str | None:
    """« 35 heures par semaine » from the ``duree-hebdo`` extra."""
    found = action.xpath(
        "*[local-name()='extras']/*[local-name()='extra'][@info='duree-hebdo']/text()"
    )
    hours = _hours(found[0].strip()) if found else None
    return f"{hours:g} heures par semaine" if hours is not None else None


def _qualification(formation) -> dict[str, str] | None:
    """The levels required and reached, as LHEO's dict-niveaux labels them."""
    labels = codes()["niveaux"]
    found = {}
    for end, element in (("entry", "code-niveau-entree"), ("exit", "code-niveau-sortie")):
        code = _text(formation, element)
        if code:
            found[end] = labels.get(code, code)
    return found or None


def _certificate(formation) -> str | None:
    """What the training delivers, in words the certificate normaliser reads."""
    stated = [
        f"{register} {code}"
        for register, path in (("RNCP", "certification/code-RNCP"), ("RS", "certification/code-RS"))
        for code in [_stated(_text(formation, path))]
        if code
    ]
    if stated:
        return ", ".join(stated)
    result = _stated(_text(formation, "resultats-attendus"))
    result = " ".join(TAG.sub(" ", result).split()) if result else None
    if result and len(result) <= codes()["result_max_length"]:
        return result  # « Attestation de fin de formation »
    certifying = _text(formation, "certifiante")
    return codes()["certifiante"].get(certifying) if certifying else None


# LHEO elements stating official codes, by register (lheo-glossaire: domaine-formation)
CODE_PATHS = {
    "rome": "domaine-formation/code-ROME",
    "formacode": "domaine-formation/code-FORMACODE",
    "nsf": "domaine-formation/code-NSF",
    "rncp": "certification/code-RNCP",
}


def _codes(formation) -> dict[str, list[str]] | None:
    found = {}
    for register, path in CODE_PATHS.items():
        steps = "/".join(f"*[local-name()='{step}']" for step in path.split("/"))
        values = []
        for text in formation.xpath(f"{steps}/text()"):
            value = _stated(text.strip())
            if value and value not in values:
                values.append(value)
        if values:
            found[register] = values
    return found or None


def _children(node, name: str) -> list:
    return node.xpath(f"*[local-name()='{name}']")


def _first_child(node, name: str):
    found = _children(node, name)
    return found[0] if found else None


def _text(node, path: str) -> str | None:
    """Text of the element at ``path`` (``a/b``) below ``node``, namespaces ignored."""
    if node is None:
        return None
    steps = "/".join(f"*[local-name()='{step}']" for step in path.split("/"))
    found = node.xpath(f"{steps}/text()")
    text = "".join(found[:1]).strip() if found else ""
    return text or None


def _lheo_date(value: str | None) -> str | None:
    """LHEO writes ``AAAAMMJJ``; ``00000000`` means unknown."""
    if not value or not value.isdigit() or len(value) != 8 or value == "00000000":
        return None
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


def _absolute(url: str | None) -> str | None:
    if not url:
        return None
    return url if url.startswith(("http://", "https://")) else f"https://{url}"
