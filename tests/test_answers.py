"""The typed-answer reader (bot/understanding/answers.py) on the shipped flows, case by case."""

from __future__ import annotations

import pytest

from bot.knowledge import Knowledge
from bot.understanding.answers import read_answer

CASES = [
    # flow, node, typed, expected: a choice id, an amount, or the problem
    ("triage", "ai", "nää", "no"),
    ("triage", "ai", "nope", "no"),
    ("triage", "ai", "absolut inte", "no"),
    ("triage", "ai", "jo", "yes"),
    ("triage", "ai", "absolut", "yes"),
    ("triage", "ai", "yeah", "yes"),
    ("triage", "ai", "dunno", "unsure"),
    ("triage", "ai", "ingen aning", "unsure"),
    ("triage", "ai", "I don't know", "unsure"),
    ("procurement", "market", "vet inte", "unknown"),  # the node's don't-know choice, whatever its id
    ("data-protection", "anon_source", "vet inte", "unsure_missing"),  # no don't-know choice: not guessed
    ("data-protection", "sensitive", "ja", "ambiguous"),  # two yes-like choices
    ("data-protection", "sensitive", "ja hälsodata", "health"),
    ("agency-guide", "subject", "nr 2", "care"),
    ("agency-guide", "subject", "den tredje", "rules"),
    ("agency-guide", "subject", "alternativ 12", "number_out_of_range"),
    ("agency-guide", "subject", "lex maria", "care"),
    ("agency-guide", "subject", "vi behöver pengar", "funding"),
    ("agency-guide", "subject", "upphandlnig", "procurement"),  # a typo
    ("triage", "testing", "qwerty 123", "no_match"),  # a number inside words is not an option number
    ("triage", "testing", "ja, som pilot", "pilot"),
    ("procurement", "buyer", "kommunen", "public_authority"),
    ("procurement", "buyer", "vi är ett kommunalt bolag", "public_company"),
    ("procurement", "value", "3 MSEK", 3_000_000.0),
    ("procurement", "value", "450 tkr", 450_000.0),
    ("procurement", "value", "2,5 miljoner", 2_500_000.0),
    ("procurement", "value", "200k", 200_000.0),
    ("procurement", "value", "1 200 000 kr", 1_200_000.0),
    ("procurement", "value", "ungefär en halv miljon", 500_000.0),
    ("procurement", "value", "en miljon", 1_000_000.0),
    ("procurement", "value", "billigt", "no_amount"),
    ("procurement", "market", "hej", "greeting"),
]


@pytest.mark.parametrize(("flow", "node_id", "text", "want"), CASES)
def test_read_answer(shipped: Knowledge, flow: str, node_id: str, text: str, want: object) -> None:
    node = shipped.node(flow, node_id)
    assert node is not None
    reading = read_answer(node, text)
    got = reading.amount if reading.amount is not None else reading.choice or reading.problem
    assert got == want, reading
    if reading.understood:
        assert reading.how  # every reading says how it was read
