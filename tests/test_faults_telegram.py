"""Telegram under the faults that lost updates or leaked them (issue #12, items 1, 7, 8), on loopback.

The webhook used to answer 200 before handling an update, so Telegram never
resent it: on SIGTERM 99 of 100 chats lost their last message. It read bodies
of any size, answered invalid JSON with 500 and logged an update it could not
parse in full at CRITICAL. Now the webhook is the channel's own aiohttp route:
secret, then size (from Content-Length, before reading), then JSON; an update is
acknowledged only after it was answered; update_id is applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.telegram import SECRET_HEADER, WEBHOOK_MAX_BYTES, TelegramAdapter, Webhook, build_application
from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from tests.conftest import FIXTURE_KB
from tests.support.fake_telegram import SECRET, TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
REGELLOTS = str(Path(sys.executable).with_name("regellots"))
P = 1001


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGELLOTS_WATCH", "0")
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram(TOKEN).start()
    yield fake
    await fake.close()


class Hook:
    """The webhook app in this event loop on a free loopback port."""

    def __init__(self, engine: Engine, server: FakeTelegram) -> None:
        self.engine, self.server = engine, server
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> Hook:
        ptb = build_application(self.engine, TOKEN, base_url=self.server.base_url)
        adapter: TelegramAdapter = ptb.bot_data["adapter"]
        self.hook = Webhook(adapter, ptb, "https://bot.example.org/tg-hook", SECRET)
        self.runner = web.AppRunner(self.hook.http_app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{self.port}/tg-hook"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    async def post(self, body: bytes | Any, secret: str | None = SECRET) -> int:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **({SECRET_HEADER: secret} if secret is not None else {})}
        async with aiohttp.ClientSession() as session, session.post(self.url, data=data, headers=headers) as response:
            return response.status


@pytest.fixture
async def hook(kb: Knowledge, server: FakeTelegram) -> AsyncIterator[Hook]:
    async with Hook(Engine(kb, MemoryStore(), channel="telegram"), server) as h:
        yield h


def update(server: FakeTelegram, update_id: int, chat_id: int, text: str, user_id: int = 42) -> dict[str, Any]:
    return {"update_id": update_id, "message": server.message(chat_id, user=server.user(user_id), text=text)}


async def raw_request(port: int, head: str) -> str:
    """Send only a request head (no body) and return the status line: the server must answer without reading a body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode())
        await writer.drain()
        async with asyncio.timeout(30):  # a server that waited for the declared body would never answer
            line = await reader.readline()
        return line.decode().strip()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


# -- bounded input (item 8) --------------------------------------------------------------


async def test_a_body_over_the_limit_is_refused_before_it_is_read(hook: Hook) -> None:
    big = WEBHOOK_MAX_BYTES + 1
    head = f"POST /tg-hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{SECRET_HEADER}: {SECRET}\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n"
    assert (await raw_request(hook.port, head)).startswith("HTTP/1.1 413")
    # Without the secret: refused before the size is even looked at, again without reading.
    head = f"POST /tg-hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {big}\r\n\r\n"
    assert (await raw_request(hook.port, head)).startswith("HTTP/1.1 403")
    # A body over the limit sent in chunks (no Content-Length) is cut off at the limit.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(big // 65536 + 2):
            yield b" " * 65536

    async with aiohttp.ClientSession() as session, session.post(hook.url, data=chunks(), headers={SECRET_HEADER: SECRET}) as response:
        assert response.status == 413
    assert hook.server.sent(P) == []


async def test_bad_json_gets_400_and_an_unreadable_update_is_logged_by_type_and_size(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    assert await hook.post(b"{not json") == 400
    assert await hook.post(b"[1, 2]") == 400
    assert await hook.post({"no_update_id": 1}) == 400
    assert await hook.post(b"\xff\xfe") == 400
    planted = {"update_id": 77, "message": {"message_id": 1, "date": 0, "chat": "PLANTED-CHAT", "text": "PLANTED-TEXT 19121212-1212"}}
    with caplog.at_level(logging.DEBUG):
        assert await hook.post(planted) == 200  # acknowledged: Telegram resending it would not help
    assert "update 77 could not be read:" in caplog.text and "bytes" in caplog.text
    assert "PLANTED" not in caplog.text and "19121212" not in caplog.text
    assert hook.server.sent() == []


async def test_oversized_callback_data_is_refused_politely(hook: Hook) -> None:
    server = hook.server
    for update_id, data in enumerate(["9" * 5000 + "@=cmd:menu", "#" + "x" * 5000, "=" + "ä" * 3000], start=1):
        qid = f"q-big-{update_id}"
        body = {"update_id": update_id, "callback_query": {"id": qid, "from": server.user(42), "chat_instance": "ci", "data": data, "message": server.message(P, text="x")}}
        server.queries[qid] = False
        assert await hook.post(body) == 200
    answered = [c for c in server.of("answerCallbackQuery") if c.ok]
    assert len(answered) == 3  # every press got an answer, none crashed
    assert all(server.queries.values())
    assert "gått ut" in server.sent(P)[0]["text"]  # told the button has expired, with the menu


# -- at least once, exactly once in effect (item 1) ------------------------------------------


async def test_an_update_is_acknowledged_only_after_it_was_answered(hook: Hook) -> None:
    for i in range(1, 21):
        assert await hook.post(update(hook.server, i, 2000 + i, "hej")) == 200
        # The 200 came back: the answer is already at Telegram, nothing to wait for.
        assert len(hook.server.sent(2000 + i)) == 1


async def test_a_replayed_update_is_applied_once(hook: Hook) -> None:
    server = hook.server
    first = [update(server, 100 + i, P, text) for i, text in enumerate(["hej", "mdr-kollen", "1", "varför"])]
    for u in first:
        assert await hook.post(u) == 200
    sent = len(server.sent(P))
    saved = await hook.engine.store.load(f"tg:{P}")
    for u in first + first:  # Telegram resent them, or someone replayed them
        assert await hook.post(u) == 200
    assert len(server.sent(P)) == sent
    assert await hook.engine.store.load(f"tg:{P}") == saved


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _start_cli(server: FakeTelegram, port: int, state: Path, extra: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "REGELLOTS_WATCH": "0",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "REGELLOTS_STATE": str(state),
        **(extra or {}),
    }
    process = await asyncio.create_subprocess_exec(
        REGELLOTS, "telegram", "--knowledge", str(FIXTURE_KB), "--webhook-url", f"http://127.0.0.1:{port}/tg", "--port", str(port),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for _ in range(400):  # until it listens (bounded)
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                pass
            if process.returncode is not None:
                break
            await asyncio.sleep(0.05)
    _, err = await process.communicate()
    raise AssertionError(f"the bot did not start: {err.decode()[-2000:]}")


async def _deliver(port: int, body: dict[str, Any]) -> int | None:
    """POST an update as Telegram does; None when no answer came (Telegram would send it again)."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            async with session.post(f"http://127.0.0.1:{port}/tg", json=body, headers={SECRET_HEADER: SECRET}) as r:
                return r.status
    except (TimeoutError, aiohttp.ClientError):
        return None


@pytest.mark.slow
async def test_sigterm_under_load_loses_nothing_and_replays_apply_once(server: FakeTelegram, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    port = _free_port()
    chats = 60
    bodies = [update(server, 1000 + i, 5000 + i, "tidig marknadsdialog", user_id=5000 + i) for i in range(chats)]
    server.delays["sendMessage"] = [0.02] * chats  # Telegram takes a moment per message
    process = await _start_cli(server, port, state)
    posts = [asyncio.create_task(_deliver(port, b)) for b in bodies]
    await server.wait_for(lambda: len(server.of("sendMessage")) >= 1, timeout=30, what="a first answer")
    process.send_signal(signal.SIGTERM)  # docker stop, in the middle of the burst
    statuses = await asyncio.gather(*posts)
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()[-2000:]
    acknowledged = [b for b, s in zip(bodies, statuses, strict=True) if s == 200]
    for b in acknowledged:  # 200 means answered
        assert len(server.sent(b["message"]["chat"]["id"])) == 1, b["update_id"]
    # Telegram resends what was not acknowledged, and (to test replays) everything else as well.
    port2 = _free_port()
    process = await _start_cli(server, port2, state)
    try:
        for b in bodies:
            assert await _deliver(port2, b) == 200
        for b in bodies:
            assert await _deliver(port2, b) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), timeout=60)
    lost = [b["update_id"] for b in bodies if len(server.sent(b["message"]["chat"]["id"])) == 0]
    twice = [b["update_id"] for b in bodies if len(server.sent(b["message"]["chat"]["id"])) > 1]
    assert lost == [] and twice == []


# -- logs keep secrets (item 7) ---------------------------------------------------------------


async def test_debug_logs_of_the_webhook_hold_no_text_token_secret_or_user_id(server: FakeTelegram, tmp_path: Path) -> None:
    port = _free_port()
    process = await _start_cli(server, port, tmp_path / "s.sqlite3", {"REGELLOTS_LOG_LEVEL": "DEBUG"})
    try:
        user = 918273645
        assert await _deliver(port, update(server, 1, 6001, "PLANTEDTEXT tidig marknadsdialog", user_id=user)) == 200
        bad = {"update_id": 2, "message": {"message_id": 9, "date": 0, "chat": "PLANTEDCHAT", "text": "PLANTEDTEXT"}}
        assert await _deliver(port, bad) == 200
        qid = "q-planted"
        press = {"update_id": 3, "callback_query": {"id": qid, "from": server.user(user), "chat_instance": "ci", "data": "=cmd:menu", "message": server.message(6001, text="x")}}
        server.queries[qid] = False
        assert await _deliver(port, press) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    logs = err.decode()
    assert "DEBUG" in logs  # it did run at DEBUG
    assert "update 2 could not be read" in logs
    for planted in ("PLANTEDTEXT", "PLANTEDCHAT", "marknadsdialog", TOKEN, TOKEN.split(":")[1], SECRET, str(user)):
        assert planted not in logs, planted
