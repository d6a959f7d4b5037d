"""The unanswered-questions record expires (issue #12, item 6): default 90 days, REGELLOTS_UNANSWERED_DAYS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.state import MemoryStore, SQLiteStore
from bot.state.base import event_cutoff
from bot.state.redis_store import RedisStore
from tests.support.redis_server import RedisServer, running_server

DAY = 86400.0


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_server(tmp_path_factory)


def test_the_default_retention_is_90_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGELLOTS_UNANSWERED_DAYS", raising=False)
    assert event_cutoff(now=1000 * DAY) == 910 * DAY
    monkeypatch.setenv("REGELLOTS_UNANSWERED_DAYS", "7")
    assert event_cutoff(now=1000 * DAY) == 993 * DAY


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
async def test_old_records_are_neither_reported_nor_kept(kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGELLOTS_UNANSWERED_DAYS", raising=False)
    if kind == "memory":
        store = MemoryStore()
    elif kind == "sqlite":
        store = SQLiteStore(tmp_path / "s.sqlite3")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        store = RedisStore(server.url, prefix=f"retention-{time.time_ns()}:")
    now = time.time()
    await store.record({"type": "fallback", "text": "old question", "time": now - 91 * DAY})
    await store.record({"type": "fallback", "text": "recent question", "time": now - 89 * DAY})
    assert [e["text"] for e in await store.events()] == ["recent question"]
    for i in range(120):  # recording goes on: the expired one is also removed from storage
        await store.record({"type": "fallback", "text": f"q{i}", "time": now})
    if kind == "sqlite":
        assert isinstance(store, SQLiteStore)
        assert store._db.execute("SELECT count(*) FROM events WHERE event LIKE '%old question%'").fetchone()[0] == 0
    elif kind == "redis":
        assert isinstance(store, RedisStore)
        assert not any("old question" in raw for raw in await store.redis.lrange(store.events_key, 0, -1))
    else:
        assert isinstance(store, MemoryStore)
        assert all(e["text"] != "old question" for e in store._events)
    monkeypatch.setenv("REGELLOTS_UNANSWERED_DAYS", "30")
    assert "recent question" not in [e["text"] for e in await store.events()]
    await store.close()
