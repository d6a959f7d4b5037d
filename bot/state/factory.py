"""Pick a state store from configuration (`REGELLOTS_STATE` or `--state`)."""

from __future__ import annotations

from bot.state.base import StateStore, ttl_from_env
from bot.state.memory import MemoryStore
from bot.state.sqlite import SQLiteStore, default_state_path


def open_store(spec: str | None, ttl: float | None = None, *, reader: bool = False) -> StateStore:
    """A store from a spec: 'memory', a file path, 'sqlite:///path' or 'redis://…' (default: SQLite file).

    Without a ttl, idle conversations are kept $REGELLOTS_TTL_DAYS days (default 30). reader: for reports
    run beside the bot (an SQLite file is then opened without taking the one-process lock)."""
    ttl = ttl if ttl is not None else ttl_from_env()
    if not spec:
        return SQLiteStore(default_state_path(), ttl, reader=reader)
    if spec == "memory":
        return MemoryStore(ttl)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from bot.state.redis_store import RedisStore

        return RedisStore(spec, ttl)
    if spec.startswith("sqlite:///"):
        return SQLiteStore(spec.removeprefix("sqlite:///") or default_state_path(), ttl, reader=reader)
    return SQLiteStore(spec, ttl, reader=reader)
