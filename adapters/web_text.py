"""The web page's own words: the `web_*` entries of the message catalogue (bot/conversation/messages.py),
handed to the page in both languages at once (a JSON data block in the HTML) so it can switch without
another request; and the browser's language from Accept-Language.
"""

from __future__ import annotations

from typing import Final

from bot.conversation.messages import TEXTS, t

PREFIX: Final = "web_"
LANGS: Final = ("sv", "en")
#: The page's words by their short name (the catalogue key without "web_").
KEYS: Final = tuple(key.removeprefix(PREFIX) for key in TEXTS if key.startswith(PREFIX))


def text(key: str, lang: str) -> str:
    return t(PREFIX + key, lang)


def page_strings() -> dict[str, dict[str, str]]:
    return {lang: {key: text(key, lang) for key in KEYS} for lang in LANGS}


def accept_language(header: str | None) -> str:
    """'sv' or 'en' from an Accept-Language header: the first of them the browser ranks highest; else English
    for a browser that asks for another language, Swedish when it says nothing."""
    if not header:
        return "sv"
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, index, tag.strip().lower()))
    for negative_q, _, tag in sorted(ranked):
        if negative_q >= 0:  # q=0: "not acceptable"
            continue
        if tag.startswith(("sv", "se")):
            return "sv"
        if tag.startswith("en"):
            return "en"
    return "en" if ranked else "sv"
