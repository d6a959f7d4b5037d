"""The one input pipeline: every incoming message is cut, cleaned and redacted here, once,
before anything else sees it (the dialogue, the store, the unanswered-questions record)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.understanding.privacy import redact

#: The longest text the engine reads; more is cut (and the user told so).
MAX_CHARS = 2000
#: What redaction leaves in place of personal data: not words to match.
PLACEHOLDERS = re.compile(r"\[(personnummer|telefon|e-post|namn)\]")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, or pressed an option (its value)."""

    text: str | None = None
    choice: str | None = None
    locale: str | None = None  # the channel's language hint, e.g. "sv-SE"
    #: Set by the pipeline: the text was longer than MAX_CHARS and was cut.
    truncated: bool = False


@dataclass(frozen=True)
class Prepared:
    incoming: Incoming
    #: Personal data was found (and replaced by placeholders): warn the user.
    personal_data: bool = False
    #: Keep with the conversation and pass to the next prepare(): catches a number split over two messages.
    carry: str | None = None


def clean(text: str) -> tuple[str, bool]:
    """Strip control and direction characters, fold white space, cut very long text. Returns (text, was_cut)."""
    cut = len(text) > MAX_CHARS
    text = text[:MAX_CHARS] if cut else text
    text = _CONTROL.sub(" ", text).replace("\r", " ")
    return " ".join(text.split()), cut


def prepare(incoming: Incoming, carry: str | None = None) -> Prepared:
    """Cut, clean and redact a typed text; a pressed option passes as it is.

    `carry` is the previous message's `Prepared.carry` in the same conversation."""
    if incoming.text is None:
        return Prepared(incoming)
    text, cut = clean(incoming.text)
    redaction = redact(text, carry)
    return Prepared(replace(incoming, text=redaction.text, truncated=cut), redaction.personal_data, redaction.carry)
