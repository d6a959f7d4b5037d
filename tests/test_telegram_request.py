"""adapters/telegram_request.py: python-telegram-bot's Bot on the aiohttp request class, against the
fake Bot API on 127.0.0.1: calls, errors as PTB maps them, no token in error messages, one connection."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from adapters.telegram_request import AiohttpRequest
from tests.support.fake_telegram import FakeTelegram


@pytest.fixture
async def api():
    fake = await FakeTelegram().start()
    fake.chat(1)
    yield fake
    await fake.close()


def bot_for(api: FakeTelegram, request: AiohttpRequest) -> Bot:
    return Bot(api.token, base_url=api.base_url, request=request, get_updates_request=AiohttpRequest(connection_pool_size=1))


async def test_bot_calls_go_through_one_keep_alive_connection(api: FakeTelegram) -> None:
    created, reused = [], []

    async def on_create(*_: object) -> None:
        created.append(1)

    async def on_reuse(*_: object) -> None:
        reused.append(1)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_create)
    trace.on_connection_reuseconn.append(on_reuse)
    async with bot_for(api, AiohttpRequest(trace_configs=[trace])) as bot:  # initialize: getMe
        assert bot.username == api.username
        for i in range(5):
            message = await bot.send_message(1, f"<b>svar {i}</b> &amp; mer", parse_mode="HTML")
            assert message.text == f"svar {i} & mer"
        await bot.send_chat_action(1, "typing")
    sent = api.of("sendMessage")
    assert [c.params["text"] for c in sent] == [f"<b>svar {i}</b> &amp; mer" for i in range(5)]
    assert (len(created), len(reused)) == (1, 6)


async def test_api_errors_and_transport_errors_map_as_in_ptb(api: FakeTelegram) -> None:
    async with bot_for(api, AiohttpRequest()) as bot:
        with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
            await bot.send_message(1, "<nope>", parse_mode="HTML")
        api.fail("sendMessage", 502, "Bad Gateway")
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")
        api.delays["sendMessage"] = [3.0]  # ten times the timeout below
        with pytest.raises(TimedOut):
            await bot.send_message(1, "slow", read_timeout=0.3)


async def test_transport_errors_never_carry_the_token(api: FakeTelegram) -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as failed:
            await request.post(f"http://127.0.0.1:1/bot{api.token}/getMe")
    finally:
        await request.shutdown()
    assert api.token not in str(failed.value) and "TEST-token" not in repr(failed.value)


async def test_a_request_before_initialize_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/", "POST")
