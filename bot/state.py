"""Conversation state and where it is kept.

The engine sees one small interface, `StateStore`: load, save, a
per-conversation lock, readiness, and an event log for unanswered
questions. Stores: in-memory (tests, `ask`), SQLite (the embedded default:
state survives a restart) and Redis (`bot.redis_store`, shared by several bot
processes).

Configuration (environment): `REGELLOTS_STATE` picks the store (see
`open_store`); `REGELLOTS_TTL_DAYS` sets how long an idle conversation is
kept (default 30; fractions allowed); `REGELLOTS_REDIS_PREFIX` the Redis key
prefix (default "regellots:", so several bots can share one Redis).
Every store keeps at most `MAX_EVENTS` events (the newest).

SQLite is for one bot process: its conversation lock is in-process only. Run
several processes against Redis, whose lock holds across processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

DEFAULT_TTL = 30 * 24 * 3600  # idle conversations expire after 30 days
MAX_EVENTS = 10_000  # newest events kept per store, so the log stays bounded


@dataclass
class FlowState:
    flow: str
    node: str
    facts: dict[str, Any] = field(default_factory=dict)
    # Each step: {"node": id, "answer": choice id or number, "facts": facts before the answer}.
    history: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False


@dataclass
class ConversationState:
    lang: str = "sv"
    lang_chosen: bool = False
    lang_guessed: bool = False
    started: bool = False
    flow: FlowState | None = None
    #: The options last offered, as [label, value], so "2" or a typed label can pick one.
    options: list[list[str]] = field(default_factory=list)
    #: What the last substantive answer was, for "why" and "sources".
    last: dict[str, Any] | None = None
    knowledge_version: str = ""
    updated: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> ConversationState:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            flow = data.pop("flow", None)
            state = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
            state.flow = FlowState(**flow) if flow else None
            return state
        except (ValueError, TypeError):
            return cls()  # unreadable state (e.g. an old format): start afresh rather than fail


class StoreUnavailable(RuntimeError):
    """The state store cannot be reached; the engine answers with a clear error."""


def event_json(event: dict[str, Any]) -> str:
    """An event as JSON for a store. ASCII escapes, because the recorded text is the user's and may
    hold lone surrogates that no UTF-8 encoder (SQLite, Redis) accepts; json.loads restores them."""
    return json.dumps(event, separators=(",", ":"))


def ttl_from_env(default: float = DEFAULT_TTL) -> float:
    """Seconds an idle conversation is kept: $REGELLOTS_TTL_DAYS (days, > 0) or the default."""
    raw = os.environ.get("REGELLOTS_TTL_DAYS", "").strip()
    if not raw:
        return default
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not 0 < days < 100_000:  # also refuses nan and inf
        raise ValueError(f"REGELLOTS_TTL_DAYS must be a positive number of days, not {raw!r}")
    return days * 24 * 3600


class StateStore(Protocol):
    async def load(self, conversation_id: str) -> str | None: ...

    async def save(self, conversation_id: str, state: str) -> None: ...

    def lock(self, conversation_id: str) -> Any: ...  # async context manager

    async def ready(self) -> bool: ...

    async def record(self, event: dict[str, Any]) -> None: ...

    async def events(self, since: float = 0.0) -> list[dict[str, Any]]: ...

    async def close(self) -> None: ...


class ConversationLocks:
    """Per-conversation asyncio locks, dropped when no one holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, conversation_id: str, timeout: float | None = None) -> AsyncIterator[None]:
        """Hold the conversation's lock; with a timeout, raise StoreUnavailable rather than wait longer."""
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            try:
                async with asyncio.timeout(timeout):
                    await lock.acquire()
            except TimeoutError:
                raise StoreUnavailable(f"conversation still busy after {timeout:g} s") from None
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[conversation_id]
            if users <= 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)


class MemoryStore(ConversationLocks):
    """In-process store with expiry and a size cap, so memory stays bounded."""

    def __init__(self, ttl: float = DEFAULT_TTL, max_conversations: int = 100_000) -> None:
        super().__init__()
        self.ttl, self.max = ttl, max_conversations
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._events: list[dict[str, Any]] = []

    async def load(self, conversation_id: str) -> str | None:
        item = self._data.get(conversation_id)
        if item is None or item[0] < time.time() - self.ttl:
            self._data.pop(conversation_id, None)
            return None
        return item[1]

    async def save(self, conversation_id: str, state: str) -> None:
        now = time.time()
        self._data[conversation_id] = (now, state)
        self._data.move_to_end(conversation_id)
        # Oldest first (saves move to the end): drop what has expired, then what exceeds the cap.
        while self._data:
            _, (updated, _) = next(iter(self._data.items()))
            if updated >= now - self.ttl and len(self._data) <= self.max:
                break
            self._data.popitem(last=False)

    async def ready(self) -> bool:
        return True

    async def record(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        del self._events[: max(0, len(self._events) - MAX_EVENTS)]

    async def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        return [e for e in self._events if e.get("time", 0) >= since]

    async def close(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._data)


class SQLiteStore(ConversationLocks):
    """The embedded default: one file; a user mid-flow continues after a restart."""

    def __init__(self, path: str | Path, ttl: float = DEFAULT_TTL) -> None:
        super().__init__()
        self.path, self.ttl = Path(path), ttl
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, updated REAL NOT NULL, state TEXT NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated)")
        self._db.execute("CREATE TABLE IF NOT EXISTS events (time REAL NOT NULL, event TEXT NOT NULL)")
        self._writes = 0
        self.expire()

    def expire(self) -> int:
        cur = self._db.execute("DELETE FROM conversations WHERE updated < ?", (time.time() - self.ttl,))
        return cur.rowcount

    async def load(self, conversation_id: str) -> str | None:
        row = self._db.execute(
            "SELECT state FROM conversations WHERE id = ? AND updated >= ?", (conversation_id, time.time() - self.ttl)
        ).fetchone()
        return row[0] if row else None

    async def save(self, conversation_id: str, state: str) -> None:
        self._db.execute(
            "INSERT INTO conversations (id, updated, state) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, state = excluded.state",
            (conversation_id, time.time(), state),
        )
        self._writes += 1
        if self._writes % 1000 == 0:
            self.expire()

    async def ready(self) -> bool:
        try:
            self._db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    async def record(self, event: dict[str, Any]) -> None:
        cur = self._db.execute("INSERT INTO events (time, event) VALUES (?, ?)", (event.get("time", time.time()), event_json(event)))
        # Keep the newest MAX_EVENTS (rowids grow with each insert).
        self._db.execute("DELETE FROM events WHERE rowid <= ?", ((cur.lastrowid or 0) - MAX_EVENTS,))

    async def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT event FROM events WHERE time >= ? ORDER BY time", (since,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    async def close(self) -> None:
        self._db.close()


def default_state_path() -> Path:
    base = os.environ.get("REGELLOTS_DATA") or os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "regellotsen" / "state.sqlite3"


def open_store(spec: str | None, ttl: float | None = None) -> StateStore:
    """A store from a spec: 'memory', a file path, 'sqlite:///path' or 'redis://…' (default: SQLite file).

    Without a ttl, idle conversations are kept $REGELLOTS_TTL_DAYS days (default 30)."""
    ttl = ttl if ttl is not None else ttl_from_env()
    if not spec:
        return SQLiteStore(default_state_path(), ttl)
    if spec == "memory":
        return MemoryStore(ttl)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from bot.redis_store import RedisStore

        return RedisStore(spec, ttl)
    if spec.startswith("sqlite:///"):
        return SQLiteStore(spec.removeprefix("sqlite:///") or default_state_path(), ttl)
    return SQLiteStore(spec, ttl)
