"""Hot reload: a good change is picked up, a broken one refused while the old keeps serving."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.conversation.hotreload import start_reloading
from bot.knowledge import load_knowledge
from bot.state import MemoryStore

from .conftest import FIXTURE_KB, Chat


@pytest.fixture
def live(tmp_path: Path) -> tuple[Path, Engine]:
    directory = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, directory)
    knowledge, _ = load_knowledge(directory)
    assert knowledge is not None
    return directory, Engine(knowledge, MemoryStore())


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def test_valid_change_is_swapped_in(live: tuple[Path, Engine]) -> None:
    directory, engine = live
    rewrite(directory / "topics.yaml", "Direktupphandling är tillåten under gränsen.", "Nytt svar om direktupphandling.")
    swapped, problems = engine.reload()
    assert swapped and not [p for p in problems if p.severity == "error"]
    r = await Chat(engine).say("direktupphandlingsgräns")
    assert "Nytt svar om direktupphandling." in r.plain_text()


async def test_broken_change_is_refused_and_logged_and_the_old_keeps_serving(live: tuple[Path, Engine], caplog: pytest.LogCaptureFixture) -> None:
    directory, engine = live
    before = engine.knowledge.version
    rewrite(directory / "flows" / "device-check.yaml", "            next: software", "            next: nowhere")
    with caplog.at_level(logging.ERROR, logger="regellotsen.engine"):
        swapped, problems = engine.reload()
    assert not swapped and any("leads nowhere" in str(p) for p in problems)
    assert "knowledge reload refused" in caplog.text and "device-check.yaml:" in caplog.text
    assert engine.knowledge.version == before
    r = await Chat(engine).say("starta medicintekniska frågorna")
    assert r.kind == "flow"


async def test_conversation_on_a_removed_node_restarts_with_a_notice(live: tuple[Path, Engine]) -> None:
    directory, engine = live
    chat = Chat(engine)
    await chat.say("starta medicintekniska frågorna")
    r = await chat.press("Ja")
    assert "Är det programvara?" in r.replies[-1].text
    flow = directory / "flows" / "device-check.yaml"
    rewrite(flow, "next: software", "next: kind_of_product")  # the maintainer renames the question the user stands on
    rewrite(flow, "      - id: software\n", "      - id: kind_of_product\n")
    assert engine.reload()[0]
    r = await chat.say("programvara")
    assert "Kunskapsbasen har uppdaterats" in r.replies[0].text
    assert r.kind != "question"


async def test_file_watch_and_sighup_reload_a_running_bot(live: tuple[Path, Engine]) -> None:
    directory, engine = live
    task = start_reloading(engine, interval=0.05)
    assert task is not None
    try:
        before = engine.knowledge.version
        rewrite(directory / "topics.yaml", "Det beror på det avsedda ändamålet.", "Det avgörs av det avsedda ändamålet.")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if engine.knowledge.version != before:
                break
        assert engine.knowledge.version != before
        # SIGHUP reloads too (the handler runs the reload in a worker thread).
        rewrite(directory / "topics.yaml", "Det avgörs av det avsedda ändamålet.", "Ändamålet avgör.")
        task.cancel()
        current = engine.knowledge.version
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if engine.knowledge.version != current:
                break
        assert engine.knowledge.version != current
    finally:
        task.cancel()
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)


SETTLE = """
import gc, sys, weakref
from pathlib import Path
from bot.conversation.engine import load_engine
engine = load_engine(Path(sys.argv[1]))
assert gc.get_freeze_count() > 0, "the loaded knowledge is out of the collector's view"
old = weakref.ref(engine.knowledge.matcher)  # the matcher holds a cycle (its cached bound method)
swapped, _ = engine.reload()
assert swapped and engine.knowledge.matcher is not old()
gc.collect()
assert old() is None, "the replaced knowledge was freed"
assert gc.get_freeze_count() > 0, "the new knowledge is settled again"
print("ok")
"""


def test_a_settled_engine_frees_the_old_knowledge_on_reload() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SETTLE, str(FIXTURE_KB)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
