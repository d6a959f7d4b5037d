"""Redis under load (issue #12, item 4): a new pooled connection that is slow to connect because the
event loop is busy is retried (a bounded number of times); a command that times out is not."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.state.redis_store import ConnectRetry, RedisStore


async def _run(errors: list[Exception]) -> tuple[str | None, int, Exception | None]:
    calls = 0

    async def do() -> str:
        nonlocal calls
        calls += 1
        if errors:
            raise errors.pop(0)
        return "ok"

    async def fail(_error: Exception) -> None:
        return None

    try:
        return await ConnectRetry().call_with_retry(do, fail), calls, None
    except Exception as exc:  # noqa: BLE001
        return None, calls, exc


async def test_connect_timeouts_and_broken_connections_are_retried_twice() -> None:
    assert await _run([RedisTimeoutError("Timeout connecting to server"), RedisConnectionError("reset")]) == ("ok", 3, None)
    result, calls, error = await _run([RedisTimeoutError("Timeout connecting to server")] * 3)
    assert (result, calls) == (None, 3) and isinstance(error, RedisTimeoutError)  # bounded


async def test_a_command_timeout_is_not_retried() -> None:
    result, calls, error = await _run([RedisTimeoutError("Timeout reading from socket")])
    assert (result, calls) == (None, 1) and isinstance(error, RedisTimeoutError)


def test_the_pool_and_timeouts_are_sized_for_load() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")
    kwargs = store.redis.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] >= 3 and kwargs["socket_timeout"] == 1.0
    assert store.redis.connection_pool.max_connections >= 128
    assert isinstance(kwargs["retry"], ConnectRetry)


async def test_a_refused_connection_still_fails_fast() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(RedisConnectionError):
        await store.load("x")
    assert not await store.ready()
    await store.close()
