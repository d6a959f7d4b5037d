"""Periods and dates as maintainers write them on the command line: '12m', '90d', '2026-01-31'."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

_PERIOD = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)


def parse_period(text: str) -> tuple[int, str]:
    """'12m' → (12, 'm'). Units: d (days), w (weeks), m (months), y (years)."""
    match = _PERIOD.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a period: write a number and a unit, e.g. 90d, 6w, 12m or 2y")
    return int(match.group(1)), match.group(2).lower()


def before(day: date, text: str) -> date:
    """The date a period before `day`; months and years are calendar months and years (31 May − 1m = 30 April)."""
    n, unit = parse_period(text)
    if unit == "d":
        return day - timedelta(days=n)
    if unit == "w":
        return day - timedelta(weeks=n)
    months = n * (12 if unit == "y" else 1)
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_since(text: str, today: date | None = None) -> date:
    """A date (YYYY-MM-DD) or a period back from today (e.g. 30d)."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        pass
    try:
        return before(today or date.today(), text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a date (YYYY-MM-DD) nor a period (e.g. 30d, 4w, 6m, 1y)") from None
