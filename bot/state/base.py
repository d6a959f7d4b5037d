"""The interface every state store offers, and the per-conversation locks they share.

The engine sees one small interface, `StateStore`: load, save, a
per-conversation lock, readiness, and an event log for unanswered
questions. Stores: in-memory (`memory`), SQLite (`sqlite`, the embedded
default) and Redis (`redis_store`, shared by several bot processes);
`factory.open_store` picks one from configuration.

Configuration (environment): `REGELLOTS_TTL_DAYS` sets how long an idle
conversation is kept (default 30; fractions allowed). Every store keeps at
most `MAX_EVENTS` events (the newest), none older than
`REGELLOTS_UNANSWERED_DAYS` (default 90): the unanswered-questions record
expires.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

DEFAULT_TTL = 30 * 24 * 3600  # idle conversations expire after 30 days
MAX_EVENTS = 10_000  # newest events kept per store, so the log stays bounded
DEFAULT_EVENT_RETENTION = 90 * 24 * 3600  # unanswered-question records expire after 90 days


class StoreUnavailable(RuntimeError):
    """The state store cannot be reached; the engine answers with a clear error."""


def ttl_from_env(default: float = DEFAULT_TTL) -> float:
    """Seconds an idle conversation is kept: $REGELLOTS_TTL_DAYS (days, > 0) or the default.

    A wrong value raises SettingsError (a ValueError) naming the variable."""
    from bot.settings import load_settings

    settings = load_settings()
    return settings.ttl_seconds if "ttl_days" in settings.model_fields_set else default


def event_cutoff(now: float | None = None) -> float:
    """The time before which events have expired: now − $REGELLOTS_UNANSWERED_DAYS (default 90 days)."""
    from bot.settings import load_settings

    days = load_settings().unanswered_days
    return (time.time() if now is None else now) - days * 86400


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


