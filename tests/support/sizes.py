"""What a person sees of a reply, per channel: visible characters and messages (for the reply-size
test and benchmarks/reply_sizes.py). Markup (HTML tags, Markdown marks, card JSON) and link targets
are not counted; link texts are. Documents (the checklist) are not messages here."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from adapters import console as console_channel
from adapters import teams_activity as teams_channel
from adapters import telegram as telegram_channel
from bot.conversation.messages import t
from bot.conversation.replies import Response

CHANNELS = ("telegram", "teams", "console")

_TAG = re.compile(r"<[^>]+>")
_MD_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_MD_ESCAPE = re.compile(r"\\([\\`*_\[\]<>~|#+\-=.)!])")


def telegram_visible(part: str) -> str:
    return html.unescape(_TAG.sub("", part))


def markdown_visible(text: str) -> str:
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = text.replace("**", "")
    return _MD_ESCAPE.sub(r"\1", text)


def _card_texts(node: Any, out: list[str]) -> None:
    """Text a card shows: TextBlock/TextRun text, FactSet titles and values (not button titles)."""
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
            out.append(markdown_visible(node["text"]))
        elif kind == "RichTextBlock":
            _card_texts(node.get("inlines"), out)
        elif kind == "Fact":
            out.append(f"{node.get('title', '')} {node.get('value', '')}")
        if kind == "FactSet":
            for fact in node.get("facts") or []:
                out.append(f"{fact.get('title', '')} {fact.get('value', '')}")
        if kind == "AdaptiveCard" and isinstance(node.get("fallbackText"), str) and not node.get("body"):
            out.append(node["fallbackText"])
        for key, value in node.items():
            if key in ("facts", "inlines", "actions", "selectAction", "fallbackText"):
                continue
            if isinstance(value, dict | list):
                _card_texts(value, out)
    elif isinstance(node, list):
        for item in node:
            _card_texts(item, out)


def teams_visible(activity: dict[str, Any]) -> str:
    parts = [markdown_visible(activity["text"])] if activity.get("text") else []
    for attachment in activity.get("attachments") or []:
        content = attachment.get("content")
        texts: list[str] = []
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            _card_texts(content, texts)
        elif isinstance(content, dict):  # hero cards: title/subtitle/text
            texts += [str(content[k]) for k in ("title", "subtitle", "text") if content.get(k)]
        parts += texts
    return "\n".join(parts)


@dataclass
class Sizes:
    """One engine Response as each channel delivers it: visible characters per message."""

    messages: dict[str, list[int]] = field(default_factory=dict)

    @property
    def first(self) -> dict[str, int]:
        return {c: (m[0] if m else 0) for c, m in self.messages.items()}

    def total(self, channel: str) -> int:
        return sum(self.messages[channel])

    def count(self, channel: str) -> int:
        return len(self.messages[channel])

    def largest(self, channel: str) -> int:
        return max(self.messages[channel], default=0)


def measure(response: Response, channels: tuple[str, ...] = CHANNELS) -> Sizes:
    """Visible characters of each message `response` becomes in each of `channels`."""
    sizes = Sizes()
    if "console" in channels:
        # The console has no messages; each engine reply is one block on the screen.
        sizes.messages["console"] = [len(console_channel.render(Response([r], response.kind, response.lang)).strip()) for r in response.replies]
    if "telegram" not in channels:
        return sizes
    tg: list[int] = []
    for reply in response.replies:
        tg += [len(telegram_visible(p)) for p in telegram_channel.render(reply)]
        groups = -(-len(reply.options) // telegram_channel.MAX_BUTTONS)  # more than eight buttons: extra messages
        tg += [len(t("more_choices", response.lang))] * max(0, groups - 1)
    sizes.messages["telegram"] = tg
    activities = [a for a in teams_channel.render(response, True) if a.get("type") == "message"]
    sizes.messages["teams"] = [len(teams_visible(a)) for a in activities]
    return sizes


