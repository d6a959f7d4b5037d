"""Engine replies as Adaptive Cards (version 1.5) for Microsoft Teams: plain JSON dicts, no SDK.

One reply → one card:

- the title as a bold TextBlock, the facts ("Gäller", "Fråga", "Kontakta först") as a FactSet,
  the text as wrapped TextBlocks (lines starting "• " become a Markdown list);
- choices: short ones (at most `MAX_ACTIONS`, each label at most `SHORT` characters) as the card's
  Action.Submit buttons; otherwise each choice is a full-width tappable row (a Container whose
  selectAction is an Action.Submit with a short title and the whole label as its tooltip) showing
  its whole label, wrapped — Teams' phone client cuts button titles, never a TextBlock — so the
  welcome menu fits one card;
- sources: on a page of sources each is a row that opens it (Action.OpenUrl); under an answer they
  sit behind an Action.ShowCard "Källor (n)" so the answer stays short;
- documents (the checklist): an Action.OpenUrl to where the adapter serves each one;
- `fallbackText`: the whole reply as plain text, for clients that cannot show the card.

Every card this module can build is validated against the official schema in the tests
(tests/data/adaptive-card-1.5.schema.json).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.conversation.messages import t
from bot.conversation.replies import Citation, Document, Option, Reply, short_labels

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_ACTIONS = 6  # Teams shows at most six actions in a card's action bar
SHORT = 20  # a button title longer than this is cut on a phone

DocumentLink = Callable[[Document], str | None]


def submit(option: Option, title: str | None = None) -> dict[str, Any]:
    """An Action.Submit carrying the option's value; Teams sends it back as the message's `value`."""
    action: dict[str, Any] = {"type": "Action.Submit", "title": title or option.label, "data": {"choice": option.value}}
    if title and title != option.label:
        action["tooltip"] = option.label
    return action


def open_url(title: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


_URL = re.compile(r"https?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]]")
_ACTIVE = re.compile(r"([\\`*_\[\]~])")


def escape(text: str) -> str:
    """Escape what a TextBlock's Markdown would turn into formatting; bare URLs stay as they are (links)."""
    out, pos = [], 0
    for m in _URL.finditer(text):
        out += [_ACTIVE.sub(r"\\\1", text[pos : m.start()]), m.group(0)]
        pos = m.end()
    return "".join(out) + _ACTIVE.sub(r"\\\1", text[pos:])


def _markdown(paragraph: str) -> str:
    """The engine's plain text as the Markdown subset TextBlocks render: bullets become a list."""
    lines = []
    for line in paragraph.split("\n"):
        stripped = line.strip()
        lines.append("- " + escape(stripped[2:]) if stripped.startswith("• ") else escape(stripped))
    return "\n".join(lines)


def _row(text: str, action: dict[str, Any]) -> dict[str, Any]:
    """A full-width tappable row: the whole text, wrapped, opening `action`."""
    return {
        "type": "Container",
        "style": "emphasis",
        "spacing": "Small",
        "selectAction": action,
        "items": [text_block(text, color="Accent")],
    }


def _citation_rows(citations: tuple[Citation, ...]) -> list[dict[str, Any]]:
    return [_row("🔗 " + c.title, open_url(c.title, c.url)) for c in citations if c.url.lower().startswith(("https://", "http://"))]


def fallback_text(reply: Reply) -> str:
    parts = [reply.title or ""] + [f"{f.label}: {f.value}" for f in reply.facts] + [reply.text]
    parts += [f"{c.title}: {c.url}" for c in reply.citations]
    parts += [f"{i}. {o.label}" for i, o in enumerate(reply.options, 1)]
    return "\n".join(p for p in parts if p).strip()


def card(reply: Reply, lang: str, document_link: DocumentLink | None = None) -> dict[str, Any]:
    """The Adaptive Card for one reply."""
    body: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    if reply.title:
        body.append(text_block(reply.title, weight="Bolder", size="Medium"))
    if reply.facts:
        body.append({"type": "FactSet", "facts": [{"title": f.label, "value": f.value} for f in reply.facts]})
    for paragraph in reply.text.split("\n\n"):
        if paragraph.strip():
            body.append(text_block(_markdown(paragraph.strip())))
    if reply.citations:
        rows = _citation_rows(reply.citations)
        if not reply.text.strip():  # a page of sources: the sources are the content
            body += rows
        elif rows:
            sources = {"type": "AdaptiveCard", "body": rows}
            actions.append({"type": "Action.ShowCard", "title": t("more_sources", lang, n=len(rows)), "card": sources})
    for document in reply.documents:
        url = document_link(document) if document_link else None
        if url:
            body.append(_row("📄 " + document.name, open_url(document.name, url)))
    options = reply.options
    if options:
        short = short_labels([o.label for o in options], SHORT)
        if len(options) + len(actions) <= MAX_ACTIONS and all(len(o.label) <= SHORT for o in options):
            actions = [submit(o, s) for o, s in zip(options, short, strict=True)] + actions
        else:
            body += [_row(o.label, submit(o, s)) for o, s in zip(options, short, strict=True)]
    if not body:
        body.append(text_block("…"))
    content: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body, "fallbackText": fallback_text(reply)}
    if actions:
        content["actions"] = actions
    return content


def attachment(reply: Reply, lang: str, document_link: DocumentLink | None = None) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": card(reply, lang, document_link)}
