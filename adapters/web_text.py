"""The web page's own words, in Swedish and English (what the engine says comes from bot.messages).

The page gets both languages at once (embedded in the HTML as a JSON data block) so it can switch
without another request; `page_strings()` is what the script reads.
"""

from __future__ import annotations

from typing import Final

#: key -> (Swedish, English)
TEXT: Final[dict[str, tuple[str, str]]] = {
    "title": ("Regellotsen – vilka regler gäller?", "Regellotsen – which rules apply?"),
    "tagline": (
        "Regler och myndigheter för innovation i vård, omsorg och tandvård",
        "Rules and agencies for innovation in health care, social care and dental care",
    ),
    "skip": ("Hoppa till frågefältet", "Skip to the question field"),
    "log_label": ("Samtalet", "The conversation"),
    "input_label": ("Din fråga", "Your question"),
    "input_hint": (
        "Skriv med egna ord, eller välj ett alternativ i samtalet. Skriv inte personuppgifter.",
        "Write in your own words, or choose an option in the conversation. Do not write personal data.",
    ),
    "send": ("Skicka", "Send"),
    "restart": ("Börja om", "Start over"),
    "switch_to": ("In English", "På svenska"),
    "switch_to_lang": ("en", "sv"),
    "bot": ("Regellotsen", "Regellotsen"),
    "you": ("Du", "You"),
    "you_chose": ("Du valde", "You chose"),
    "thinking": ("Regellotsen svarar …", "Regellotsen is answering …"),
    "options": ("Välj ett alternativ", "Choose an option"),
    "sources": ("Källor", "Sources"),
    "new_window": ("(öppnas i nytt fönster)", "(opens in a new window)"),
    "error_network": (
        "Jag kunde inte nå tjänsten. Kontrollera anslutningen och försök igen.",
        "I could not reach the service. Check your connection and try again.",
    ),
    "error_busy": (
        "Du har skickat många meddelanden på kort tid. Vänta en halv minut och försök igen.",
        "You have sent many messages in a short time. Wait half a minute and try again.",
    ),
    "error_server": ("Något gick fel hos tjänsten. Försök igen om en stund.", "Something went wrong at the service. Try again shortly."),
    "empty": ("Skriv en fråga först.", "Type a question first."),
    "download": ("Ladda ner", "Download"),
    "disclaimer": ("Vägledning, inte juridisk rådgivning.", "Guidance, not legal advice."),
    "accessibility": ("Tillgänglighetsredogörelse", "Accessibility statement"),
    "privacy": (
        "Inga kakor. Samtalet sparas en tid utan uppgift om vem du är.",
        "No cookies. The conversation is kept for a while without anything that says who you are.",
    ),
    "noscript": (
        "Chatten behöver JavaScript. Slå på JavaScript i webbläsaren och ladda om sidan.",
        "The chat needs JavaScript. Turn on JavaScript in your browser and reload the page.",
    ),
    "logo_alt": ("Logotyp", "Logo"),
    "back_to_chat": ("Tillbaka till chatten", "Back to the chat"),
}

LANGS: Final = ("sv", "en")


def text(key: str, lang: str) -> str:
    sv, en = TEXT[key]
    return en if lang == "en" else sv


def page_strings() -> dict[str, dict[str, str]]:
    return {lang: {key: text(key, lang) for key in TEXT} for lang in LANGS}


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
