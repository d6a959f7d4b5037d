"""Microsoft Teams: the aiohttp server around the engine, on one of two SDKs.

Routes: `POST /api/messages` (Activities from the Bot Connector), `GET /healthz`
(liveness), `GET /readyz` (knowledge loaded and state store reachable) and
`GET /metrics`. What an Activity means and how replies look lives in
`adapters.teams_activity` (plain JSON, SDK-neutral). The SDK only authenticates
requests and sends replies, behind three operations (`activity`, `authenticate`,
`reply`): `adapters.teams_agents.AgentsFramework` on the Microsoft 365 Agents SDK
(the default, supported) or `_BotFramework` below on botbuilder (archived by its
maker; kept for the design card), chosen by `REGELLOTS_TEAMS_SDK`.

Message text is never logged: only activity types, conversation types, reply
kinds, counts, lengths and a short hash of the conversation id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from adapters.channel import Channel
from adapters.teams_activity import (
    TEAMS_SERVICE_HOSTS,
    Turn,
    check_activity,
    is_loopback,
    plan_turn,
    render,
    service_url_allowed,
    short_hash,
)
from bot.conversation.engine import Engine
from bot.conversation.replies import Document, Response
from bot.settings import load_settings

log = logging.getLogger("regellotsen.teams")

SDKS = ("agents", "botbuilder")
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}


@dataclass(frozen=True)
class TeamsSettings:
    """Credentials, from MicrosoftAppId / MicrosoftAppPassword / MicrosoftAppType / MicrosoftAppTenantId."""

    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    tenant_id: str = ""
    #: Where replies may go when authenticated ($REGELLOTS_TEAMS_SERVICE_HOSTS, comma-separated host, host:port
    #: or *.domain); without credentials only localhost, 127.0.0.1 and [::1].
    service_hosts: tuple[str, ...] = TEAMS_SERVICE_HOSTS
    sdk: str = "agents"  # REGELLOTS_TEAMS_SDK: "agents" (Microsoft 365 Agents SDK) or "botbuilder"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TeamsSettings:
        """From the settings model (bot.settings); SettingsError (a ValueError) on a wrong value."""
        s = load_settings(dict(env) if env is not None else None)
        hosts = tuple(h.strip() for h in (s.teams_service_hosts or "").split(",") if h.strip()) or TEAMS_SERVICE_HOSTS
        return cls(
            app_id=s.app_id,
            app_password=s.secret("app_password"),
            app_type=s.app_type.value,
            tenant_id=s.tenant_id,
            service_hosts=hosts,
            sdk=s.teams_sdk.value,
        )

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    def check(self) -> None:
        """Raise ValueError with what is missing, before the server starts."""
        kind = APP_TYPES.get(self.app_type.lower())
        if kind is None:
            raise ValueError(f"MicrosoftAppType must be one of {', '.join(APP_TYPES.values())}")
        if self.sdk not in SDKS:
            raise ValueError(f"REGELLOTS_TEAMS_SDK must be one of {', '.join(SDKS)}")
        if not self.app_id:
            return
        if kind != "UserAssignedMSI" and not self.app_password:
            raise ValueError("MicrosoftAppPassword is required when MicrosoftAppId is set")
        if kind != "MultiTenant" and not self.tenant_id:
            raise ValueError(f"MicrosoftAppTenantId is required for MicrosoftAppType={kind}")



# -- botbuilder (the SDK-specific part) ---------------------------------------


class BadActivity(ValueError):
    """The SDK cannot read the activity (a field of the wrong type)."""


class AuthFailed(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _speed_up_msrest() -> None:
    """botbuilder builds two msrest ClientRetryPolicy objects per turn; each tests `i not in safe_codes`
    against a 500-element list 999 times (~3 ms each, ~40 % of a request's CPU; see docs/performance.md).
    The same codes as a frozenset behave identically. The SDK is archived, so no upstream fix will come."""
    try:
        from msrest.universal_http.requests import ClientRetryPolicy
    except ImportError:  # a later SDK without msrest: nothing to do
        return
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


KEY_FETCH_TIMEOUT = (5.0, 10.0)  # seconds: connect, read — for the token-signing keys


def _unblock_key_refresh() -> None:
    """botbuilder refreshes the token-signing keys (OpenID metadata, then JWKS) with a blocking
    `requests.get` without a timeout, inside a coroutine: the whole event loop froze while it waited
    (issue #12). Replace that refresh with one that fetches in a worker thread, with timeouts, one
    refresh at a time (requests that arrive meanwhile wait for it instead of fetching again)."""
    try:
        from botframework.connector.auth import jwt_token_extractor as jte
    except ImportError:  # a later SDK: nothing to patch
        return
    metadata = jte._OpenIdMetadata
    if getattr(metadata, "_regellotsen_unblocked", False):
        return
    import datetime as dt

    import requests

    def fetch(url: str) -> list[Any]:
        response = requests.get(url, timeout=KEY_FETCH_TIMEOUT)
        response.raise_for_status()
        keys = requests.get(response.json()["jwks_uri"], timeout=KEY_FETCH_TIMEOUT)
        keys.raise_for_status()
        return list(keys.json()["keys"])

    locks: dict[int, asyncio.Lock] = {}

    async def _refresh(self: Any) -> None:
        lock = locks.setdefault(id(self), asyncio.Lock())
        started = dt.datetime.now()
        async with lock:
            if self.last_updated >= started:
                return  # refreshed by the request we waited for
            self.keys = await asyncio.to_thread(fetch, self.url)
            self.last_updated = dt.datetime.now()

    metadata._refresh = _refresh
    metadata._regellotsen_unblocked = True


class _BotFramework:
    """Authenticate incoming activities and send replies with botbuilder's CloudAdapter."""

    name = "botbuilder"

    def __init__(self, settings: TeamsSettings) -> None:
        from types import SimpleNamespace

        from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

        settings.check()
        config = SimpleNamespace(
            APP_ID=settings.app_id or None,
            APP_PASSWORD=settings.app_password or None,
            APP_TYPE=APP_TYPES[settings.app_type.lower()],
            APP_TENANTID=settings.tenant_id or None,
        )
        self.auth = ConfigurationBotFrameworkAuthentication(config)
        self.adapter = CloudAdapter(self.auth)
        _speed_up_msrest()
        _unblock_key_refresh()

    @staticmethod
    def activity(body: Mapping[str, Any]) -> Any:
        """The SDK's Activity object; raises BadActivity when a field has the wrong type."""
        from botbuilder.schema import Activity
        from msrest.exceptions import DeserializationError

        try:
            return Activity().deserialize(dict(body))
        except DeserializationError:
            raise BadActivity from None

    async def authenticate(self, activity: Any, auth_header: str) -> Any:
        """The auth result; raises AuthFailed(401), or AuthFailed(503) when the token keys cannot be fetched."""
        try:
            return await self.auth.authenticate_request(activity, auth_header)
        except PermissionError as exc:  # the SDK's "no valid identity" (an OSError, so caught first)
            log.warning("rejected an unauthenticated request: %s", type(exc).__name__)
            raise AuthFailed(401) from None
        except (TimeoutError, OSError) as exc:  # requests' ConnectionError is an OSError
            log.error("could not validate a token: %s", type(exc).__name__)
            raise AuthFailed(503) from None
        except Exception as exc:  # noqa: BLE001 — a bad token, whatever the SDK raises for it
            log.warning("rejected an unauthenticated request: %s", type(exc).__name__)
            raise AuthFailed(401) from None

    async def reply(self, activity: Any, auth_result: Any, outgoing: Any) -> None:
        """Run a turn whose logic gets a `send(list_of_activity_dicts)` coroutine."""
        from botbuilder.core import TurnContext
        from botbuilder.schema import Activity

        async def logic(context: TurnContext) -> None:
            # The SDK stamps every reply with the incoming activity's locale; keep the one we rendered
            # (a user who switched to English gets replies marked en-US even from a sv-SE client).
            rendered: dict[str, str | None] = {"locale": None}

            async def keep_locale(_context: TurnContext, sent: list[Any], next_send: Any) -> Any:
                if rendered["locale"]:
                    for act in sent:
                        act.locale = rendered["locale"]
                return await next_send()

            context.on_send_activities(keep_locale)

            async def send(activities: list[dict[str, Any]]) -> None:
                rendered["locale"] = next((a["locale"] for a in activities if a.get("locale")), rendered["locale"])
                await context.send_activities([Activity().deserialize(a) for a in activities])

            await outgoing(send)

        await self.adapter.process_activity(auth_result, activity, logic)

    async def close(self) -> None:
        """Nothing to release: botbuilder sends each reply on a new connection."""


def framework(settings: TeamsSettings) -> Any:
    """The SDK host the settings ask for (both have `activity`, `authenticate`, `reply` and `close`)."""
    settings.check()
    if settings.sdk == "botbuilder":
        return _BotFramework(settings)
    from adapters.teams_agents import AgentsFramework  # imports this module's BadActivity/AuthFailed

    return AgentsFramework(settings.app_id, settings.app_password, settings.app_type, settings.tenant_id)


# -- The web app ------------------------------------------------------------


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class TeamsBot(Channel):
    """The Teams channel: POST /api/messages on the channel's HTTP app."""

    name = "teams"

    def __init__(self, engine: Engine, settings: TeamsSettings | None = None) -> None:
        super().__init__(engine)
        self.settings = settings if settings is not None else TeamsSettings.from_env()
        self.framework = framework(self.settings)
        #: Where users' browsers reach this server (for document links), e.g. https://bot.example.org;
        #: without it, the address the Bot Connector called (behind a proxy: X-Forwarded-Proto/-Host).
        self.public_url = (os.environ.get("REGELLOTS_PUBLIC_URL") or "").strip().rstrip("/")

    async def stop(self) -> None:
        await self.framework.close()
        await super().stop()

    async def messages(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _problem(415, "Content-Type must be application/json")
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; RecursionError: absurd nesting
            return _problem(400, "the body is not valid JSON")
        problem = check_activity(body)
        if problem is not None:
            log.info("bad activity: %s", problem)
            return _problem(400, problem)
        try:
            activity = self.framework.activity(body)
        except BadActivity:
            return _problem(400, "the activity has fields of the wrong type")
        try:
            auth = await self.framework.authenticate(activity, request.headers.get("Authorization", ""))
        except AuthFailed as failed:
            return _problem(failed.status, "unauthorized" if failed.status == 401 else "cannot validate the token now")
        if not self.settings.authenticated and not is_loopback(body["serviceUrl"]):
            # Without credentials anyone could make the bot post to any URL: local testing only.
            log.warning("refused a reply to a non-loopback serviceUrl while running without MicrosoftAppId")
            return _problem(403, "without MicrosoftAppId the bot only talks to a Bot Connector on this machine")
        if self.settings.authenticated and not service_url_allowed(body["serviceUrl"], self.settings.service_hosts):
            log.warning("refused a reply to a serviceUrl outside REGELLOTS_TEAMS_SERVICE_HOSTS")
            return _problem(403, "the serviceUrl is not a Bot Connector this bot replies to")

        if body["type"] == "invoke":
            return web.json_response({}, status=200)  # card actions we do not use: acknowledge, never 501
        turn = plan_turn(body)
        if turn is None:
            log.debug("ignored %s activity", body["type"])
            return web.Response(status=200)
        base = self.public_url or _origin(request)
        # Answer the POST now and the user through the Bot Connector: a turn never holds the request
        # (the Bot Service gives up after 15 s). Turns of one conversation run in the order posted.
        message_id = f"msteams:{body['id']}" if isinstance(body.get("id"), str) and body["id"] else None
        if not self.accept(turn.conversation, lambda: self._reply(activity, auth, turn, body, message_id, base)):
            return _problem(503, "too busy; try again")
        return web.Response(status=200)

    async def _reply(self, activity: Any, auth: Any, turn: Turn, body: Mapping[str, Any], message_id: str | None, base: str = "") -> None:
        try:
            await self.framework.reply(activity, auth, lambda send: self._answer(turn, body, send, message_id, base))
        except Exception as exc:  # noqa: BLE001 — logged by type only; the text may hold personal data
            log.error("could not reply through the Bot Connector: %s", type(exc).__name__)

    def app(self) -> web.Application:
        """The aiohttp app: POST /api/messages, GET /healthz, GET /readyz; hot reload while it runs."""
        if not self.settings.authenticated:
            log.warning("MicrosoftAppId is not set: running WITHOUT authentication, for local testing only (Bot Connector on loopback)")
        app = self.http_app(client_max_size=256 * 1024)
        app[BOT] = self
        app.router.add_post("/api/messages", self.messages)
        app.router.add_get("/documents/{token}/{name}", self.document)
        return app

    async def _answer(self, turn: Turn, body: Mapping[str, Any], send: Any, message_id: str | None = None, base: str = "") -> None:
        sent: list[dict[str, Any]] = []

        async def deliver(response: Response) -> None:
            # Inside the conversation's turn: the next turn's replies cannot land among these.
            links = {d.name: await self._keep(d, base) for d in response.documents}
            sent.extend(render(response, turn.personal, lambda d: links.get(d.name)))
            if sent:
                await send(sent)

        await send([{"type": "typing"}])
        response = await self.turn(turn.conversation, turn.incoming, deliver, user=turn.user, message_id=message_id)
        log.info(
            "%s %s (%s) in %s chat: %s, %d message(s), in %d chars, out %d chars",
            body["type"],
            "choice" if turn.incoming.choice is not None else "text",
            short_hash(turn.conversation),
            "personal" if turn.personal else str(body["conversation"].get("conversationType") or "") or "group",
            response.kind,
            len(sent),
            len(turn.incoming.text or ""),
            sum(len(att["content"].get("fallbackText", "")) for a in sent for att in a.get("attachments", [])),
        )

    async def _keep(self, document: Document, base: str) -> str:
        """Keep a document (the checklist) in the state store — shared by every replica — under an
        unguessable token; return the link a card opens it with. It expires with the conversations."""
        token = secrets.token_urlsafe(18)
        record = {"name": document.name, "media_type": document.media_type, "content": document.content.decode("utf-8")}
        await self.engine.store.save(DOCUMENT_PREFIX + token, json.dumps(record, ensure_ascii=False))
        return f"{base}/documents/{token}/{quote(document.name)}"

    async def document(self, request: web.Request) -> web.Response:
        """GET /documents/{token}/{name}: a kept document; the HTML opens in the browser (to print), the
        Markdown downloads."""
        token, name = request.match_info["token"], request.match_info["name"]
        raw = await self.engine.store.load(DOCUMENT_PREFIX + token) if _TOKEN.fullmatch(token) else None
        record = json.loads(raw) if raw else None
        if not record or record.get("name") != name:
            return _problem(404, "no such document (links expire with the conversation)")
        disposition = "inline" if record["media_type"] == "text/html" else "attachment"
        return web.Response(
            body=record["content"].encode("utf-8"),
            content_type=record["media_type"],
            charset="utf-8",
            headers={"Content-Disposition": f'{disposition}; filename="{name}"', "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
        )


BOT = web.AppKey("bot", TeamsBot)
DOCUMENT_PREFIX = "document:"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _origin(request: web.Request) -> str:
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{proto}://{host}"


def create_app(engine: Engine, settings: TeamsSettings | None = None) -> web.Application:
    """The aiohttp app: POST /api/messages, GET /healthz, GET /readyz; hot reload while it runs."""
    return TeamsBot(engine, settings).app()


def run(bot: TeamsBot, host: str = "127.0.0.1", port: int = 3978) -> None:
    """Serve the bot until stopped (SIGTERM or SIGINT); replies in flight are drained first."""
    logging.getLogger("msrest").setLevel(logging.WARNING)  # its HTTP logger could print message bodies
    app = bot.app()
    log.warning(
        "Teams bot (%s SDK) listening on http://%s:%d/api/messages (%s)", bot.framework.name, host, port, bot.engine.knowledge.summary()
    )
    web.run_app(app, host=host, port=port, print=None, shutdown_timeout=5)  # turns drain in on_shutdown (bot.grace)
