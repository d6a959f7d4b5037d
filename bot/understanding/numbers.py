"""Read an amount typed in chat: '700 000 kr', '1,5 miljoner', '2 mkr', '300k', '2.4 MSEK'."""

from __future__ import annotations

import math
import re

_MULTIPLIERS = [
    (re.compile(r"^(miljon(er)?|milj|mkr|msek|mn|m|million(s)?)$"), 1_000_000),
    (re.compile(r"^(miljard(er)?|mdkr|mdr|billion(s)?|bn)$"), 1_000_000_000),
    (re.compile(r"^(tusen|tkr|k|ksek|thousand)$"), 1_000),
]
_NUMBER = re.compile(r"(\d[\d\s\u00a0.,']*)\s*([a-zA-ZåäöÅÄÖ]*)")


def parse_amount(text: str) -> float | None:
    """The first amount in the text, or None."""
    match = _NUMBER.search(text.replace("−", "-"))
    if not match:
        return None
    digits, unit = match.group(1).strip(), match.group(2).lower()
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
