"""What is particular to the Teams host on the Microsoft 365 Agents SDK (adapters/teams_agents.py).
Every Teams end-to-end test in tests/test_teams.py runs on it too (its `sdk` fixture)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from adapters import teams
from adapters.teams import TeamsSettings
from adapters.teams_agents import AgentsFramework, auth_configuration
from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from tests.support.fake_connector import FakeConnector
from tests.support.teams_client import APP_ID, CREDENTIAL_ENV, Server


@pytest.fixture
async def connector():
    fake = await FakeConnector().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def server(kb: Knowledge, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch):
    for name in (*CREDENTIAL_ENV, "REGELLOTS_WATCH", "REGELLOTS_TEAMS_SDK"):
        monkeypatch.delenv(name, raising=False)
    srv = await Server(Engine(kb, MemoryStore(), channel="teams"), connector).start()
    yield srv
    await srv.stop()
    assert not connector.unexpected, connector.unexpected


def framework_of(server: Server) -> AgentsFramework:
    assert server.app is not None
    framework = server.app[teams.BOT].framework
    assert isinstance(framework, AgentsFramework)  # the default SDK
    return framework


async def test_replies_reuse_one_connection_to_the_connector(server: Server) -> None:
    """One keep-alive pool per process: ten turns (a typing indicator and an answer each) open one TCP connection."""
    created: list[int] = []
    reused: list[int] = []

    async def on_create(*_: object) -> None:
        created.append(1)

    async def on_reuse(*_: object) -> None:
        reused.append(1)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_create)
    trace.on_connection_reuseconn.append(on_reuse)
    framework_of(server).trace_configs.append(trace)
    sent = 0
    for i in range(10):
        assert await server.say(f"hej {i}")
        sent += len(server.connector.sent)  # cleared before each message
    assert sent == 20
    assert (len(created), len(reused)) == (1, 19)


async def test_malformed_bearer_headers_get_401(kb: Knowledge, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-secret")
    monkeypatch.delenv("REGELLOTS_TEAMS_SDK", raising=False)
    memory = MemoryStore()
    srv = await Server(Engine(kb, memory), connector).start()
    try:
        assert isinstance(framework_of(srv), AgentsFramework)
        for headers in ({"Authorization": "Bearer a b"}, {"Authorization": "Bearer"}, {"Authorization": "bearer  "}):
            status, body = await srv.post(srv.message("hej"), headers=headers)
            assert status == 401 and json.loads(body) == {"error": "unauthorized"}, headers
        assert connector.sent == [] and len(memory) == 0
    finally:
        await srv.stop()


def test_the_sdk_is_chosen_by_the_setting() -> None:
    assert TeamsSettings.from_env({}).sdk == "agents"
    assert TeamsSettings.from_env({"REGELLOTS_TEAMS_SDK": "botbuilder"}).sdk == "botbuilder"
    assert type(teams.framework(TeamsSettings())).__name__ == "AgentsFramework"
    assert type(teams.framework(TeamsSettings(sdk="botbuilder"))).__name__ == "_BotFramework"
    with pytest.raises(ValueError, match="REGELLOTS_TEAMS_SDK"):
        TeamsSettings(sdk="v3").check()


def test_auth_configuration_maps_the_bot_framework_settings() -> None:
    assert auth_configuration("", "", "MultiTenant", "").ANONYMOUS_ALLOWED is True
    multi = auth_configuration(APP_ID, "s", "MultiTenant", "")
    assert (multi.CLIENT_ID, multi.TENANT_ID, multi.CLIENT_SECRET, multi.ANONYMOUS_ALLOWED) == (APP_ID, "botframework.com", "s", False)
    single = auth_configuration(APP_ID, "s", "SingleTenant", "tenant-guid")
    assert single.TENANT_ID == "tenant-guid"
    msi = auth_configuration(APP_ID, "", "UserAssignedMSI", "tenant-guid")
    assert msi.AUTH_TYPE.value == "UserManagedIdentity" and msi.CLIENT_SECRET is None
