"""The web chat's JSON API, called by the page the same server ships.

    POST /api/chat   {"conversation": ID, "text": "…"}          a typed message
                     {"conversation": ID, "choice": VALUE}       a pressed option (its value)
                     optional "locale": "sv" | "en" | "sv-SE" …  the page's language, a hint for a new conversation
    → 200 {"conversation": ID, "kind": …, "lang": "sv"|"en",
           "replies": [{"title": str|null, "text": str, "facts": [{"label", "value"}], "options": [{"label", "value"}],
                        "citations": [{"title", "url"}], "documents": [{"name", "media_type", "title", "encoding", "content"}]}]}

ID is a random id the page makes (16–64 characters of A–Z, a–z, 0–9, '-' and '_') and keeps for the tab;
it is the only thing that ties messages together, so it is never shown to other conversations.

Errors are JSON `{"error": …}`: 400 (not the shape above), 403 (a request from another site), 413 (body over
16 KB), 415 (not application/json), 429 (rate limit, with Retry-After). The engine's own trouble (the store
unreachable) is a normal 200 reply that says so, as in the other channels.

Message text is never logged: only the kind of input, reply kind, counts, lengths and a short hash of the id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.web_settings import WebSettings
from bot.conversation.replies import Response
from bot.understanding.pipeline import MAX_CHARS, Incoming

if TYPE_CHECKING:
    from adapters.web import WebChannel

log = logging.getLogger("regellotsen.web")

MAX_BODY = 16 * 1024
MAX_CHOICE = 200
MAX_LOCALE = 35
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class RateLimiter:
    """Token buckets per key: `per_minute` messages a minute on average, bursts of up to `burst`.

    Bounded memory: at most `max_keys` buckets; the least recently used are forgotten first (a forgotten
    client starts again with a full bucket, which only errs on the kind side)."""

    def __init__(self, per_minute: float, burst: float | None = None, max_keys: int = 20_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst if burst is not None else max(1.0, per_minute / 3)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, when)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, now: float | None = None) -> float:
        """0 when the message may pass (and is counted), else the seconds until it would."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, when = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def document_json(document: Any) -> dict[str, Any]:
    """A file to hand the user (the checklist): text as text, anything else base64; the page offers it as a download."""
    content: bytes = document.content
    out = {"name": document.name, "media_type": document.media_type, "title": document.title}
    if document.media_type.startswith("text/"):
        return {**out, "encoding": "utf-8", "content": content.decode("utf-8")}
    return {**out, "encoding": "base64", "content": base64.b64encode(content).decode("ascii")}


def reply_json(response: Response) -> dict[str, Any]:
    """The engine's response as the page gets it: replies, facts, options, citations and documents as given."""
    return {
        "kind": response.kind,
        "lang": response.lang,
        "replies": [
            {
                "title": reply.title,
                "text": reply.text,
                "facts": [{"label": f.label, "value": f.value} for f in getattr(reply, "facts", ())],
                "options": [{"label": o.label, "value": o.value} for o in reply.options],
                "citations": [{"title": c.title, "url": c.url} for c in reply.citations if c.url.startswith(("https://", "http://"))],
                "documents": [document_json(d) for d in getattr(reply, "documents", ())],
            }
            for reply in response.replies
        ],
    }


def _problem(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def parse_turn(body: Any) -> tuple[str, Incoming] | str:
    """(conversation id, what the user did), or what is wrong with the body."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    conversation = body.get("conversation")
    if not isinstance(conversation, str) or not CONVERSATION_ID.match(conversation):
        return "conversation must be 16-64 characters of A-Z, a-z, 0-9, '-' and '_'"
    text, choice, locale = body.get("text"), body.get("choice"), body.get("locale")
    if (text is None) == (choice is None):
        return "send exactly one of text and choice"
    if text is not None and not isinstance(text, str):
        return "text must be a string"
    if isinstance(text, str) and len(text) > MAX_CHARS * 2:
        return f"text is longer than {MAX_CHARS * 2} characters"
    if choice is not None and (not isinstance(choice, str) or not 0 < len(choice) <= MAX_CHOICE):
        return f"choice must be a string of 1-{MAX_CHOICE} characters"
    if locale is not None and (not isinstance(locale, str) or len(locale) > MAX_LOCALE or not _LOCALE.match(locale)):
        return "locale must be a language tag such as sv or en-GB"
    return conversation, Incoming(text=text, choice=choice, locale=locale)


class WebApi:
    """The API's handlers; one per server, on its channel."""

    def __init__(self, channel: WebChannel, settings: WebSettings) -> None:
        self.channel = channel
        self.settings = settings
        self.per_client = RateLimiter(settings.rate_per_minute)
        self.per_conversation = RateLimiter(settings.conversation_rate_per_minute)

    def client(self, request: web.Request) -> str:
        """The client's address: the peer, or the one the trusted proxies in front saw."""
        hops = self.settings.trusted_proxies
        if hops > 0:
            forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
            if len(forwarded) >= hops:
                return forwarded[-hops]
        return request.remote or "unknown"

    async def chat(self, request: web.Request) -> web.Response:
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return _problem(403, "the chat API answers only its own page")
        if request.content_type != "application/json":
            return _problem(415, "Content-Type must be application/json")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _problem(413, f"the body is over {MAX_BODY} bytes")
        wait = self.per_client.take(self.client(request))
        if wait > 0:
            log.info("rate limit: a client waits %.0f s", wait)
            return _problem(429, "too many messages; wait and try again", {"Retry-After": str(math.ceil(wait))})
        try:
            raw = await request.read()  # the app's client_max_size (MAX_BODY) bounds it, chunked bodies included
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, f"the body is over {MAX_BODY} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return _problem(400, "the body is not valid JSON")
        parsed = parse_turn(body)
        if isinstance(parsed, str):
            log.info("bad request: %s", parsed)
            return _problem(400, parsed)
        conversation, incoming = parsed
        wait = self.per_conversation.take(conversation)
        if wait > 0:
            log.info("rate limit: conversation %s waits %.0f s", short_hash(conversation), wait)
            return _problem(429, "too many messages; wait and try again", {"Retry-After": str(math.ceil(wait))})
        key = "web:" + conversation  # apart from every other channel's conversations in a shared store

        async def deliver(_response: Response) -> None:
            """The replies go back in this HTTP response, so there is nothing to send meanwhile."""

        response = await self.channel.turn(key, incoming, deliver, user=key)
        log.info(
            "%s (%s): %s, %d message(s), in %d chars, out %d chars",
            "choice" if incoming.choice is not None else "text",
            short_hash(conversation),
            response.kind,
            len(response.replies),
            len(incoming.text or ""),
            sum(len(r.text) for r in response.replies),
        )
        payload = {"conversation": conversation, **reply_json(response)}
        body = json.dumps(payload, ensure_ascii=False).encode()
        reply = web.Response(body=body, content_type="application/json", headers={"Cache-Control": "no-store"})
        if len(body) > 1024:
            reply.enable_compression()
        return reply
