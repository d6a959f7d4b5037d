"""Teams under the faults that lost or crossed replies (issue #12, items 1 and 2), on loopback.

- Two messages of one conversation posted milliseconds apart: the second turn's
  replies used to land among the first's. Now all replies of a turn are sent
  before the next turn of that conversation starts.
- The POST used to wait for the whole turn (the Bot Service gives up after 15 s).
  Now it is answered before the reply is sent; the reply goes through the connector.
- A replayed or retried activity (same id) used to be applied twice: a replayed
  "1" answered the next flow question. Now it is applied once.
- Stopping the server (SIGTERM → aiohttp shutdown) finishes every accepted turn
  within the grace period: none lost.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from aiohttp import web

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from tests.support.fake_connector import FakeConnector
from tests.support.teams_client import CREDENTIAL_ENV, Server, person


class SlowConnector(FakeConnector):
    """A connector that takes a little while per reply (randomly, seeded) and can be held shut."""

    def __init__(self, seed: int = 12) -> None:
        super().__init__()
        self.rng = random.Random(seed)
        self.gate = asyncio.Event()
        self.gate.set()

    async def _receive(self, request: web.Request) -> web.Response:
        await self.gate.wait()
        await asyncio.sleep(self.rng.choice([0, 0, 0.001, 0.005, 0.02]))
        return await super()._receive(request)


@pytest.fixture
async def slow():
    fake = await SlowConnector().start()
    yield fake
    fake.gate.set()
    await fake.stop()


@pytest.fixture
async def server(kb: Knowledge, slow: SlowConnector, monkeypatch: pytest.MonkeyPatch):
    for name in (*CREDENTIAL_ENV, "REGELLOTS_WATCH", "REGELLOTS_DRAIN_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    srv = await Server(Engine(kb, MemoryStore(), channel="teams"), slow).start()
    yield srv
    await srv.stop()
    assert not slow.unexpected, slow.unexpected


async def test_replies_of_one_turn_are_never_crossed_by_the_next(server: Server) -> None:
    conversations = 40
    posted: dict[str, list[str]] = {}
    bodies = []
    for c in range(conversations):
        conv = f"a:order-{c}"
        first = server.message("hej", conversation=conv, sender=person(c))
        second = server.message("är vår app en medicinteknisk produkt?", conversation=conv, sender=person(c))
        posted[conv] = [first["id"], second["id"]]
        bodies += [first, second]
    # Post every message without waiting for the replies; each conversation's two in order.
    results = await asyncio.gather(*(server.post(b, wait=False) for b in bodies))
    assert all(status == 200 for status, _ in results)
    async with asyncio.timeout(120):
        await server.bot.idle()
    crossed = 0
    for conv, ids in posted.items():
        order = [s.reply_to for s in server.connector.sent if s.conversation == conv]
        assert set(order) == set(ids), (conv, order)  # every turn answered
        if order != sorted(order, key=ids.index):
            crossed += 1
    assert crossed == 0


async def test_the_post_is_answered_before_the_reply_is_sent(server: Server) -> None:
    connector = server.connector
    assert isinstance(connector, SlowConnector)
    connector.gate.clear()  # the connector accepts nothing for now
    status, body = await server.post(server.message("hej"), wait=False)
    assert status == 200 and body == ""
    assert connector.sent == [] and server.bot.pending == 1  # answered, the turn still to be delivered
    connector.gate.set()
    async with asyncio.timeout(60):
        await server.bot.idle()
    assert [s.type for s in connector.sent] == ["typing", "message"]


async def test_a_replayed_activity_is_applied_once(server: Server) -> None:
    await server.say("mdr-kollen")
    answer = server.message("1")
    first = await server.send(answer)
    state_after = await server.engine.store.load("msteams:a:personal-chat-1")
    again = await server.send(answer)  # the Bot Service retried, or someone replayed it
    assert [s for s in again if s.type == "message"] == []
    assert await server.engine.store.load("msteams:a:personal-chat-1") == state_after
    assert [s for s in first if s.type == "message"]
    # Every activity of a conversation replayed: nothing is applied a second time.
    bodies = [server.message(t, conversation="a:replay") for t in ("hej", "mdr-kollen", "1", "2", "varför")]
    for b in bodies:
        await server.send(b)
    state = await server.engine.store.load("msteams:a:replay")
    server.connector.clear()
    for b in bodies:
        status, _ = await server.post(b)
        assert status == 200
    assert [s for s in server.connector.sent if s.type == "message"] == []
    assert await server.engine.store.load("msteams:a:replay") == state


async def test_stopping_finishes_every_accepted_turn(kb: Knowledge, slow: SlowConnector, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*CREDENTIAL_ENV, "REGELLOTS_WATCH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGELLOTS_DRAIN_SECONDS", "60")
    srv = await Server(Engine(kb, MemoryStore(), channel="teams"), slow).start()
    slow.gate.clear()
    bodies = [srv.message("är vår app en medicinteknisk produkt?", conversation=f"a:stop-{i}", sender=person(i)) for i in range(100)]
    results = await asyncio.gather(*(srv.post(b, wait=False) for b in bodies))
    assert all(status == 200 for status, _ in results)
    assert srv.bot.pending == 100
    stopping = asyncio.create_task(srv.stop())  # what SIGTERM does: close the socket, drain, clean up
    await asyncio.sleep(0)
    slow.gate.set()
    async with asyncio.timeout(120):
        await stopping
    answered = {s.conversation for s in slow.sent if s.type == "message"}
    assert answered == {f"a:stop-{i}" for i in range(100)}  # 0 lost
    assert srv.bot.pending == 0
