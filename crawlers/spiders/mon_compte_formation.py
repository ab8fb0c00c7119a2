"""Mon Compte Formation (CPF): the distance-learning offers of the national training catalogue.

The catalogue is open data on Opendatasoft (dataset ``moncompteformation_catalogueformation``
of opendata.caissedesdepots.fr). The Explore API v2.1 ``records`` endpoint pages with
``limit``/``offset`` and answers ``{"total_count": N, "results": [{field: value}]}``; the
spider asks only for offers with distance sessions (``where=nb_session_a_distance>0``) and
checks it again on every record: an offer without a distance session is not a course for
us (``moisson/offers/not_distance``). ``records`` stops at offset 10 000; the CSV export
(``exports/csv``, run the spider with ``-a surface=csv``) has no such limit.

The offer page URL on moncompteformation.gouv.fr is built from the offer number with the
pattern in ``OFFER_PAGE``; it was not checked against the live site.

The dataset writes "not stated" as numbers: ``nombre_heures_total_min/max`` = 0 (an offer
of zero hours does not exist) and ``code_rncp`` / ``code_inventaire`` = -1 (no code); the
values that mean "nothing" are data (``UNSTATED``), read as absent.
``libelle_niveau_sortie_formation`` is the qualification level reached (« Sans niveau
spécifique », « Niveau 3 (CAP, BEP) »); only a wording that is no qualification level
(a CECRL level) is also the course's level.
"""

from __future__ import annotations

import csv
import io
from typing import Any, ClassVar
from urllib.parse import urlencode, urlparse

from scrapy import Request
from scrapy.http import Response

from crawlers.bases.json_api import JsonApiSpider, query_int, with_query
from crawlers.items import RawCourse
from pipelines.normalise.qualification import parse_qualification

DATASET = (
    "https://opendata.caissedesdepots.fr/api/explore/v2.1/catalog/datasets/"
    "moncompteformation_catalogueformation"
)
OFFER_PAGE = "https://www.moncompteformation.gouv.fr/espace-prive/html/#/formation/fiche/{}"
DISTANCE_ONLY = "nb_session_a_distance > 0"
RECORDS_LIMIT = 10_000  # Opendatasoft refuses offset + limit beyond this on /records
# Columns an offer cannot be read without (the CSV export is checked against them).
REQUIRED_COLUMNS = ("numero_formation", "intitule_formation", "nom_of", "nb_session_a_distance")
# Values the dataset writes for "not stated", by column.
UNSTATED = {
    "nombre_heures_total_min": {0.0},
    "nombre_heures_total_max": {0.0},
    "code_rncp": {-1.0},
    "code_inventaire": {-1.0},
}


class MonCompteFormationSpider(JsonApiSpider):
    # The platform's data states neither sessions nor a pace (see the recordings), so the
    # health check does not ask for them (docs/OPERATIONS.md, "Health checks").
    key_field_minimums = {"sessions_or_pace": 0}
    name = "mon_compte_formation"
    platform = "mon_compte_formation"
    platform_label = "Mon Compte Formation (CPF)"
    base_url = "https://www.moncompteformation.gouv.fr"
    allowed_domains = ["opendata.caissedesdepots.fr"]
    default_language = "fr"
    id_fields = ("numero_formation",)
    page_size: ClassVar[int] = 100

    def __init__(self, *args, surface: str = "records", **kwargs):
        super().__init__(*args, **kwargs)
        self.surface = surface

    async def start(self):
        if self.surface == "csv":
            query = urlencode({"delimiter": ";", "where": DISTANCE_ONLY})
            yield Request(
                f"{DATASET}/exports/csv?{query}",
                callback=self.parse_export,
                errback=self.request_failed,
            )
            return
        async for request in super().start():
            yield request

    # -- records API -------------------------------------------------------------------

    def first_page_url(self) -> str:
        query = {
            "limit": self.page_size,
            "offset": 0,
            "where": DISTANCE_ONLY,
            "order_by": "numero_formation",
        }
        return f"{DATASET}/records?{urlencode(query)}"

    def records(self, page: Any) -> list[Any]:
        return page["results"]

    def next_page_url(self, page: Any, url: str, count: int) -> str | None:
        offset = query_int(url, "offset") + count
        if offset < int(page.get("total_count") or 0) and offset + self.page_size <= RECORDS_LIMIT:
            return with_query(url, offset=offset)
        return None

    def course_item(self, record: dict[str, Any], response: Response, page: Any = None):
        return self.offer_item(record, response)

    # -- CSV export --------------------------------------------------------------------

    def parse_export(self, response: Response):
        text = response.text if hasattr(response, "text") else response.body.decode("utf-8")
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            self.page_failed(response, response.url, "missing_column", f"no column {missing}")
            return
        yield from self.items_from(reader, lambda row: self.offer_item(row, response))

    # -- one offer ---------------------------------------------------------------------

    def offer_item(self, offer: dict[str, Any], response: Response) -> RawCourse | None:
        if _number(offer.get("nb_session_a_distance")) <= 0:
            self.crawler.stats.inc_value("moisson/offers/not_distance")
            return None
        hours = _range(
            _stated(offer, "nombre_heures_total_min"), _stated(offer, "nombre_heures_total_max")
        )
        exit_level = offer.get("libelle_niveau_sortie_formation") or None
        rncp, inventory = _stated(offer, "code_rncp"), _stated(offer, "code_inventaire")
        codes = [f"RNCP {rncp}" if rncp else None, f"RS {inventory}" if inventory else None]
        return RawCourse(
            platform=self.platform,
            external_id=str(offer["numero_formation"]),
            url=OFFER_PAGE.format(offer["numero_formation"]),
            source_url=response.url,
            title=offer.get("intitule_formation"),
            description=offer.get("points_forts") or None,
            duration=f"{hours} heures" if hours else None,
            qualification={"exit": exit_level} if exit_level else None,
            # a CECRL level (« Niveau A1 (CECRL) ») also says how hard the course is
            level=exit_level if exit_level and not parse_qualification(exit_level).level else None,
            categories=[
                offer[k]
                for k in ("libelle_nsf_1", "libelle_code_formacode_principal")
                if offer.get(k)
            ],
            organisations=[offer["nom_of"]] if offer.get("nom_of") else [],
            price=offer.get("frais_ttc_tot_min"),
            currency="EUR",
            certificate=offer.get("intitule_certification")
            or (", ".join(c for c in codes if c) or None),
            kind="formation",
            codes=_codes(offer),
            raw=dict(offer),
        )

    def callback_for_url(self, url: str):
        return self.parse_export if "/exports/csv" in urlparse(url).path else self.parse_page


# The columns stating official codes, by register (docs/JOBS.md)
CODE_COLUMNS = {
    "rome": ("code_rome_1", "code_rome_2", "code_rome_3"),
    "rncp": ("code_rncp",),
    "nsf": ("code_nsf_1", "code_nsf_2", "code_nsf_3"),
    "formacode": ("code_formacode_1", "code_formacode_2", "code_formacode_3"),
}


def _codes(offer: dict[str, Any]) -> dict[str, list[str]] | None:
    """The offer's stated codes: « 35030.0 » read as « 35030 », the unstated ones left out."""
    found = {}
    for register, columns in CODE_COLUMNS.items():
        values = []
        for column in columns:
            value = _stated(offer, column)
            if value is None:
                continue
            text = str(value).strip()
            text = text[:-2] if text.endswith(".0") else text
            if text not in values:
                values.append(text)
        if values:
            found[register] = values
    return found or None


def _number(value: Any) -> float:
    try:
        return float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return 0.0


def _stated(offer: dict[str, Any], column: str) -> Any:
    """The column's value, or None when it is empty or one of the dataset's "not stated"."""
    value = offer.get(column)
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return value
    return None if number in UNSTATED.get(column, ()) else value


def _range(low: Any, high: Any) -> str | None:
    """``"35"`` or ``"35 à 70"`` from the dataset's min and max, as the dataset gives them."""
    low, high = (None if v in (None, "") else f"{_number(v):g}" for v in (low, high))
    if low and high and low != high:
        return f"{low} à {high}"
    return low or high
