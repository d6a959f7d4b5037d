"""The Telegram bot on the channel's own aiohttp app in both modes (webhook: adapters.telegram.Webhook;
long polling: adapters/telegram_server.py), over real HTTP on 127.0.0.1 against the fake Bot API:
/healthz, /readyz and /metrics; and the container's health check (python -m bot.healthcheck) against
`regellots telegram` in polling mode."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from adapters.telegram import Webhook, build_application
from adapters.telegram_server import Polling
from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from tests.conftest import FIXTURE_KB
from tests.support.fake_telegram import SECRET, TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
REGELLOTS = str(Path(sys.executable).with_name("regellots"))
P = 2002


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGELLOTS_WATCH", "0")
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram(TOKEN).start()
    fake.max_poll = 0.2
    yield fake
    await fake.close()


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@asynccontextmanager
async def serving(kb: Knowledge, api: FakeTelegram, webhook_url: str | None = None, secret: str | None = None) -> AsyncIterator[str]:
    application = build_application(Engine(kb, MemoryStore(), channel="telegram"), TOKEN, base_url=api.base_url)
    if webhook_url:
        assert secret is not None
        http_app = Webhook(application.bot_data["adapter"], application, webhook_url, secret).http_app()
    else:
        http_app = Polling(application).http_app()
    runner = web.AppRunner(http_app)
    await runner.setup()  # starts the channel and the bot (getMe, commands, webhook or poller)
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.text()


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def counted_turns(url: str, at_least: float) -> float:
    """The telegram turns counted so far, once there are `at_least` (a turn is counted after its last reply went out)."""
    for _ in range(500):
        now = turns((await get(url + "/metrics"))[1])
        if now >= at_least:
            return now
        await asyncio.sleep(0.01)
    return now


def turns(metrics_text: str) -> float:
    return sum(
        s.value
        for f in text_string_to_metric_families(metrics_text)
        for s in f.samples
        if s.name == "regellots_turns_total" and s.labels.get("channel") == "telegram"
    )


async def test_webhook_mode_serves_the_webhook_health_and_metrics(kb: Knowledge, api: FakeTelegram) -> None:
    import json

    async with serving(kb, api, webhook_url="https://bot.example.se/tg/hook", secret=SECRET) as url:
        assert api.webhook is not None and api.webhook["url"] == "https://bot.example.se/tg/hook" and api.webhook["secret_token"] == SECRET
        assert await get(url + "/healthz") == (200, '{"status": "ok"}')
        status, body = await get(url + "/readyz")
        assert status == 200 and json.loads(body)["status"] == "ready"
        before = turns((await get(url + "/metrics"))[1])

        update = json.dumps({"update_id": 1, "message": api.message(P, text="tidig marknadsdialog")}).encode()
        hook = url + "/tg/hook"
        assert await post(hook, update, {"Content-Type": "application/json"}) == 403
        assert await post(hook, update, {"Content-Type": "application/json", SECRET_HEADER: "wrong"}) == 403
        assert await post(hook, b"{not json", {"Content-Type": "application/json", SECRET_HEADER: SECRET}) == 400
        assert await post(hook, update, {"Content-Type": "application/json", SECRET_HEADER: SECRET}) == 200
        [answer] = await api.wait_sent(P, 1, timeout=30)
        assert "Marknadsdialog" in answer["text"]
        assert await counted_turns(url, before + 1) == before + 1
        after = (await get(url + "/metrics"))[1]
        labels = [v for f in text_string_to_metric_families(after) for x in f.samples for v in x.labels.values()]
        assert "marknadsdialog" not in after.lower() and not any(str(P) in v for v in labels)


async def test_polling_mode_serves_health_and_metrics_while_polling(kb: Knowledge, api: FakeTelegram) -> None:
    async with serving(kb, api) as url:
        assert api.webhook is None
        assert (await get(url + "/healthz"))[0] == 200
        assert (await get(url + "/readyz"))[0] == 200
        before = turns((await get(url + "/metrics"))[1])
        api.send_text(P, "tidig marknadsdialog")
        [answer] = await api.wait_sent(P, 1, timeout=30)
        assert "Marknadsdialog" in answer["text"]
        assert await counted_turns(url, before + 1) == before + 1
        assert (await post(url + "/tg/hook", b"{}", {"Content-Type": "application/json", SECRET_HEADER: SECRET})) in (404, 405)


async def test_readyz_is_503_when_the_store_is_down(kb: Knowledge, api: FakeTelegram) -> None:
    class Down(MemoryStore):
        async def ready(self) -> bool:
            raise ConnectionError("down")

    application = build_application(Engine(kb, Down(), channel="telegram"), TOKEN, base_url=api.base_url)
    runner = web.AppRunner(Polling(application).http_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        assert await get(url + "/readyz") == (503, '{"status": "unavailable"}')
        assert (await get(url + "/healthz"))[0] == 200
    finally:
        await runner.cleanup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _healthcheck(port: int) -> int:
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.healthcheck", env=env, stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), 60)


async def test_the_container_health_check_fits_polling_mode(api: FakeTelegram) -> None:
    """`regellots telegram` (long polling) with PORT set, as the image runs it: the image's health check passes."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "REGELLOTS_WATCH": "0",
        "REGELLOTS_STATE": "memory",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        REGELLOTS, "telegram", "--knowledge", str(FIXTURE_KB), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await api.wait_for(lambda: api.of("getUpdates"), timeout=30, what="polling")
        for _ in range(200):  # polling began; the health port may still be binding
            if await _healthcheck(port) == 0:
                break
            await asyncio.sleep(0.05)
        assert await _healthcheck(port) == 0
        api.send_text(P, "tidig marknadsdialog")
        await api.wait_sent(P, 1, timeout=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()[-2000:]
    assert await _healthcheck(port) == 1  # stopped: the check fails
    assert TOKEN not in err.decode()
