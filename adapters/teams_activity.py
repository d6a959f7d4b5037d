"""Teams Activities ↔ the engine, on the wire format: plain JSON dicts, no SDK.

The Bot Framework Activity JSON is the same whether botbuilder or the Microsoft
365 Agents SDK carries it, so everything here survives a change of SDK:
`check_activity` (is the body usable?), `plan_turn` (which conversation, what did
the user do, answer at all?) and `render` (engine Response → message Activities
with Markdown text and buttons).

Conversation ids: personal chat → ``msteams:<conversation id>``; group chats and
channels → ``msteams:<conversation id>|<user>`` (AAD object id, else from.id), so
two people in one chat never share a flow. In a channel the conversation id names
the reply thread, so each thread is its own conversation too.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from adapters.teams_cards import DocumentLink, attachment
from bot.conversation.replies import Response
from bot.understanding.pipeline import MAX_CHARS, Incoming

CHANNEL = "msteams"
MAX_CHOICE_CHARS = 512  # a button value longer than this is not ours
MAX_TEXT_CHARS = 4 * MAX_CHARS  # the engine reads only MAX_CHARS; more is never worth redacting
GROUP_TYPES = {"groupchat", "channel"}

# -- Activities out ---------------------------------------------------------


def render(response: Response, personal: bool, document_link: DocumentLink | None = None) -> list[dict[str, Any]]:
    """Engine replies → Teams message Activities (wire format): one Adaptive Card (version 1.5) per reply.

    Choices are the card's Action.Submit buttons (or full-width rows for long or many choices), which
    work alike in personal chat, group chats and channels; a press comes back as a message whose
    `value` carries the option value. `document_link` gives the URL a document (the checklist) is
    served at; the card links to it. `personal` is kept for callers; cards look the same everywhere.
    """
    lang = response.lang
    out = []
    for reply in response.replies:
        activity: dict[str, Any] = {
            "type": "message",
            "locale": "en-US" if lang == "en" else "sv-SE",
            "summary": (reply.title or reply.text or "")[:120],
            "attachmentLayout": "list",
            "attachments": [attachment(reply, lang, document_link)],
        }
        out.append(activity)
    return out


# -- Activities in ----------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What to ask the engine for one incoming activity."""

    conversation: str
    incoming: Incoming
    user: str | None
    personal: bool


def _is_obj(value: Any) -> bool:
    return isinstance(value, Mapping)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def check_activity(body: Any) -> str | None:
    """Why an incoming body is not a usable Activity, or None. Only shape, never content."""
    if not _is_obj(body):
        return "the body must be a JSON object"
    if not _str(body.get("type")):
        return "type is missing"
    conversation = body.get("conversation")
    if not _is_obj(conversation) or not _str(conversation.get("id")):
        return "conversation.id is missing"
    if not _str(body.get("serviceUrl")).lower().startswith(("https://", "http://")):
        return "serviceUrl is missing or not an http(s) URL"
    for key in ("from", "recipient"):
        if key in body and body[key] is not None and not _is_obj(body[key]):
            return f"{key} must be an object"
    if body["type"] in ("message", "conversationUpdate"):
        for key in ("from", "recipient"):
            if not _is_obj(body.get(key)) or not _str(body[key].get("id")):
                return f"{key}.id is missing"
    for key in ("entities", "membersAdded", "membersRemoved", "attachments"):
        if key in body and body[key] is not None and not (isinstance(body[key], list) and all(_is_obj(x) for x in body[key])):
            return f"{key} must be a list of objects"
    if "text" in body and body["text"] is not None and not isinstance(body["text"], str):
        return "text must be a string"
    return None


def is_group(body: Mapping[str, Any]) -> bool:
    conversation = body.get("conversation") or {}
    return _str(conversation.get("conversationType")).lower() in GROUP_TYPES or conversation.get("isGroup") is True


def conversation_key(body: Mapping[str, Any]) -> str:
    key = f"{CHANNEL}:{body['conversation']['id']}"
    user = user_id(body)
    return f"{key}|{user}" if is_group(body) and user else key


def user_id(body: Mapping[str, Any]) -> str | None:
    sender = body.get("from") or {}
    return _str(sender.get("aadObjectId")) or _str(sender.get("id")) or None


def locale_of(body: Mapping[str, Any]) -> str | None:
    if _str(body.get("locale")):
        return body["locale"]
    for entity in body.get("entities") or []:
        if entity.get("type") == "clientInfo" and _str(entity.get("locale")):
            return entity["locale"]
    return None


def _bot_mentions(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    bot = _str((body.get("recipient") or {}).get("id"))
    return [
        e
        for e in body.get("entities") or []
        if _str(e.get("type")).lower() == "mention" and _is_obj(e.get("mentioned")) and bot and e["mentioned"].get("id") == bot
    ]


_AT = re.compile(r"<at\b[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def strip_mentions(text: str, mentions: list[Mapping[str, Any]]) -> str:
    """Remove the bot's @mention(s); other people's mentions keep their name without the markup.

    Like TurnContext.remove_recipient_mention, but it removes the entity's text
    literally (a bot name with regex characters would break the SDK's regex) and
    tidies the whitespace Teams leaves (including &nbsp;).
    """
    for mention in mentions:
        tag = _str(mention.get("text")) or f"<at>{_str(mention['mentioned'].get('name'))}</at>"
        text = text.replace(tag, " ")
    text = _AT.sub(lambda m: m.group(1), text).replace("&nbsp;", " ")
    return " ".join(text.split())


def _choice_of(value: Any) -> str | None:
    """The option value a pressed messageBack button carries (an object, or JSON text of one)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError, RecursionError):
            value = json.loads(value)
    if _is_obj(value):
        choice = value.get("choice")
        if isinstance(choice, str) and 0 < len(choice) <= MAX_CHOICE_CHARS:
            return choice
    return None


def plan_turn(body: Mapping[str, Any]) -> Turn | None:
    """The engine call an activity asks for, or None when the bot should stay silent."""
    kind = body["type"]
    personal = not is_group(body)
    locale = locale_of(body)
    if kind == "conversationUpdate":
        bot = body["recipient"]["id"]
        if any(m.get("id") == bot for m in body.get("membersAdded") or []):
            return Turn(conversation_key(body), Incoming(choice="cmd:menu", locale=locale), user_id(body), personal)
        return None
    if kind != "message":
        return None
    choice = _choice_of(body.get("value"))
    if choice is not None:  # a button press: no @mention needed, also in groups
        return Turn(conversation_key(body), Incoming(choice=choice, locale=locale), user_id(body), personal)
    text = _str(body.get("text"))[:MAX_TEXT_CHARS]
    mentions = _bot_mentions(body)
    if not personal and not mentions:
        return None  # in group chats and channels the bot answers only when @mentioned
    return Turn(conversation_key(body), Incoming(text=strip_mentions(text, mentions), locale=locale), user_id(body), personal)


# -- where replies may go (serviceUrl) -----------------------------------------

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# The Bot Connector endpoints of Teams (commercial, GCC, GCC High, DoD).
TEAMS_SERVICE_HOSTS = ("smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com", "smba.infra.gov.teams.microsoft.us", "smba.infra.dod.teams.microsoft.us")
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]!$&'()*+,;=%]+")  # RFC 3986 characters; no backslash, space or control character
_AUTHORITY = re.compile(r"^(?P<scheme>https?)://(?P<authority>[^/?#]*)", re.IGNORECASE)
_HOST_PORT = re.compile(r"^(?:\[(?P<ipv6>[0-9a-f:]+)\]|(?P<name>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?))(?::(?P<port>[0-9]{1,5}))?$")


def _same_parse(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) when the URL is plain enough that every parser reads the same host, else None.

    aiohttp (through yarl) sends the replies; urllib, requests and browsers must
    agree with it, so anything they might read differently is refused: a
    backslash, user info (``@``), percent-escapes or odd characters in the
    authority, IP addresses in decimal, octal or hex, IPv4-mapped IPv6.
    """
    if not _URL_CHARS.fullmatch(url):
        return None
    m = _AUTHORITY.match(url)
    if not m:
        return None
    hp = _HOST_PORT.match(m.group("authority").lower())
    if not hp:
        return None
    host = hp.group("ipv6") or hp.group("name")
    port = int(hp.group("port")) if hp.group("port") else None
    if hp.group("ipv6") is not None:
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            return None
        if address.ipv4_mapped is not None or str(address) != host:
            return None  # ::ffff:127.0.0.1 and non-canonical spellings
    elif host.replace(".", "").isdigit() or host.startswith("0x") or re.search(r"(^|\.)0x|(^|\.)0\d", host):
        # Only the canonical dotted quad is an IP address here: 2130706433, 0177.0.0.1, 127.1 and 0x7f.1 are not.
        try:
            if str(ipaddress.IPv4Address(host)) != host:
                return None
        except ValueError:
            return None
    try:
        from yarl import URL  # what aiohttp, and so the Bot Connector client, parses with

        parsed = URL(url)
        split = urlsplit(url)
    except ValueError:
        return None
    if parsed.user is not None or parsed.password is not None or split.username is not None:
        return None
    if (parsed.host or "").lower() != host or (split.hostname or "") != host:
        return None
    if parsed.explicit_port != port or split.port != port:
        return None
    return m.group("scheme").lower(), host, port


def host_allowed(host: str, port: int | None, allowed: Iterable[str]) -> bool:
    """Whether host[:port] matches an entry of allowed: ``name``, ``name:port``, ``*.domain``, ``[::1]``."""
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        want_port: int | None = None
        if entry.startswith("["):
            name, _, rest = entry[1:].partition("]")
            if rest.startswith(":") and rest[1:].isdigit():
                want_port = int(rest[1:])
        elif entry.count(":") == 1 and entry.rsplit(":", 1)[1].isdigit():
            name, _, p = entry.rpartition(":")
            want_port = int(p)
        else:
            name = entry
        if want_port is not None and want_port != port:
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]) and len(host) > len(name) - 1:
                return True
        elif host == name:
            return True
    return False


def service_url_allowed(url: str, allowed: Iterable[str], *, require_https: bool = True) -> bool:
    """Whether replies may be sent to this serviceUrl: a plain URL (see _same_parse) on an allowed host.

    Loopback hosts may use http; others must use https when require_https. Names
    are compared as written, never resolved, so a name that resolves to a loopback
    or private address (DNS rebinding) is only allowed when the operator listed it.
    """
    parsed = _same_parse(url)
    if parsed is None:
        return False
    scheme, host, port = parsed
    if not host_allowed(host, port, allowed):
        return False
    return scheme == "https" or not require_https or host in LOOPBACK_HOSTS


def is_loopback(url: str) -> bool:
    """A plain http(s) URL on localhost, 127.0.0.1 or [::1] (any port): where an unauthenticated bot may reply."""
    return service_url_allowed(url, LOOPBACK_HOSTS, require_https=False)


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]
