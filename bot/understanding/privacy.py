"""Find and redact personal data in chat text before anything is stored or logged.

What is recognised, and how:

* **Personal identity numbers** (personnummer) and co-ordination numbers
  (samordningsnummer: day + 60): ten or twelve digits with a valid date, in any
  grouping people type — ``19121212-1212``, ``121212 1212``, ``2059 10 15-3708``,
  with en/em dashes, non-breaking or thin spaces, `` - ``, dots or zero-width
  characters between the digits. A number with a valid Luhn check digit is
  redacted in any grouping; one with a wrong check digit (a mistyped number is
  still personal data) is redacted when it has the usual shape: all digits in one
  run, or the date followed by four digits. SFS numbers, dates and amounts do not
  have that shape and are left alone.
* **A number split over two messages** (``19121212-`` then ``1212``): ``redact``
  returns a small ``carry`` to keep with the conversation and pass with the next
  message; the carry never holds the digits of a date (see ``Redaction.carry``).
* **Phone numbers**: Swedish and international shapes — ``070-123 45 67``,
  ``(070) 123 45 67``, ``070.123.45.67``, ``+46 (0)70-123 45 67``, ``0046…``.
* **E-mail addresses**, also written to dodge filters: ``anna(at)region.se``,
  ``anna @ region.se``, ``anna [at] region [dot] se``, ``anna at region dot se``.
* **Names next to health words**: a common Swedish first name or surname
  (``privacy_names_sv.txt``, a maintained plain list) within a few words of a
  diagnosis or health word (``Anna Svensson har diabetes``) is redacted and warned
  about. A name alone is not: staff names in questions about routines are fine.

Matching runs on a normalised copy of the text (dashes, spaces and zero-width
characters unified), and the redacted text returned is that normalised copy.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# -- normalisation -------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
_TRANSLATE = {**_ZERO_WIDTH, **{ord(c): "-" for c in _DASHES}, **{ord(c): " " for c in _SPACES}, ord("\uff0b"): "+", ord("\uff0e"): "."}


_NEEDS_NORMALISING = re.compile("[" + "".join(chr(c) for c in _TRANSLATE) + "]")


def normalise(text: str) -> str:
    """Unify what people (and their phones) put between digits: dashes, spaces, zero-width characters."""
    return text.translate(_TRANSLATE) if _NEEDS_NORMALISING.search(text) else text


# -- personal identity numbers ------------------------------------------------

_SEP = r"[ .+\-]{1,3}"
# Runs of digit groups joined by separators. Digits and separators are disjoint, so no backtracking blow-up.
_CLUSTER = re.compile(rf"\d+(?:{_SEP}\d+)*")
_GROUP = re.compile(r"\d+")
_PHONE_START = re.compile(r"(?:\+|00)\s?$")  # a cluster right after + or 00 is a phone number
_PLACEHOLDER = "[personnummer]"


def _digits(s: str) -> str:
    if s.isascii():
        return s
    return "".join(str(unicodedata.digit(c)) for c in s)


def _luhn_ok(nine_plus_check: str) -> bool:
    total = 0
    for i, ch in enumerate(nine_plus_check):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _date_ok(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    return 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)  # 61–91: samordningsnummer


def _century_ok(digits: str) -> bool:
    return len(digits) == 10 or digits[:2] in ("18", "19", "20")


def is_personal_number(match: re.Match[str]) -> bool:
    """True for a match whose groups are (century, yy, mm, dd, separator, serial, check) with a valid date and check digit."""
    _century, yy, mm, dd, _sep, serial, check = match.groups()
    return _date_ok(yy + mm + dd) and _luhn_ok(yy + mm + dd + serial + check)


def _pnr_kind(groups: list[str], text_before: str) -> str | None:
    """'personnummer' if these digit groups (one candidate) are one; 'phone' if they are better read as a phone number."""
    digits = "".join(groups)
    if len(digits) not in (10, 12) or not _century_ok(digits):
        return None
    body = digits[-10:]
    if not _date_ok(body[:6]):
        return None
    phone_like = (digits[0] == "0" and 2 <= len(groups[0]) <= 4 and len(groups) > 1) or bool(_PHONE_START.search(text_before))
    if phone_like:
        return "phone"
    if _luhn_ok(body):
        return "personnummer"
    # A wrong check digit: still a personnummer when it has the usual shape.
    if len(groups) == 1:
        return None if digits[0] == "0" and len(digits) == 10 else "personnummer"  # 07…: more likely a phone number
    if len(groups[-1]) == 4 and len(digits) - 4 in (6, 8):
        return "personnummer"
    return None


def _pnr_spans(text: str) -> list[tuple[int, int, str]]:
    """Spans of personal identity numbers in normalised text, with their kind.

    A run of digits that has the shape of a personal identity number but is more
    likely a phone number (070-123 45 67) is returned as a phone number: redacted
    either way, whole.
    """
    spans: list[tuple[int, int, str]] = []
    for cluster in _CLUSTER.finditer(text):
        if cluster.end() - cluster.start() < 10:
            continue  # fewer than ten digits
        if cluster.start() and (text[cluster.start() - 1].isalnum() or text[cluster.start() - 1] in "_/:"):
            continue  # part of a word, a path or an SFS number
        groups = list(_GROUP.finditer(text, cluster.start(), cluster.end()))
        i = 0
        while i < len(groups):
            for j in range(i, len(groups)):
                n = sum(g.end() - g.start() for g in groups[i : j + 1])
                if n > 12:
                    break
                if n in (10, 12):
                    parts = [_digits(g.group()) for g in groups[i : j + 1]]
                    kind = _pnr_kind(parts, text[max(0, groups[i].start() - 4) : groups[i].start()])
                    if kind is not None:
                        spans.append((groups[i].start(), groups[j].end(), kind))
                        i = j
                        break
            i += 1
    return spans


# -- phone numbers and e-mail addresses --------------------------------------

_PHONE = re.compile(
    r"(?=[+0(])(?:(?<![\w+])(?:\+|00)\d{1,3}(?:[ -]?\(0\))?(?:[ -]?\(?\d\)?){6,12}(?!\d)"  # international
    r"|(?<![\w.,:/(])\(0\d{1,3}\)(?:[ -]?\d){5,9}(?![\d:])"  # (070) 123 45 67
    r"|(?<![\w.,:/])0\d{1,3}(?:\.\d{2,4}){2,4}(?![.\d])"  # 070.123.45.67
    r"|(?<![\w.,:/])0\d{1,3}(?:(?:[ -]|\s-\s)?\d){5,9}(?![\d:]))"  # 070-123 45 67
)
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|snabel-?a|a)\s*[)\]}>]\s*)"
_DOT = r"(?:\.|\s*[(\[{<]\s*(?:dot|punkt)\s*[)\]}>]\s*)"
_LOCAL = r"(?<![\w.+-])[\w.+-]{1,64}"
_LABEL = r"[\w-]{1,63}"
_EMAIL = re.compile(rf"{_LOCAL}{_AT}{_LABEL}(?:{_DOT}{_LABEL}){{1,8}}", re.IGNORECASE)  # bounded: no quadratic backtracking
# Spelled out in words ("anna at region dot se"): only with a spelled-out dot, so "at 1177.se" stays.
_EMAIL_WORDS = re.compile(rf"{_LOCAL}\s+(?:at|snabel-?a)\s+{_LABEL}(?:\s+(?:dot|punkt)\s+{_LABEL}){{1,8}}(?!\w)", re.IGNORECASE)


# -- names next to health words ---------------------------------------------

# A person's health, not the health care system (so not "sjukhus", "läkemedel", "journalsystem").
_HEALTH_PREFIXES = (
    "diagnos", "sjukdom", "sjukskriv", "cancer", "tumör", "diabet", "depression", "deprimerad", "demen", "alzheimer",
    "autism", "psykos", "schizofren", "bipolär", "ångest", "missbruk", "alkoholi", "narkoman", "hepatit", "könssjuk",
    "gravid", "abort", "missfall", "epilep", "astma", "allergi", "covid", "självmord", "suicid", "anorexi", "ätstörning",
    "provsvar", "opererad", "inlagd", "behandlad", "utbränd", "funktionsnedsättning", "psykiatrisk", "blodtryck",
    "smittad", "hjärtinfarkt",
    "disease", "illness", "sick", "tumor", "tumour", "schizophren", "addict", "alcoholi", "pregnan", "miscarriage",
    "allerg", "hospitalised", "hospitalized", "disabilit",
)  # fmt: skip
_HEALTH_EXACT = frozenset(
    "sjuk sjuka medicinerar adhd hiv aids klamydia stroke infarkt tbc tuberkulos dementia psychosis bipolar anxiety"
    " asthma anorexia psychiatric infected".split()
)


def _is_health_word(word: str) -> bool:
    w = word.lower()
    return w in _HEALTH_EXACT or w.startswith(_HEALTH_PREFIXES)


_CAPITALISED = re.compile(r"(?<![^\W\d_])[A-ZÅÄÖÉÜ][^\W\d_]+")
_EMAIL_HINT = re.compile(r"@|[(\[{<]\s*(?:at|snabel-?a|a)\s*[)\]}>]", re.IGNORECASE)
_EMAIL_WORDS_HINT = re.compile(r"\s(?:dot|punkt)\s", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")
_NAME_WINDOW = 6  # words either side
_NOT_A_NAME_AFTER = {"lex"}  # lex Maria, lex Sarah are regulations, not people


@lru_cache(maxsize=1)
def names() -> frozenset[str]:
    """Common Swedish first names and surnames, lower case (privacy_names_sv.txt beside this module)."""
    path = Path(__file__).with_name("privacy_names_sv.txt")
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.add(line.lower())
    return frozenset(out)


def _name_spans(text: str) -> list[tuple[int, int]]:
    known = names()
    candidates = [m for m in _CAPITALISED.finditer(text) if m.group().lower() in known]
    if not candidates:
        return []
    words = list(_WORD.finditer(text))
    health = [w.start() for w in words if _is_health_word(w.group())]
    if not health:
        return []
    index = {w.start(): i for i, w in enumerate(words)}
    position = {start: index[start] for start in health}
    spans = []
    for m in candidates:
        i = index.get(m.start())
        if i is None:
            continue
        if i and words[i - 1].group().lower() in _NOT_A_NAME_AFTER:
            continue
        if any(abs(i - position[h]) <= _NAME_WINDOW for h in health):
            spans.append((m.start(), m.end()))
    return spans


# -- the API -------------------------------------------------------------------


@dataclass(frozen=True)
class Redaction:
    text: str
    found: tuple[str, ...]  # kinds found: personnummer, phone, email, name
    carry: str | None = None  # keep with the conversation; pass to redact() with the next message

    @property
    def personal_data(self) -> bool:
        return bool(self.found)


PLACEHOLDERS = {"personnummer": _PLACEHOLDER, "phone": "[telefon]", "email": "[e-post]", "name": "[namn]"}

# The tail of a message that may be the first part of a personal identity number:
# a date (YYMMDD or YYYYMMDD) with up to three digits of the serial after it.
_TAIL = re.compile(rf"(?<![\w/:])(\d+(?:{_SEP}\d+)*)([ .+\-]*)\s*$")
_HEAD = re.compile(rf"^\s*[ .+\-]*(\d+(?:{_SEP}\d+)*)(?!\d)")
_CARRY = re.compile(r"^(?:d([0-3])(c?)|p(\d{1,11}))$")


def _tail_carry(text: str) -> tuple[str | None, tuple[int, int] | None, bool]:
    """(carry, span of the tail, redact the tail now?) for the end of normalised text."""
    base = max(0, len(text) - 64)  # a tail longer than this is no number; bounded work for long messages
    m = _TAIL.search(text, base)
    if not m:
        return None, None, False
    groups = [_digits(g.group()) for g in _GROUP.finditer(m.group(1))]
    digits = "".join(groups)
    # A date typed as one run (YYMMDD or YYYYMMDD), then at most three digits of the serial: redacted now.
    first = groups[0]
    if len(groups) <= 2 and len(first) in (6, 8) and _century_ok(first if len(first) == 8 else "x" * 10) and _date_ok(first[-6:]):
        rest = len(digits) - len(first)
        if rest <= 3:
            # YYYYMM of a twelve-digit number looks like a YYMMDD date: then the day may follow too ("c").
            could_be_century = rest == 0 and len(first) == 6 and first[:2] in ("18", "19", "20") and 1 <= int(first[4:6]) <= 12
            return f"d{rest}{'c' if could_be_century else ''}", m.span(1), True
    if len(digits) <= 11:
        return f"p{digits}", m.span(1), False  # digits also kept in this message's text; held for one message
    return None, None, False


def redact(text: str, carry: str | None = None) -> Redaction:
    """Redact personal data; ``carry`` is the previous message's ``Redaction.carry`` of this conversation.

    ``Redaction.carry`` is None or a short marker: ``d<n>`` or ``d0c`` (the message
    ended in a date that may begin a personal identity number, with n digits of the
    serial; those digits were redacted, the marker holds none of them) or ``p<digits>``
    (the message ended in a few digits that are no date, and are kept in its text). Store
    it with the conversation state and pass it with the next message.
    """
    text = normalise(text)
    found: list[str] = []
    spans: list[tuple[int, int, str]] = []

    prefix_digits = ""
    head_done = False
    cm = _CARRY.match(carry or "")
    if cm and cm.group(1) is not None:
        head = _HEAD.match(text)
        if head:
            head_digits = "".join(_digits(g.group()) for g in _GROUP.finditer(head.group(1)))
            day_first = cm.group(2) and len(head_digits) == 6 and _date_ok("0101" + head_digits[:2])
            if len(head_digits) == 4 - int(cm.group(1)) or day_first:
                spans.append((len(text) - len(text.lstrip()), head.end(1), "personnummer"))
                head_done = True
    elif cm and cm.group(3) is not None and _HEAD.match(text):
        prefix_digits = cm.group(3)

    if prefix_digits:
        # The previous message ended in a few digits: read them as if they began this message.
        virtual = prefix_digits + "-" + text
        offset = len(prefix_digits) + 1
        for start, end, kind in _pnr_spans(virtual):
            if start < offset:
                if end > offset:
                    spans.append((0, end - offset, "personnummer"))
            else:
                spans.append((start - offset, end - offset, kind))
    else:
        spans += [(s, e, kind) for s, e, kind in _pnr_spans(text) if not (head_done and s < spans[0][1])]

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b, _ in spans)

    new_carry, tail, now = _tail_carry(text)
    if tail and now and free(*tail):
        spans.append((tail[0], tail[1], "personnummer"))  # a date that may begin a personal identity number

    passes = [(_PHONE, "phone")]
    if _EMAIL_WORDS_HINT.search(text):
        passes.insert(0, (_EMAIL_WORDS, "email"))
    if _EMAIL_HINT.search(text):
        passes.insert(0, (_EMAIL, "email"))
    for pattern, kind in passes:
        for m in pattern.finditer(text):
            if free(m.start(), m.end()):
                spans.append((m.start(), m.end(), kind))
    for s, e in _name_spans(text):
        if free(s, e):
            spans.append((s, e, "name"))


    if tail and not now and any(a < tail[1] and tail[0] < b for a, b, _ in spans):
        new_carry = None  # the few digits at the end were part of a phone number or an address

    if not spans:
        return Redaction(text, (), new_carry)
    spans.sort()
    out: list[str] = []
    pos = 0
    for s, e, kind in spans:
        if s < pos:
            continue
        out.append(text[pos:s])
        out.append(PLACEHOLDERS[kind])
        found.append(kind)
        pos = e
    out.append(text[pos:])
    order = ("personnummer", "phone", "email", "name")
    kinds = tuple(k for k in order if k in found)
    return Redaction("".join(out), kinds, new_carry)


def pseudonym(value: str, salt: str) -> str:
    """A salted hash, so records can be grouped per user without naming the user."""
    return hashlib.sha256((salt + value).encode()).hexdigest()[:16]
