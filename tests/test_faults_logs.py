"""Logs keep secrets at every level (issue #12, item 7): each channel run as deployed, at DEBUG,
with planted message text, user ids and credentials; the captured log must hold none of them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.conftest import FIXTURE_KB
from tests.support.fake_connector import FakeConnector
from tests.support.fake_telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
REGELLOTS = str(Path(sys.executable).with_name("regellots"))
TEXT = "PLANTEDTEXT är vår app en medicinteknisk produkt 19121212-1212"
USER = "29:PLANTEDUSER-1f3a"
AAD = "PLANTEDAAD-0c1d"
PASSWORD = "PLANTED-app-password-9d8e7f"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT),
        "REGELLOTS_WATCH": "0", "REGELLOTS_STATE": "memory", "REGELLOTS_LOG_LEVEL": "DEBUG", **extra,
    }  # fmt: skip


async def _wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if process.returncode is not None:
                break
            await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start")


async def _stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return err.decode()


def _activity(connector: FakeConnector, kind: str = "message", **fields: object) -> dict[str, object]:
    return {
        "type": kind, "id": "act-1", "channelId": "msteams", "serviceUrl": connector.url,
        "from": {"id": USER, "name": "PLANTEDNAME Svensson", "aadObjectId": AAD},
        "recipient": {"id": "28:bot", "name": "Regellotsen"},
        "conversation": {"id": "a:PLANTEDCONV", "conversationType": "personal"}, "text": TEXT, **fields,
    }  # fmt: skip


async def test_teams_at_debug_logs_no_text_user_id_or_password() -> None:
    connector = await FakeConnector().start()
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        REGELLOTS, "teams", "--knowledge", str(FIXTURE_KB), "--port", str(port), cwd=ROOT, env=_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await _wait_listening(port, process)
        async with aiohttp.ClientSession() as session:
            for body in (_activity(connector), _activity(connector, id="act-2", text="hej"), _activity(connector, "conversationUpdate", id="act-3", membersAdded=[{"id": "28:bot"}])):
                async with session.post(f"http://127.0.0.1:{port}/api/messages", json=body) as r:
                    assert r.status == 200
            async with session.post(f"http://127.0.0.1:{port}/api/messages", data=b'{"type": "message", "text": "PLANTEDTEXT"') as r:
                assert r.status in (400, 415)
        for _ in range(400):  # until the replies were delivered (bounded)
            if len([s for s in connector.sent if s.type == "message"]) >= 3:
                break
            await asyncio.sleep(0.05)
        assert len([s for s in connector.sent if s.type == "message"]) >= 3
    finally:
        logs = await _stop(process)
        await connector.stop()
    assert "DEBUG" in logs or "INFO" in logs, logs[-2000:]
    for planted in ("PLANTED", "19121212", "medicinteknisk", USER, AAD):
        assert planted not in logs, planted


async def test_teams_with_credentials_at_debug_never_logs_the_password() -> None:
    connector = await FakeConnector().start()
    port = _free_port()
    env = _env(MicrosoftAppId="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", MicrosoftAppPassword=PASSWORD)
    process = await asyncio.create_subprocess_exec(
        REGELLOTS, "teams", "--knowledge", str(FIXTURE_KB), "--port", str(port), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await _wait_listening(port, process)
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {PASSWORD}"}
            async with session.post(f"http://127.0.0.1:{port}/api/messages", data=json.dumps(_activity(connector)), headers={"Content-Type": "application/json", **headers}) as r:
                assert r.status == 401
    finally:
        logs = await _stop(process)
        await connector.stop()
    assert "rejected an unauthenticated request" in logs
    for planted in (PASSWORD, "PLANTED", USER, AAD):
        assert planted not in logs, planted


async def test_telegram_polling_at_debug_logs_no_text_token_or_user_id() -> None:
    server = await FakeTelegram(TOKEN).start()
    try:
        user = 918273645
        server.send_text(P := 6100, TEXT, user=server.user(user, first_name="PLANTEDNAME"))
        server.push(update_id=424242, message={"message_id": 5, "date": 0, "chat": "PLANTEDCHAT", "text": "PLANTEDTEXT"})  # unreadable
        server.send_text(P, "hej", user=server.user(user))
        env = _env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url, PTB_TIMEDELTA="true")
        process = await asyncio.create_subprocess_exec(
            REGELLOTS, "telegram", "--knowledge", str(FIXTURE_KB), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            await server.wait_sent(P, 2, timeout=30)
        finally:
            logs = await _stop(process)
    finally:
        await server.close()
    assert "DEBUG" in logs
    assert "update 424242 could not be read: TypeError" in logs  # skipped, by type and size; polling went on
    for planted in ("PLANTED", "19121212", "medicinteknisk", TOKEN, TOKEN.split(":")[1], str(user)):
        assert planted not in logs, planted
