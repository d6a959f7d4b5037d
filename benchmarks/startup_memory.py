"""Start-up time, knowledge load-and-validate time, and resident memory.

    python benchmarks/startup_memory.py

- load + validate: `load_knowledge` on the shipped knowledge base (median of 5, in-process), with every
  file parsed and with the parsed files kept from an earlier start (bot/knowledge/parsecache.py).
- start-up: a fresh interpreter that imports the engine, loads the knowledge and answers one
  question (`regellots ask`), wall time, median of 5.
- resident memory: peak RSS of a process that loads the knowledge and then holds 5,000 conversations
  (each a flow in progress) in the in-memory store.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_time(cache: str) -> float:
    """Median of 5 loads; `cache` is REGELLOTS_CACHE: "off" parses every file (a first start), a directory
    that the first load fills measures a restart or reload with the files unchanged."""
    from bot.knowledge import load_knowledge

    before = os.environ.get("REGELLOTS_CACHE")
    os.environ["REGELLOTS_CACHE"] = cache
    try:
        load_knowledge(ROOT / "knowledge")  # fills the cache (or, off, warms imports alike)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            k, _ = load_knowledge(ROOT / "knowledge")
            times.append(time.perf_counter() - t0)
            assert k is not None
        return statistics.median(times)
    finally:
        if before is None:
            os.environ.pop("REGELLOTS_CACHE", None)
        else:
            os.environ["REGELLOTS_CACHE"] = before


def startup_time() -> float:
    exe = Path(sys.executable).with_name("regellots")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "ask", "--json", "vad är LOU"], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


MEMORY_CHILD = """
import asyncio, sys
sys.path.insert(0, {root!r})
from bot.understanding.pipeline import Incoming
from bot.conversation.engine import Engine
from bot.knowledge import load_knowledge
from bot.state import MemoryStore
k, _ = load_knowledge()
engine = Engine(k, MemoryStore())
async def main():
    for i in range(5000):
        await engine.handle(f"c{{i}}", Incoming(text="starta upphandlingsflödet måste vi upphandla"))
        await engine.handle(f"c{{i}}", Incoming(text="1"))
asyncio.run(main())
# VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across execve, so it would count the parent's size
# at the fork (this script's, with five knowledge loads in it) when that was larger.
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def peak_rss_mb() -> float:
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD.format(root=str(ROOT))], check=True, capture_output=True, text=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    print(f"machine: {platform.machine()} Python {platform.python_version()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as cache:
        print(f"knowledge load + validate, every file parsed (in-process, median of 5): {load_time('off') * 1000:.0f} ms")
        print(f"knowledge load + validate, parsed files kept (a restart or reload; median of 5): {load_time(cache) * 1000:.0f} ms")
    print(f"start-up to first answer (`regellots ask`, fresh process, median of 5): {startup_time() * 1000:.0f} ms")
    print(f"peak resident memory with 5,000 conversations in flows: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
