"""Pick up knowledge changes without a restart: SIGHUP, or a file watch.

Every adapter starts `start_reloading(engine)`. A reload validates the new
knowledge first; if it is broken the errors are logged and the old knowledge
keeps serving (see `Engine.reload`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from bot.conversation.engine import Engine
from bot.knowledge.loader import knowledge_files
from bot.settings import load_settings

log = logging.getLogger("regellotsen.reload")


def snapshot(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the knowledge files: cheap to compare."""
    out = []
    for path in knowledge_files(directory):
        with contextlib.suppress(OSError):
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


async def watch(engine: Engine, interval: float = 2.0, seen: tuple[tuple[str, int, int], ...] | None = None) -> None:
    """Poll the knowledge directory and reload when a file changes, appears or goes."""
    directory = engine.knowledge.directory
    seen = snapshot(directory) if seen is None else seen
    while True:
        await asyncio.sleep(interval)
        now = await asyncio.to_thread(snapshot, directory)
        if now != seen:
            seen = now
            await asyncio.to_thread(engine.reload)


def start_reloading(engine: Engine, *, interval: float | None = None) -> asyncio.Task[None] | None:
    """Reload on SIGHUP, and watch the files unless REGELLOTS_WATCH=0. Call inside a running loop."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # no signals off the main thread / on Windows
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(asyncio.to_thread(engine.reload)))
    settings = load_settings()
    if not settings.watch:
        return None
    every = interval if interval is not None else settings.watch_interval
    # The first snapshot is taken now, so a change made before the task first runs is not missed.
    task = loop.create_task(watch(engine, every, snapshot(engine.knowledge.directory)), name="knowledge-watch")
    log.info("watching %s for knowledge changes every %.1fs", engine.knowledge.directory, every)
    return task
