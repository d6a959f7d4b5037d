"""The embedded default store: one SQLite file, for one bot process.

One process only, enforced: the store takes an exclusive lock on
``<file>.lock`` (flock) when it opens, and a second process on the same file
is refused at start with a one-line message (run several processes on Redis).
The file is checked when it opens (``PRAGMA quick_check``) and while it runs:
readiness fails (503) when the file is gone, replaced, not writable or
corrupt, and a turn whose file vanished gets the "try again shortly" reply
instead of being answered into a deleted file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from bot.state import base
from bot.state.base import DEFAULT_TTL, ConversationLocks, StoreUnavailable
from bot.state.records import event_json

QUICK_CHECK_EVERY = 30.0  # seconds between quick_checks for readiness (it reads the whole file)


class StateFileError(RuntimeError):
    """The state file cannot be used at start: one line naming the file and what to do."""


class SQLiteStore(ConversationLocks):
    """The embedded default: one file; a user mid-flow continues after a restart."""

    def __init__(self, path: str | Path, ttl: float = DEFAULT_TTL, *, reader: bool = False) -> None:
        """reader: a maintainer's tool reading alongside the running bot (reports): no process lock, no expiry."""
        super().__init__()
        self.path, self.ttl = Path(path), ttl
        self._lock_file: Any = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateFileError(f"cannot create the directory of the state file {self.path}: {exc.strerror}; set REGELLOTS_STATE to a writable path") from None
        if not reader:
            self._take_process_lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            result = self._db.execute("PRAGMA quick_check").fetchone()
            if not result or result[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, updated REAL NOT NULL, state TEXT NOT NULL)")
            self._db.execute("CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated)")
            self._db.execute("CREATE TABLE IF NOT EXISTS events (time REAL NOT NULL, event TEXT NOT NULL)")
            self._writes = 0
            if not reader:
                self.expire()
                self._db.execute("DELETE FROM events WHERE time < ?", (base.event_cutoff(),))
        except sqlite3.Error as exc:
            self._release_process_lock()
            raise StateFileError(_explain(self.path, exc)) from None
        self._identity = _identity(self.path)
        self._checked_at = time.monotonic()

    def _take_process_lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 — held open for the life of the store
        except OSError as exc:
            raise StateFileError(f"cannot open the lock file {lock_path}: {exc.strerror}; the state directory must be writable") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "?"
            handle.close()
            raise StateFileError(
                f"another bot process (pid {other}) is using the state file {self.path}; "
                "SQLite is for one process: stop the other one, or run several on Redis (REGELLOTS_STATE=redis://…)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def _release_process_lock(self) -> None:
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
            self._lock_file = None

    def _still_there(self) -> bool:
        """The file we opened is still at its path (not deleted, not replaced)."""
        return _identity(self.path) == self._identity

    def expire(self) -> int:
        cur = self._db.execute("DELETE FROM conversations WHERE updated < ?", (time.time() - self.ttl,))
        return cur.rowcount

    async def load(self, conversation_id: str) -> str | None:
        row = self._db.execute(
            "SELECT state FROM conversations WHERE id = ? AND updated >= ?", (conversation_id, time.time() - self.ttl)
        ).fetchone()
        return row[0] if row else None

    async def save(self, conversation_id: str, state: str) -> None:
        if not self._still_there():
            raise StoreUnavailable(f"the state file {self.path.name} is gone")
        self._db.execute(
            "INSERT INTO conversations (id, updated, state) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, state = excluded.state",
            (conversation_id, time.time(), state),
        )
        self._writes += 1
        if self._writes % 1000 == 0:
            self.expire()

    async def ready(self) -> bool:
        """The real file: still there, writable, and (every QUICK_CHECK_EVERY s) passing quick_check."""
        if not self._still_there() or not os.access(self.path, os.W_OK) or not os.access(self.path.parent, os.W_OK):
            return False
        try:
            if time.monotonic() - self._checked_at >= QUICK_CHECK_EVERY:
                # A connection of its own: the store's page cache would hide what is on the disk now.
                check = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
                try:
                    result = check.execute("PRAGMA quick_check").fetchone()
                finally:
                    check.close()
                if not result or result[0] != "ok":
                    return False
                self._checked_at = time.monotonic()
            self._db.execute("SELECT count(*) FROM conversations WHERE id = ''").fetchone()  # reads the table's pages
            return True
        except sqlite3.Error:
            return False

    async def record(self, event: dict[str, Any]) -> None:
        cur = self._db.execute("INSERT INTO events (time, event) VALUES (?, ?)", (event.get("time", time.time()), event_json(event)))
        # Keep the newest base.MAX_EVENTS (rowids grow with each insert), none past the retention.
        self._db.execute("DELETE FROM events WHERE rowid <= ?", ((cur.lastrowid or 0) - base.MAX_EVENTS,))
        if (cur.lastrowid or 0) % 100 == 1:
            self._db.execute("DELETE FROM events WHERE time < ?", (base.event_cutoff(),))

    async def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        since = max(since, base.event_cutoff())
        rows = self._db.execute("SELECT event FROM events WHERE time >= ? ORDER BY time", (since,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    async def close(self) -> None:
        self._db.close()
        self._release_process_lock()


def default_state_path() -> Path:
    from bot.settings import load_settings

    return load_settings().data_directory / "regellotsen" / "state.sqlite3"


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _explain(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text or "attempt to write" in text:
        return f"the state file {path} is read-only; make it (and its directory) writable by the bot, or set REGELLOTS_STATE"
    if "unable to open" in text:
        return f"cannot open the state file {path}; check that its directory exists and is writable, or set REGELLOTS_STATE"
    if "not a database" in text or "malformed" in text or "quick_check" in text or "corrupt" in text:
        return f"the state file {path} is corrupt; move it aside (conversations start afresh) or restore a backup"
    return f"cannot use the state file {path} ({type(exc).__name__}); move it aside or set REGELLOTS_STATE"
