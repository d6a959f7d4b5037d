"""Follow-ups: a short message read in the context of the last answer.

"vem ska jag kontakta?" after an answer asks for that answer's agencies;
"och för tandvård?", "gäller det kommuner också?", "what about municipalities?"
ask the last question again with a change. The words are data-like tables here
(small and closed: function words, not domain vocabulary).
"""

from __future__ import annotations

import re

from bot.understanding.textnorm import fold, words

#: "Whom do I ask?" — the last answer's agencies and how to reach them.
_CONTACT = re.compile(
    r"\b(vem|vilka|vilken myndighet|vart|var)\b.*\b(kontakta|ringa|fraga|fråga|vända mig|vänder|vander|mejla|höra av)\b"
    r"|\b(who|which agency|whom|where)\b.*\b(contact|call|ask|turn to|reach|email)\b"
    r"|^(kontakt|contact|vem ringer jag|who do i call)\b",
    re.IGNORECASE,
)
#: Openings that mark a message as continuing the last one.
_OPENERS = (
    "och ", "men ", "samma ", "gäller det", "galler det", "gäller detta", "hur blir det", "hur är det", "vad gäller för",
    "även ", "också", "and ", "but ", "what about", "how about", "does that", "does this", "is that", "same for", "also ",
)  # fmt: skip
#: Longest message (in words) read as a follow-up without an opening word.
SHORT_FOLLOWUP = 6
#: From this many words, a message that does not open like a follow-up describes a situation of its own.
OWN_SITUATION = 16


def is_contact_question(text: str) -> bool:
    return bool(_CONTACT.search(text.strip())) and len(words(text)) <= 10


def stands_alone(text: str) -> bool:
    """A long message that does not continue the last one: read on its own, never in the last answer's context."""
    low = " ".join(text.lower().split())
    return len(words(fold(low))) >= OWN_SITUATION and not low.startswith(_OPENERS)


def looks_like_followup(text: str) -> bool:
    """A message that continues the conversation rather than starting a new question."""
    low = " ".join(text.lower().split())
    if low.startswith(_OPENERS) or low.endswith((" också?", " också", " too?", " too", " as well?", " as well")):
        return True
    return len(words(fold(low))) <= SHORT_FOLLOWUP and low.endswith("?") and not low.startswith(("vad är", "what is", "what's"))
