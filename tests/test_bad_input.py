"""Hostile and odd input through the whole engine (fixture knowledge base).

Besides "never raises" (the engine catches everything), these tests check that
the engine's internal error handler is never reached: that handler turns a bug
into a vague fallback reply and would otherwise hide it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation.dialogue_base import DialogueBase
from bot.conversation.engine import Engine
from bot.conversation.messages import t
from bot.conversation.replies import Response
from bot.knowledge import Knowledge
from bot.state import MemoryStore, SQLiteStore
from bot.state.records import ConversationState
from bot.understanding.pipeline import MAX_CHARS, Incoming

from .conftest import FIXTURE_KB, Chat

ROOT = Path(__file__).resolve().parents[1]
MARKET_QUESTION = "Får vi prata med leverantörer innan upphandling?"


class ErrorLog(logging.Handler):
    """Collects ERROR records of the engine: a store failure or a bug caught inside handle()."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def clear(self) -> None:
        self.records.clear()


@pytest.fixture
def engine_errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("regellotsen.engine")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture(params=["memory", "sqlite"])
async def store_engine(request: pytest.FixtureRequest, kb: Knowledge, tmp_path: Path) -> AsyncIterator[Engine]:
    store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "state.sqlite3")
    yield Engine(kb, store)
    await store.close()


def assert_sane(r: Response) -> None:
    assert isinstance(r, Response) and r.kind != "error"
    # Every reply says something: text, or (the sources command) a titled list of citations.
    assert r.replies and all(reply.text.strip() or (reply.title and reply.citations) for reply in r.replies)


async def test_empty_and_blank_messages(store_engine: Engine, engine_errors: ErrorLog) -> None:
    chat = Chat(store_engine, "blank")
    r = await chat.say("")
    assert r.kind == "greeting"  # the very first message, even empty, is greeted
    for text in ["", " ", "\t\n  \r\n", "\u00a0\u2003", "\x00\x07\x1b", "\u200b\u200d\ufeff", "\u202e\u2066"]:
        r = await chat.say(text)
        assert r.kind == "notice" and r.replies[0].text == t("empty", "sv"), repr(text)
        assert r.options, "the menu is offered again"
    r = await chat.say("hej")
    assert r.kind == "greeting"
    assert not engine_errors.records


async def test_a_100k_message_of_words_is_cut_with_a_notice(store_engine: Engine, engine_errors: ErrorLog) -> None:
    chat = Chat(store_engine, "long")
    text = MARKET_QUESTION + " " + "och så vidare " * 7200  # ≈ 100,000 characters, like a pasted document
    assert len(text) > 100_000
    began = time.monotonic()
    r = await chat.say(text)
    assert time.monotonic() - began < 2
    assert r.replies[0].text == t("truncated", "sv", n=MAX_CHARS)
    assert r.kind == "answer" and r.topic == "market-dialogue"  # the beginning was still read
    r = await chat.say("hej")
    assert r.kind == "greeting"
    assert not engine_errors.records


async def test_control_direction_and_zero_width_characters_do_not_hide_a_question(store_engine: Engine, engine_errors: ErrorLog) -> None:
    chat = Chat(store_engine, "ctl")
    for text in [
        "Får vi prata\x00 med leverantörer\x07 innan\x1b upphandling?",
        "\u202bFår vi prata med leverantörer innan upphandling?\u202c",  # right-to-left embedding
        "\u2067Får vi prata med\u200b leverantörer innan upphandling?\u2069",
        "\ufeffFår vi prata med leverantörer innan upphandling?\r\n",
        "Får vi prata med leverantörer innan upphandling? 🤔🙂👩‍⚕️",
    ]:
        r = await chat.say(text)
        assert r.kind == "answer" and r.topic == "market-dialogue", repr(text)
    assert not engine_errors.records


@pytest.mark.parametrize(
    "text",
    [
        "🙂" * 3000,  # surrogate pairs in UTF-16 (Telegram, Teams), one code point each here
        "👨‍👩‍👧‍👦🏳️‍🌈" * 200,
        "مرحبا، هل يمكننا التحدث مع الموردين؟",  # Arabic, right to left
        "שלום עולם",
        "Z̴̡̧̛̙͖̰̼̪̓̈́̓̾͐a̸̢̰̠̬̓͌l̵̡̛̺̼̯̈́̀͝g̵̦̈́o̸̧̝̊̀",  # stacked combining marks
        "\ud800",  # a lone surrogate: possible in a Python str, not encodable as UTF-8
        "abc\udfffdef \udc80",
        "\U0010ffff\ufffe\uffff\U000e0001",  # non-characters and a tag character
        "ß" * 1500 + "İ" * 300,  # characters that change length under case mapping / NFKC
    ],
)
async def test_unusual_unicode_gets_an_ordinary_reply(store_engine: Engine, engine_errors: ErrorLog, text: str) -> None:
    chat = Chat(store_engine, "uni")
    r = await chat.say(text)
    assert_sane(r)
    r = await chat.say(MARKET_QUESTION)
    assert r.topic == "market-dialogue"
    assert not engine_errors.records


INJECTIONS = [
    "'; DROP TABLE conversations; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM events WHERE ('1'='1",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(document.cookie)">klicka</a>',
    "<b>fet</b> <i>kursiv</i> &amp; &lt;tg-spoiler&gt; <tg-emoji emoji-id=\"1\">x</tg-emoji>",
    "[klicka här](javascript:alert(1)) **fet** __under__ `kod` ```block``` ||spoiler||",
    "{{7*7}} ${7*7} %s %(x)s {0} {lang}",  # format-string and template lookalikes
    "../../../../etc/passwd",
    "@everyone /help@OtherBot",
]


@pytest.mark.parametrize("text", INJECTIONS)
async def test_injection_lookalikes_are_just_text(store_engine: Engine, engine_errors: ErrorLog, text: str) -> None:
    chat = Chat(store_engine, "inj")
    r = await chat.say(text)
    assert_sane(r)
    # The engine never echoes what the user typed into its replies, so nothing can be smuggled
    # into the adapter's formatting.
    for marker in ("javascript:", "<script", "<a ", "DROP TABLE", "DELETE FROM", "{{7*7}}", "${7*7}", "/etc/passwd"):
        if marker in text:
            assert marker not in r.plain_text()
    r = await chat.say(MARKET_QUESTION)
    assert r.topic == "market-dialogue"
    assert not engine_errors.records


async def test_sql_lookalikes_are_stored_as_data(kb: Knowledge, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.sqlite3")
    engine = Engine(kb, store)
    await Chat(engine, "victim").say("starta medicintekniska frågorna")
    odd_ids = ["'; DROP TABLE conversations; --", "x" * 5000, ""]
    for conversation in odd_ids:
        for text in INJECTIONS[:3]:
            assert_sane(await engine.handle(conversation, Incoming(text=text)))
    events = await store.events()
    assert [e["text"] for e in events] == INJECTIONS[:3] * len(odd_ids)  # unanswered questions, kept verbatim
    r = await Chat(engine, "victim").say("ja")  # the tables are intact: the other conversation goes on
    assert "Är det programvara?" in r.replies[-1].text
    await store.close()


async def test_lone_surrogates_are_recorded_by_every_store(kb: Knowledge, tmp_path: Path) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "s.sqlite3")):
        engine = Engine(kb, store)
        r = await engine.handle("s", Incoming(text="hur bakar man \ud800 kanelbullar"))
        assert r.kind == "fallback"
        [event] = await store.events()
        assert event["text"] == "hur bakar man \ud800 kanelbullar"
        await store.close()


@pytest.mark.parametrize(
    "text",
    ["/start", "/start ", "/start <b>x</b>", "/start " + "x" * 3000, "/start ../../etc", "/start \ud800", "/help@Regellotsen\x00", "/lang xx", "/lang \u202e"],
)
async def test_odd_commands(store_engine: Engine, engine_errors: ErrorLog, text: str) -> None:
    r = await Chat(store_engine, "cmd").say(text)
    assert_sane(r)
    assert r.kind in ("greeting", "command", "fallback", "clarify", "answer", "notice")
    assert not engine_errors.records


@pytest.mark.parametrize(
    "value",
    ["", ":", "ans:", "ans:device-check", "ans:device-check:purpose", "ans:device-check:purpose:maybe", "ans:::", "go:", "go:topic:",
     "go:flow:nope", "go:nope:x", "cmd:", "cmd:lang:xx", "cmd:nope", "lang:", "lang:xx", "x" * 10_000, "\ud800", "go:topic:\ud800"],
)  # fmt: skip
async def test_forged_button_values_never_move_the_flow(store_engine: Engine, engine_errors: ErrorLog, value: str) -> None:
    chat = Chat(store_engine, "forged")
    await chat.say("starta medicintekniska frågorna")
    r = await store_engine.handle("forged", Incoming(choice=value))
    assert_sane(r)
    r = await chat.say("ja")  # still on the first question
    assert "Är det programvara?" in r.replies[-1].text
    assert not engine_errors.records


# -- properties -------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # every code point, lone surrogates included
TEXTS = st.one_of(
    st.text(ANY_CHAR, max_size=3000),
    st.text(max_size=300),
    st.text(st.characters(categories=["N", "Zs", "Po"]), min_size=1, max_size=8),  # numbers in any script: option picks
    st.lists(st.sampled_from(["ja", "nej", "1", "2", "tillbaka", "börja om", "/start", "app", "ce", "upphandling", "\u202e", "🙂", "  "]))
    .map(" ".join),
)


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@settings(max_examples=200, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_any_text_gets_a_reply_and_the_conversation_goes_on(kb: Knowledge, text: str) -> None:
    async def scenario() -> None:
        errors = ErrorLog()
        logger = logging.getLogger("regellotsen.engine")
        logger.addHandler(errors)
        try:
            engine = Engine(kb, MemoryStore())
            r = await engine.handle("p", Incoming(text=text, locale="sv-SE"))
            assert_sane(r)
            assert not errors.records, [rec.getMessage() for rec in errors.records]
            in_flow = DialogueBase.open_flow(ConversationState.from_json(await engine.store.load("p")))
            r = await engine.handle("p", Incoming(text="hej"))
            if in_flow is not None and not in_flow.paused:  # a greeting mid-flow re-asks the open question
                assert r.kind == "question" and r.replies[0].text == t("not_read_greeting", r.lang)
            else:
                assert r.kind == "greeting" and r.replies[0].text == t("greeting", r.lang)
        finally:
            logger.removeHandler(errors)

    _run(scenario())


@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(first=TEXTS, value=st.one_of(st.text(ANY_CHAR, max_size=80), st.sampled_from(["ans:device-check:purpose:", "go:topic:", "cmd:", "lang:"]).flatmap(
    lambda prefix: st.text(ANY_CHAR, max_size=40).map(lambda rest: prefix + rest))))  # fmt: skip
def test_any_text_or_button_mid_flow_never_breaks_the_flow(kb: Knowledge, first: str, value: str) -> None:
    async def scenario() -> None:
        engine = Engine(kb, MemoryStore())
        chat = Chat(engine, "m")
        await chat.say("starta medicintekniska frågorna")
        assert_sane(await engine.handle("m", Incoming(text=first)))
        assert_sane(await engine.handle("m", Incoming(choice=value)))
        # Whatever happened, the user can always start over and walk the flow.
        await chat.say("börja om")
        r = await chat.say("starta medicintekniska frågorna")
        assert r.kind == "flow"
        r = await chat.press("Ja")
        assert "Är det programvara?" in r.replies[-1].text

    _run(scenario())


# -- engine bugs found by these tests (fixed; kept as regressions) ----------


async def test_superscript_digit_is_not_an_internal_error(engine: Engine, engine_errors: ErrorLog) -> None:
    chat = Chat(engine, "sup")
    await chat.say("starta medicintekniska frågorna")
    r = await chat.say("²")
    assert not engine_errors.records
    assert r.kind == "question" and "medicinskt syfte" in r.replies[-1].text  # re-asked, not a bare fallback


ISOLATED = """
import asyncio, json, sys, time
from bot.understanding.pipeline import Incoming
from bot.conversation.dialogue_base import DialogueBase
from bot.conversation.engine import Engine
from bot.knowledge import load_knowledge
from bot.state import MemoryStore

knowledge, _ = load_knowledge(__import__("pathlib").Path(sys.argv[1]))
engine = Engine(knowledge, MemoryStore())
text = json.loads(sys.stdin.readline())
print("ready", flush=True)
began = time.monotonic()
r = asyncio.run(engine.handle("iso", Incoming(text=text)))
print(json.dumps({"seconds": time.monotonic() - began, "kind": r.kind, "texts": [x.text for x in r.replies]}), flush=True)
"""


async def handle_isolated(text: str, bound: float) -> dict:  # type: ignore[type-arg]
    """engine.handle(text) in a child process, killed after `bound` seconds: a slow engine fails
    the test quickly instead of blocking the whole test run."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ISOLATED, str(FIXTURE_KB), cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(json.dumps(text).encode() + b"\n")
        await child.stdin.drain()
        assert await asyncio.wait_for(child.stdout.readline(), 30) == b"ready\n"
        try:
            line = await asyncio.wait_for(child.stdout.readline(), bound)
        except TimeoutError:
            pytest.fail(f"engine.handle took more than {bound:g} s for a {len(text)}-character message", pytrace=False)
        return json.loads(line)
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()


async def test_isolated_harness_measures_an_ordinary_message() -> None:
    result = await handle_isolated(MARKET_QUESTION, 2)
    assert result["kind"] == "answer" and result["seconds"] < 2


async def test_a_100k_message_without_spaces_is_handled_in_bounded_time() -> None:
    # Once took ~30 s: the privacy regexes ran on the uncut text and backtracked quadratically.
    result = await handle_isolated("x" * 100_000, 2)
    assert result["texts"][0] == t("truncated", "sv", n=MAX_CHARS)


async def test_a_long_unbroken_token_is_handled_in_bounded_time() -> None:
    # Once took ~7 s (and ~3 s for 2000 random letters): every suffix of the token was stemmed.
    # 2000 characters (under MAX_CHARS and Telegram's 4096); NFKC turns each "ﬃ" into "ffi".
    result = await handle_isolated("ﬃ" * 2000, 1)
    assert result["kind"] == "fallback"
