"""A stub Bot Connector service on 127.0.0.1 that records what a bot sends.

It answers the two calls a bot makes to reply
(POST /v3/conversations/{id}/activities and .../activities/{replyToId}) and
records every other request as unexpected, so tests can assert on both.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Sent:
    """One activity the bot sent."""

    conversation: str
    reply_to: str | None
    authorization: str | None
    activity: dict[str, Any]
    at: float = 0.0  # time.perf_counter() when it arrived

    @property
    def type(self) -> str:
        return self.activity.get("type", "")

    @property
    def text(self) -> str:
        """What the message shows as text: its `text`, and its Adaptive Cards' TextBlocks and facts ("title: value")."""
        parts = [self.activity.get("text") or ""]
        for card in self.cards():
            parts += _card_texts(card)
        return "\n\n".join(p for p in parts if p)

    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards attached to the message."""
        return [a["content"] for a in self.activity.get("attachments") or [] if a.get("contentType") == ADAPTIVE]

    def buttons(self) -> list[dict[str, Any]]:
        """Every button on the message: suggested actions, hero-card buttons, and Adaptive Card actions
        (the action bar, tappable rows, and inside a ShowCard)."""
        out = list((self.activity.get("suggestedActions") or {}).get("actions") or [])
        for attachment in self.activity.get("attachments") or []:
            out += (attachment.get("content") or {}).get("buttons") or []
        for card in self.cards():
            out += _card_actions(card)
        return out


ADAPTIVE = "application/vnd.microsoft.card.adaptive"


def _card_texts(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            out.append(node.get("text", ""))
        if node.get("type") == "FactSet":
            out += [f"{f['title']}: {f['value']}" for f in node.get("facts", [])]
        for key in ("body", "items", "columns"):
            for child in node.get(key) or []:
                out += _card_texts(child)
    return out


def _card_actions(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            out.append(node)
            if node["type"] == "Action.ShowCard":
                out += _card_actions(node.get("card"))
        if isinstance(node.get("selectAction"), dict):
            out += _card_actions(node["selectAction"])
        for key in ("body", "items", "columns", "actions"):
            for child in node.get(key) or []:
                out += _card_actions(child)
    return out


@dataclass
class FakeConnector:
    sent: list[Sent] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    refused: int = 0
    url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    #: Activities received per incoming activity id (reply_to), and waiters for them (see `replies`).
    counts: dict[str, int] = field(default_factory=dict)
    _waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = field(default_factory=dict)

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._receive)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._receive)
        app.router.add_route("*", "/refuse/{tail:.*}", self._refuse)  # serviceUrl <url>refuse/: a connector that says no
        app.router.add_route("*", "/{tail:.*}", self._unexpected)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(
            Sent(request.match_info["conversation"], request.match_info.get("reply_to"), request.headers.get("Authorization"), body, time.perf_counter())
        )
        reply_to = request.match_info.get("reply_to")
        if reply_to is not None:
            self.counts[reply_to] = n = self.counts.get(reply_to, 0) + 1
            for count, waiter in self._waiters.get(reply_to, []):
                if n >= count and not waiter.done():
                    waiter.set_result(None)
        return web.json_response({"id": f"sent-{next(self._ids)}"})

    async def _refuse(self, request: web.Request) -> web.Response:
        self.refused += 1
        return web.json_response({"error": {"code": "BotNotInConversationRoster", "message": "The bot is not part of the conversation roster."}}, status=403)

    async def _unexpected(self, request: web.Request) -> web.Response:
        self.unexpected.append(f"{request.method} {request.path}")
        return web.json_response({"error": "not a Bot Connector call this stub knows"}, status=404)

    async def replies(self, activity_id: str, count: int, timeout: float) -> bool:
        """Wait until `count` activities answering `activity_id` arrived (False after `timeout` s)."""
        if self.counts.get(activity_id, 0) >= count:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(activity_id, []).append((count, waiter))
        try:
            await asyncio.wait_for(waiter, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.pop(activity_id, None)

    # -- for assertions -------------------------------------------------------

    def clear(self) -> None:
        self.sent.clear()

    def messages(self) -> list[Sent]:
        return [s for s in self.sent if s.type == "message"]

    def typing(self) -> list[Sent]:
        return [s for s in self.sent if s.type == "typing"]
