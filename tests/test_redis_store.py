"""RedisStore against a real redis-server: shared state, locking, expiry, outages.

Two RedisStore objects stand for two bot processes (separate connection pools
and in-process locks); one test uses a real second process.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.conversation.messages import TEXTS, t
from bot.conversation.replies import Response
from bot.knowledge import Knowledge
from bot.state import ConversationState, StoreUnavailable, open_store
from bot.state.redis_store import RedisStore
from bot.understanding.pipeline import Incoming
from tests.support.redis_server import RedisServer, free_port, running_server

from .conftest import Chat

START_FLOW = "starta medicintekniska frågorna"
PATH = ["purpose", "software", "value"]  # the device-check flow when answered Ja, Programvara, a number


@pytest.fixture(autouse=True)
def default_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGELLOTS_REDIS_PREFIX", raising=False)
    monkeypatch.delenv("REGELLOTS_TTL_DAYS", raising=False)


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_server(tmp_path_factory)


@pytest.fixture
async def make_store(redis_server: RedisServer) -> AsyncIterator[Callable[..., RedisStore]]:
    """New RedisStore objects on the test's server (each like another process); closed afterwards."""
    made: list[RedisStore] = []

    def make(**kwargs: object) -> RedisStore:
        store = RedisStore(redis_server.url, **kwargs)  # type: ignore[arg-type]
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()


class Relay:
    """One conversation whose messages alternate between engines, as behind a load balancer."""

    def __init__(self, engines: list[Engine], conversation: str = "shared") -> None:
        self.chats = [Chat(e, conversation) for e in engines]
        self.turn = 0

    def _next(self) -> Chat:
        previous = self.chats[(self.turn - 1) % len(self.chats)]
        chat = self.chats[self.turn % len(self.chats)]
        chat.last = previous.last  # the buttons the user sees came from whichever process answered last
        self.turn += 1
        return chat

    async def say(self, text: str) -> Response:
        return await self._next().say(text)

    async def press(self, label: str) -> Response:
        return await self._next().press(label)


async def test_two_engines_alternating_keep_one_conversation(kb: Knowledge, make_store: Callable[..., RedisStore]) -> None:
    relay = Relay([Engine(kb, make_store()), Engine(kb, make_store())])
    r = await relay.say(START_FLOW)
    assert r.kind == "flow" and r.replies[-1].text.startswith("Har produkten ett medicinskt syfte?")
    r = await relay.press("Ja")
    assert r.kind == "question" and "Är det programvara?" in r.replies[-1].text
    r = await relay.say("tillbaka")  # back needs the history saved by the other process
    assert r.replies[0].text == t("going_back", "sv") and "medicinskt syfte" in r.replies[-1].text
    r = await relay.press("Ja")
    r = await relay.say("english")
    assert r.lang == "en" and "Is it software?" in r.replies[-1].text
    r = await relay.press("Software")
    assert r.lang == "en" and "Roughly what does development cost?" in r.replies[-1].text
    r = await relay.say("about 1.5 million SEK")
    assert r.kind == "conclusion" and "Rule 11 applies to the software." in r.plain_text()
    r = await relay.say("why")
    assert "Is it software? → Software" in r.plain_text()


async def test_state_is_one_expiring_key_per_conversation_under_the_prefix(
    kb: Knowledge, make_store: Callable[..., RedisStore], redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(ttl=3600)
    await Chat(Engine(kb, store), "c1").say(START_FLOW)
    keys = await store.redis.keys("*")
    assert keys == ["regellots:conv:c1"]  # and no lock left behind
    assert 3_500_000 < await store.redis.pttl("regellots:conv:c1") <= 3_600_000
    state = ConversationState.from_json(await store.redis.get("regellots:conv:c1"))
    assert state.flow is not None and state.flow.flow == "device-check" and state.flow.node == "purpose"

    # Another prefix (from the environment, as open_store does) is another bot: it does not see c1.
    monkeypatch.setenv("REGELLOTS_REDIS_PREFIX", "other-bot:")
    monkeypatch.setenv("REGELLOTS_TTL_DAYS", "2")
    other = open_store(redis_server.url)
    assert isinstance(other, RedisStore) and other.prefix == "other-bot:" and other.ttl == 2 * 24 * 3600
    try:
        r = await Chat(Engine(kb, other), "c1").say("ja")
        assert r.kind != "question"  # no flow open in this bot's c1
        assert sorted(await store.redis.keys("*")) == ["other-bot:conv:c1", "other-bot:events", "regellots:conv:c1"]
    finally:
        await other.close()


def _accepted(r: Response, sent: str) -> int:
    """+1 if the response shows an answer taken, -1 for a step back taken, else 0."""
    if sent == "back":
        return -1 if r.replies[0].text == t("going_back", r.lang) else 0
    if r.kind == "conclusion":
        return 1
    # A taken answer moves to the next question and says nothing else; a refused one leads with a notice.
    return 1 if r.kind == "question" and len(r.replies) == 1 else 0


MESSAGES = {
    "yes": Incoming(choice="ans:device-check:purpose:yes"),
    "software": Incoming(choice="ans:device-check:software:software"),
    "number": Incoming(text="1500000"),
    "back": Incoming(text="tillbaka"),
}


async def _race(engines: list[Engine], conversation: str, plan: list[str]) -> tuple[int, ConversationState]:
    """Send the plan's messages at once, alternating engines; return (net accepted steps, final state)."""
    await engines[0].handle(conversation, Incoming(text=START_FLOW))
    for engine in engines:
        # Open enough pooled connections first, so the messages really reach Redis at the same
        # moment instead of queueing behind connection set-up (which would serialise them anyway).
        await asyncio.gather(*(engine.store.redis.ping() for _ in plan))  # type: ignore[attr-defined]
    responses = await asyncio.gather(*(engines[i % 2].handle(conversation, MESSAGES[m]) for i, m in enumerate(plan)))
    assert all(r.kind != "error" for r in responses), [r.replies[0].text for r in responses if r.kind == "error"]
    net = sum(_accepted(r, m) for r, m in zip(responses, plan, strict=True))
    state = ConversationState.from_json(await engines[0].store.load(conversation))
    return net, state


def _check_flow_state(state: ConversationState, net: int) -> None:
    fs = state.flow
    assert fs is not None and fs.flow == "device-check"
    assert len(fs.history) == net, f"{net} accepted steps, but the saved history has {len(fs.history)}: updates were lost"
    assert [step["node"] for step in fs.history] == PATH[:net]
    expected_facts = [{}, {"medical_purpose": True}, {"medical_purpose": True, "kind": "software"}]
    for step, facts in zip(fs.history, expected_facts, strict=False):
        assert step["facts"] == facts
    if net == 3:
        assert fs.done and fs.facts == {"medical_purpose": True, "kind": "software", "cost_sek": 1500000}
    else:
        assert not fs.done and fs.node == PATH[net] and fs.facts == expected_facts[net]


async def test_concurrent_messages_through_two_engines_never_corrupt_the_conversation(
    kb: Knowledge, make_store: Callable[..., RedisStore]
) -> None:
    engines = [Engine(kb, make_store()), Engine(kb, make_store())]
    rng = random.Random(20240611)
    for round_ in range(3):
        plan = [rng.choice(["yes", "yes", "software", "number", "back"]) for _ in range(20)]
        net, state = await _race(engines, f"race-{round_}", plan)
        _check_flow_state(state, net)
        assert 0 <= net <= 3


class UnlockedRedisStore(RedisStore):
    """What the lock prevents: the same store without it."""

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        yield


async def test_the_concurrency_check_catches_a_store_without_the_lock(kb: Knowledge, redis_server: RedisServer) -> None:
    # Every message is "Ja" to the first question: with the lock exactly one is taken, without it
    # several handlers read the same state and each believes its answer was taken.
    stores = [UnlockedRedisStore(redis_server.url), UnlockedRedisStore(redis_server.url)]
    try:
        net, state = await _race([Engine(kb, s) for s in stores], "unlocked", ["yes"] * 20)
        assert net > 1
        with pytest.raises(AssertionError, match="updates were lost"):
            _check_flow_state(state, net)
    finally:
        for s in stores:
            await s.close()


async def test_the_same_plan_with_the_lock_takes_exactly_one_answer(kb: Knowledge, make_store: Callable[..., RedisStore]) -> None:
    net, state = await _race([Engine(kb, make_store()), Engine(kb, make_store())], "locked", ["yes"] * 20)
    assert net == 1
    _check_flow_state(state, net)


async def test_lock_holds_across_store_instances(make_store: Callable[..., RedisStore]) -> None:
    first, second = make_store(), make_store()
    order: list[str] = []

    async def holder(release: asyncio.Event) -> None:
        async with first.lock("c"):
            order.append("first in")
            await release.wait()
            order.append("first out")

    async def waiter() -> None:
        async with second.lock("c"):
            order.append("second in")

    release = asyncio.Event()
    held = asyncio.create_task(holder(release))
    while not order:
        await asyncio.sleep(0.01)
    assert 0 < await first.redis.pttl(first.lock_key("c")) <= 10_000  # the lock lives in Redis, with an expiry
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.4)
    assert not waiting.done() and order == ["first in"]
    async with second.lock("other conversation"):  # other conversations are not held up
        pass
    release.set()
    await asyncio.wait_for(asyncio.gather(held, waiting), 2)
    assert order == ["first in", "first out", "second in"]
    assert await first.redis.exists(first.lock_key("c")) == 0


async def test_waiting_too_long_for_the_lock_gives_the_error_reply(kb: Knowledge, make_store: Callable[..., RedisStore]) -> None:
    holder, impatient = make_store(), make_store(lock_wait=0.3)
    engine = Engine(kb, impatient)
    async with holder.lock("busy"):
        began = time.monotonic()
        with pytest.raises(StoreUnavailable):
            async with impatient.lock("busy"):
                pass
        r = await engine.handle("busy", Incoming(text="hej"))
        assert r.kind == "error" and r.replies[0].text == t("unavailable", "sv")
        assert time.monotonic() - began < 2
    r = await engine.handle("busy", Incoming(text="hej"))
    assert r.kind == "greeting"


LOCK_AND_HANG = """
import asyncio, sys
from bot.state.redis_store import RedisStore
from bot.conversation.replies import Response

async def main():
    store = RedisStore(sys.argv[1], lock_timeout=float(sys.argv[2]))
    async with store.lock("crash"):
        print("locked", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_lock_of_a_killed_process_expires(make_store: Callable[..., RedisStore], redis_server: RedisServer) -> None:
    lock_timeout = 1.5
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCK_AND_HANG, redis_server.url, str(lock_timeout),
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    try:
        assert await asyncio.wait_for(child.stdout.readline(), 10) == b"locked\n"  # type: ignore[union-attr]
        locked_at = time.monotonic()
        with pytest.raises(StoreUnavailable):
            async with make_store(lock_wait=0.3).lock("crash"):
                pass
        child.kill()  # dies holding the lock: no release ever comes
        await child.wait()
        async with make_store(lock_wait=5).lock("crash"):
            waited = time.monotonic() - locked_at
        assert lock_timeout - 0.3 < waited < lock_timeout + 1.5
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def test_idle_conversations_expire(kb: Knowledge, make_store: Callable[..., RedisStore]) -> None:
    store = make_store(ttl=1)
    chat = Chat(Engine(kb, store), "idle")
    await chat.say(START_FLOW)
    await asyncio.sleep(0.6)
    await chat.press("Ja")  # activity renews the expiry
    await asyncio.sleep(0.6)
    assert await store.load("idle") is not None  # 1.2 s after the first message, 0.6 s idle
    await asyncio.sleep(1.5)
    assert await store.load("idle") is None
    r = await chat.say("hej")
    assert r.kind == "greeting" and len(r.replies) == 1  # no "let's continue" with a flow: it is gone


async def test_events_are_shared_capped_and_filtered(kb: Knowledge, make_store: Callable[..., RedisStore]) -> None:
    first, second = make_store(max_events=5), make_store(max_events=5)
    engine = Engine(kb, first)
    r = await engine.handle("ev", Incoming(text="hur bakar man kanelbullar \ud800"), user="user-1")
    assert r.kind == "fallback"
    [event] = await second.events()
    assert event["type"] == "fallback" and event["text"] == "hur bakar man kanelbullar \ud800"  # a lone surrogate survives
    assert event["user"] != "user-1" and len(event["user"]) == 16  # pseudonymised
    now = time.time()
    for i in range(8):
        await second.record({"type": "fallback", "text": f"q{i}", "time": now + i})
    events = await first.events()
    assert [e["text"] for e in events] == ["q3", "q4", "q5", "q6", "q7"]
    assert [e["text"] for e in await first.events(since=now + 6)] == ["q6", "q7"]
    assert await first.redis.llen(first.events_key) == 5


async def test_unreachable_redis_fails_fast_and_recovers_on_the_same_port(kb: Knowledge, redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url)
    engine = Engine(kb, store)
    try:
        assert await engine.ready()
        chat = Chat(engine, "outage")
        await chat.say(START_FLOW)

        redis_server.stop()
        began = time.monotonic()
        assert await engine.ready() is False
        r = await chat.say("ja")
        assert r.kind == "error" and [x.text for x in r.replies] == [t("unavailable", "sv")]
        assert "Tekniskt fel" in r.replies[0].text and "Technical problem" in TEXTS["unavailable"].en
        r = await engine.handle("outage", Incoming(text="hur bakar man kanelbullar"))  # would record an event
        assert r.kind == "error"
        assert time.monotonic() - began < 3
        with pytest.raises(Exception):  # noqa: B017 — any error; the engine catches them all
            await store.events()

        redis_server.start()  # same port; no persistence, so the old conversation is gone
        assert await engine.ready()
        r = await Chat(engine, "outage").say("hej")
        assert r.kind == "greeting" and len(r.replies) == 1
        fresh = Chat(engine, "after")
        await fresh.say(START_FLOW)
        r = await fresh.press("Ja")
        assert "Är det programvara?" in r.replies[-1].text
    finally:
        await store.close()


async def test_hung_redis_fails_fast_and_the_conversation_continues_after(kb: Knowledge, redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, lock_timeout=2)
    engine = Engine(kb, store)
    try:
        chat = Chat(engine, "hang")
        await chat.say(START_FLOW)
        redis_server.pause()  # connections accepted, nothing answered
        try:
            began = time.monotonic()
            assert await engine.ready() is False
            assert time.monotonic() - began < 2
            began = time.monotonic()
            r = await engine.handle("hang", Incoming(choice="ans:device-check:purpose:yes"))
            assert r.kind == "error" and r.replies[0].text == t("unavailable", "sv")
            assert time.monotonic() - began < 3
        finally:
            redis_server.resume()
        assert await engine.ready()
        # The state survived (the server only froze): the flow goes on from the first question.
        deadline = time.monotonic() + 5
        while (r := await chat.press("Ja")).kind == "error" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)  # a lock set by a command that arrived while frozen expires by itself
        assert r.kind == "question" and "Är det programvara?" in r.replies[-1].text
    finally:
        await store.close()


async def test_a_closed_port_never_raises_from_ready_or_handle(kb: Knowledge) -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    engine = Engine(kb, store)
    began = time.monotonic()
    assert await engine.ready() is False
    assert await store.ready() is False
    for incoming in (Incoming(text="hej"), Incoming(choice="cmd:menu"), Incoming(text="hur bakar man kanelbullar")):
        r = await engine.handle("nowhere", incoming)
        assert r.kind == "error" and r.replies[0].text == t("unavailable", "sv")
    assert time.monotonic() - began < 3
    await store.close()
    await store.close()  # twice is fine


def test_open_store_reads_the_ttl_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGELLOTS_TTL_DAYS", "0.5")
    store = open_store("redis://127.0.0.1:1/0")
    assert isinstance(store, RedisStore) and store.ttl == 12 * 3600 and store.prefix == "regellots:"
    assert open_store("redis://127.0.0.1:1/0", ttl=7).ttl == 7  # type: ignore[attr-defined]
    monkeypatch.setenv("REGELLOTS_TTL_DAYS", "soon")
    with pytest.raises(ValueError, match="REGELLOTS_TTL_DAYS"):
        open_store("redis://127.0.0.1:1/0")

