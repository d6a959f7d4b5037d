"""Find and redact personal data in chat text before anything is stored or logged.

Swedish personal identity numbers (personnummer) and co-ordination numbers
(samordningsnummer: day + 60) are recognised by their date and Luhn check
digit, so an SFS number or an amount is not mistaken for one. Phone numbers
and e-mail addresses are recognised by shape.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_PNR = re.compile(r"(?<![\d-])(\d{2})?(\d{2})(\d{2})(\d{2})([-+ ]?)(\d{3})(\d)(?![\d-])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.UNICODE)  # bounded: no quadratic backtracking
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}(?:[\s-]?\(?\d\)?){6,12}(?!\d)|(?<![\w.,:/])0\d{1,3}(?:[\s-]?\d){5,9}(?![\d:])")


@dataclass(frozen=True)
class Redaction:
    text: str
    found: tuple[str, ...]  # kinds found: personnummer, phone, email

    @property
    def personal_data(self) -> bool:
        return bool(self.found)


def _luhn_ok(nine_plus_check: str) -> bool:
    total = 0
    for i, ch in enumerate(nine_plus_check):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def is_personal_number(match: re.Match[str]) -> bool:
    _century, yy, mm, dd, _sep, serial, check = match.groups()
    month, day = int(mm), int(dd)
    if not 1 <= month <= 12:
        return False
    if not (1 <= day <= 31 or 61 <= day <= 91):  # 61–91: samordningsnummer
        return False
    return _luhn_ok(yy + mm + dd + serial + check)


def redact(text: str) -> Redaction:
    found: list[str] = []

    def pnr(m: re.Match[str]) -> str:
        if is_personal_number(m):
            found.append("personnummer")
            return "[personnummer]"
        return m.group(0)

    def email(m: re.Match[str]) -> str:
        found.append("email")
        return "[e-post]"

    def phone(m: re.Match[str]) -> str:
        found.append("phone")
        return "[telefon]"

    out = _PNR.sub(pnr, text)
    out = _EMAIL.sub(email, out)
    out = _PHONE.sub(phone, out)
    return Redaction(out, tuple(dict.fromkeys(found)))


def pseudonym(value: str, salt: str) -> str:
    """A salted hash, so records can be grouped per user without naming the user."""
    return hashlib.sha256((salt + value).encode()).hexdigest()[:16]
