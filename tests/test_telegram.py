"""The Telegram adapter against a fake Bot API server on 127.0.0.1 (tests/fake_telegram.py).

The real Application (python-telegram-bot, AIORateLimiter, the adapter's handlers) polls the fake
server through TELEGRAM_API_BASE_URL-style base_url; tests push updates and assert on what the
server received. Webhook mode and the CLI run as they would in production (a subprocess).
"""

from __future__ import annotations

import asyncio
import copy
import html
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram import (
    ALLOWED_UPDATES,
    CallbackTokens,
    Target,
    TelegramAdapter,
    build_application,
    file_url_for,
    keyboard,
    keyboard_json,
    render,
    webhook_options,
)
from bot.conversation.engine import Engine
from bot.conversation.replies import Citation, Option, Reply, Response
from bot.knowledge import Knowledge, load_knowledge
from bot.state import ConversationState, MemoryStore
from tests.conftest import FIXTURE_KB
from tests.support.fake_telegram import SECRET, TOKEN, FakeTelegram, HTMLError, parse_html, utf16_len

ROOT = Path(__file__).resolve().parent.parent
REGELLOTS = str(Path(sys.executable).with_name("regellots"))  # the installed console script, as deployed
P = 1001  # a private chat (= the user's id in Telegram)
G = -100500  # a supergroup
LONG_ID = "a-deliberately-long-topic-identifier-so-the-option-value-exceeds-sixty-four-bytes"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGELLOTS_WATCH", "0")
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as the CLI does: no deprecation warnings from RetryAfter


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram(TOKEN).start()
    yield fake
    await fake.close()


@asynccontextmanager
async def polling(engine: Engine, server: FakeTelegram) -> AsyncIterator[Any]:
    """The adapter's Application, run in this event loop as run_polling would run it."""
    app = build_application(engine, TOKEN, base_url=server.base_url)
    async with app:
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)


@dataclass
class Bot:
    server: FakeTelegram
    engine: Engine
    app: Any


@pytest.fixture
async def bot(kb: Knowledge, server: FakeTelegram) -> AsyncIterator[Bot]:
    engine = Engine(kb, MemoryStore(), channel="telegram")
    async with polling(engine, server) as app:
        yield Bot(server, engine, app)


# -- helpers -----------------------------------------------------------------


async def replies(server: FakeTelegram, chat_id: int, since: int, quiet: float = 0.15) -> list[dict[str, Any]]:
    """The messages sent to a chat after the first `since`: once one arrived and nothing more came for `quiet` s."""
    await server.wait_sent(chat_id, since + 1)
    count = -1
    while count != len(server.sent(chat_id)):
        count = len(server.sent(chat_id))
        await asyncio.sleep(quiet)
    return server.sent(chat_id)[since:]


async def say(server: FakeTelegram, chat_id: int, text: str, **kw: Any) -> list[dict[str, Any]]:
    since = len(server.sent(chat_id))
    server.send_text(chat_id, text, **kw)
    return await replies(server, chat_id, since)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label → callback_data of a message as Telegram stores it now."""
    return {b["text"]: b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row}


def with_button(server: FakeTelegram, chat_id: int, label: str) -> dict[str, Any]:
    found = [m for m in server.bot_messages(chat_id) if label in buttons(m)]
    assert found, f"no message in {chat_id} with a button {label!r}"
    return found[-1]


async def press(server: FakeTelegram, chat_id: int, label: str, **kw: Any) -> list[dict[str, Any]]:
    message = with_button(server, chat_id, label)
    since = len(server.sent(chat_id))
    server.press(message, buttons(message)[label], **kw)
    return await replies(server, chat_id, since)


def visible(params: dict[str, Any]) -> str:
    return parse_html(params["text"])


def keyboard_of(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return (params.get("reply_markup") or {}).get("inline_keyboard", [])


async def state(engine: Engine, cid: str) -> ConversationState:
    return ConversationState.from_json(await engine.store.load(cid))


# -- rendering (pure) --------------------------------------------------------


def test_fake_server_rejects_unescaped_html() -> None:
    """The fake is strict enough that an unescaped answer would fail the tests below."""
    for bad in ("Ja. <Se> Upphandlingsmyndigheten", "A & B", "<b>open", "</i>", "<a>no href</a>"):
        with pytest.raises(HTMLError):
            parse_html(bad)
    assert parse_html('<b>A &amp; B</b> &lt;Se&gt; <a href="https://x.se/?a=1&amp;b=2">x</a>') == "A & B <Se> x"


def test_render_escapes_text_title_and_links() -> None:
    reply = Reply(
        "1 < 2 & 3 > 0\n\n• first\n• <second>", title="Q&A <title>", citations=(Citation("Källa <1> & co", 'https://e.se/?a=1&b="2"'),)
    )
    [part] = render(reply)
    assert part.startswith("<b>Q&amp;A &lt;title&gt;</b>\n1 &lt; 2 &amp; 3 &gt; 0\n\n• first\n• &lt;second&gt;")
    assert '<a href="https://e.se/?a=1&amp;b=&quot;2&quot;">Källa &lt;1&gt; &amp; co</a>' in part
    assert parse_html(part).startswith("Q&A <title>\n1 < 2 & 3 > 0")


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab <&>\n•é😀")), max_size=400),
    title=st.none() | st.text(alphabet=st.sampled_from(list("xy <&")), min_size=1, max_size=60),
    limit=st.integers(min_value=24, max_value=120),
)
def test_render_parts_fit_parse_and_keep_every_word(text: str, title: str | None, limit: int) -> None:
    parts = render(Reply(text, title=title), limit=limit)
    shown = []
    for part in parts:
        assert utf16_len(part) <= limit
        shown.append(parse_html(part))
    expected = "".join(((title or "") + text).split())  # every non-space character, in order
    assert "".join("".join(shown).split()) == (expected or "…")


def test_callback_tokens_fit_and_carry_the_owner() -> None:
    tokens = CallbackTokens(size=2)
    assert tokens.encode("ans:f:n:yes") == "=ans:f:n:yes"
    assert tokens.decode("=ans:f:n:yes") == (None, "ans:f:n:yes")
    long = "go:topic:" + "x" * 80
    data = tokens.encode(long, owner=123456789)
    assert len(data.encode()) <= 64 and data.startswith("123456789@#")
    assert tokens.decode(data) == (123456789, long)
    tokens.encode("go:topic:" + "y" * 80)
    tokens.encode("go:topic:" + "z" * 80)  # the LRU holds two: the first token is forgotten
    assert tokens.decode(data) == (123456789, None)
    assert tokens.decode("garbage") == (None, None)


def test_file_url_follows_the_api_url() -> None:
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


# -- startup -----------------------------------------------------------------


async def test_startup_sets_commands_in_swedish_and_english(bot: Bot) -> None:
    server = bot.server
    commands = {(c.params.get("language_code") or "default"): c.params["commands"] for c in server.of("setMyCommands")}
    assert set(commands) == {"default", "en", "sv"}
    names = ["start", "help", "restart", "back", "why", "sources", "lang"]
    for language in commands:
        assert [c["command"] for c in commands[language]] == names
    assert commands["sv"][2]["description"] == "Börja om från början"
    assert commands["en"] == commands["default"] and commands["en"][2]["description"] == "Start over"
    assert [c.method for c in server.calls if not c.ok] == []
    assert server.of("getMe") and server.of("deleteWebhook")  # polling removes any webhook first


# -- conversations -----------------------------------------------------------


async def test_question_gets_an_html_answer_with_a_link(bot: Bot) -> None:
    server = bot.server
    [answer] = await say(server, P, "får vi prata med leverantörer innan upphandling")
    assert answer["parse_mode"] == "HTML"
    assert answer["text"].startswith("<b>Får vi prata med leverantörer före upphandlingen?</b>\n")
    assert '<a href="https://www.upphandlingsmyndigheten.se/dialog">Marknadsdialog</a>' in answer["text"]
    assert answer["link_preview_options"] == {"is_disabled": True}
    methods = [c.method for c in server.calls if c.method in ("sendChatAction", "sendMessage")]
    assert methods == ["sendChatAction", "sendMessage"]
    assert server.of("sendChatAction")[0].params["action"] == "typing"


async def test_lt_and_amp_in_an_answer_are_escaped_and_accepted(bot: Bot) -> None:
    server = bot.server
    [answer] = await say(server, P, "tidig marknadsdialog")
    assert "&lt;Se&gt; Upphandlingsmyndigheten &amp; Konkurrensverket" in answer["text"]
    assert "<Se> Upphandlingsmyndigheten & Konkurrensverket" in server.bot_messages(P)[-1]["text"]
    assert all(c.ok for c in server.of("sendMessage"))


async def test_replies_go_out_as_send_message_would_send_them(kb: Knowledge, server: FakeTelegram) -> None:
    """`send` posts sendMessage through Bot.do_api_request with JSON-ready parameters (its answer, a whole Message,
    is not parsed): on the wire exactly what Bot.send_message sends for the same reply. do_api_request's warning
    that a named method exists is filtered for the adapter's raw endpoints only."""
    from telegram import LinkPreviewOptions, ReplyParameters
    from telegram.ext import ExtBot

    options = (Option("Ja", "ans:x:yes"), Option("Nej", "ans:x:no"), Option("Ett långt alternativ som tar en rad", LONG_ID), Option("Börja om", "cmd:restart"))
    adapter = TelegramAdapter(Engine(kb, MemoryStore(), channel="telegram"))
    server.send_text(G, "hej", chat_type="supergroup")
    target = Target(G, thread_id=7, reply_to=3, owner=42, user="42")

    def encode(value: str) -> str:
        return adapter.tokens.encode(value, target.owner)

    assert keyboard_json(options, encode) == keyboard(options, encode).to_dict()  # type: ignore[union-attr]
    assert keyboard_json((), encode) is None and keyboard((), encode) is None
    reply = Reply("<Första> & andra stycket.\n\nTredje.", title="Rubrik", options=options)
    async with ExtBot(TOKEN, base_url=server.base_url) as ext_bot:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", append=True)  # anything the adapter's filter does not take is recorded
            sent = await adapter.send(SimpleNamespace(bot=ext_bot), target, Response([reply], "answer", "sv"))  # type: ignore[arg-type]
            await ext_bot.do_api_request("getMe")  # another endpoint with a named method still warns
        [text] = render(reply)
        await ext_bot.send_message(
            G,
            text,
            parse_mode="HTML",
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            message_thread_id=7,
            reply_markup=keyboard(options, encode),
            reply_parameters=ReplyParameters(3, allow_sending_without_reply=True),
        )
    assert sent == 1
    raw, named = [c.params for c in server.of("sendMessage")]
    assert raw == named and raw["reply_markup"]["inline_keyboard"][0][0] == {"text": "Ja", "callback_data": "42@=ans:x:yes"}
    assert [str(w.message) for w in caught] == ["Please use 'Bot.getMe' instead of 'Bot.do_api_request(\"getMe\", ...)'"]


async def test_greeting_shows_the_menu_as_an_inline_keyboard(bot: Bot) -> None:
    [greeting] = await say(bot.server, P, "hej")
    assert visible(greeting).startswith("Hej! Jag är Regellotsen.")
    rows = keyboard_of(greeting)
    assert [[b["text"] for b in row] for row in rows] == [
        ["▶ Är det en medicinteknisk produkt?"],
        ["Får vi prata med leverantörer före upphandlingen?"],
        ["Direktupphandlingsgränsen"],
        ["Hjälp"],
    ]
    assert rows[0][0]["callback_data"] == "=go:flow:device-check"


async def test_telegram_language_code_picks_the_language(bot: Bot) -> None:
    [greeting] = await say(bot.server, 2002, "/start", user=bot.server.user(2002, "en"))
    assert visible(greeting).startswith("Hi! I'm Regellotsen.")
    assert [b["text"] for row in keyboard_of(greeting) for b in row][-1] == "Help"


async def test_buttons_through_a_whole_flow_to_the_conclusion(bot: Bot) -> None:
    server = bot.server
    await say(server, P, "/start")
    intro, question = await press(server, P, "▶ Är det en medicinteknisk produkt?")
    assert visible(intro).startswith("Är det en medicinteknisk produkt?\nNågra frågor")
    assert "Har produkten ett medicinskt syfte?" in visible(question)
    assert [[b["text"] for b in row] for row in keyboard_of(question)] == [["Ja", "Nej"]]  # two short ones share a row
    # The pressed button was answered and the menu's keyboard removed.
    assert [c.ok for c in server.of("answerCallbackQuery")] == [True]
    edit = server.of("editMessageReplyMarkup")[-1]
    assert edit.ok and edit.params["reply_markup"] == {"inline_keyboard": []}
    assert buttons(server.bot_messages(P)[0]) == {}

    [q2] = await press(server, P, "Ja")
    assert "Är det programvara?" in visible(q2)
    [q3] = await press(server, P, "Programvara")
    assert "Vad kostar utvecklingen ungefär?" in visible(q3)
    [verdict] = await say(server, P, "2 miljoner")  # the result: one message, verdict first
    assert visible(verdict).startswith("Resultat – Är det en medicinteknisk produkt?\nGäller: MDR\nKontakta först: Läkemedelsverket")
    assert "<b>Gäller:</b> MDR" in verdict["text"] and "<b>Viktigast nu:</b>" in verdict["text"]
    assert [[b["text"] for b in row] for row in keyboard_of(verdict)] == [["Varför?", "Alla steg"], ["Myndigheter", "Källor"], ["Spara checklista", "Börja om"]]
    assert (await state(bot.engine, f"tg:{P}")).flow.done
    # Three presses, three keyboards removed: none of the pressed messages has buttons any more.
    edits = server.of("editMessageReplyMarkup")
    assert len(edits) == len(server.of("answerCallbackQuery")) == 3 and all(e.ok for e in edits)
    assert all(buttons(server.messages[(P, e.params["message_id"])]) == {} for e in edits)

    # Detail on demand: "Varför?" opens the findings with the answers that decided them, in one message.
    [why] = await press(server, P, "Varför?")
    assert "Regel 11 gäller för programvaran." in visible(why) and "Avgjordes av:" in visible(why)
    assert len(visible(why)) <= 1500 and "Spara checklista" in buttons(why)
    # The checklist to keep arrives as documents (Markdown and printable HTML) after a short message.
    [note] = await press(server, P, "Spara checklista")
    assert "checklista" in visible(note)
    documents = await server.wait_for(lambda: server.documents(P) if len(server.documents(P)) == 2 else None, what="two documents")
    names = [d["filename"] for d in documents]
    assert names[0].startswith("regellotsen-checklista-device-check-") and names[0].endswith(".md") and names[1].endswith(".html")
    markdown = documents[0]["content"].decode("utf-8")
    assert "# Checklista – Är det en medicinteknisk produkt?" in markdown
    assert "Regel 11 gäller för programvaran." in markdown and "Sök finansiering tidigt." in markdown and "\n- [ ] " in markdown
    assert "<!DOCTYPE html>" in documents[1]["content"].decode("utf-8")


async def test_deep_link_start_payload_opens_the_flow(bot: Bot) -> None:
    intro, question = await say(bot.server, P, "/start device-check")
    assert "Några frågor om din produkt." in visible(intro)
    assert buttons(bot.server.bot_messages(P)[-1]) == {"Ja": "=ans:device-check:purpose:yes", "Nej": "=ans:device-check:purpose:no"}
    assert (await state(bot.engine, f"tg:{P}")).flow.node == "purpose"


async def test_stale_and_expired_buttons_change_nothing(bot: Bot) -> None:
    server, cid = bot.server, f"tg:{P}"
    await say(server, P, "/start device-check")
    first_question = server.bot_messages(P)[-1]
    await press(server, P, "Ja")
    assert (await state(bot.engine, cid)).flow.node == "software"

    # The old question's "Nej" (keyboard already removed, but a client may still send it).
    since = len(server.sent(P))
    server.press(first_question, "=ans:device-check:purpose:no")
    stale = await replies(server, P, since)
    assert "redan besvarad" in visible(stale[0]) and "Är det programvara?" in visible(stale[-1])
    flow = (await state(bot.engine, cid)).flow
    assert (flow.node, len(flow.history)) == ("software", 1)

    # A token the adapter does not know (e.g. issued before a restart).
    since = len(server.sent(P))
    server.press(first_question, "#0123456789abcdef")
    expired = await replies(server, P, since)
    assert visible(expired[0]) == "Den knappen har gått ut. Här är menyn:"
    assert visible(expired[1]).startswith("Hej!") and keyboard_of(expired[1])
    assert "Vill du fortsätta" in visible(expired[-1])  # the greeting offers the open flow (not forced)
    flow = (await state(bot.engine, cid)).flow
    assert (flow.node, len(flow.history), flow.done) == ("software", 1, False)


async def test_non_text_updates_never_crash_and_only_private_chats_get_a_reply(bot: Bot) -> None:
    server = bot.server
    media = {
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "u1",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        },
        "photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}],
        "voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 2},
        "document": {"file_id": "d1", "file_unique_id": "u4", "file_name": "a.pdf"},
    }
    for kind, content in media.items():
        server.push(message=server.message(P, **{kind: content}))
    server.push(message=server.message(G, server.user(7), "supergroup", sticker=media["sticker"]))
    server.send_text(3003, "tidig marknadsdialog", key="edited_message")
    server.push(channel_post={"message_id": 99, "date": 0, "chat": server.chat(-100777, "channel"), "text": "tidig marknadsdialog"})
    only_text = await server.wait_sent(P, 4)
    assert [m["text"] for m in only_text] == ["Jag förstår bara text – skriv din fråga. / I only understand text – please type your question."] * 4
    await say(server, 4004, "hej")  # a later update has been handled: the earlier ones are done too
    await asyncio.sleep(0.2)
    assert server.sent(G) == [] and server.sent(3003) == [] and server.sent(-100777) == []
    assert len(server.sent(P)) == 4
    assert [c.method for c in server.calls if not c.ok] == []


async def test_groups_answer_mentions_commands_and_replies_only(bot: Bot) -> None:
    server, engine = bot.server, bot.engine
    alice, bob = server.user(11, "sv", "Alice"), server.user(12, "sv", "Bob")
    group = {"chat_type": "supergroup"}
    server.send_text(G, "tidig marknadsdialog", user=bob, **group)  # not for the bot
    mention = server.send_text(G, f"@{server.username} tidig marknadsdialog", user=alice, **group)
    [answer] = await replies(server, G, 0)
    assert "Marknadsdialog</a>" in answer["text"]  # the mention was stripped and the question answered
    assert answer["reply_parameters"]["message_id"] == mention["message_id"]
    assert await engine.store.load(f"tg:{G}:{bob['id']}") is None
    assert await engine.store.load(f"tg:{G}:{alice['id']}") is not None

    # Bob replies to the bot's message: answered, in his own conversation.
    [to_bob] = await say(server, G, "personuppgiftsincident", user=bob, reply_to=server.bot_messages(G)[-1], **group)
    assert "Anmäl till IMY inom 72 timmar." in visible(to_bob)
    assert await engine.store.load(f"tg:{G}:{bob['id']}") is not None

    # Commands: for this bot (or no bot named) yes, for another bot no.
    server.send_text(G, "/help@SomeOtherBot", user=bob, **group)
    [help_] = await say(server, G, f"/help@{server.username}", user=bob, **group)
    assert visible(help_).startswith("Skriv en fråga med egna ord")
    assert len(server.sent(G)) == 3

    # Two people, two flows: Bob cannot press Alice's buttons.
    await say(server, G, f"/start@{server.username} device-check", user=alice, **group)
    question = server.bot_messages(G)[-1]
    assert buttons(question)["Ja"] == f"{alice['id']}@=ans:device-check:purpose:yes"
    sent_before = len(server.sent(G))
    qid = server.press(question, buttons(question)["Ja"], user=bob)
    await server.wait_for(lambda: any(c.params.get("callback_query_id") == qid for c in server.of("answerCallbackQuery")))
    answered = next(c for c in server.of("answerCallbackQuery") if c.params["callback_query_id"] == qid)
    assert "någon annans fråga" in answered.params["text"]
    await asyncio.sleep(0.2)
    assert len(server.sent(G)) == sent_before and buttons(server.bot_messages(G)[-1])
    assert (await state(engine, f"tg:{G}:{alice['id']}")).flow.node == "purpose"
    [q2] = await press(server, G, "Ja", user=alice)
    assert "Är det programvara?" in visible(q2)


async def test_replies_within_a_conversation_keep_their_order(bot: Bot) -> None:
    """Updates are processed concurrently; a slow first request must not let the second answer overtake it."""
    server = bot.server
    server.delays["sendChatAction"] = [0.3]
    server.send_text(P, "personuppgiftsincident")
    server.send_text(P, "direktupphandlingsgräns")
    server.send_text(6006, "hej")  # another conversation is not held up by the slow one
    first, second = await server.wait_sent(P, 2)
    assert "Personuppgiftsincident" in visible(first) and "Direktupphandlingsgränsen" in visible(second)
    assert server.of("sendMessage", 6006)[0].at < server.of("sendMessage", P)[0].at


async def test_bot_added_to_a_group_greets(bot: Bot) -> None:
    server = bot.server
    adder = server.user(21, "en", "Admin")
    server.push(
        my_chat_member={
            "chat": server.chat(G, "group"),
            "from": adder,
            "date": 0,
            "old_chat_member": {"status": "left", "user": server.bot_user},
            "new_chat_member": {"status": "member", "user": server.bot_user},
        }
    )
    [greeting] = await replies(server, G, 0)
    assert visible(greeting).startswith("Hi! I'm Regellotsen.") and keyboard_of(greeting)


async def test_rate_limits_and_network_errors_are_retried(bot: Bot) -> None:
    server = bot.server
    server.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    server.fail("sendMessage", 502, "Bad Gateway")
    [greeting] = await say(server, P, "hej")
    assert visible(greeting).startswith("Hej!")
    attempts = server.of("sendMessage", P)
    assert [c.error for c in attempts] == ["Too Many Requests: retry after 1", "Bad Gateway", None]
    assert attempts[1].at - attempts[0].at >= 1.0  # retry_after was honoured


async def test_errors_are_logged_by_type_and_update_id_never_text(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    server = bot.server
    caplog.set_level(logging.INFO)
    server.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    server.send_text(P, "hemligaordet personuppgiftsincident")
    await server.wait_for(lambda: any("failed: Forbidden" in r.getMessage() for r in caplog.records), what="the error log")
    [line] = [r.getMessage() for r in caplog.records if "failed: Forbidden" in r.getMessage()]
    assert line.startswith(f"update {server.last_update['update_id']} failed: Forbidden\n")
    assert all("hemligaordet" not in r.getMessage() for r in caplog.records)
    # The bot goes on: the next message is answered.
    [answer] = await say(server, P, "personuppgiftsincident")
    assert "IMY" in visible(answer)


# -- long answers, long option values, restarts ------------------------------


def _long_kb(tmp_path: Path) -> tuple[Path, str, list[str]]:
    """The fixture knowledge plus a topic with a long id (option value > 64 bytes) and an answer > 5,000 characters."""
    directory = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, directory)
    paragraphs = [" ".join(f"regel{p}-{w}" for w in range(100)) for p in range(6)]  # ~900 characters each
    paragraphs.insert(3, " ".join(f"lång{w}" for w in range(700)))  # one paragraph over 4,096 characters
    answer = "\n\n".join(paragraphs)
    topics_file = directory / "topics.yaml"
    data = yaml.safe_load(topics_file.read_text(encoding="utf-8"))
    data["topics"].append(
        {
            "id": LONG_ID,
            "title": {"sv": "Det långa svaret", "en": "The long answer"},
            "phrasings": {"sv": ["berätta allt om de långa reglerna"], "en": ["tell me everything about the long rules"]},
            "answer": {"sv": answer, "en": "Long."},
            "sources": [{"url": "https://example.org/long?a=1&b=2", "title": "Lång <källa> & mer"}],
        }
    )
    data["menu"].append(LONG_ID)
    topics_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert len(answer) > 5000
    return directory, answer, paragraphs


async def test_long_answer_splits_and_long_option_values_use_tokens(tmp_path: Path, server: FakeTelegram) -> None:
    directory, answer, paragraphs = _long_kb(tmp_path)
    knowledge, problems = load_knowledge(directory)
    assert knowledge is not None, problems
    engine = Engine(knowledge, MemoryStore(), channel="telegram")
    async with polling(engine, server):
        await say(server, P, "/start")
        menu = copy.deepcopy(server.bot_messages(P)[-1])
        data = buttons(menu)["Det långa svaret"]
        assert data.startswith("#") and len(data.encode()) <= 64
        parts = await press(server, P, "Det långa svaret")

    assert len(parts) >= 3
    assert all(utf16_len(p["text"]) <= 4096 for p in parts)
    shown = [visible(p) for p in parts]
    assert " ".join(answer.split()) in " ".join(" ".join(shown).split())  # the whole answer, in order
    for paragraph in paragraphs:
        if len(paragraph) < 4096:
            assert any(paragraph in s for s in shown), "short paragraphs are never cut"
    assert '<a href="https://example.org/long?a=1&amp;b=2">Lång &lt;källa&gt; &amp; mer</a>' in parts[-1]["text"]
    assert all(c.ok for c in server.of("sendMessage"))

    # After a restart the token is unknown: the press changes nothing and the user is told.
    async with polling(engine, server):
        since = len(server.sent(P))
        server.press(menu, data)
        expired = await replies(server, P, since)
    assert visible(expired[0]) == "Den knappen har gått ut. Här är menyn:"
    assert visible(expired[1]).startswith("Hej!")


async def test_hot_reload_serves_changed_knowledge(tmp_path: Path, server: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGELLOTS_WATCH", "1")
    monkeypatch.setenv("REGELLOTS_WATCH_INTERVAL", "0.1")
    directory = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, directory)
    knowledge, _ = load_knowledge(directory)
    assert knowledge is not None
    engine = Engine(knowledge, MemoryStore(), channel="telegram")
    async with polling(engine, server) as app:
        adapter = app.bot_data["adapter"]
        assert adapter._reload_task is not None  # started in post_init
        [before] = await say(server, P, "personuppgiftsincident")
        assert "Anmäl till IMY inom 72 timmar." in visible(before)
        topics = directory / "topics.yaml"
        changed = topics.read_text(encoding="utf-8").replace("inom 72 timmar.", "inom 72 timmar – nu uppdaterat.")
        topics.write_text(changed, encoding="utf-8")
        await server.wait_for(lambda: engine.knowledge.version != knowledge.version, what="the reload")
        [after] = await say(server, 5005, "personuppgiftsincident")
        assert "nu uppdaterat" in visible(after)
    assert adapter._reload_task is None  # stopped in post_shutdown


# -- webhook mode ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _update(server: FakeTelegram, update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": server.message(chat_id, text=text)}


async def _post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=update, headers=headers) as response:
        return response.status


async def test_webhook_rejects_requests_without_the_secret(kb: Knowledge, server: FakeTelegram) -> None:
    engine = Engine(kb, MemoryStore(), channel="telegram")
    handled: list[str] = []
    original = engine.handle

    async def spy(cid: str, *args: Any, **kwargs: Any) -> Any:
        handled.append(cid)
        return await original(cid, *args, **kwargs)

    engine.handle = spy  # type: ignore[method-assign]
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    app = build_application(engine, TOKEN, base_url=server.base_url)
    async with app:
        await app.post_init(app)
        await app.updater.start_webhook(**webhook_options(url, "127.0.0.1", port, SECRET))
        await app.start()
        try:
            assert server.webhook is not None and server.webhook["url"] == url and server.webhook["secret_token"] == SECRET
            assert await _post(url, _update(server, 1, P, "tidig marknadsdialog"), None) == 403
            assert await _post(url, _update(server, 2, P, "tidig marknadsdialog"), "wrong-secret") == 403
            await asyncio.sleep(0.3)
            assert handled == [] and server.sent(P) == []
            assert await _post(url, _update(server, 3, P, "tidig marknadsdialog"), SECRET) == 200
            [answer] = await replies(server, P, 0)
            assert "Marknadsdialog</a>" in answer["text"] and handled == [f"tg:{P}"]
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)


# -- the command line --------------------------------------------------------


def _clean_env(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT), "REGELLOTS_WATCH": "0"}
    env.update(extra)
    return env


def test_cli_without_token_exits_2_with_one_line() -> None:
    result = subprocess.run([REGELLOTS, "telegram"], cwd=ROOT, env=_clean_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0]


def test_cli_webhook_without_secret_exits_2() -> None:
    env = _clean_env(TELEGRAM_BOT_TOKEN=TOKEN)
    result = subprocess.run(
        [REGELLOTS, "telegram", "--webhook-url", "https://bot.example.org/tg"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in result.stderr


async def test_cli_webhook_mode_end_to_end(server: FakeTelegram, tmp_path: Path) -> None:
    """`regellots -v telegram --webhook-url …` as deployed: setWebhook with the secret, 403 without it, answers with it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg"
    env = _clean_env(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url, TELEGRAM_WEBHOOK_SECRET=SECRET, REGELLOTS_STATE="memory"
    )
    process = await asyncio.create_subprocess_exec(
        REGELLOTS,
        "-v",
        "telegram",
        "--knowledge",
        str(FIXTURE_KB),
        "--webhook-url",
        url,
        "--port",
        str(port),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await server.wait_for(lambda: server.webhook is not None, timeout=20, what="setWebhook")
        assert server.webhook["url"] == url and server.webhook["secret_token"] == SECRET
        assert {c.params.get("language_code") or "default" for c in server.of("setMyCommands")} == {"default", "en", "sv"}
        status = 0
        for _ in range(100):  # the server may still be binding
            try:
                status = await _post(url, _update(server, 1, P, "hemligaordet tidig marknadsdialog"), "wrong")
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        assert status == 403
        assert await _post(url, _update(server, 2, P, "hemligaordet tidig marknadsdialog"), None) == 403
        await asyncio.sleep(0.3)
        assert server.sent(P) == []
        assert await _post(url, _update(server, 3, P, "hemligaordet tidig marknadsdialog"), SECRET) == 200
        [answer] = await replies(server, P, 0)
        assert "&lt;Se&gt;" in answer["text"]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), timeout=15)
    logs = err.decode()
    assert process.returncode == 0, logs
    assert "hemligaordet" not in logs and TOKEN not in logs  # no message text, no token in the logs
    assert "→ answer, 1 message(s)" in logs


async def test_cli_polling_mode_answers(server: FakeTelegram) -> None:
    env = _clean_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url, REGELLOTS_STATE="memory")
    server.send_text(P, "hej")
    process = await asyncio.create_subprocess_exec(
        REGELLOTS,
        "telegram",
        "--knowledge",
        str(FIXTURE_KB),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        [greeting] = await server.wait_sent(P, 1, timeout=20)
        assert html.unescape(greeting["text"]).startswith("Hej!")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, err.decode()


def test_the_webhook_leaves_out_only_the_pressed_messages_keyboard() -> None:
    """Webhook.receive drops `callback_query.message.reply_markup` before parsing (no handler reads it); nothing else."""
    from adapters.telegram import _drop_pressed_keyboard

    fake = FakeTelegram(TOKEN)
    fake.send_text(P, "hej")
    text = copy.deepcopy(fake.updates[-1])
    before = copy.deepcopy(text)
    _drop_pressed_keyboard(text)
    assert text == before
    message = {"message_id": 9, "date": 1, "chat": fake.chats[P], "text": "Välj", "reply_markup": {"inline_keyboard": [[{"text": "Ja", "callback_data": "=a"}]]}}
    press = {"update_id": 5, "callback_query": {"id": "q1", "from": {"id": P, "is_bot": False, "first_name": "A"}, "chat_instance": "c", "data": "=a", "message": message}}
    expected = copy.deepcopy(press)
    del expected["callback_query"]["message"]["reply_markup"]
    _drop_pressed_keyboard(press)
    assert press == expected
    _drop_pressed_keyboard({"update_id": 6, "callback_query": {"id": "q2", "inline_message_id": "x"}})  # no message: nothing to drop
