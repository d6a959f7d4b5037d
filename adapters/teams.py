"""Microsoft Teams: Bot Framework Activities in, engine replies out as Markdown and buttons.

The module has three layers, so that a move from botbuilder to the Microsoft 365
Agents SDK only replaces the last one:

1. Pure translation on the Activity *wire format* (plain JSON dicts, the same in
   both SDKs): `check_activity` (is the body usable?), `plan_turn` (which
   conversation, what the user did, answer at all?), `render` (engine Response →
   Activity dicts with Markdown text, suggested actions or a hero card).
2. The aiohttp app: `POST /api/messages`, `GET /healthz`, `GET /readyz`, hot reload.
3. `_BotFramework`: the only code that touches botbuilder (authentication of
   incoming requests and sending replies through the Bot Connector).

Conversation ids: personal chat → ``msteams:<conversation id>``; group chats and
channels → ``msteams:<conversation id>|<user>`` (AAD object id, else from.id), so
two people in one chat never share a flow. In a channel the conversation id names
the reply thread, so each thread is its own conversation too.

Message text is never logged: only activity types, conversation types, reply
kinds, counts, lengths and a short hash of the conversation id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot import hotreload
from bot.dialogue import Incoming
from bot.engine import Engine
from bot.messages import t
from bot.replies import Citation, Option, Reply, Response

log = logging.getLogger("regellotsen.teams")

CHANNEL = "msteams"
MAX_SUGGESTED = 3  # Teams shows at most three suggested actions
MAX_CARD_BUTTONS = 6  # more buttons than this per hero card are not shown reliably
MAX_CHOICE_CHARS = 512  # a button value longer than this is not ours
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
GROUP_TYPES = {"groupchat", "channel"}
HERO = "application/vnd.microsoft.card.hero"

# The adapter's own words (everything else comes from the engine).
_TEXTS = {
    "more_choices": ("Fler val", "More choices"),
}


def text_of(key: str, lang: str) -> str:
    sv, en = _TEXTS[key]
    return en if lang == "en" else sv


# -- 1a. Markdown ---------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]]")
_SPECIAL = re.compile(r"([\\`*_\[\]<>~|#])")
_LIST_MARK = re.compile(r"^(\s*)([-+=])")
_NUMBERED = re.compile(r"^(\s*\d+)([.)])")


def escape_markdown(text: str) -> str:
    """Escape what Teams' Markdown would turn into formatting; leave bare URLs intact so they stay links."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_SPECIAL.sub(r"\\\1", text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_SPECIAL.sub(r"\\\1", text[pos:]))
    escaped = "".join(out)
    # A line beginning "- ", "+ ", "1. " or "===" would become a list or a heading.
    lines = [_NUMBERED.sub(r"\1\\\2", _LIST_MARK.sub(r"\1\\\2", line)) for line in escaped.split("\n")]
    return "\n".join(lines)


def _safe_url(url: str) -> str | None:
    """An http(s) URL usable inside (...) of a Markdown link, or None."""
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")):
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%~-._[]")  # spaces and parentheses get percent-encoded


def link(citation: Citation) -> str:
    title = escape_markdown(citation.title.strip() or citation.url)
    url = _safe_url(citation.url)
    return f"[{title}]({url})" if url else title


def _blocks(text: str, skip_lines: set[str]) -> list[str]:
    """Markdown blocks of the engine's plain text. Teams needs a blank line for a line break."""
    blocks: list[str] = []
    bullets: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if line in skip_lines:
            continue
        if line.startswith(("• ", "- ")):
            bullets.append("- " + escape_markdown(line[2:].strip()))
            continue
        if bullets:
            blocks.append("\n".join(bullets))
            bullets = []
        if line:
            blocks.append(escape_markdown(line))
    if bullets:
        blocks.append("\n".join(bullets))
    return blocks


def render_markdown(reply: Reply, lang: str) -> str:
    """Title in bold, paragraphs, bullets as a list, citations as [title](url) links."""
    # Lines that only repeat a citation ("• title: url", as in the sources reply) become the link list instead.
    repeated = {f"• {c.title}: {c.url}" for c in reply.citations}
    blocks = []
    if reply.title:
        blocks.append(f"**{escape_markdown(reply.title.strip())}**")
    blocks += _blocks(reply.text, repeated)
    if reply.citations:
        heading = t("sources", lang)
        if not (reply.title and reply.title.strip() == heading):
            blocks.append(f"**{escape_markdown(heading)}:**")
        blocks.append("\n".join("- " + link(c) for c in reply.citations))
    return "\n\n".join(blocks)


# -- 1b. Activities out ---------------------------------------------------------


def choice_payload(value: str) -> str:
    """The messageBack value of a button: JSON text, which Teams hands back as an object."""
    return json.dumps({"choice": value}, ensure_ascii=False, separators=(",", ":"))


def _button(option: Option) -> dict[str, Any]:
    # messageBack carries the option value; displayText shows the choice in the chat like a typed answer.
    return {"type": "messageBack", "title": option.label, "text": option.label, "displayText": option.label, "value": choice_payload(option.value)}


def _hero_cards(options: tuple[Option, ...], lang: str) -> list[dict[str, Any]]:
    cards = []
    for i in range(0, len(options), MAX_CARD_BUTTONS):
        content: dict[str, Any] = {"buttons": [_button(o) for o in options[i : i + MAX_CARD_BUTTONS]]}
        if i:
            content["text"] = text_of("more_choices", lang)
        cards.append({"contentType": HERO, "content": content})
    return cards


def render(response: Response, personal: bool) -> list[dict[str, Any]]:
    """Engine replies → Teams message Activities (wire format).

    Choices: suggested actions (imBack with the label, which the engine matches) in
    personal chat when they fit (at most three, on the last message: Teams shows
    only the latest message's suggestions); otherwise a hero card with messageBack
    buttons carrying the option value, which works in personal chat, group chats
    and channels alike.
    """
    lang = response.lang
    out = []
    for i, reply in enumerate(response.replies):
        activity: dict[str, Any] = {
            "type": "message",
            "textFormat": "markdown",
            "text": render_markdown(reply, lang),
            "locale": "en-US" if lang == "en" else "sv-SE",
        }
        options = reply.options
        if options:
            last = i == len(response.replies) - 1
            if personal and last and len(options) <= MAX_SUGGESTED:
                activity["suggestedActions"] = {"actions": [{"type": "imBack", "title": o.label, "value": o.label} for o in options]}
            else:
                activity["attachmentLayout"] = "list"
                activity["attachments"] = _hero_cards(options, lang)
        out.append(activity)
    return out


# -- 1c. Activities in ----------------------------------------------------------


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
        with contextlib.suppress(ValueError):
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
    text = _str(body.get("text"))
    mentions = _bot_mentions(body)
    if not personal and not mentions:
        return None  # in group chats and channels the bot answers only when @mentioned
    return Turn(conversation_key(body), Incoming(text=strip_mentions(text, mentions), locale=locale), user_id(body), personal)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# -- 3. botbuilder (the SDK-specific part) ---------------------------------------


@dataclass(frozen=True)
class TeamsSettings:
    """Credentials, from MicrosoftAppId / MicrosoftAppPassword / MicrosoftAppType / MicrosoftAppTenantId."""

    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    tenant_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TeamsSettings:
        env = os.environ if env is None else env
        return cls(
            app_id=env.get("MicrosoftAppId", "").strip(),
            app_password=env.get("MicrosoftAppPassword", ""),
            app_type=env.get("MicrosoftAppType", "").strip() or "MultiTenant",
            tenant_id=env.get("MicrosoftAppTenantId", "").strip(),
        )

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    def check(self) -> None:
        """Raise ValueError with what is missing, before the server starts."""
        kind = APP_TYPES.get(self.app_type.lower())
        if kind is None:
            raise ValueError(f"MicrosoftAppType must be one of {', '.join(APP_TYPES.values())}")
        if not self.app_id:
            return
        if kind != "UserAssignedMSI" and not self.app_password:
            raise ValueError("MicrosoftAppPassword is required when MicrosoftAppId is set")
        if kind != "MultiTenant" and not self.tenant_id:
            raise ValueError(f"MicrosoftAppTenantId is required for MicrosoftAppType={kind}")


class AuthFailed(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _BotFramework:
    """Authenticate incoming activities and send replies with botbuilder's CloudAdapter."""

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

    async def authenticate(self, body: Mapping[str, Any], auth_header: str) -> tuple[Any, Any]:
        """(activity, auth result); raises AuthFailed(401), or AuthFailed(503) when the token keys cannot be fetched."""
        from botbuilder.schema import Activity

        activity = Activity().deserialize(dict(body))
        try:
            result = await self.auth.authenticate_request(activity, auth_header)
        except PermissionError as exc:  # the SDK's "no valid identity" (an OSError, so caught first)
            log.warning("rejected an unauthenticated request: %s", type(exc).__name__)
            raise AuthFailed(401) from None
        except (OSError, asyncio.TimeoutError) as exc:  # requests' ConnectionError is an OSError
            log.error("could not validate a token: %s", type(exc).__name__)
            raise AuthFailed(503) from None
        except Exception as exc:  # noqa: BLE001 — a bad or missing token, whatever the SDK raises for it
            log.warning("rejected an unauthenticated request: %s", type(exc).__name__)
            raise AuthFailed(401) from None
        return activity, result

    async def reply(self, activity: Any, auth_result: Any, outgoing: Any) -> None:
        """Run a turn whose logic gets a `send(list_of_activity_dicts)` coroutine."""
        from botbuilder.core import TurnContext
        from botbuilder.schema import Activity

        async def logic(context: TurnContext) -> None:
            async def send(activities: list[dict[str, Any]]) -> None:
                await context.send_activities([Activity().deserialize(a) for a in activities])

            await outgoing(send)

        await self.adapter.process_activity(auth_result, activity, logic)


def is_deserialization_error(exc: Exception) -> bool:
    from msrest.exceptions import DeserializationError

    return isinstance(exc, DeserializationError)


# -- 2. The web app ------------------------------------------------------------


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class TeamsBot:
    """The handlers behind the routes; one per server."""

    def __init__(self, engine: Engine, settings: TeamsSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.framework = _BotFramework(settings)

    async def messages(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _problem(415, "Content-Type must be application/json")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "the body is not valid JSON")
        problem = check_activity(body)
        if problem is not None:
            log.info("bad activity: %s", problem)
            return _problem(400, problem)
        try:
            activity, auth = await self.framework.authenticate(body, request.headers.get("Authorization", ""))
        except AuthFailed as failed:
            return _problem(failed.status, "unauthorized" if failed.status == 401 else "cannot validate the token now")
        except Exception as exc:  # noqa: BLE001 — the SDK could not read the activity
            if is_deserialization_error(exc):
                return _problem(400, "the activity has fields of the wrong type")
            raise
        if not self.settings.authenticated and not _is_loopback(body["serviceUrl"]):
            # Without credentials anyone could make the bot post to any URL: local testing only.
            log.warning("refused a reply to a non-loopback serviceUrl while running without MicrosoftAppId")
            return _problem(403, "without MicrosoftAppId the bot only talks to a Bot Connector on this machine")

        if body["type"] == "invoke":
            return web.json_response({}, status=200)  # card actions we do not use: acknowledge, never 501
        turn = plan_turn(body)
        if turn is None:
            log.debug("ignored %s activity", body["type"])
            return web.Response(status=200)
        try:
            await self.framework.reply(activity, auth, lambda send: self._answer(turn, body, send))
        except Exception as exc:  # noqa: BLE001 — a failed reply must not become a 500 with a trace
            log.error("could not reply through the Bot Connector: %s", type(exc).__name__)
            return _problem(502, "could not deliver the reply")
        return web.Response(status=200)

    async def _answer(self, turn: Turn, body: Mapping[str, Any], send: Any) -> None:
        await send([{"type": "typing"}])
        response = await self.engine.handle(turn.conversation, turn.incoming, user=turn.user)
        activities = render(response, turn.personal)
        if activities:
            await send(activities)
        log.info(
            "%s %s (%s) in %s chat: %s, %d message(s), in %d chars, out %d chars",
            body["type"],
            "choice" if turn.incoming.choice is not None else "text",
            short_hash(turn.conversation),
            "personal" if turn.personal else _str(body["conversation"].get("conversationType")) or "group",
            response.kind,
            len(activities),
            len(turn.incoming.text or ""),
            sum(len(a["text"]) for a in activities),
        )

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        knowledge = self.engine.knowledge
        if knowledge is not None and await self.engine.ready():
            return web.json_response({"status": "ready", "knowledge": knowledge.summary()})
        return web.json_response({"status": "unavailable"}, status=503)


ENGINE = web.AppKey("engine", Engine)
BOT = web.AppKey("bot", TeamsBot)
RELOAD_TASK = web.AppKey("reload_task", object)  # asyncio.Task | None


async def _start_reloading(app: web.Application) -> None:
    app[RELOAD_TASK] = hotreload.start_reloading(app[ENGINE])


async def _stop_reloading(app: web.Application) -> None:
    task = app.get(RELOAD_TASK)
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(engine: Engine, settings: TeamsSettings | None = None) -> web.Application:
    """The aiohttp app: POST /api/messages, GET /healthz, GET /readyz; hot reload while it runs."""
    settings = settings if settings is not None else TeamsSettings.from_env()
    bot = TeamsBot(engine, settings)
    if not settings.authenticated:
        log.warning("MicrosoftAppId is not set: running WITHOUT authentication, for local testing only (Bot Connector on loopback)")
    app = web.Application(client_max_size=256 * 1024)
    app[ENGINE] = engine
    app[BOT] = bot
    app.router.add_post("/api/messages", bot.messages)
    app.router.add_get("/healthz", bot.healthz)
    app.router.add_get("/readyz", bot.readyz)
    app.on_startup.append(_start_reloading)
    app.on_cleanup.append(_stop_reloading)
    return app


def run(engine: Engine, settings: TeamsSettings, host: str = "127.0.0.1", port: int = 3978) -> None:
    logging.getLogger("msrest").setLevel(logging.WARNING)  # its HTTP logger could print message bodies
    app = create_app(engine, settings)
    log.warning("Teams bot listening on http://%s:%d/api/messages (%s)", host, port, engine.knowledge.summary())
    web.run_app(app, host=host, port=port, print=None)
