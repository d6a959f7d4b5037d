"""Read an amount typed in chat: '700 000 kr', '1,5 miljoner', '2 mkr', '300k', '2.4 MSEK', 'en halv miljon'."""

from __future__ import annotations

import math
import re

_MULTIPLIERS = [
    (re.compile(r"^(miljon(er)?|milj|mille|miljonkronor|mkr|msek|mn|m|mio|mil|million(s)?)$"), 1_000_000),
    (re.compile(r"^(miljard(er)?|mdkr|mdr|billion(s)?|bn)$"), 1_000_000_000),
    (re.compile(r"^(tusen|tusenlappar|tkr|k|ksek|thousand|thousands)$"), 1_000),
]
_NUMBER = re.compile(r"(\d[\d\s\u00a0.,']*)\s*([a-zA-ZåäöÅÄÖ]*)")


# "180k per år i 4 år", "500 tkr om året under tre år", "1 MSEK a year for 3 years": a yearly amount with a
# duration is a total (the flows ask for the value of the whole contract period).
_YEARLY = re.compile(
    r"\b(?:per\s+år|om\s+året|i\s+året|/\s*år|årligen|varje\s+år|per\s+year|a\s+year|each\s+year|/\s*year|yearly|annually|per\s+annum)\b"
    r"[\s,]*(?:\w+\s+){0,3}?(?:i|under|for|over|x)\s+(\d{1,2}|[a-zåäö]+)\s+(?:år|years?)\b",
    re.IGNORECASE,
)


def parse_amount(text: str) -> float | None:
    """The first amount in the text (times the years, for a yearly amount with a duration), or None."""
    value = _first_amount(text)
    if value is None:
        return None
    yearly = _YEARLY.search(text)
    if yearly:
        years = yearly.group(1).lower()
        count = int(years) if years.isdigit() else _WORD_VALUES.get(years)
        if count and 1 <= count <= 20:
            return value * count
    return value


def _first_amount(text: str) -> float | None:
    match = _NUMBER.search(text.replace("−", "-"))
    if not match:
        return _amount_in_words(text)
    digits, unit = match.group(1).strip(), match.group(2).lower()
    if not unit:  # '2,5 miljoner', '3 MSEK': the unit may follow a space the pattern took as grouping
        rest = text[match.end():].split()
        unit = rest[0].lower().strip(".,!") if rest else ""
    value = _to_float(digits)
    if value is None:
        return None
    for pattern, factor in _MULTIPLIERS:
        if pattern.match(unit):
            return value * factor
    return value


def _to_float(digits: str) -> float | None:
    compact = re.sub(r"[\s\u00a0']", "", digits).rstrip(".,")
    if not compact:
        return None
    # "1,5" and "1.5" are decimals; "700.000", "700,000" and "1.250.000" group thousands.
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", compact):
        compact = re.sub(r"[.,]", "", compact)
    else:
        compact = compact.replace(",", ".")
        if compact.count(".") > 1:
            return None
    try:
        value = float(compact)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# Amounts in words: 'en miljon', 'ungefär en halv miljon', 'två och en halv miljon', 'half a million'.
_WORD_VALUES = {
    "en": 1, "ett": 1, "a": 1, "one": 1, "två": 2, "tva": 2, "two": 2, "tre": 3, "three": 3, "fyra": 4, "four": 4,
    "fem": 5, "five": 5, "sex": 6, "six": 6, "sju": 7, "seven": 7, "åtta": 8, "atta": 8, "eight": 8, "nio": 9,
    "nine": 9, "tio": 10, "ten": 10, "tjugo": 20, "twenty": 20, "femtio": 50, "fifty": 50, "hundra": 100, "hundred": 100,
}
_HALF = {"halv", "halva", "half"}
_WORD = re.compile(r"[a-zåäö]+")


def _amount_in_words(text: str) -> float | None:
    """An amount written in words with a unit ('en halv miljon', 'två miljoner', 'hundra tusen'), or None."""
    tokens = _WORD.findall(text.lower())
    for i, token in enumerate(tokens):
        factor = next((f for pattern, f in _MULTIPLIERS if pattern.match(token) and len(token) > 2), None)
        if factor is None:
            continue
        before = tokens[max(0, i - 5):i]
        value = 0.0
        if len(before) >= 2 and before[-1] in ("a", "an") and before[-2] in _HALF:
            before = before[:-1]  # 'half a million'
        if before and before[-1] in _HALF:
            value = 0.5
            before = before[:-1]
            if before and before[-1] in ("en", "a", "ett"):
                before = before[:-1]
            if len(before) >= 2 and before[-1] in ("och", "and") and before[-2] in _WORD_VALUES:
                value += _WORD_VALUES[before[-2]]
        elif before and before[-1] in _WORD_VALUES:
            value = float(_WORD_VALUES[before[-1]])
            if len(before) >= 2 and before[-2] in _WORD_VALUES and before[-1] == "hundra":
                value *= _WORD_VALUES[before[-2]]
        elif token.startswith(("miljon", "million", "tusen", "thousand", "miljard", "billion")) and not token.endswith(("er", "s")):
            value = 1.0  # 'miljon' alone, e.g. 'runt miljonen'
        if value:
            return value * factor
    return None
