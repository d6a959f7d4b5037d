"""A client for the real Teams server: starts it on a free loopback port and posts Activities as Teams does."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import aiohttp
from aiohttp import web

from adapters.teams import BOT as BOT_KEY
from adapters.teams import TeamsBot, TeamsSettings, create_app
from bot.conversation.engine import Engine
from tests.support.fake_connector import FakeConnector, Sent

APP_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
BOT = {"id": "28:" + APP_ID, "name": "Regellotsen"}
MENTION = {"type": "mention", "text": "<at>Regellotsen</at>", "mentioned": {"id": BOT["id"], "name": "Regellotsen"}}
TIMEOUT = aiohttp.ClientTimeout(total=15)
CREDENTIAL_ENV = ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId")
_ids = itertools.count(1)


def person(n: int = 1) -> dict[str, str]:
    return {"id": f"29:user-{n}", "name": f"Användare {n}", "aadObjectId": f"aad-object-{n}"}


class Server:
    """The real Teams server on a free loopback port, with a client that posts Activities to it."""

    def __init__(self, engine: Engine, connector: FakeConnector) -> None:
        self.engine, self.connector = engine, connector
        self.url = ""
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None

    async def start(self, settings: TeamsSettings | None = None) -> Server:
        self.app = create_app(self.engine, settings)
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self.http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def activity(self, kind: str, *, group: str | None = None, conversation: str | None = None, sender: dict | None = None, **fields: Any) -> dict:
        """Activity JSON as Teams sends it. group: None (personal chat), 'groupChat' or 'channel'."""
        conv_id = conversation or ("a:personal-chat-1" if group is None else "19:group-chat-1@thread.v2")
        body = {
            "type": kind,
            "id": f"incoming-{next(_ids)}",
            "timestamp": "2025-01-01T10:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": sender or person(1),
            "recipient": BOT,
            "conversation": {"id": conv_id, "conversationType": group or "personal", "tenantId": "tenant-1", **({"isGroup": True} if group else {})},
            "channelData": {"tenant": {"id": "tenant-1"}},
            "locale": "sv-SE",
        }
        body.update(fields)
        return body

    def message(self, text: str, *, mention: bool = False, **kw: Any) -> dict:
        if mention:
            return self.activity("message", text=f"<at>Regellotsen</at> {text}", entities=[MENTION, {"type": "clientInfo", "locale": "sv-SE"}], **kw)
        return self.activity("message", text=text, **kw)

    @property
    def bot(self) -> TeamsBot:
        assert self.app is not None
        return self.app[BOT_KEY]

    async def post(
        self, body: Any = None, *, data: bytes | None = None, content_type: str = "application/json", headers: dict | None = None, wait: bool = True
    ) -> tuple[int, str]:
        """POST to /api/messages. The bot answers the POST at once and the user through the connector;
        with wait (the default) this returns when those replies have been sent too."""
        assert self.http is not None
        payload = data if data is not None else json.dumps(body).encode()
        async with self.http.post(self.url + "/api/messages", data=payload, headers={"Content-Type": content_type, **(headers or {})}) as r:
            result = r.status, await r.text()
        if wait:
            async with asyncio.timeout(60):
                await self.bot.idle()
        return result

    async def send(self, body: dict) -> list[Sent]:
        """Post one activity; return what the bot sent to the connector for it."""
        self.connector.clear()
        status, text = await self.post(body)
        assert status == 200, (status, text)
        return list(self.connector.sent)

    async def say(self, text: str, **kw: Any) -> list[Sent]:
        return [s for s in await self.send(self.message(text, **kw)) if s.type == "message"]

    async def press(self, button: dict, **kw: Any) -> list[Sent]:
        """What the Teams client posts when a button is pressed."""
        if button["type"] == "messageBack":
            body = self.activity("message", text=button.get("text"), value=json.loads(button["value"]), **kw)
        elif button["type"] == "Action.Submit":  # an Adaptive Card button: the card's data comes back as `value`
            body = self.activity("message", value=button["data"], **kw)
        else:
            assert button["type"] == "imBack", button
            body = self.activity("message", text=button["value"], **kw)
        return [s for s in await self.send(body) if s.type == "message"]

    async def fetch(self, url: str) -> tuple[int, str, str, bytes]:
        """GET a URL the bot gave (a document link): status, content type, Content-Disposition, body."""
        assert self.http is not None
        async with self.http.get(url) as r:
            return r.status, r.content_type, r.headers.get("Content-Disposition", ""), await r.read()

    async def get(self, path: str) -> tuple[int, Any]:
        assert self.http is not None
        async with self.http.get(self.url + path) as r:
            return r.status, await r.json()
