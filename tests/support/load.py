"""Load drivers (used by tests/test_load.py and benchmarks/http_load.py): 200 conversations × 20 messages at once through each HTTP channel endpoint, all on 127.0.0.1.

Web: the web chat's server (POST /api/chat, as the page calls it), answering in the HTTP response.

Teams: the real aiohttp server (POST /api/messages) replying through a stub Bot Connector
(tests/fake_connector.py). Telegram: the adapter's webhook server (python-telegram-bot, with the
secret header) replying through the fake Bot API (tests/fake_telegram.py). Each server runs in its
own process as deployed (`serve` below), so it has a core of its own and this process, which
generates the load and plays the other side, the other.

Each conversation sends its messages one after another – the next as soon as the previous request
returned; a button press only once the message carrying the button has arrived, as a person would –
and all conversations run at once. What each conversation must get back is worked out beforehand by
a reference engine of its own and the adapters' renderers, so every reply can be attributed: to the
right conversation, in order, nothing missing, nothing extra. The scripts differ per conversation
(amounts echoed in conclusions, questions, languages, chat types; two Teams users share each group
chat), so a reply delivered to the wrong conversation cannot look right. The servers must log no error.

Two departures from production, both to fit 4,000 requests into the time bound, neither changing
behaviour: the Teams server gets `fast_msrest` (an SDK hot spot), and the Telegram server runs without
AIORateLimiter's caps (30 calls/s overall, 20/min per group). benchmarks/http_load.py uses these drivers
and measures both as shipped.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from telegram.ext import AIORateLimiter

from adapters import teams
from adapters import telegram as tg
from adapters.teams import TeamsSettings
from adapters.teams_activity import plan_turn
from adapters.teams_activity import render as teams_render
from bot.conversation.engine import Engine, load_engine
from bot.conversation.replies import Response
from bot.knowledge import Knowledge, load_knowledge
from bot.state import MemoryStore, open_store
from bot.understanding.pipeline import Incoming
from tests.support.fake_connector import FakeConnector, Sent
from tests.support.fake_telegram import SECRET, TOKEN, FakeTelegram
from tests.support.redis_server import free_port
from tests.support.teams_client import CREDENTIAL_ENV, Server, person

ROOT = Path(__file__).resolve().parent.parent.parent
CONVERSATIONS = 200
MESSAGES = 20
LIMIT = 400.0  # seconds: a hard bound on one whole load run (they take 25–120 s here); it stops a hung run, it is not a speed test
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
WAIT = 90.0  # seconds a conversation waits for a reply before it gives up (the run then fails with what arrived); generous: a busy 2-core machine is slow, not wrong
SETTLE = 0.3  # seconds of quiet after the last expected reply: anything extra would have arrived by then

# -- scripts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing a user does: type `value`, or press the offered option whose value is `value`
    ("#n": the n-th offered option, whatever it is – for scripts on changing knowledge)."""

    press: bool
    value: str


def text(value: str) -> Step:
    return Step(False, value)


def press(value: str) -> Step:
    return Step(True, value)


TOPICS = [
    "tidig marknadsdialog",
    "direktupphandlingsgräns",
    "är vår app en medicinteknisk produkt",
    "personuppgiftsincident",
    "leverantörsbesök på avdelningen",
]


def fixture_script(i: int) -> list[Step]:
    """Conversation i on the fixture knowledge (tests/fixtures/kb): the device-check flow twice, questions, commands."""
    kind = "software" if i % 2 == 0 else "hardware"
    return [
        text("hej"),
        press("go:flow:device-check"),
        press("ans:device-check:purpose:yes"),
        press("ans:device-check:software:software"),
        text(f"{1_000_000 + 1_001 * i} kr"),  # ≥ 1 million: the conclusion repeats the amount – unique per conversation
        text("varför"),
        text(TOPICS[i % len(TOPICS)]),
        text("källor"),
        text("/start device-check"),
        press("ans:device-check:purpose:no"),
        text("tillbaka"),
        press("ans:device-check:purpose:yes"),
        press(f"ans:device-check:software:{kind}"),
        text(f"{2_000 + i} kronor"),
        text(TOPICS[(i + 2) % len(TOPICS)]),
        text("hjälp"),
        press("go:topic:market-dialogue"),
        text("/lang en"),
        press("go:topic:direct-award"),
        text("personal data breach"),
    ]


# What every fixture script makes the engine do (pins the script's meaning: a typo above would show here).
FIXTURE_KINDS = [
    "greeting", "flow", "question", "question", "conclusion", "command", "answer", "command", "flow", "conclusion",
    "question", "question", "question", "conclusion", "answer", "command", "answer", "command", "answer", "answer",
]  # fmt: skip


def resolve(response: Response | None, step: Step) -> tuple[Step, str]:
    """The step as it will be done, and for a press the label of the option meant: a "#n" press after a response
    without options becomes typing "meny" (the menu command), so generated scripts always make sense."""
    options = response.options if response is not None else []
    if not step.press:
        return step, ""
    if step.value.startswith("#"):
        if not options:
            return text("meny"), ""
        option = options[int(step.value[1:]) % len(options)]
        return press(option.value), option.label
    found = [o for o in options if o.value == step.value]
    assert found, f"{step.value!r} is not offered; offered: {[o.value for o in options]}"
    return step, found[-1].label


# -- Teams ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamsConversation:
    """Who talks where. Two people share each group chat; each has their own conversation with the bot."""

    index: int
    conversation: str  # the Bot Connector conversation id
    group: str | None  # None: personal chat; "groupChat"
    sender: dict[str, str]
    locale: str

    @property
    def key(self) -> tuple[str, str]:
        """Where its replies go: the Bot Connector conversation and the recipient."""
        return self.conversation, self.sender["id"]


def teams_conversation(i: int) -> TeamsConversation:
    locale = "en-US" if i % 5 == 4 else "sv-SE"
    if i % 4 in (0, 1):
        return TeamsConversation(i, f"a:load-personal-{i}", None, person(i), locale)
    return TeamsConversation(i, f"19:load-group-{i // 4}@thread.v2", "groupChat", person(i), locale)


@dataclass
class TeamsTurn:
    """One planned request: what to post and which activities must come back for it."""

    text: str
    choice: str | None  # a card button's value (Action.Submit or messageBack), or None (typed text, or an imBack button: its label as text)
    mention: bool
    kind: str
    expected: list[dict[str, Any]]


# Compared fields of a sent activity. "locale" is left out: botbuilder copies the incoming activity's
# locale onto every reply (TurnContext.apply_conversation_reference), whatever the adapter rendered.
TEAMS_KEYS = ("type", "text", "textFormat", "suggestedActions", "attachmentLayout", "attachments")


def teams_view(activity: dict[str, Any]) -> dict[str, Any]:
    """What a Teams reply must show. The checklist's download links are left out: each carries a fresh random
    token and the server's own address, which a reference engine cannot know (tests/test_teams.py
    checks the links themselves)."""
    view = {k: activity[k] for k in TEAMS_KEYS if activity.get(k) is not None}
    return json.loads(json.dumps(view), object_hook=_without_document_links)


def _without_document_links(node: dict[str, Any]) -> dict[str, Any]:
    body = node.get("body")
    if node.get("type") == "AdaptiveCard" and isinstance(body, list):
        node["body"] = [item for item in body if "/documents/" not in str((item.get("selectAction") or {}).get("url", ""))]
    return node


def teams_body(client: Server, conv: TeamsConversation, turn: TeamsTurn) -> dict[str, Any]:
    """The Activity JSON the Teams client would post (tests/test_teams.Server builds it)."""
    where = {"group": conv.group, "conversation": conv.conversation, "sender": conv.sender, "locale": conv.locale}
    if turn.choice is not None:
        return client.activity("message", text=turn.text, value={"choice": turn.choice}, **where)
    return client.message(turn.text, mention=turn.mention, **where)


def _teams_button(activities: list[dict[str, Any]], label: str, value: str) -> dict[str, Any]:
    sent = [Sent("", None, None, a) for a in activities]
    for button in reversed([b for s in sent for b in s.buttons()]):
        if button["type"] == "messageBack" and json.loads(button["value"]) == {"choice": value}:
            return button
        if button["type"] == "Action.Submit" and button["data"] == {"choice": value}:  # an Adaptive Card button
            return button
        if button["type"] == "imBack" and button["title"] == label:
            return button
    raise AssertionError(f"no button for {value!r}")


async def plan_teams(knowledge: Knowledge, scripts: list[list[Step]]) -> list[list[TeamsTurn]]:
    """Each conversation's requests and expected replies, from a reference engine and the adapter's own translation."""
    engine = Engine(knowledge, MemoryStore(), channel="teams")
    client = Server(engine, FakeConnector(url="http://127.0.0.1:9/"))  # only builds Activity JSON here
    plans = []
    for i, script in enumerate(scripts):
        conv = teams_conversation(i)
        previous: Response | None = None
        rendered: list[dict[str, Any]] = []
        turns = []
        for wanted in script:
            step, label = resolve(previous, wanted)
            if step.press:
                button = _teams_button(rendered, label, step.value)
                turn = TeamsTurn(label, step.value if button["type"] in ("messageBack", "Action.Submit") else None, False, "", [])
            else:
                turn = TeamsTurn(step.value, None, conv.group is not None, "", [])
            planned = plan_turn(teams_body(client, conv, turn))
            assert planned is not None
            previous = await engine.handle(planned.conversation, planned.incoming, user=planned.user)
            rendered = teams_render(previous, planned.personal)
            turn.kind, turn.expected = previous.kind, [{"type": "typing"}] + [teams_view(a) for a in rendered]
            turns.append(turn)
        plans.append(turns)
    return plans


@dataclass
class Run:
    """What a load run measured."""

    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds per turn until its last reply arrived
    posts: list[float] = field(default_factory=list)  # Teams: seconds until the POST was answered
    acks: list[float] = field(default_factory=list)  # Telegram: seconds until the webhook answered
    stalled: list[str] = field(default_factory=list)  # Telegram: conversations given up (their replies stopped)
    server_cpu: float = 0.0  # CPU seconds the server process used during the run
    seconds: float = 0.0
    started: dict[str, float] = field(default_factory=dict)  # Teams: incoming activity id → when it was posted
    rate: float | None = None  # paced runs: the offered messages per second over all conversations (None: closed loop)
    late: int = 0  # paced: messages sent after their slot because the previous message's replies came later
    lags: list[float] = field(default_factory=list)  # paced: seconds the load generator woke up after a slot it slept for

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Pace:
    """Paced sending at `rate` messages per second over all `conversations`: conversation i sends its k-th message at
    start + (i + k·conversations) / rate – the conversations staggered evenly over one period, each sending every
    conversations / rate seconds – but never before the replies to its previous message arrived (order is kept, as
    people do); a message whose slot passed while it waited for them goes at once. Latency at a given throughput,
    which is what a percentile target means; the closed loop (no pace) measures the most a server takes instead."""

    rate: float
    conversations: int
    start: float  # time.perf_counter() of slot 0

    def slot(self, i: int, k: int) -> float:
        return self.start + (i + k * self.conversations) / self.rate

    async def wait(self, i: int, k: int, run: Run) -> None:
        """Sleep until conversation i's k-th slot; note a late send (its slot already passed) or how late the sleep ended."""
        slot = self.slot(i, k)
        delay = slot - time.perf_counter()
        if delay <= 0:
            run.late += k > 0  # the first message has no previous reply to wait for
            return
        await asyncio.sleep(delay)
        run.lags.append(time.perf_counter() - slot)


def pace(rate: float | None, conversations: int, run: Run) -> Pace | None:
    """The run's pace starting now (None: closed loop); the run remembers the offered rate."""
    if rate is None:
        return None
    if rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    run.rate = rate
    return Pace(rate, conversations, time.perf_counter())


async def drive_teams(
    client: Server, plans: list[list[TeamsTurn]], *, patient: bool = False, rate: float | None = None
) -> tuple[Run, dict[tuple[str, str], list[str]]]:
    """Post every conversation's turns (each sequentially, all at once); returns the run and the incoming ids per conversation.

    The POST is answered before the replies go out. patient: a conversation sends its next message only once the
    replies to the previous one arrived, as people do; otherwise as soon as the POST was answered. rate: paced
    (see Pace; implies patient)."""
    run, ids = Run(), defaultdict(list)
    run.started = {}
    patient = patient or rate is not None
    paced = pace(rate, len(plans), run)

    async def talk(i: int, turns: list[TeamsTurn]) -> None:
        conv = teams_conversation(i)
        for n, turn in enumerate(turns):
            if paced is not None:
                await paced.wait(i, n, run)
            body = teams_body(client, conv, turn)
            ids[conv.key].append(body["id"])
            started = time.perf_counter()
            run.started[body["id"]] = started
            status, answer = await client.post(body, wait=False)  # the server runs elsewhere; replies come to the connector
            run.posts.append(time.perf_counter() - started)
            run.requests += 1
            if patient and status == 200 and not await client.connector.replies(body["id"], len(turn.expected), WAIT):
                run.stalled.append(f"conversation {i} message {n}")
                return
            if status != 200:
                run.errors.append(f"conversation {i} message {n}: HTTP {status} {answer[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(talk(i, turns) for i, turns in enumerate(plans)))
    run.seconds = time.perf_counter() - started
    return run, ids


async def teams_replies(connector: FakeConnector, expected: int, run: Run, limit: float) -> None:
    """Wait (at most `limit` s) until the connector has `expected` activities — the POSTs are answered before the
    replies go out — then set the run's time and each turn's latency: from its POST to its last reply."""
    deadline = time.monotonic() + limit
    while len(connector.sent) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    run.seconds = max((s.at for s in connector.sent), default=0.0) - min(run.started.values(), default=0.0)
    last: dict[str, float] = {}
    for sent in connector.sent:
        if sent.reply_to is not None:
            last[sent.reply_to] = max(last.get(sent.reply_to, 0.0), sent.at)
    run.latencies = [last[a] - run.started[a] for a in run.started if a in last]


def check_teams(connector: FakeConnector, plans: list[list[TeamsTurn]], ids: dict[tuple[str, str], list[str]]) -> None:
    """Every conversation got exactly its own replies, in order, each threaded onto its own request."""
    got: dict[tuple[str, str], list[Sent]] = defaultdict(list)
    for sent in connector.sent:
        assert sent.activity["conversation"]["id"] == sent.conversation, sent.activity["conversation"]
        got[(sent.conversation, sent.activity["recipient"]["id"])].append(sent)
    keys = {teams_conversation(i).key for i in range(len(plans))}
    assert set(got) == keys, f"replies to unknown conversations: {sorted(set(got) - keys)[:5]}; none for: {sorted(keys - set(got))[:5]}"
    for i, turns in enumerate(plans):
        key = teams_conversation(i).key
        expected = [(view, ids[key][n]) for n, turn in enumerate(turns) for view in turn.expected]
        actual = [(teams_view(s.activity), s.reply_to) for s in got[key]]
        for n, (a, e) in enumerate(zip(actual, expected, strict=False)):
            assert a == e, f"conversation {i}, activity {n}:\n got      {a}\n expected {e}"
        assert len(actual) == len(expected), f"conversation {i}: {len(actual)} activities, expected {len(expected)}"
    assert not connector.unexpected, connector.unexpected[:5]


def teams_client(connector: FakeConnector, url: str, http: aiohttp.ClientSession) -> Server:
    """tests/test_teams.Server as a client only: it builds Activity JSON for `connector` and posts it to `url`."""
    client = Server(None, connector)  # type: ignore[arg-type]  # no engine: the server under test runs elsewhere
    client.url, client.http = url, http
    return client


async def teams_load(
    knowledge: Path,
    connector: FakeConnector,
    scripts: list[list[Step]],
    *,
    state: str = "memory",
    fast_msrest: bool = True,
    rate: float | None = None,
) -> Run:
    """The whole Teams load run against the server (as `regellots teams` runs it) in its own process; AssertionError on any deviation.
    rate: paced (see Pace)."""
    plans = await plan_teams(load(knowledge), scripts)
    options = ["--fast-msrest"] if fast_msrest else []
    expected = sum(len(turn.expected) for turns in plans for turn in turns)
    async with serving("teams", knowledge, state=state, options=options) as server, http_session() as http:
        cpu = server.cpu()
        run, ids = await drive_teams(teams_client(connector, server.url, http), plans, rate=rate)
        await teams_replies(connector, expected, run, LIMIT)
        run.server_cpu = server.cpu() - cpu
    assert run.errors == [], run.errors[:5]
    assert run.requests == sum(map(len, scripts))
    check_teams(connector, plans, ids)
    return run


# -- Telegram ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramConversation:
    index: int
    chat_id: int
    chat_type: str  # "private" or "supergroup" (then text addresses the bot with an @mention)
    user: dict[str, Any]

    @property
    def conversation(self) -> str:
        return f"tg:{self.chat_id}" if self.chat_type == "private" else f"tg:{self.chat_id}:{self.user['id']}"

    @property
    def owner(self) -> int | None:
        return self.user["id"] if self.chat_type != "private" else None


def telegram_conversation(i: int) -> TelegramConversation:
    user = {"id": 500_000 + i, "is_bot": False, "first_name": f"Användare {i}", "language_code": "en" if i % 5 == 4 else "sv"}
    if i % 4 == 2:
        return TelegramConversation(i, -100_000_000 - i, "supergroup", user)
    return TelegramConversation(i, user["id"], "private", user)


@dataclass
class TelegramTurn:
    text: str  # typed text as sent (groups: with the @mention)
    data: str | None  # callback_data of the pressed button, or None for text
    kind: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)  # sendMessage views

    @property
    def calls(self) -> list[str]:
        """The Bot API methods the adapter must call for this update, in order."""
        pressed = ["answerCallbackQuery", "editMessageReplyMarkup"] if self.data is not None else []
        return pressed + ["sendChatAction"] + ["sendMessage"] * len(self.messages)


def telegram_messages(response: Response, owner: int | None, tokens: tg.CallbackTokens) -> list[dict[str, Any]]:
    """The sendMessage calls the adapter makes for a response: HTML parts, the keyboard on each reply's last part."""
    out = []
    for reply in response.replies:
        parts = tg.render(reply)
        markup = tg.keyboard(reply.options, lambda v: tokens.encode(v, owner))
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            out.append({"text": part, "reply_markup": markup.to_dict() if markup and last else None})
    return out


def telegram_view(params: dict[str, Any]) -> dict[str, Any]:
    return {"text": params.get("text"), "reply_markup": params.get("reply_markup")}


async def plan_telegram(knowledge: Knowledge, scripts: list[list[Step]], username: str) -> list[list[TelegramTurn]]:
    engine = Engine(knowledge, MemoryStore(), channel="telegram")
    tokens = tg.CallbackTokens()
    plans = []
    for i, script in enumerate(scripts):
        conv = telegram_conversation(i)
        previous: Response | None = None
        turns = []
        for wanted in script:
            step, _ = resolve(previous, wanted)
            if step.press:
                turn = TelegramTurn("", tokens.encode(step.value, conv.owner))
                incoming = Incoming(choice=step.value, locale=conv.user["language_code"])
            else:
                typed = step.value if conv.chat_type == "private" or step.value.startswith("/") else f"@{username} {step.value}"
                turn = TelegramTurn(typed, None)
                incoming = Incoming(text=step.value, locale=conv.user["language_code"])
            previous = await engine.handle(conv.conversation, incoming, user=str(conv.user["id"]))
            turn.kind, turn.messages = previous.kind, telegram_messages(previous, conv.owner, tokens)
            turns.append(turn)
        plans.append(turns)
    return plans


class RecordingTelegram(FakeTelegram):
    """The fake Bot API, plus every accepted call per chat in arrival order, and waiting for them."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__(token)
        self.log: dict[int, list[tuple[str, dict[str, Any], Any]]] = defaultdict(list)
        self.message_count: dict[int, int] = defaultdict(int)
        self.arrivals: dict[int, list[float]] = defaultdict(list)  # perf_counter() of each accepted sendMessage
        self._changed: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._query_chat: dict[str, int] = {}

    def _note(self, chat_id: int, method: str, params: dict[str, Any], result: Any) -> None:
        self.log[chat_id].append((method, params, result))
        if method == "sendMessage":
            self.message_count[chat_id] += 1
            self.arrivals[chat_id].append(time.perf_counter())
        self._changed[chat_id].set()

    async def api_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        result = await super().api_sendMessage(p)
        self._note(int(p["chat_id"]), "sendMessage", p, result)
        return result

    async def api_sendChatAction(self, p: dict[str, Any]) -> bool:
        result = await super().api_sendChatAction(p)
        self._note(int(p["chat_id"]), "sendChatAction", p, result)
        return result

    async def api_editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        result = await super().api_editMessageReplyMarkup(p)
        self._note(int(p["chat_id"]), "editMessageReplyMarkup", p, result)
        return result

    async def api_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        result = await super().api_answerCallbackQuery(p)
        self._note(self._query_chat[p["callback_query_id"]], "answerCallbackQuery", p, result)
        return result

    async def wait(self, chat_id: int, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed[chat_id].clear()
                await self._changed[chat_id].wait()

    # Updates for the webhook: made by FakeTelegram's helpers (entities, stored messages), taken back off its getUpdates queue.

    def text_update(self, conv: TelegramConversation, typed: str) -> dict[str, Any]:
        self.send_text(conv.chat_id, typed, user=conv.user, chat_type=conv.chat_type)
        return self.updates.pop()

    def press_update(self, conv: TelegramConversation, data: str) -> tuple[dict[str, Any], int]:
        """A press of the newest bot message in the chat carrying a button with `data`; (update, that message's id)."""
        for method, _, result in reversed(self.log[conv.chat_id]):
            if method == "sendMessage" and any(
                b.get("callback_data") == data for row in result.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            ):
                message = copy.deepcopy(self.messages[(conv.chat_id, result["message_id"])])
                break
        else:
            raise LookupError(f"no message with a button {data!r}")
        qid = self.press(message, data, user=conv.user)
        self._query_chat[qid] = conv.chat_id
        return self.updates.pop(), message["message_id"]


@dataclass
class Facts:
    """Per update, what the check needs to know: the incoming message id (groups: replies quote it) or the pressed message id."""

    incoming: list[int | None] = field(default_factory=list)
    pressed: list[int | None] = field(default_factory=list)


async def drive_telegram(
    fake: RecordingTelegram, url: str, plans: list[list[TelegramTurn]], *, patient: bool = False, rate: float | None = None
) -> tuple[Run, dict[int, Facts]]:
    """Post every conversation's updates to the webhook: each as soon as the previous request returned (patient:
    once the previous update's replies arrived; rate: paced, see Pace, implies patient); a press once the message
    with the button arrived. A conversation whose replies stop coming (or whose button never appears) is given up
    after WAIT seconds."""
    run, facts = Run(), defaultdict(Facts)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    patient = patient or rate is not None
    paced = pace(rate, len(plans), run)

    async def talk(http: aiohttp.ClientSession, i: int, turns: list[TelegramTurn]) -> None:
        conv = telegram_conversation(i)
        before, sent = 0, []  # sendMessage calls expected before this update; (when, count) per update
        try:
            for n, turn in enumerate(turns):
                if turn.data is not None or patient:  # a person presses a button once its message is there
                    await fake.wait(conv.chat_id, lambda before=before: fake.message_count[conv.chat_id] >= before)
                if paced is not None:
                    await paced.wait(i, n, run)
                if turn.data is not None:
                    update, pressed = fake.press_update(conv, turn.data)
                    facts[conv.chat_id].incoming.append(None)
                    facts[conv.chat_id].pressed.append(pressed)
                else:
                    update = fake.text_update(conv, turn.text)
                    facts[conv.chat_id].incoming.append(update["message"]["message_id"])
                    facts[conv.chat_id].pressed.append(None)
                started = time.perf_counter()
                async with http.post(url, json=update, headers=headers) as response:
                    status = response.status
                    await response.read()
                run.acks.append(time.perf_counter() - started)
                run.requests += 1
                if status != 200:
                    run.errors.append(f"conversation {i} update {n}: HTTP {status}")
                before += len(turn.messages)
                sent.append((started, before))
            await fake.wait(conv.chat_id, lambda: fake.message_count[conv.chat_id] >= before)
        except (TimeoutError, LookupError) as exc:
            run.stalled.append(f"conversation {i} (chat {conv.chat_id}) gave up at update {len(sent)}: {exc or type(exc).__name__}")
            return
        # Latency per update: until the last reply it asked for arrived at the Bot API.
        arrived = fake.arrivals[conv.chat_id]
        run.latencies += [arrived[count - 1] - started for started, count in sent if count]

    started = time.perf_counter()
    async with http_session() as http:
        await asyncio.gather(*(talk(http, i, turns) for i, turns in enumerate(plans)))
    run.seconds = time.perf_counter() - started
    await asyncio.sleep(SETTLE)  # anything extra would arrive meanwhile
    return run, facts


def check_telegram(fake: RecordingTelegram, plans: list[list[TelegramTurn]], facts: dict[int, Facts]) -> None:
    """Every chat got exactly its own calls, in order: keyboards answered and removed, typing, the expected messages."""
    assert [(c.method, c.error) for c in fake.calls if not c.ok] == []
    chats = {telegram_conversation(i).chat_id for i in range(len(plans))}
    assert set(fake.log) <= chats, f"calls for unknown chats: {sorted(set(fake.log) - chats)[:5]}"
    for i, turns in enumerate(plans):
        conv = telegram_conversation(i)
        log, fact = fake.log[conv.chat_id], facts[conv.chat_id]
        # The messages first: the clearest picture of a reply that went missing, came twice or overtook another.
        got = [telegram_view(p) for m, p, _ in log if m == "sendMessage"]
        want = [(n, m) for n, t in enumerate(turns) for m in t.messages]
        for k, (view, (n, expected)) in enumerate(zip(got, want, strict=False)):
            assert view == expected, (
                f"conversation {i} (chat {conv.chat_id}), message {k} (for update {n}):\n got      {view}\n expected {expected}"
            )
        assert len(got) == len(want), f"conversation {i} (chat {conv.chat_id}): {len(got)} messages, expected {len(want)}"
        calls, expected_calls = [m for m, _, _ in log], [m for t in turns for m in t.calls]
        if calls != expected_calls:
            k = next((k for k, (a, b) in enumerate(zip(calls, expected_calls, strict=False)) if a != b), min(len(calls), len(expected_calls)))
            raise AssertionError(
                f"conversation {i}: calls out of order at call {k} of {len(expected_calls)}:\n"
                f" got      {calls[max(0, k - 2) : k + 3]} ({len(calls)} calls)\n expected {expected_calls[max(0, k - 2) : k + 3]}"
            )
        calls = iter(log)
        for n, turn in enumerate(turns):
            if turn.data is not None:
                next(calls)  # answerCallbackQuery
                _, edit, _ = next(calls)
                assert edit["message_id"] == fact.pressed[n] and edit["reply_markup"] == {"inline_keyboard": []}, (i, n, edit)
            _, action, _ = next(calls)
            assert action["action"] == "typing"
            for k in range(len(turn.messages)):
                _, params, _ = next(calls)
                quoted = (params.get("reply_parameters") or {}).get("message_id")
                group_text = conv.chat_type != "private" and turn.data is None and k == 0  # groups: the answer quotes the question
                assert quoted == (fact.incoming[n] if group_text else None), (i, n, k, quoted)


def unlimited_rate_limiter(max_retries: int = 0) -> AIORateLimiter:
    """AIORateLimiter without the 30 messages/s overall and 20/min per-group caps (which would make
    4,000 updates take minutes); retries on 429 as configured."""
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)


async def telegram_load(
    knowledge: Path,
    fake: RecordingTelegram,
    scripts: list[list[Step]],
    *,
    state: str = "memory",
    patient: bool = False,
    rate: float | None = None,
) -> Run:
    """The whole Telegram load run against the adapter's webhook server in its own process. rate: paced (see Pace)."""
    plans = await plan_telegram(load(knowledge), scripts, fake.username)
    async with serving("telegram", knowledge, state=state, api=fake.base_url) as server:
        assert fake.webhook is not None and fake.webhook["url"] == server.url and fake.webhook["secret_token"] == SECRET
        cpu = server.cpu()
        run, facts = await drive_telegram(fake, server.url, plans, patient=patient, rate=rate)
        run.server_cpu = server.cpu() - cpu
    assert run.errors == [], run.errors[:5]
    assert run.requests == sum(map(len, scripts)) or run.stalled
    check_telegram(fake, plans, facts)
    assert run.stalled == []
    return run


# -- Web -----------------------------------------------------------------------------------------


def web_conversation(i: int) -> str:
    """The id the page would make (16–64 characters of [A-Za-z0-9_-])."""
    return f"load-web-conversation-{i:06d}"


@dataclass
class WebTurn:
    """One planned POST /api/chat: the body, and the JSON that must come back."""

    body: dict[str, Any]
    kind: str = ""
    expected: dict[str, Any] = field(default_factory=dict)


async def plan_web(knowledge: Knowledge, scripts: list[list[Step]]) -> list[list[WebTurn]]:
    """Each conversation's requests and expected answers, from a reference engine and the API's own JSON rendering."""
    from adapters.web_api import reply_json

    engine = Engine(knowledge, MemoryStore(), channel="web")
    plans = []
    for i, script in enumerate(scripts):
        conversation, locale = web_conversation(i), "en" if i % 5 == 4 else "sv"
        previous: Response | None = None
        turns = []
        for wanted in script:
            step, _ = resolve(previous, wanted)
            body: dict[str, Any] = {"conversation": conversation, "locale": locale, ("choice" if step.press else "text"): step.value}
            incoming = Incoming(choice=step.value, locale=locale) if step.press else Incoming(text=step.value, locale=locale)
            previous = await engine.handle("web:" + conversation, incoming, user="web:" + conversation)
            turns.append(WebTurn(body, previous.kind, {"conversation": conversation, **reply_json(previous)}))
        plans.append(turns)
    return plans


async def drive_web(
    http: aiohttp.ClientSession, url: str, plans: list[list[WebTurn]], *, rate: float | None = None
) -> tuple[Run, dict[int, list[Any]]]:
    """Post every conversation's turns (each sequentially, all at once; rate: paced, see Pace), as the page does;
    returns the run and the answers."""
    run, answers = Run(), defaultdict(list)
    paced = pace(rate, len(plans), run)

    async def talk(i: int, turns: list[WebTurn]) -> None:
        for n, turn in enumerate(turns):
            if paced is not None:
                await paced.wait(i, n, run)
            started = time.perf_counter()
            async with http.post(url + "/api/chat", json=turn.body) as response:
                status = response.status
                answer = await response.json() if status == 200 else await response.text()
            run.latencies.append(time.perf_counter() - started)
            run.requests += 1
            answers[i].append(answer)
            if status != 200:
                run.errors.append(f"conversation {i} message {n}: HTTP {status} {str(answer)[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(talk(i, turns) for i, turns in enumerate(plans)))
    run.seconds = time.perf_counter() - started
    return run, answers


def check_web(plans: list[list[WebTurn]], answers: dict[int, list[Any]]) -> None:
    """Every conversation got exactly its own answers, in order."""
    for i, turns in enumerate(plans):
        got = answers.get(i, [])
        for n, (answer, turn) in enumerate(zip(got, turns, strict=False)):
            assert answer == turn.expected, f"conversation {i}, message {n}:\n got      {answer}\n expected {turn.expected}"
        assert len(got) == len(turns), f"conversation {i}: {len(got)} answers, expected {len(turns)}"


async def web_load(knowledge: Path, scripts: list[list[Step]], *, state: str = "memory", rate: float | None = None) -> Run:
    """The whole web load run against the server (as `regellots web` runs it, rate limits off) in its own process.
    rate: paced (see Pace)."""
    plans = await plan_web(load(knowledge), scripts)
    async with serving("web", knowledge, state=state) as server, http_session() as http:
        cpu = server.cpu()
        run, answers = await drive_web(http, server.url, plans, rate=rate)
        run.server_cpu = server.cpu() - cpu
    assert run.errors == [], run.errors[:5]
    assert run.requests == sum(map(len, scripts))
    check_web(plans, answers)
    return run


# -- the servers under test, each in its own process -----------------------------------------------


def load(directory: Path) -> Knowledge:
    knowledge, problems = load_knowledge(directory)
    assert knowledge is not None, problems
    return knowledge


@asynccontextmanager
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client with a connection per conversation (aiohttp pools only 100 by default)."""
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT, connector=aiohttp.TCPConnector(limit=0)) as http:
        yield http


@dataclass(frozen=True)
class Served:
    url: str
    pid: int

    def cpu(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def serving(
    channel: str, knowledge: Path, *, state: str = "memory", api: str = "", options: Sequence[str] = ()
) -> AsyncIterator[Served]:
    """`python -m tests.support.load CHANNEL …` (see serve below) on a free loopback port until the block ends.

    Its own process, as deployed: the server gets a core and the load generator with the stubs the other."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV}
    env.update(REGELLOTS_STATE=state, REGELLOTS_WATCH="0", PTB_TIMEDELTA="true", PYTHONPATH=str(ROOT))
    argv = [channel, "--knowledge", str(knowledge), "--port", str(port), "--api", api, *options]
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.load", *argv, cwd=ROOT, env=env, stdout=log, stderr=log
        )

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")[-3000:]

        try:
            deadline = time.monotonic() + 30
            while not await _accepts(port):
                assert process.returncode is None and time.monotonic() < deadline, f"the {channel} server did not start:\n{output()}"
                await asyncio.sleep(0.05)
            path = "/telegram-hook" if channel == "telegram" else ""
            yield Served(f"http://127.0.0.1:{port}{path}", process.pid)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
        assert process.returncode == 0, f"the {channel} server exited with {process.returncode}:\n{output()}"
        errors = Counter(line for line in output().splitlines() if line.startswith(("ERROR", "CRITICAL", "Traceback")))
        assert not errors, f"the {channel} server logged {errors.total()} error(s): {dict(errors.most_common(5))}\n{output()[-1500:]}"


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def fast_msrest() -> None:
    """botbuilder builds two msrest ClientRetryPolicy objects per turn; each builds its retry list with
    `i not in safe_codes` over a 500-element *list*, 999 times – about 4 ms of CPU each, most of a Teams
    request's cost. A frozenset of the same codes behaves identically and costs microseconds."""
    from msrest.universal_http.requests import ClientRetryPolicy

    ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


def serve(argv: Sequence[str] | None = None) -> None:
    """The server under test: the Teams bot as `regellots teams` runs it, the Telegram bot in webhook mode as
    `regellots telegram --webhook-url` runs it (with the test's token and secret and without the rate limiter),
    or the web chat as `regellots web` runs it (without its rate limits)."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.load")
    parser.add_argument("channel", choices=["teams", "telegram", "web"])
    parser.add_argument("--knowledge", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api", default="", help="telegram: the Bot API base URL")
    parser.add_argument("--fast-msrest", action="store_true", help="teams: see fast_msrest()")
    parser.add_argument("--rate-limit", action="store_true", help="telegram: keep the shipped AIORateLimiter (30 messages/s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("msrest").setLevel(logging.WARNING)
    if args.channel == "web":
        # One address sends every conversation's messages: the per-client and per-conversation limits, whose
        # purpose is to refuse exactly that, are off (test_web_api.py tests them).
        from adapters import web as web_chat
        from adapters.web_settings import WebSettings

        settings = WebSettings(rate_per_minute=0, conversation_rate_per_minute=0)
        web_chat.run(web_chat.WebChannel.from_environment(args.knowledge, settings=settings), port=args.port)
        return
    engine = load_engine(args.knowledge, open_store(os.environ.get("REGELLOTS_STATE")), channel=args.channel)
    if args.channel == "teams":
        if args.fast_msrest:
            fast_msrest()
        teams.run(teams.TeamsBot(engine, TeamsSettings.from_env()), port=args.port)  # the SDK: $REGELLOTS_TEAMS_SDK
        return
    if not args.rate_limit:
        tg.AIORateLimiter = unlimited_rate_limiter  # type: ignore[misc]
    app = tg.build_application(engine, TOKEN, base_url=args.api)
    hook = tg.Webhook(app.bot_data["adapter"], app, f"http://127.0.0.1:{args.port}/telegram-hook", SECRET)
    web.run_app(hook.http_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)




if __name__ == "__main__":
    profile = os.environ.get("REGELLOTS_LOAD_PROFILE")  # benchmarks/http_load.py --profile: the server under cProfile
    if profile:
        import cProfile

        with cProfile.Profile() as profiler:
            serve()
        profiler.dump_stats(profile)
    else:
        serve()
