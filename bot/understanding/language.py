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


def clear_language(text: str) -> str | None:
    """'sv' or 'en' only when the text is clearly in that language (several signal words, none of the
    other's); short or mixed messages ('ok', 'MDR?', 'LOU for kommuner') give None."""
    tokens = set(words(text))
    sv = sum(t in _SV or any(c in t for c in "åäö") for t in tokens)  # distinct signal words
    en = sum(t in _EN for t in tokens)
    for lang, won, lost in (("sv", sv, en), ("en", en, sv)):
        if (won >= 2 and lost == 0) or (won >= 3 and won >= 3 * lost):
            return lang
    return None


def from_locale(locale: str | None) -> str | None:
    """'sv-SE' → 'sv'; any other known locale → 'en'; nothing → None."""
    if not locale:
        return None
    return "sv" if locale.lower().startswith(("sv", "se")) else "en"
