"""Price and certificate: words, richie's offers, bad input, invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.normalise.price import (
    CERTIFICATES,
    parse_certificate,
    parse_price,
    price_from_offers,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Gratuit, certificat à 49 €",
            {"free": True, "amount": 0, "currency": "EUR", "certificate_price": 49},
        ),
        ("49,99 €", {"free": False, "amount": 49.99, "currency": "EUR", "certificate_price": None}),
        ("$9.99", {"free": False, "amount": 9.99, "currency": "USD", "certificate_price": None}),
        ("1 200 €", {"free": False, "amount": 1200, "currency": "EUR", "certificate_price": None}),
        ("Free", {"free": True, "amount": 0, "currency": None, "certificate_price": None}),
        ("Payant", {"free": False, "amount": None, "currency": None, "certificate_price": None}),
        (0, {"free": True, "amount": 0, "currency": None, "certificate_price": None}),
    ],
)
def test_price_examples(text, expected):
    assert parse_price(text).as_json() == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Attestation de suivi", "attestation"),
        ("Certificat de réussite", "attestation"),
        ("Certificat payant", "certificate"),
        ("Professional Certificate", "certificate"),
        ("Titre RNCP 35984", "diploma"),
        ("RS5063", "diploma"),
        ("Diplôme national de master", "diploma"),
        ("Pas de certificat", "none"),
        ("Certification ne vaut pas diplôme", "certificate"),
    ],
)
def test_certificate_examples(text, kind):
    assert parse_certificate(text).certificate == kind


@pytest.mark.parametrize(
    "text", [None, "", "   ", "bientôt", "x" * 20_000, -5, True, float("nan"), float("inf")]
)
def test_bad_input_is_reported_not_raised(text):
    price = parse_price(text)
    assert price.unparsed and price.amount is None and price.free is None
    if not isinstance(text, int):
        assert parse_certificate(text).unparsed


def test_richie_offers():
    sessions = [
        {"offer": None, "certificate": None},
        {
            "offer": "free",
            "price": 0.0,
            "currency": "EUR",
            "certificate": "paid",
            "certificate_price": 49.0,
        },
    ]
    price, certificate = price_from_offers(sessions)
    assert (price.free, price.amount, price.currency, price.certificate_price) == (
        True,
        0.0,
        "EUR",
        49.0,
    )
    assert certificate.certificate == "certificate"
    paid, _ = price_from_offers([{"offer": "paid", "price": 150.0, "currency": "EUR"}])
    assert (paid.free, paid.amount) == (False, 150.0)
    nothing, none = price_from_offers([{"offer": "bogus"}])
    assert nothing.unparsed and none.unparsed


@given(st.one_of(st.text(max_size=80), st.floats(allow_nan=True), st.integers()))
def test_never_raises_and_amounts_are_sane(text):
    price = parse_price(text)
    for amount in (price.amount, price.certificate_price):
        assert amount is None or 0 <= amount < float("inf")
    if isinstance(text, str):
        assert parse_certificate(text).certificate in (*CERTIFICATES, None)
