"""What a course costs and what it certifies.

« Gratuit, certificat à 49 € », « 49,99 € », « Free », « Payant »: whether the course is
free, its price and currency, and the price of its certificate (an amount next to
« certificat », « attestation »…). The certificate kind is one of none, attestation,
certificate, diploma (state-recognised: an RNCP or RS code, a national degree). Richie's
structured offers (FUN-MOOC) are read by ``price_from_offers``. Wordings are data
(``pipelines/data/prices.json``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.normalise.text import fold, load_data, plain_number

CERTIFICATES = ("none", "attestation", "certificate", "diploma")
_STRENGTH = {kind: rank for rank, kind in enumerate(CERTIFICATES)}


@dataclass(frozen=True)
class Price:
    free: bool | None = None
    amount: float | None = None
    currency: str | None = None
    certificate_price: float | None = None
    unparsed: str | None = None

    def as_json(self) -> dict:
        out = {
            "free": self.free,
            "amount": plain_number(self.amount),
            "currency": self.currency,
            "certificate_price": plain_number(self.certificate_price),
        }
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


@dataclass(frozen=True)
class Certificate:
    certificate: str | None = None
    unparsed: str | None = None

    def as_json(self) -> dict:
        out = {"certificate": self.certificate}
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> dict:
    data = load_data("prices.json")
    currencies = _alternation(data["currencies"])
    number = r"\d{1,3}(?:[ \u202f.]\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?"
    words = {
        kind: re.compile(
            r"(?<![a-z])(?:"
            + "|".join(re.escape(w.strip()) + (r"(?![a-z])" if w.endswith(" ") else "") for w in ws)
            + ")"
        )
        for kind, ws in data["certificate_words"].items()
    }
    return {
        "amount": re.compile(
            rf"(?:(?P<before>{currencies})\s*(?P<n1>{number})|(?P<n2>{number})\s*(?P<after>{currencies}))(?![a-z])"
        ),
        "free": re.compile(
            r"(?<![a-z])(?:"
            + _alternation(data["free_words"])
            + r"|(?:"
            + _alternation(data["free_negated_costs"]["negations"])
            + r")\s*(?:[a-z]+\s+){0,2}?(?:"
            + _alternation(data["free_negated_costs"]["costs"])
            + r")|(?:"
            + _alternation(data["free_negated_costs"]["costs"])
            + r")[^:;.]{0,30}:\s*(?:"
            + _alternation(data["free_negated_costs"]["none_after_cost"])
            + r"))(?![a-z])"
        ),
        "paid": re.compile(r"(?<![a-z])(?:" + _alternation(data["paid_words"]) + r")(?![a-z])"),
        "marker": re.compile(r"(?<![a-z])(?:" + _alternation(data["certificate_markers"]) + ")"),
        "bare": re.compile(rf"^\s*(?P<n>{number})\s*$"),
        "certificate": words,
        "diploma_code": re.compile(data["diploma_codes"]),
        "negation": re.compile(r"(?<![a-z])(?:" + _alternation(data["negations"]) + r")(?![a-z])"),
    }


def _number(text: str) -> float:
    text = text.replace(" ", "").replace("\u202f", "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", text):
        text = text.replace(".", "")
    return float(text.replace(",", "."))


def parse_price(text, platform: str | None = None) -> Price:
    """Free or not, price, currency and certificate price stated by ``text``."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return Price(unparsed="empty")
    if isinstance(text, bool):
        return Price(unparsed="not a price")
    if isinstance(text, int | float):
        if not math.isfinite(text) or text < 0:
            return Price(unparsed="not a price")
        return Price(free=text == 0, amount=float(text))
    return _price_cached(fold(str(text))[:300])


@lru_cache(maxsize=4096)
def _price_cached(folded: str) -> Price:
    patterns = _patterns()
    currencies = load_data("prices.json")["currencies"]
    bare = patterns["bare"].match(folded)
    if bare:
        amount = _number(bare.group("n"))
        return Price(free=amount == 0, amount=amount)
    course_amount = certificate_price = currency = None
    for m in patterns["amount"].finditer(folded):
        value = _number(m.group("n1") or m.group("n2"))
        symbol = m.group("before") or m.group("after")
        currency = currency or currencies[symbol]
        before = folded[max(0, m.start() - 40) : m.start()]
        clause = re.split(r"[,;/|(]|\bet\b|\bou\b", before)[-1]
        if patterns["marker"].search(clause):
            certificate_price = certificate_price if certificate_price is not None else value
        elif course_amount is None:
            course_amount = value
    free_said = bool(patterns["free"].search(folded))
    if course_amount is not None:
        return Price(
            free=course_amount == 0,
            amount=course_amount,
            currency=currency,
            certificate_price=certificate_price,
        )
    if free_said:
        return Price(free=True, amount=0.0, currency=currency, certificate_price=certificate_price)
    if patterns["paid"].search(folded):
        return Price(free=False, currency=currency, certificate_price=certificate_price)
    if certificate_price is not None:
        return Price(currency=currency, certificate_price=certificate_price)
    return Price(unparsed="no price found")


def parse_certificate(text) -> Certificate:
    """The strongest kind of certificate ``text`` states; never raises."""
    if text is None or not str(text).strip():
        return Certificate(unparsed="empty")
    return _certificate_cached(fold(str(text))[:500])


@lru_cache(maxsize=4096)
def _certificate_cached(folded: str) -> Certificate:
    patterns = _patterns()
    if patterns["diploma_code"].search(folded):
        return Certificate(certificate="diploma")
    if patterns["certificate"]["none"].search(folded):
        return Certificate(certificate="none")
    spans = [
        (m.start(), m.end(), kind)
        for kind, pattern in patterns["certificate"].items()
        if kind != "none"
        for m in pattern.finditer(folded)
    ]
    # The most specific phrase speaks: "certificat de réussite" is an attestation even
    # though "certificat" alone is a certificate.
    specific = [
        (start, kind)
        for start, end, kind in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _k in spans)
    ]
    # "ne vaut pas diplôme", "sans certificat": a negated kind is not offered.
    found = [
        kind
        for start, kind in specific
        if not patterns["negation"].search(folded[max(0, start - 25) : start])
    ]
    if not found:
        if specific:
            return Certificate(certificate="none")
        return Certificate(unparsed="no certificate stated")
    return Certificate(certificate=max(found, key=_STRENGTH.__getitem__))


def price_from_offers(sessions: list[dict]) -> tuple[Price, Certificate]:
    """Price and certificate from richie's structured offers of the first session having one."""
    richie = load_data("prices.json")["richie"]
    price, certificate = Price(unparsed="no offer"), Certificate(unparsed="no offer")
    for session in sessions or []:
        offer = session.get("offer")
        if price.unparsed and offer in richie["offer"]:
            free = richie["offer"][offer]["free"]
            amount = session.get("price")
            amount = float(amount) if isinstance(amount, int | float) and amount >= 0 else None
            if free and amount is None:
                amount = 0.0
            price = Price(
                free=free,
                amount=amount,
                currency=session.get("currency") if amount is not None else None,
                certificate_price=_positive(session.get("certificate_price")),
            )
        kind = session.get("certificate") or session.get("certificate_offer")
        if certificate.unparsed and kind in richie["certificate_offer"]:
            certificate = Certificate(certificate=richie["certificate_offer"][kind])
        if not price.unparsed and not certificate.unparsed:
            break
    return price, certificate


def _positive(value) -> float | None:
    return float(value) if isinstance(value, int | float) and value >= 0 else None
