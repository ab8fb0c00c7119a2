"""Regional training offers published as LHEO XML (Carif-Oref, Intercarif, ONISEP).

LHEO (Langage Harmonisé d'Échange d'informations sur l'Offre de formation, lheo.org) nests
``offres/formation/action/session``; ``organisme-formation-responsable`` names the school.
One spider reads every feed of ``crawlers/data/lheo_feeds.json`` (or the ``LHEO_FEEDS``
setting, a list of the same objects) and keeps the actions taught entirely at distance
(``modalites-enseignement`` in ``distance_codes`` of ``crawlers/data/lheo_codes.json``);
an action taught face to face is counted (``moisson/actions/not_distance``). One item is
one action: its id is ``<feed>:<formation numero>/<action numero>``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from scrapy import Request
from scrapy.http import Response

from crawlers.bases.common import MoissonSpider
from crawlers.items import RawCourse

DATA = Path(__file__).resolve().parent.parent / "data"


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
        distance = set(codes()["distance_codes"])
        for formation in formations:
            for action in _children(formation, "action"):
                if _text(action, "modalites-enseignement") not in distance:
                    self.crawler.stats.inc_value("moisson/actions/not_distance")
                    continue
                yield self.action_item(feed, formation, action, response)

    def action_item(self, feed: str, formation, action, response: Response) -> RawCourse:
        school = _first_child(formation, "organisme-formation-responsable")
        names = [_text(school, "nom-organisme"), _text(school, "raison-sociale")]
        level = _text(formation, "code-niveau-sortie")
        rncp = _text(formation, "certification/code-RNCP")
        url = _text(action, "url-action/urlweb") or _text(formation, "url-formation/urlweb")
        return RawCourse(
            platform=self.platform,
            external_id=f"{feed}:{formation.get('numero')}/{action.get('numero')}",
            url=_absolute(url),
            source_url=response.url,
            title=_text(formation, "intitule-formation"),
            introduction=_text(formation, "objectif-formation"),
            description=_text(formation, "contenu-formation"),
            duration=_text(action, "duree-indicative"),
            level=codes()["niveaux"].get(level, level) if level else None,
            organisations=list(dict.fromkeys(n for n in names if n and n != "-")),
            price=_text(action, "prix-total-TTC"),
            currency="EUR" if _text(action, "prix-total-TTC") else None,
            certificate=f"RNCP {rncp}" if rncp else None,
            kind="formation",
            sessions=[self.session(s) for s in _children(action, "session")],
            raw={
                "feed": feed,
                "formation": formation.get("numero"),
                "action": etree.tostring(action, encoding="unicode"),
            },
        )

    @staticmethod
    def session(session) -> dict[str, Any]:
        return {
            "key": session.get("numero") or _text(session, "periode/debut") or "",
            "start": _lheo_date(_text(session, "periode/debut")),
            "end": _lheo_date(_text(session, "periode/fin")),
            "languages": ["fr"],
        }

    def feed_name(self, url: str) -> str:
        return next((f["name"] for f in self.feeds() if f["url"] == url), "feed")

    def callback_for_url(self, url: str):
        return self.parse_feed


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
