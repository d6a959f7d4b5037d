"""Shared fixtures: the small fixture knowledge base and an engine to talk to."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.conversation.replies import Response
from bot.knowledge import Knowledge, load_knowledge
from bot.state import MemoryStore
from bot.understanding.pipeline import Incoming
from tests.support.fake_connector import FakeConnector
from tests.support.load import RecordingTelegram

TESTS = Path(__file__).resolve().parent
FIXTURE_KB = TESTS / "fixtures" / "kb"
SHIPPED_KB = TESTS.parent / "knowledge"


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    knowledge, problems = load_knowledge(FIXTURE_KB)
    assert knowledge is not None, problems
    return knowledge


@pytest.fixture(scope="session")
def shipped() -> Knowledge:
    knowledge, problems = load_knowledge(SHIPPED_KB)
    assert knowledge is not None, "\n".join(map(str, problems))
    return knowledge


class Chat:
    """Drive one conversation through the engine, as an adapter would."""

    def __init__(self, engine: Engine, conversation: str = "c1", locale: str | None = None) -> None:
        self.engine, self.conversation, self.locale = engine, conversation, locale
        self.last: Response | None = None

    async def say(self, text: str) -> Response:
        self.last = await self.engine.handle(self.conversation, Incoming(text=text, locale=self.locale))
        return self.last

    async def press(self, label_or_value: str) -> Response:
        assert self.last is not None, "nothing offered yet"
        options = self.last.options
        value = next((o.value for o in options if o.label == label_or_value or o.value == label_or_value), None)
        assert value is not None, f"no option {label_or_value!r} among {[o.label for o in options]}"
        self.last = await self.engine.handle(self.conversation, Incoming(choice=value, locale=self.locale))
        return self.last


@pytest.fixture
def engine(kb: Knowledge) -> Engine:
    return Engine(kb, MemoryStore())


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)


# The stub Bot Connector and the recording fake Bot API on loopback, for the load tests (closed loop and
# paced). Test modules with their own `connector` (the Teams tests) override this one.
@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot_api() -> AsyncIterator[RecordingTelegram]:
    fake = await RecordingTelegram().start()
    yield fake
    await fake.close()


@pytest.fixture
def urgency_kbdir(tmp_path: Path) -> Path:
    """The small test knowledge base with the shipped urgency file and its model: urgency tests edit its copy."""
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    shutil.copy(SHIPPED_KB / "urgency.yaml", target / "urgency.yaml")
    shutil.copy(SHIPPED_KB / "urgency-model.npz", target / "urgency-model.npz")
    return target
