"""Personal data is recognised and redacted; amounts typed in chat are read."""

from __future__ import annotations

import pytest

from bot.understanding.language import guess_language
from bot.understanding.numbers import parse_amount
from bot.understanding.privacy import pseudonym, redact


@pytest.mark.parametrize(
    "text",
    [
        "19121212-1212",
        "121212-1212",
        "1212121212",
        "191212121212",
        "19121212+1212",
        "samordningsnummer 701063-2391",  # day 63 = 3 + 60
    ],
)
def test_personal_identity_numbers_are_redacted(text: str) -> None:
    r = redact(f"patienten {text} har frågat")
    assert "personnummer" in r.found and "[personnummer]" in r.text
    assert text.split()[-1] not in r.text


@pytest.mark.parametrize(
    "text",
    [
        "SFS 2016:1145",
        "lag (2018:218)",
        "700 000 kr",
        "2 389 585 SEK",
        "HSLF-FS 2021:52",
        "(EU) 2017/745",
        "2026-11-22",
        "1 456 476 SEK",
    ],
)
def test_identifiers_and_amounts_are_not_personal_data(text: str) -> None:
    assert redact(text).found == (), text


@pytest.mark.parametrize("text", ["070-123 45 67", "0701234567", "+46 70 123 45 67", "08-123 456 78", "0046701234567"])
def test_phone_numbers(text: str) -> None:
    r = redact(f"ring mig på {text} tack")
    assert r.found == ("phone",) and "[telefon]" in r.text


def test_email() -> None:
    r = redact("mejla anna.svensson@region.example.se eller a+b@x.io")
    assert r.found == ("email",) and r.text == "mejla [e-post] eller [e-post]"


def test_pseudonym_is_salted_and_stable() -> None:
    assert pseudonym("user1", "s") == pseudonym("user1", "s") != pseudonym("user1", "t")
    assert "user1" not in pseudonym("user1", "s")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("700 000 kr", 700_000),
        ("1,5 miljoner", 1_500_000),
        ("2 mkr", 2_000_000),
        ("300k", 300_000),
        ("2.4 MSEK", 2_400_000),
        ("ungefär 450000", 450_000),
        ("1.250.000", 1_250_000),
        ("700,000", 700_000),
        ("1,2 milj", 1_200_000),
        ("3 miljarder", 3_000_000_000),
        # A yearly amount with the contract's length is the total the flows ask for.
        ("about 180k SEK per year for 4 years", 720_000),
        ("180 000 kr per år i 4 år", 720_000),
        ("500 tkr om året under tre år", 1_500_000),
        ("1 MSEK a year for 3 years", 3_000_000),
        ("200 000 kr per år", 200_000),  # no length given: the amount as written
    ],
)
def test_amounts(text: str, value: float) -> None:
    assert parse_amount(text) == value


def test_no_amount() -> None:
    assert parse_amount("vet inte") is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [("får vi prata med leverantörer", "sv"), ("may we talk to suppliers before a tender", "en"), ("LOU", None), ("läkemedelsverket", "sv")],
)
def test_language_guess(text: str, lang: str | None) -> None:
    assert guess_language(text) == lang
