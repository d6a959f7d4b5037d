"""A fake Telegram Bot API server for integration tests: aiohttp on 127.0.0.1, a random free port.

It serves queued updates through getUpdates (long polling with a short timeout), records every
call with its decoded parameters, and validates like Telegram where the adapter could go wrong:
HTML parse mode is parsed strictly (unknown tags, a bare '<' or '&', unbalanced tags → 400
"can't parse entities"), texts longer than 4,096 characters, callback_data over 64 bytes, unknown
callback query ids, "message is not modified" edits. Failures can be injected per method.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token"  # the bot token the fake accepts in tests
SECRET = "s3cret_webhook-token"  # the webhook secret tests configure


# Telegram's HTML parse mode: https://core.telegram.org/bots/api#html-style
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
}
# Parameters whose values are plain strings; everything else is JSON-encoded by the client.
STRING_PARAMS = {"text", "parse_mode", "callback_query_id", "url", "secret_token", "language_code", "action", "ip_address", "description"}


class HTMLError(ValueError):
    pass


class _StrictHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise HTMLError(f'Unsupported start tag "{tag}"')
        if tag == "a" and not dict(attrs).get("href"):
            raise HTMLError("a tag without href")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise HTMLError(f'Unsupported self-closing tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise HTMLError(f'Unmatched end tag "{tag}"')
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for ch in "<&":
            if ch in data:
                raise HTMLError(f'Unescaped "{ch}" in text')
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise HTMLError(f'Unsupported HTML entity "&{name};"')
        self.visible.append(NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        self.visible.append(chr(int(name[1:], 16) if name.lower().startswith("x") else int(name)))

    def handle_comment(self, data: str) -> None:
        raise HTMLError("comments are not supported")

    def handle_decl(self, decl: str) -> None:
        raise HTMLError("declarations are not supported")

    def handle_pi(self, data: str) -> None:
        raise HTMLError("processing instructions are not supported")

    def unknown_decl(self, data: str) -> None:
        raise HTMLError("declarations are not supported")


def parse_html(text: str) -> str:
    """The visible text of a Telegram HTML message, or HTMLError as Telegram would refuse it."""
    parser = _StrictHTML()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise HTMLError(f'Unclosed tag "{parser.stack[-1]}"')
    return "".join(parser.visible)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool = True
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token", username: str = "RegellotsenTestBot", bot_id: int = 777000) -> None:
        self.token, self.username, self.bot_id = token, username, bot_id
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.queries: dict[str, bool] = {}  # callback query id → answered
        self.failures: dict[str, list[ApiError]] = {}
        self.last_update: dict[str, Any] = {}
        self.delays: dict[str, list[float]] = {}  # method → seconds to wait before answering its next calls
        self.max_poll = 1.0  # seconds a getUpdates call waits at most
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self.max_poll = 0.0  # release waiting long polls so the server stops at once
        self._arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Regellotsen", "username": self.username}

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            delays = self.delays.get(method)
            if delays:
                await asyncio.sleep(delays.pop(0))
            pending = self.failures.get(method)
            if pending:
                raise pending.pop(0)
            handler = getattr(self, "api_" + method, None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as exc:
            call.ok, call.error = False, exc.description
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    def fail(self, method: str, code: int, description: str, **parameters: Any) -> None:
        """Make the next call of `method` fail (e.g. 429 with retry_after=1, or 502)."""
        self.failures.setdefault(method, []).append(ApiError(code, description, parameters or None))

    # -- Bot API methods

    async def api_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def api_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
            )
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]  # earlier ones are confirmed
        deadline = time.monotonic() + min(float(p.get("timeout") or 0), self.max_poll)
        while not self.updates and time.monotonic() < deadline and self.max_poll:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self.updates[:limit]

    async def api_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = None
        if p.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def api_setWebhook(self, p: dict[str, Any]) -> bool:
        if not p.get("url"):
            raise ApiError(400, "Bad Request: bad webhook: an HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = p
        return True

    async def api_getWebhookInfo(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    async def api_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or not commands:
            raise ApiError(400, "Bad Request: commands must be a non-empty list")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", "")) or not 1 <= len(c.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        language = p.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code")
        scope = (p.get("scope") or {}).get("type", "default")
        self.commands[(scope, language)] = commands
        return True

    async def api_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(((p.get("scope") or {}).get("type", "default"), p.get("language_code") or ""), [])

    async def api_sendChatAction(self, p: dict[str, Any]) -> bool:
        self._chat(p.get("chat_id"))
        if p.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def api_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        text = p.get("text") or ""
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if p.get("parse_mode") == "HTML":
            try:
                visible = parse_html(text)
            except HTMLError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        elif p.get("parse_mode") is None:
            visible = text
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode in this fake")
        if utf16_len(visible) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = self._markup(p.get("reply_markup"))
        reply = p.get("reply_parameters")
        if reply and (chat["id"], reply["message_id"]) not in self.messages and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat, "from": self.bot_user, "text": visible}
        if markup:
            message["reply_markup"] = {"inline_keyboard": markup}
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    async def api_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        upload = p.get("document")
        if not isinstance(upload, dict) or not upload.get("content"):
            raise ApiError(400, "Bad Request: there is no document in the request")
        if len(upload["content"]) > 50 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        n = next(self._ids)
        document = {"file_name": upload["filename"], "mime_type": upload["content_type"], "file_size": len(upload["content"]), "file_id": f"doc{n}", "file_unique_id": f"u{n}"}
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat, "from": self.bot_user, "document": document}
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def documents(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Accepted sendDocument calls' uploads (filename, content_type, content), oldest first."""
        return [c.params["document"] for c in self.of("sendDocument", chat_id) if c.ok]

    async def api_editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        message = self.messages.get((chat["id"], p.get("message_id")))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        new = self._markup(p.get("reply_markup"))
        if new == message.get("reply_markup", {}).get("inline_keyboard", []):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same")
        if new:
            message["reply_markup"] = {"inline_keyboard": new}
        else:
            message.pop("reply_markup", None)
        return message

    async def api_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        qid = p.get("callback_query_id")
        if qid not in self.queries or self.queries[qid]:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(p.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: text is too long")
        self.queries[qid] = True
        return True

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        try:
            return self.chats[int(chat_id)]
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    @staticmethod
    def _markup(markup: Any) -> list[list[dict[str, Any]]]:
        if markup is None:
            return []
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return rows

    # -- making updates (what users do)

    def user(self, user_id: int = 42, lang: str | None = "sv", first_name: str = "Test") -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if lang:
            user["language_code"] = lang
        return user

    def chat(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        chat = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": "Test"} if chat_type == "private" else {"title": "Testgruppen"})
        self.chats[chat_id] = chat
        return chat

    def push(self, **update: Any) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        self.last_update = update
        self.updates.append(update)
        self._arrived.set()
        return update

    def message(self, chat_id: int, user: dict[str, Any] | None = None, chat_type: str = "private", **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": user or self.user(),
            **content,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user: dict[str, Any] | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
        key: str = "message",
    ) -> dict[str, Any]:
        """A user writes `text` (commands and @mentions get their entities, as Telegram adds them)."""
        content: dict[str, Any] = {"text": text}
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split(" ", 1)[0])})
        for m in re.finditer(r"@\w+", text):
            entities.append({"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())})
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self.message(chat_id, user, chat_type, **content)
        self.push(**{key: message})
        return message

    def press(self, message: dict[str, Any], data: str, *, user: dict[str, Any] | None = None) -> str:
        """A user presses a button with `data` on a message the bot sent."""
        qid = f"q{next(self._ids)}"
        self.queries[qid] = False
        self.push(callback_query={"id": qid, "from": user or self.user(), "chat_instance": "ci", "data": data, "message": message})
        return qid

    # -- what the bot did

    def of(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or _int(c.params.get("chat_id")) == chat_id)]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Accepted sendMessage calls' parameters, oldest first."""
        return [c.params for c in self.of("sendMessage", chat_id) if c.ok]

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent to a chat as Telegram stores them (with their current keyboards)."""
        return [m for (cid, _), m in sorted(self.messages.items()) if cid == chat_id and m["from"]["id"] == self.bot_id]

    async def wait_for(self, condition: Any, timeout: float = 5.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            await asyncio.sleep(0.01)
        methods = [(c.method, c.ok, c.error) for c in self.calls if c.method != "getUpdates"]
        raise AssertionError(f"timed out waiting for {what}; calls: {methods}")

    async def wait_sent(self, chat_id: int, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least `count` messages were sent to the chat; return them all."""
        return await self.wait_for(lambda: (s := self.sent(chat_id)) and len(s) >= count and s, timeout, f"{count} message(s) to {chat_id}")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def _params(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw.update(await request.json())
        return raw
    if request.can_read_body:
        for k, v in (await request.post()).items():
            if isinstance(v, str):
                raw[k] = v
            else:  # an uploaded file (multipart/form-data), e.g. sendDocument's document
                raw[k] = {"filename": v.filename, "content_type": v.content_type, "content": v.file.read()}
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in STRING_PARAMS or not isinstance(value, str):
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params
