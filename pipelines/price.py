"""Price and certificate: the platform's words first, its structured offers otherwise.

Richie sites (FUN-MOOC) state no price in words; their sessions carry ``offer``,
``price``, ``certificate_offer`` and ``certificate_price`` (kept by the sessions
pipeline), read here through ``price_from_offers``.
"""

from __future__ import annotations

from pipelines.common import Pipeline, lost, normalised
from pipelines.normalise.price import parse_certificate, parse_price, price_from_offers


def _stated(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


class PriceCertificatePipeline(Pipeline):
    def process_item(self, item):
        out = normalised(item)
        price = certificate = None
        if _stated(item.get("price")):
            price = parse_price(item["price"], item.get("platform"))
            if price.unparsed:
                self.inc("normalise/price/unparsed")
                price = None
        if _stated(item.get("certificate")):
            certificate = parse_certificate(item["certificate"])
            if certificate.unparsed:
                self.inc("normalise/certificate/unparsed")
                certificate = None
        if price is None or certificate is None:
            offered_price, offered_certificate = price_from_offers(item.get("sessions_normalised"))
            if price is None and not offered_price.unparsed:
                price = offered_price
            if certificate is None and not offered_certificate.unparsed:
                certificate = offered_certificate
        if price is not None:
            out["free"] = price.free
            out["price_amount"] = price.amount
            out["currency"] = price.currency or (item.get("currency") if price.amount else None)
            if price.certificate_price is not None:
                out["certificate_price"] = price.certificate_price
        if _stated(item.get("currency")) and out.get("currency") is None:
            # a currency says nothing without an amount (a free course's "EUR")
            lost(self.crawler, "currency", "free" if price and price.free else "no_amount")
        if certificate is not None:
            out["certificate"] = certificate.certificate
        return item
