"""Dated parameters: amounts, thresholds and dates that change with time.

A parameter (knowledge/parameters.yaml) has values by validity period, each with
a source. Texts name it as `{param:NAME}` (the value valid today; within
`NOTICE_DAYS` before a change also the coming one) or `{param:NAME@YYYY-MM-DD}`
(the value valid on that day). Rule conditions compare with it as
`gte: {param: NAME}`. A value may be unknown (`value: null`, e.g. an SEK amount
not yet officially published): texts then say so and comparisons with it are
false, so no rule fires on a guess.

This module knows nothing of the schema classes; `assemble` activates the table
of the knowledge it builds, and `Text.get` renders through `render`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

NOTICE_DAYS = 90
PLACEHOLDER = re.compile(r"\{param:([a-z0-9][a-z0-9-]*)(?:@(\d{4}-\d{2}-\d{2}))?\}")

_MONTHS = {
    "sv": ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
}
_UNKNOWN = {"sv": "ej bekräftat", "en": "not confirmed"}
_FROM = {"sv": "från {day}: {value}", "en": "from {day}: {value}"}


def today() -> date:
    """The day texts and rules are rendered for; `REGELLOTS_TODAY=YYYY-MM-DD` freezes it (tests, previews)."""
    # Read directly (this runs for every rendered text); bot.settings declares and checks the variable at start.
    frozen = os.environ.get("REGELLOTS_TODAY")
    return date.fromisoformat(frozen) if frozen else date.today()


@dataclass(frozen=True)
class Period:
    start: date
    value: Any  # int, float, date, or None when not known


@dataclass(frozen=True)
class Param:
    id: str
    unit: str  # "SEK", "EUR" or "date"
    periods: tuple[Period, ...]  # sorted by start

    def at(self, day: date) -> Period | None:
        """The period valid on `day`, or None before the first one."""
        current = None
        for p in self.periods:
            if p.start <= day:
                current = p
        return current

    def coming(self, day: date, within: int = NOTICE_DAYS) -> Period | None:
        """The next period if it starts within `within` days after `day`."""
        for p in self.periods:
            if day < p.start <= day + timedelta(days=within):
                return p
        return None


class ParameterTable:
    def __init__(self, params: Iterable[Param] = ()) -> None:
        self.params: dict[str, Param] = {p.id: p for p in params}

    def value(self, name: str, day: date | None = None) -> Any:
        """The value of `name` valid on `day` (today by default); None if unknown or undefined."""
        param = self.params.get(name)
        period = param.at(day or today()) if param else None
        return period.value if period else None

    def render(self, text: str, lang: str, day: date | None = None) -> str:
        if "{param:" not in text:
            return text
        day = day or today()

        def one(m: re.Match[str]) -> str:
            param = self.params.get(m.group(1))
            if param is None:
                return m.group(0)  # validation reports it; never hide the mistake
            at = date.fromisoformat(m.group(2)) if m.group(2) else day
            period = param.at(at)
            shown = fmt(param.unit, period.value if period else None, lang)
            if m.group(2) is None:
                nxt = param.coming(day)
                if nxt is not None:
                    shown += " (" + _FROM[lang].format(day=fmt("date", nxt.start, lang), value=fmt(param.unit, nxt.value, lang)) + ")"
            return shown

        return PLACEHOLDER.sub(one, text)


def fmt(unit: str, value: Any, lang: str) -> str:
    """A value as a reader writes it: '700 000 kr' / 'SEK 700,000', '216 000 €' / '€216,000', '2 augusti 2028'."""
    lang = "en" if lang == "en" else "sv"
    if value is None:
        return _UNKNOWN[lang]
    if unit == "date":
        d = value if isinstance(value, date) else date.fromisoformat(str(value))
        return f"{d.day} {_MONTHS[lang][d.month - 1]} {d.year}"
    number = f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
    if lang == "sv":
        number = number.replace(",", " ")
        return f"{number} kr" if unit == "SEK" else f"{number} €" if unit == "EUR" else number
    return f"SEK {number}" if unit == "SEK" else f"€{number}" if unit == "EUR" else number


def spellings(unit: str, value: Any) -> list[str]:
    """Ways a text may hard-code this value (for the validator's warning)."""
    if value is None:
        return []
    if unit == "date":
        d = value if isinstance(value, date) else date.fromisoformat(str(value))
        return [fmt("date", d, "sv"), fmt("date", d, "en"), d.isoformat()]
    n = int(value)
    if n < 1000:
        return []
    plain = f"{n:,}"
    return sorted({plain, plain.replace(",", " "), plain.replace(",", "\u00a0")})


_ACTIVE = ParameterTable()


def activate(table: ParameterTable) -> None:
    """Make `table`'s parameters the ones texts and rule conditions read.

    Merged, not replaced: a process holding two knowledge bases (tests, a reload in
    progress) keeps every parameter it has seen, and the engine activates its own
    knowledge's table on every turn so its values are the ones used.
    """
    _ACTIVE.params.update(table.params)


def active() -> ParameterTable:
    return _ACTIVE


def render(text: str, lang: str) -> str:
    return _ACTIVE.render(text, lang)


def referenced(text: str) -> list[tuple[str, str | None]]:
    """(name, date or None) of every placeholder in a text."""
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(text)]


def table_from(entries: Mapping[str, Any]) -> ParameterTable:
    """Build the table from schema entries ({id: Parameter})."""
    params = []
    for pid, e in entries.items():
        periods = tuple(sorted((Period(v.from_, v.value) for v in e.values), key=lambda p: p.start))
        params.append(Param(pid, e.unit, periods))
    return ParameterTable(params)
