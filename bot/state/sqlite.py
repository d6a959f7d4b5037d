"""The embedded default store: one SQLite file, for one bot process (its lock is in-process)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from bot.state import base
from bot.state.base import DEFAULT_TTL, ConversationLocks
from bot.state.records import event_json


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
        # Keep the newest base.MAX_EVENTS (rowids grow with each insert).
        self._db.execute("DELETE FROM events WHERE rowid <= ?", ((cur.lastrowid or 0) - base.MAX_EVENTS,))

    async def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT event FROM events WHERE time >= ? ORDER BY time", (since,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    async def close(self) -> None:
        self._db.close()


def default_state_path() -> Path:
    base = os.environ.get("REGELLOTS_DATA") or os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "regellotsen" / "state.sqlite3"
