"""Telegram adapter: a thin translation between Telegram updates and the engine.

Text → `Incoming(text=…)`, a button press → `Incoming(choice=…)`; every `Reply`
becomes HTML messages (escaped, split under Telegram's 4,096-character limit)
with its options as an inline keyboard on the last part.

Conversation ids: `tg:<chat>` in private chats; `tg:<chat>:<user>` in groups,
so two people in one group never share (or steer) one flow. Buttons in groups
carry their owner's user id, and a press by anyone else changes nothing.

callback_data is limited to 64 bytes: an option value that fits is sent as
is (`=value`, survives a restart); a longer one becomes `#<sha1 prefix>`,
remembered in a bounded in-memory LRU. A token unknown after a restart is
answered with a short "button expired" and the menu.

Never logged: message text. Logged: update ids, chat types, reply kinds,
message counts and lengths, error types.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import logging
import re
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from adapters.channel import Channel
from adapters.telegram_request import AiohttpRequest
from bot.conversation.engine import Engine
from bot.conversation.messages import t
from bot.conversation.replies import Option, Reply, Response
from bot.understanding.language import from_locale
from bot.understanding.pipeline import Incoming

log = logging.getLogger("regellotsen.telegram")

T = TypeVar("T")

MESSAGE_LIMIT = 4096  # Telegram's limit, in UTF-16 code units
CALLBACK_LIMIT = 64  # bytes of callback_data
SHORT_LABEL = 16  # two buttons this short share a row
MAX_BUTTONS = 8  # buttons under one message: more do not fit a phone screen beside the text
NETWORK_ATTEMPTS = 3
NETWORK_BACKOFF = 0.5  # seconds; doubled per attempt
RATE_LIMIT_RETRIES = 2  # AIORateLimiter sleeps `retry_after` and retries this often
#: Only what the adapter handles; edited messages and channel posts are not even requested.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]

#: The bot's commands in Telegram's command menu; their descriptions are in the message catalogue.
COMMANDS = ("start", "help", "restart", "back", "why", "sources", "lang")


def file_url_for(base_url: str) -> str:
    """The file URL that goes with a Bot API URL: '…/bot' → '…/file/bot' (Telegram's and telegram-bot-api's layout)."""
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return base_url.rstrip("/") + "/file/bot"


# -- rendering ------------------------------------------------------------


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _cut(text: str, limit: int, separators: Sequence[str] = ("\n", " ")) -> list[str]:
    """Cut plain text into pieces whose escaped form fits `limit`: at line breaks, then spaces, then anywhere."""
    if utf16_len(escape(text)) <= limit:
        return [text]
    pieces: list[str] = []
    if not separators:
        chars, size = "", 0
        for ch in text:
            width = utf16_len(escape(ch))
            if size + width > limit:
                pieces.append(chars)
                chars, size = "", 0
            chars, size = chars + ch, size + width
        return pieces + [chars]
    sep, finer = separators[0], separators[1:]
    current: str | None = None
    for unit in text.split(sep):
        candidate = unit if current is None else current + sep + unit
        if utf16_len(escape(candidate)) <= limit:
            current = candidate
            continue
        if current is not None:
            pieces.append(current)
        sub = _cut(unit, limit, finer)
        pieces += sub[:-1]
        current = sub[-1]
    if current is not None:
        pieces.append(current)
    return pieces


def _pack(blocks: list[tuple[str, str]], limit: int) -> list[str]:
    """Join (separator, html) blocks into as few messages as fit; blocks are never split here."""
    parts: list[str] = []
    current = ""
    for sep, block in blocks:
        if not current:
            current = block
        elif utf16_len(current) + utf16_len(sep) + utf16_len(block) <= limit:
            current += sep + block
        else:
            parts.append(current)
            current = block
    if current:
        parts.append(current)
    return parts


_HEADING = re.compile(r"^([^\n:]{1,48}):(\n|$)")  # "Viktigast nu:" opening a paragraph


def _paragraph(piece: str) -> str:
    """An escaped paragraph; a short "Heading:" opening it is bold."""
    m = _HEADING.match(piece)
    if m is None:
        return escape(piece)
    return f"<b>{escape(m.group(1))}:</b>{m.group(2)}" + escape(piece[m.end() :])


def render(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[str]:
    """One reply as HTML messages: bold title, facts as bold-labelled lines, escaped paragraphs (bullets
    kept, a short heading bold), citations as links."""
    blocks: list[tuple[str, str]] = []
    if reply.title:
        blocks += [("\n", f"<b>{escape(piece)}</b>") for piece in _cut(reply.title.strip(), limit - len("<b></b>")) if piece.strip()]
    for fact in reply.facts:
        line = f"<b>{escape(fact.label)}:</b> {escape(fact.value)}"
        blocks.append(("\n", line if utf16_len(line) <= limit else escape(fact.value[: limit // 2])))
    for i, paragraph in enumerate(re.split(r"\n[ \t]*\n", reply.text.strip("\n"))):
        sep = "\n" if i == 0 and blocks and not reply.facts else "\n\n"
        for piece in _cut(paragraph, limit - len("<b></b>")):
            if piece.strip():
                blocks.append((sep, _paragraph(piece.strip("\n"))))
                sep = "\n\n"
    sep = "\n\n"
    for cite in reply.citations:
        if cite.url in reply.text:
            continue  # already written out (e.g. the /sources list)
        link = f'🔗 <a href="{html.escape(cite.url, quote=True)}">{escape(cite.title)}</a>'
        if utf16_len(link) > limit:
            link = escape(cite.title[: limit // 2])
        blocks.append((sep, link))
        sep = "\n"
    return _pack(blocks, limit) or ["…"]


class CallbackTokens:
    """Option values ↔ callback_data of at most 64 bytes, with the owner's user id in groups."""

    _DATA = re.compile(r"(?:(\d{1,20})@)?([=#])(.*)", re.S)

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._values: OrderedDict[str, str] = OrderedDict()

    def encode(self, value: str, owner: int | None = None) -> str:
        prefix = f"{owner}@" if owner is not None else ""
        direct = f"{prefix}={value}"
        if len(direct.encode()) <= CALLBACK_LIMIT:
            return direct
        token = hashlib.sha1(value.encode()).hexdigest()[:16]
        self._values[token] = value
        self._values.move_to_end(token)
        while len(self._values) > self.size:
            self._values.popitem(last=False)
        return f"{prefix}#{token}"

    def decode(self, data: str) -> tuple[int | None, str | None]:
        """(owner, value); value None when the token is unknown (expired, or from before a restart).

        Data longer than Telegram allows (64 bytes) is not ours: (None, None), answered as an expired button."""
        if len(data.encode("utf-8", "surrogatepass")) > CALLBACK_LIMIT:
            return None, None
        m = self._DATA.fullmatch(data)
        if m is None:
            return None, None
        owner = int(m.group(1)) if m.group(1) else None
        if m.group(2) == "=":
            return owner, m.group(3)
        return owner, self._values.get(m.group(3))


def _rows(options: Sequence[Option]) -> list[Sequence[Option]]:
    """Laid out for a phone: two short buttons (e.g. Ja / Nej, Varför? / Alla steg) share a row, a longer
    one has the row to itself."""
    rows: list[Sequence[Option]] = []
    i = 0
    while i < len(options):
        pair = options[i : i + 2]
        if len(pair) == 2 and all(len(o.label) <= SHORT_LABEL for o in pair):
            rows.append(pair)
            i += 2
        else:
            rows.append(options[i : i + 1])
            i += 1
    return rows


def keyboard(options: Sequence[Option], encode: Callable[[str], str]) -> InlineKeyboardMarkup | None:
    """The options as an inline keyboard (see `_rows`). At most `MAX_BUTTONS` (see `send`)."""
    if not options:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(o.label, callback_data=encode(o.value)) for o in row] for row in _rows(options)])


def keyboard_json(options: Sequence[Option], encode: Callable[[str], str]) -> dict[str, Any] | None:
    """`keyboard(...).to_dict()` built directly: what `send` puts on the wire. (PTB's button objects cost
    about 25 µs each to make and serialise again; a reply carries up to eight.)"""
    if not options:
        return None
    return {"inline_keyboard": [[{"text": o.label, "callback_data": encode(o.value)} for o in row] for row in _rows(options)]}


# -- conversations --------------------------------------------------------


def is_private(chat: Chat) -> bool:
    return chat.type == Chat.PRIVATE


def conversation_id(chat: Chat, user: User | None) -> str:
    if is_private(chat) or user is None:
        return f"tg:{chat.id}"
    return f"tg:{chat.id}:{user.id}"


@dataclass(frozen=True)
class Target:
    """Where and for whom replies go."""

    chat_id: int
    thread_id: int | None = None
    reply_to: int | None = None  # groups: answer as a reply to the user's message
    owner: int | None = None  # groups: the user whose buttons these are
    user: str | None = None


def addressed_text(message: Message, bot_id: int, username: str) -> str | None:
    """The text meant for the bot, or None. Private: everything. Groups: commands, @mentions, replies to the bot."""
    text = message.text or ""
    if is_private(message.chat):
        return text
    if text.startswith("/"):
        command, space, rest = text.partition(" ")
        name, _, to = command.partition("@")
        if to and to.lower() != username.lower():
            return None  # a command for another bot
        return name + space + rest
    mentioned = False
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if (entity.type == MessageEntity.MENTION and value.lower() == f"@{username.lower()}") or (entity.user and entity.user.id == bot_id):
            mentioned = True
            text = text.replace(value, " ", 1)
    reply = message.reply_to_message
    if not mentioned and not (reply and reply.from_user and reply.from_user.id == bot_id):
        return None
    return " ".join(text.split()).strip(" ,:;")


# -- the adapter ----------------------------------------------------------


class TelegramAdapter(Channel):
    """The Telegram channel: PTB handlers that translate updates for the engine and replies back."""

    name = "telegram"

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.tokens = CallbackTokens()
        quiet_raw_calls()  # again: a test's warning filters may have replaced the list since the import

    def install(self, app: Application) -> None:
        app.bot_data["adapter"] = self
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self.on_text))
        app.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_other)
        )
        app.add_handler(ChatMemberHandler(self.on_added, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self.on_error)

    # -- updates

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        text = addressed_text(message, context.bot.id, context.bot.username)
        if text is None:
            return
        user = message.from_user
        group = not is_private(message.chat)
        target = Target(
            message.chat.id,
            message.message_thread_id if message.is_topic_message else None,
            reply_to=message.message_id if group else None,
            owner=user.id if group and user else None,
            user=str(user.id) if user else None,
        )
        incoming = Incoming(text=text, locale=user.language_code if user else None)
        await self.respond(context, update, conversation_id(message.chat, user), incoming, target)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        message, user = query.message, query.from_user
        owner, value = self.tokens.decode(query.data or "")
        if message is None:
            await self._answer(query)  # an inline-mode message: not ours to continue
            return
        if owner is not None and owner != user.id:
            await self._answer(query, t("tg_not_yours", from_locale(user.language_code) or "sv"))
            return
        group = not is_private(message.chat)
        thread = getattr(message, "message_thread_id", None) if getattr(message, "is_topic_message", False) else None
        target = Target(message.chat.id, thread, owner=user.id if group else None, user=str(user.id))
        cid = conversation_id(message.chat, user)
        async def acknowledge() -> None:
            await self._answer(query)
            await self._remove_keyboard(context, message.chat.id, message.message_id)

        # Acknowledge inside the conversation's turn: a text typed right after the press must be
        # handled after it, not overtake it while the press is being acknowledged.
        if value is None:  # an unknown token: say so (in the conversation's language) and show the menu
            menu = Incoming(choice="cmd:menu", locale=user.language_code)
            await self.respond(context, update, cid, menu, target, prefix=lambda lang: [Reply(t("tg_expired", lang))], first=acknowledge)
            return
        await self.respond(context, update, cid, Incoming(choice=value, locale=user.language_code), target, first=acknowledge)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos, stickers, voice, documents … in a private chat: say that only text is understood."""
        message = update.message
        assert message is not None
        await self._retry(lambda: context.bot.send_message(message.chat.id, t("only_text", "sv") + " / " + t("only_text", "en")), "sendMessage")
        log.info("update %s: %s chat, non-text message → only-text notice", update.update_id, message.chat.type)

    async def on_added(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Added to a group: greet whoever added the bot, with the menu."""
        change = update.my_chat_member
        assert change is not None
        joined = change.new_chat_member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
        was_out = change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)
        if is_private(change.chat) or not (joined and was_out):
            return
        user = change.from_user
        target = Target(change.chat.id, owner=user.id, user=str(user.id))
        await self.respond(
            context, update, conversation_id(change.chat, user), Incoming(choice="cmd:menu", locale=user.language_code), target
        )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error type, the update id and the code location – never the message text."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        where = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
        log.error("update %s failed: %s\n%s", update_id, type(error).__name__, where.rstrip())

    # -- replying

    async def respond(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        update: Update,
        cid: str,
        incoming: Incoming,
        target: Target,
        prefix: Callable[[str], list[Reply]] | None = None,
        first: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Answer one update in its conversation's turn; `first` runs inside that turn, before answering."""
        sent = 0

        async def deliver(response: Response) -> None:
            nonlocal sent
            if prefix is not None:
                response.replies[:0] = prefix(response.lang)
            sent = await self.send(context, target, response)

        async def before() -> None:
            if first is not None:
                await first()
            await self._typing(context, target)

        response = await self.turn(cid, incoming, deliver, user=target.user, before=before, message_id=f"tg:{update.update_id}")
        log.info("update %s: %s → %s, %d message(s)", update.update_id, "choice" if incoming.choice else "text", response.kind, sent)

    async def send(self, context: ContextTypes.DEFAULT_TYPE, target: Target, response: Response) -> int:
        """Each reply as one or more HTML messages, its keyboard (at most `MAX_BUTTONS`) on the last part,
        then its documents (sendDocument). Returns the number of messages sent."""
        bot, sent = context.bot, 0

        def encode(value: str) -> str:
            return self.tokens.encode(value, target.owner)

        for reply in response.replies:
            groups = [reply.options[i : i + MAX_BUTTONS] for i in range(0, len(reply.options), MAX_BUTTONS)]
            messages: list[tuple[str, dict[str, Any] | None]] = [(part, None) for part in render(reply)]
            if groups:
                messages[-1] = (messages[-1][0], keyboard_json(groups[0], encode))
            # The engine offers at most eight; should a reply offer more, they follow in their own message.
            messages += [(escape(t("more_choices", response.lang)), keyboard_json(group, encode)) for group in groups[1:]]
            for text, markup in messages:
                # What send_message(chat, text, parse_mode=HTML, link_preview_options=LinkPreviewOptions(is_disabled=True),
                # message_thread_id=…, reply_markup=…, reply_parameters=…) puts on the wire, without PTB's objects (see raw_call).
                params: dict[str, Any] = {"chat_id": target.chat_id, "text": text, "parse_mode": ParseMode.HTML.value, "link_preview_options": NO_PREVIEW}
                if target.thread_id is not None:
                    params["message_thread_id"] = target.thread_id
                if markup is not None:
                    params["reply_markup"] = markup
                if sent == 0 and target.reply_to is not None:
                    params["reply_parameters"] = {"message_id": target.reply_to, "allow_sending_without_reply": True}
                await self._retry(_bind(raw_call, bot, "sendMessage", params), "sendMessage")
                sent += 1
            for document in reply.documents:
                upload = InputFile(document.content, filename=document.name)
                await self._retry(
                    _bind(bot.send_document, target.chat_id, upload, message_thread_id=target.thread_id, disable_content_type_detection=True),
                    "sendDocument",
                )
                sent += 1
        return sent

    async def _typing(self, context: ContextTypes.DEFAULT_TYPE, target: Target) -> None:
        with contextlib.suppress(TelegramError):  # cosmetic: never let it stop the answer
            await context.bot.send_chat_action(target.chat_id, ChatAction.TYPING, message_thread_id=target.thread_id)

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        try:
            await self._retry(lambda: query.answer(text), "answerCallbackQuery")
        except TelegramError as exc:  # e.g. the query is too old: the press is still handled
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)

    async def _remove_keyboard(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int) -> None:
        """Remove the pressed message's buttons so they cannot be pressed again into another state."""
        # An empty inline keyboard; PTB would serialise InlineKeyboardMarkup([]) as "{}", so spell it out.
        params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "reply_markup": {"inline_keyboard": []}}
        try:
            await self._retry(_bind(raw_call, context.bot, "editMessageReplyMarkup", params), "editMessageReplyMarkup")
        except TelegramError as exc:  # already removed, message too old, …: the engine also rejects stale presses
            log.info("could not remove a keyboard: %s", type(exc).__name__)

    async def _retry(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """Retry network trouble a bounded number of times with backoff. (RetryAfter: AIORateLimiter waits and retries.)"""
        for attempt in range(NETWORK_ATTEMPTS):
            try:
                return await call()
            except BadRequest:
                raise  # a NetworkError subclass, but retrying cannot fix it
            except NetworkError as exc:  # includes TimedOut; a timed-out send may arrive twice – better than never
                if attempt == NETWORK_ATTEMPTS - 1:
                    raise
                delay = NETWORK_BACKOFF * 2**attempt
                log.warning("%s: %s, retry %d in %.1fs", what, type(exc).__name__, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def set_commands(self, app: Application) -> None:
        """The command menu in Swedish ("sv") and English (default and "en")."""
        for language_code, lang in ((None, "en"), ("en", "en"), ("sv", "sv")):
            commands = [BotCommand(name, t(f"tg_command_{name}", lang)) for name in COMMANDS]
            try:
                await self._retry(_bind(app.bot.set_my_commands, commands, language_code=language_code), "setMyCommands")
            except TelegramError as exc:
                log.warning("setMyCommands (%s) failed: %s", language_code or "default", type(exc).__name__)


def _bind(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> Callable[[], Awaitable[T]]:
    return lambda: fn(*args, **kwargs)


# -- the Bot API calls of every answer ------------------------------------

#: The calls made for every answer whose result the adapter does not read. Their named methods
#: (`send_message`, `edit_message_reply_markup`) build PTB objects for the parameters, serialise them again,
#: and parse each answer into a whole `Message` (chat, sender, keyboard: dozens of objects): under load about
#: a third of the server's CPU per message. `Bot.do_api_request` (public since PTB 20.8) sends JSON-ready
#: parameters through the same path — defaults, AIORateLimiter, the request class, the same errors — and
#: returns the answer as JSON.
RAW_ENDPOINTS = ("sendMessage", "editMessageReplyMarkup")
NO_PREVIEW: dict[str, Any] = {"is_disabled": True}  # LinkPreviewOptions(is_disabled=True).to_dict()


def quiet_raw_calls() -> None:
    """do_api_request warns that a named method exists for these endpoints; here that is on purpose. Only that
    warning, for only RAW_ENDPOINTS, is ignored. (Idempotent: an identical filter replaces itself.)"""
    names = "|".join(RAW_ENDPOINTS)
    warnings.filterwarnings(
        "ignore", message=rf"Please use 'Bot\.({names})' instead of 'Bot\.do_api_request\(\"({names})\", \.\.\.\)'$", category=PTBUserWarning
    )


quiet_raw_calls()


async def raw_call(bot: Any, endpoint: str, params: dict[str, Any]) -> Any:
    """One of RAW_ENDPOINTS with JSON-ready parameters; the Bot API's result as JSON."""
    return await bot.do_api_request(endpoint, api_kwargs=params)


# -- the application ------------------------------------------------------


async def _post_init(app: Application) -> None:
    adapter: TelegramAdapter = app.bot_data["adapter"]
    await adapter.start()
    await adapter.set_commands(app)
    log.info("telegram bot @%s ready; knowledge: %s", app.bot.username, adapter.engine.knowledge.summary())


async def _post_shutdown(app: Application) -> None:
    adapter: TelegramAdapter = app.bot_data["adapter"]
    await adapter.stop()


def readable_update(data: Any, bot: Any) -> Any:
    """The update as the library can read it, or a stub with only its update_id (logged by type and size).

    One update that python-telegram-bot cannot parse used to fail the whole getUpdates batch, again and
    again: polling stalled for good and logged the update. The stub keeps the offset moving."""
    import copy
    import json

    try:
        Update.de_json(copy.deepcopy(data), bot)
        return data
    except Exception as exc:  # noqa: BLE001 — never log the update itself: it holds text, names and ids
        update_id = data.get("update_id") if isinstance(data, dict) else None
        size = len(json.dumps(data, default=str))
        log.warning("update %s could not be read: %s, %d bytes; skipped", update_id, type(exc).__name__, size)
        return {"update_id": update_id} if isinstance(update_id, int) else None


class _SkipUnreadable(ExtBot):
    """ExtBot whose getUpdates skips updates the library cannot read (see readable_update)."""

    __slots__ = ()

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            result = [u for u in (readable_update(u, self) for u in result) if u is not None]
        return result


def build_application(engine: Engine, token: str, *, base_url: str | None = None) -> Application:
    """The PTB Application with the adapter's handlers, rate limiting, command setup and hot reload."""
    builder = (
        Application.builder()
        .token(token)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .concurrent_updates(64)  # ordering within a conversation: TelegramAdapter._serial
        # One keep-alive aiohttp pool for the Bot API (httpx's pool scans its connections on every call).
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if base_url:
        builder = builder.base_url(base_url).base_file_url(file_url_for(base_url))
    app = builder.build()
    app.bot.__class__ = _SkipUnreadable  # same object, same slots: polling skips unreadable updates
    TelegramAdapter(engine).install(app)
    return app


def webhook_options(webhook_url: str, host: str, port: int, secret: str) -> dict[str, Any]:
    """Arguments for PTB's `Updater.start_webhook` (not used by `regellots telegram`, which serves the webhook itself)."""
    from urllib.parse import urlsplit

    return {
        "listen": host,
        "port": port,
        "url_path": urlsplit(webhook_url).path.lstrip("/"),
        "webhook_url": webhook_url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


# -- the webhook ------------------------------------------------------------

#: The largest webhook body accepted (bytes). Telegram's updates of the kinds requested are a few KB;
#: a larger body is refused (413) from its Content-Length, before it is read.
WEBHOOK_MAX_BYTES = 256 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _drop_pressed_keyboard(data: dict[str, Any]) -> None:
    """Leave out the keyboard of the message whose button was pressed (`callback_query.message.reply_markup`).

    No handler reads it — the press carries its own data, and `on_callback` removes that keyboard anyway — and
    parsing its up to eight buttons into PTB objects is about half the cost of reading a press's update."""
    query = data.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if isinstance(message, dict):
        message.pop("reply_markup", None)


class Webhook:
    """Telegram's webhook on the channel's own aiohttp app (with /healthz and /readyz).

    An update is handled before it is acknowledged: the 200 goes back only after
    the answer was sent, so an update the bot could not finish (stopped, crashed)
    is sent again by Telegram, and the engine applies an update_id once. Checks,
    in order and before reading the body: the secret (403), the declared size
    (413); then the body must be JSON (400). An update the library cannot read
    is logged by type and size and acknowledged, so Telegram does not resend it.
    """

    def __init__(self, adapter: TelegramAdapter, app: Application, webhook_url: str, secret: str, *, drop_pending: bool = False) -> None:
        from urllib.parse import urlsplit

        self.adapter, self.app, self.url, self.secret = adapter, app, webhook_url, secret
        self.path = "/" + urlsplit(webhook_url).path.lstrip("/")
        self.drop_pending = drop_pending

    def http_app(self) -> Any:
        from aiohttp import web

        app = self.adapter.http_app(client_max_size=WEBHOOK_MAX_BYTES)
        app.router.add_post(self.path, self.receive)

        async def start_telegram(_app: web.Application) -> None:
            await self.app.initialize()
            await self.adapter.set_commands(self.app)
            await self.app.bot.set_webhook(
                self.url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=self.drop_pending or None
            )
            await self.app.start()
            log.info("telegram bot @%s ready (webhook); knowledge: %s", self.app.bot.username, self.adapter.engine.knowledge.summary())

        async def stop_telegram(_app: web.Application) -> None:
            with contextlib.suppress(Exception):
                await self.app.stop()
            with contextlib.suppress(Exception):
                await self.app.shutdown()

        app.on_startup.append(start_telegram)
        app.on_cleanup.insert(0, stop_telegram)
        return app

    async def receive(self, request: Any) -> Any:
        import hmac
        import json

        from aiohttp import web

        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), self.secret.encode()):
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > WEBHOOK_MAX_BYTES:
            log.warning("webhook: refused a body of %d bytes (limit %d)", request.content_length, WEBHOOK_MAX_BYTES)
            return web.Response(status=413)
        try:
            raw = await request.read()  # client_max_size stops a body without Content-Length at the limit
        except web.HTTPRequestEntityTooLarge:
            log.warning("webhook: refused a body over %d bytes", WEBHOOK_MAX_BYTES)
            return web.Response(status=413)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            log.warning("webhook: a body that is not JSON (%d bytes)", len(raw))
            return web.Response(status=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            log.warning("webhook: JSON that is not an update (%s, %d bytes)", type(data).__name__, len(raw))
            return web.Response(status=400)
        _drop_pressed_keyboard(data)
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # noqa: BLE001 — never log the update itself: it holds text, names and ids
            log.warning("update %d could not be read: %s, %d bytes; skipped", data["update_id"], type(exc).__name__, len(raw))
            return web.Response(status=200)  # resending it would not help
        async with self.adapter.running():  # PTB's own limit on concurrent updates applies to polling only
            await self.app.process_update(update)  # the handlers never raise here: errors go to on_error
        return web.Response(status=200)
