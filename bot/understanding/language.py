"""Guess whether a message is Swedish or English (good enough for a first message)."""

from __future__ import annotations

from bot.understanding.textnorm import words

_SV = frozenset(
    "och att det är som en ett på av för med till har inte om vi jag hur vad får måste ska kan vår vårt våra vilka vilken "
    "vem när eller man oss mig hej tack behöver gäller lagen regler myndighet kommun region appen".split()
)
_EN = frozenset(
    "the and is are we our how what do does must can should which who when or my us me hello hi thanks need "
    "does apply law rules agency to of for with about a an".split()
)


def guess_language(text: str) -> str | None:
    """'sv', 'en', or None when the text gives no clear signal."""
    tokens = words(text)
    sv = sum(t in _SV for t in tokens) + 2 * sum(any(c in t for c in "åäö") for t in tokens)
    en = sum(t in _EN for t in tokens)
    if sv > en:
        return "sv"
    if en > sv:
        return "en"
    return None


def from_locale(locale: str | None) -> str | None:
    """'sv-SE' → 'sv'; any other known locale → 'en'; nothing → None."""
    if not locale:
        return None
    return "sv" if locale.lower().startswith(("sv", "se")) else "en"
