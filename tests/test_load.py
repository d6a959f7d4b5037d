"""Load: 200 conversations × 20 messages at once through each HTTP channel endpoint, all on 127.0.0.1.
The drivers and what they check are in tests/support/load.py. Marked slow: `make test-quick` skips them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from bot.knowledge import Knowledge
from tests.conftest import FIXTURE_KB
from tests.support.fake_connector import FakeConnector
from tests.support.load import (
    CONVERSATIONS,
    FIXTURE_KINDS,
    LIMIT,
    MESSAGES,
    RecordingTelegram,
    fixture_script,
    plan_teams,
    plan_telegram,
    plan_web,
    teams_load,
    telegram_load,
    web_load,
)
from tests.support.redis_server import RedisServer, running_server

pytestmark = pytest.mark.slow

# -- the tests -----------------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_server(tmp_path_factory)


SCRIPTS = [fixture_script(i) for i in range(CONVERSATIONS)]


async def test_the_scripts_mean_what_they_say(kb: Knowledge) -> None:
    """The plans the load tests check against: the expected kinds, and a different reply sequence for every conversation."""
    teams_plans = await plan_teams(kb, SCRIPTS[:8])
    telegram_plans = await plan_telegram(kb, SCRIPTS[:8], "RegellotsenTestBot")
    web_plans = await plan_web(kb, SCRIPTS[:8])
    for plan in (*teams_plans, *telegram_plans, *web_plans):
        assert [t.kind for t in plan] == FIXTURE_KINDS
    [conclusion] = [m["text"] for m in telegram_plans[3][4].messages]  # the verdict: one message
    assert "<b>Gäller:</b> MDR" in conclusion and "Regel 11 gäller för programvaran." in conclusion
    assert "Personuppgiftsincident" in telegram_plans[3][6].messages[0]["text"]  # TOPICS[3]
    assert telegram_plans[4][19].messages[0]["text"].startswith("<b>Personal data breach</b>")
    verdict_rows = telegram_plans[2][4].messages[0]["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in verdict_rows] == [["Varför?", "Alla steg"], ["Myndigheter", "Källor"], ["Spara checklista", "Börja om"]]
    assert telegram_plans[2][2].messages[0]["reply_markup"]
    # Teams: Adaptive Card buttons carrying the value, in personal chat and in group chats alike.
    assert (teams_plans[0][2].choice, teams_plans[0][2].text) == ("ans:device-check:purpose:yes", "Ja")
    assert (teams_plans[2][2].choice, teams_plans[2][2].text) == ("ans:device-check:purpose:yes", "Ja") and teams_plans[2][5].mention
    every = [json.dumps([t.expected for t in p]) for p in teams_plans] + [json.dumps([t.messages for t in p]) for p in telegram_plans]
    assert len(set(every)) == len(every)
    assert len(SCRIPTS) == CONVERSATIONS and {len(s) for s in SCRIPTS} == {MESSAGES}


async def test_teams_200_conversations_at_once(connector: FakeConnector) -> None:
    await asyncio.wait_for(teams_load(FIXTURE_KB, connector, SCRIPTS), LIMIT)


async def test_teams_200_conversations_at_once_with_redis(connector: FakeConnector, redis_server: RedisServer) -> None:
    await asyncio.wait_for(teams_load(FIXTURE_KB, connector, SCRIPTS, state=redis_server.url), LIMIT)


async def test_telegram_webhook_200_conversations_at_once(bot_api: RecordingTelegram) -> None:
    """Each update posted as soon as the previous one was acknowledged (the webhook acknowledges an update once it
    was answered; a text typed right after a button press must not overtake the press)."""
    await asyncio.wait_for(telegram_load(FIXTURE_KB, bot_api, SCRIPTS), LIMIT)


async def test_telegram_webhook_200_patient_conversations_at_once(bot_api: RecordingTelegram) -> None:
    """Each user writes again only once the bot answered (as benchmarks/http_load.py drives it)."""
    await asyncio.wait_for(telegram_load(FIXTURE_KB, bot_api, SCRIPTS, patient=True), LIMIT)



async def test_web_200_conversations_at_once() -> None:
    await asyncio.wait_for(web_load(FIXTURE_KB, SCRIPTS), LIMIT)


async def test_web_200_conversations_at_once_with_redis(redis_server: RedisServer) -> None:
    await asyncio.wait_for(web_load(FIXTURE_KB, SCRIPTS, state=redis_server.url), LIMIT)
