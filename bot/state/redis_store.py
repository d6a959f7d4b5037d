"""Conversation state in Redis, shared by several bot processes.

One string key per conversation (`<prefix>conv:<id>`) that expires after the
TTL of idleness; a per-conversation lock that holds across processes
(`<prefix>lock:<id>`, redis-py's token lock with an expiry, so a crashed
process cannot block a conversation for longer than `lock_timeout`); and a
capped list of events (`<prefix>events`).

Timeouts are short on purpose: an unreachable Redis must turn into a clear
"technical problem" reply (the engine catches the exception) within about a
second, not hang the chat. Connecting has a longer timeout (3 s): under load
the event loop is slow to complete a new connection's handshake, and that is
no reason to tell a user Redis is down. redis-py reconnects by itself; a
bounded retry (twice, short backoff) on connection errors and connect
timeouts means the first command after Redis comes back succeeds instead of
failing on a dead pooled connection. Pool: up to 128 connections, a message
waits up to 20 s for a free one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.settings import load_settings
from bot.state.base import DEFAULT_TTL, MAX_EVENTS, ConversationLocks, StoreUnavailable, event_cutoff
from bot.state.records import event_json

log = logging.getLogger("regellotsen.state")

DEFAULT_PREFIX = "regellots:"


class ConnectRetry(Retry):
    """Bounded retry: twice, with a short backoff, on a broken connection (Redis restarted, a dead pooled
    socket) and on a *connect* timeout (a saturated event loop); never on a command's read timeout, so a
    hung Redis still fails within about `socket_timeout`, not three times as slowly."""

    def __init__(self) -> None:
        super().__init__(ExponentialBackoff(cap=0.2, base=0.02), 2, supported_errors=(RedisConnectionError, RedisTimeoutError))

    async def call_with_retry(self, do: Any, fail: Any, is_retryable: Any = None, with_failure_count: bool = False) -> Any:
        def retryable(error: Exception) -> bool:
            if isinstance(error, RedisTimeoutError) and "connecting" not in str(error).lower():
                return False  # a command timed out: Redis is hung, do not wait again
            return is_retryable(error) if is_retryable is not None else True

        return await super().call_with_retry(do, fail, retryable, with_failure_count)


class RedisStore(ConversationLocks):
    """The StateStore protocol on Redis (see bot/state.py)."""

    def __init__(
        self,
        url: str,
        ttl: float = DEFAULT_TTL,
        *,
        prefix: str | None = None,
        lock_timeout: float = 10.0,
        lock_wait: float = 5.0,
        socket_timeout: float = 1.0,
        connect_timeout: float = 3.0,
        max_events: int = MAX_EVENTS,
        max_connections: int = 128,
    ) -> None:
        super().__init__()
        self.ttl = ttl
        self.prefix = prefix if prefix is not None else load_settings().redis_prefix
        self.lock_timeout, self.lock_wait, self.max_events = lock_timeout, lock_wait, max_events
        self._ping_timeout = socket_timeout
        # A blocking pool: under a burst, a message waits for a free connection instead of failing at
        # once when the pool is exhausted. The wait is generous because a busy process is slow to hand
        # connections back (its event loop is the bottleneck), not because Redis is gone: a dead Redis
        # still fails fast on the socket timeouts below.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=20,
            decode_responses=True,
            # Connecting gets longer than a command: under load a new pooled connection waits for the
            # busy event loop to finish its handshake (issue #12: 1 s gave "technical problem" replies
            # while Redis was healthy). A refused connection (Redis down) still fails at once.
            socket_connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            retry=ConnectRetry(),
            health_check_interval=30,
        )
        self.redis: Redis = Redis(connection_pool=pool)

    def _key(self, conversation_id: str) -> str:
        return f"{self.prefix}conv:{conversation_id}"

    def lock_key(self, conversation_id: str) -> str:
        return f"{self.prefix}lock:{conversation_id}"

    @property
    def events_key(self) -> str:
        return f"{self.prefix}events"

    async def load(self, conversation_id: str) -> str | None:
        raw = await self.redis.get(self._key(conversation_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def save(self, conversation_id: str, state: str) -> None:
        # Milliseconds so that short TTLs (tests) work; every save renews the idle timer.
        await self.redis.set(self._key(conversation_id), state, px=max(1, round(self.ttl * 1000)))

    @asynccontextmanager
    async def lock(self, conversation_id: str, timeout: float | None = None) -> AsyncIterator[None]:
        """Hold the conversation's lock in this process and across processes; wait at most `timeout`
        (default: the store's lock_wait) for each, else raise StoreUnavailable."""
        wait = self.lock_wait if timeout is None else timeout
        # First among this process's own tasks (cheap, fair, no Redis polling), then across processes.
        async with super().lock(conversation_id, timeout=wait):
            lock = self.redis.lock(
                self.lock_key(conversation_id),
                timeout=self.lock_timeout,
                sleep=0.02,
                blocking_timeout=wait,
                thread_local=False,  # one Lock object per use; tasks share the thread
            )
            if not await lock.acquire():
                raise StoreUnavailable(f"conversation still locked after {wait:g} s")
            try:
                yield
            finally:
                try:
                    await lock.release()
                except (LockError, RedisError) as exc:
                    # Lost connection or the lock expired meanwhile: it expires by itself,
                    # and the reply that was already computed and saved should still go out.
                    log.warning("could not release a conversation lock: %s", type(exc).__name__)

    async def ready(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self.redis.ping(), self._ping_timeout + 0.5))
        except Exception:  # noqa: BLE001 — readiness answers, never raises
            return False

    async def record(self, event: dict[str, Any]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(self.events_key, event_json(event))
            pipe.ltrim(self.events_key, -self.max_events, -1)
            length, _ = await pipe.execute()
        if length % 100 == 1:
            await self._expire_events()

    async def _expire_events(self) -> None:
        """Drop events past the retention from the head of the list (oldest first), a page at a time."""
        cutoff = event_cutoff()
        for _ in range(self.max_events // 100 + 1):
            head = await self.redis.lrange(self.events_key, 0, 99)
            old = 0
            for raw in head:
                try:
                    if float(json.loads(raw).get("time", 0)) >= cutoff:
                        break
                except (ValueError, AttributeError, TypeError):
                    pass  # unreadable: as good as expired
                old += 1
            if old:
                await self.redis.ltrim(self.events_key, old, -1)
            if old < 100:
                return

    async def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        cutoff = event_cutoff()
        out = []
        for raw in await self.redis.lrange(self.events_key, 0, -1):
            try:
                event = json.loads(raw)
            except ValueError:
                continue  # written by something else; skip rather than fail the whole list
            if isinstance(event, dict) and event.get("time", 0) >= max(since, cutoff):
                out.append(event)
        return out

    async def close(self) -> None:
        try:
            await self.redis.aclose()
        except Exception as exc:  # noqa: BLE001 — closing must not fail a shutdown
            log.warning("closing the Redis connection failed: %s", type(exc).__name__)
