"""The paced load mode (benchmarks/http_load.py --rate): briefly, at a low rate, on loopback.

Each run offers 10 conversations × 6 messages at 20 messages per second to a server in its own process, and
checks every reply as the load tests do (right conversation, order, content). The rate bounds are wide: at
this pace a conversation sends every half second, so only a server slower than that per reply, or a pacer
that does not pace, falls outside them. Not marked slow: about ten seconds in all."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import FIXTURE_KB
from tests.support.fake_connector import FakeConnector
from tests.support.load import LIMIT, Pace, RecordingTelegram, Run, fixture_script, pace, teams_load, telegram_load, web_load

CONVERSATIONS, MESSAGES, RATE = 10, 6, 20.0
SCRIPTS = [fixture_script(i)[:MESSAGES] for i in range(CONVERSATIONS)]


def test_the_schedule_staggers_conversations_evenly() -> None:
    paced = Pace(rate=4.0, conversations=2, start=100.0)
    # Conversation 0 at 0, 0.5, 1.0 s …; conversation 1 a quarter second later: 4 messages a second in all.
    assert [paced.slot(0, k) for k in range(3)] == [100.0, 100.5, 101.0]
    assert [paced.slot(1, k) for k in range(3)] == [100.25, 100.75, 101.25]
    assert pace(None, 2, Run()) is None
    run = Run()
    assert pace(4.0, 2, run) is not None and run.rate == 4.0
    with pytest.raises(ValueError):
        pace(0.0, 2, Run())


async def test_a_late_reply_sends_the_next_message_at_once() -> None:
    run = Run()
    paced = Pace(rate=1.0, conversations=1, start=0.0)  # every slot long past
    await asyncio.wait_for(paced.wait(0, 0, run), 0.5)
    await asyncio.wait_for(paced.wait(0, 3, run), 0.5)
    assert run.late == 1 and run.lags == []  # the first message has no reply to wait for


def paced_right(run: Run) -> None:
    """Every message sent, none refused, and the achieved rate near the offered one."""
    assert run.rate == RATE
    assert run.requests == CONVERSATIONS * MESSAGES and run.errors == [] and run.stalled == []
    # The last message goes (N·M − 1)/R s after the first: at most 1/(N·M) above R, less what the last reply takes.
    assert 0.6 * RATE <= run.throughput <= 1.05 * RATE, run.throughput
    assert len(run.lags) >= CONVERSATIONS * (MESSAGES - 1) // 2  # it did sleep for its slots, mostly


async def test_teams_paced(connector: FakeConnector) -> None:
    paced_right(await asyncio.wait_for(teams_load(FIXTURE_KB, connector, SCRIPTS, rate=RATE), LIMIT))


async def test_telegram_paced(bot_api: RecordingTelegram) -> None:
    paced_right(await asyncio.wait_for(telegram_load(FIXTURE_KB, bot_api, SCRIPTS, rate=RATE), LIMIT))


async def test_web_paced() -> None:
    paced_right(await asyncio.wait_for(web_load(FIXTURE_KB, SCRIPTS, rate=RATE), LIMIT))
