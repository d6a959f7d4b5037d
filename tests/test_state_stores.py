"""MemoryStore and SQLiteStore: expiry, bounds, the in-process lock, configuration."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

import bot.state.base
from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import ConversationState, MemoryStore, SQLiteStore, StoreUnavailable, open_store, ttl_from_env
from bot.understanding.pipeline import Incoming

from .conftest import Chat


async def test_memory_store_expires_idle_conversations_and_drops_them() -> None:
    store = MemoryStore(ttl=0.2)
    await store.save("old", "{}")
    assert await store.load("old") == "{}"
    await asyncio.sleep(0.3)
    assert await store.load("old") is None
    await store.save("a", "{}")
    await asyncio.sleep(0.3)
    await store.save("b", "{}")  # a save also sweeps what has expired, loaded or not
    assert len(store) == 1 and await store.load("b") == "{}"


async def test_memory_store_is_capped_and_keeps_the_recently_active() -> None:
    store = MemoryStore(max_conversations=3)
    for cid in "abc":
        await store.save(cid, cid)
    await store.save("a", "a2")  # a is active again
    await store.save("d", "d")
    await store.save("e", "e")
    assert len(store) == 3
    assert [await store.load(c) for c in "abcde"] == ["a2", None, None, "d", "e"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_events_are_capped_and_filtered(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.state.base, "MAX_EVENTS", 5)
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.sqlite3")
    start = time.time() - 100  # recent: records older than the retention (90 days) are gone
    for i in range(8):
        await store.record({"type": "fallback", "text": f"q{i} \ud800", "time": start + i})
    assert [e["text"] for e in await store.events()] == [f"q{i} \ud800" for i in range(3, 8)]
    assert [e["text"] for e in await store.events(since=start + 6)] == ["q6 \ud800", "q7 \ud800"]
    await store.close()


async def test_sqlite_store_keeps_state_across_a_restart_and_expires_it(kb: Knowledge, tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = SQLiteStore(path)
    await Chat(Engine(kb, first), "c").say("starta medicintekniska frågorna")
    await first.close()
    second = SQLiteStore(path)
    r = await Chat(Engine(kb, second), "c").say("ja")
    assert "Är det programvara?" in r.replies[-1].text
    await second.close()

    short = SQLiteStore(path, ttl=0.3)
    assert await short.load("c") is not None
    await asyncio.sleep(0.4)
    assert await short.load("c") is None  # expired even before the sweep
    assert short.expire() == 1 and short.expire() == 0
    await short.close()


async def test_sqlite_store_errors_reach_the_engine_as_the_error_reply(kb: Knowledge, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    engine = Engine(kb, store)
    await store.close()  # e.g. the disk went away
    assert await engine.ready() is False
    r = await engine.handle("c", Incoming(text="hej"))
    assert r.kind == "error"


class SlowMemoryStore(MemoryStore):
    """A store whose load and save take a moment, as a networked one does."""

    async def load(self, conversation_id: str) -> str | None:
        await asyncio.sleep(0.002)
        return await super().load(conversation_id)

    async def save(self, conversation_id: str, state: str) -> None:
        await asyncio.sleep(0.002)
        await super().save(conversation_id, state)


async def test_local_lock_serialises_one_conversation(kb: Knowledge) -> None:
    store = SlowMemoryStore()
    engine = Engine(kb, store)
    await engine.handle("c", Incoming(text="starta medicintekniska frågorna"))
    yes = Incoming(choice="ans:device-check:purpose:yes")
    responses = await asyncio.gather(*(engine.handle("c", yes) for _ in range(10)))
    taken = [r for r in responses if r.kind == "question" and len(r.replies) == 1]
    assert len(taken) == 1  # the other nine see the answered state and say so
    state = ConversationState.from_json(await store.load("c"))
    assert state.flow is not None and len(state.flow.history) == 1
    assert store._locks == {}  # no lock kept for idle conversations


async def test_local_lock_timeout_raises_and_cleans_up() -> None:
    store = MemoryStore()
    async with store.lock("c"):
        with pytest.raises(StoreUnavailable):
            async with store.lock("c", timeout=0.05):
                pass
        async with store.lock("other", timeout=0.05):
            pass
    async with store.lock("c", timeout=0.05):  # free again
        pass
    assert store._locks == {}


def test_ttl_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REGELLOTS_TTL_DAYS", raising=False)
    assert ttl_from_env() == 30 * 24 * 3600
    for raw, seconds in [("7", 7 * 86400), (" 0.5 ", 43200), ("", 30 * 86400)]:
        monkeypatch.setenv("REGELLOTS_TTL_DAYS", raw)
        assert ttl_from_env() == seconds
    for raw in ["0", "-1", "nan", "inf", "a week"]:
        monkeypatch.setenv("REGELLOTS_TTL_DAYS", raw)
        with pytest.raises(ValueError, match="REGELLOTS_TTL_DAYS"):
            ttl_from_env()
    monkeypatch.setenv("REGELLOTS_TTL_DAYS", "2")
    memory = open_store("memory")
    assert isinstance(memory, MemoryStore) and memory.ttl == 2 * 86400
    sqlite = open_store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert isinstance(sqlite, SQLiteStore) and sqlite.ttl == 2 * 86400 and sqlite.path == tmp_path / "x.sqlite3"
    assert open_store("memory", ttl=60).ttl == 60  # type: ignore[attr-defined]
    asyncio.run(sqlite.close())


def test_state_json_is_the_dataclass_fields_as_they_stand() -> None:
    import json
    from dataclasses import asdict

    from bot.state.records import ConversationState, FlowState

    state = ConversationState(
        lang="en",
        flow=FlowState("procurement", "value", {"buyer": "region"}, [{"node": "buyer", "answer": "region", "facts": {}}], given={"buyer-region": "regionen"}),
        options=[["Ja", "ans:procurement:value:yes"]],
        last={"kind": "topic", "id": "lou-basics", "close": ["topic:x"]},
        described={"thing-software": "app"},
    )
    assert state.to_json() == json.dumps(asdict(state), ensure_ascii=False, separators=(",", ":"))
    assert ConversationState.from_json(state.to_json()) == state
