"""Engine reply time per message on the shipped knowledge base (and a generated one N times larger).

    python benchmarks/engine_latency.py [--scale 10] [--rounds 3]

Each message is a realistic one — the evaluation questions (as first
messages, matched against the whole knowledge base) and whole flow walks
(button presses and typed answers) — handled through `Engine.handle` with
an in-memory store, on one core (the engine is single-threaded). Reports
median and p99 per message; the first round warms caches and is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation.engine import Engine  # noqa: E402
from bot.knowledge import Knowledge, assemble, load_knowledge, read_files  # noqa: E402
from bot.maintain.evaluation import load_questions  # noqa: E402
from bot.state import MemoryStore  # noqa: E402
from bot.understanding.pipeline import Incoming  # noqa: E402

_SYLLABLES = ["ka", "lo", "mi", "ster", "vand", "rik", "bo", "sen", "tul", "gra", "pe", "nor", "dis", "val", "ung"]


def synthetic_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(3, 4)))


def scaled(directory: Path, factor: int) -> Knowledge:
    """The shipped knowledge plus (factor - 1) synthetic copies of every topic, each with its own words.

    The copies keep the real phrasings' shape and vocabulary but add distinct
    invented words, so the index, vocabulary and candidate lists grow as a
    real knowledge base ten times larger would.
    """
    rng = random.Random(42)
    files = read_files(directory).files
    extra = []
    for parsed in files:
        for topic in parsed.content.topics:
            for copy in range(1, factor):
                words = [synthetic_word(rng) for _ in range(3)]
                phr = topic.phrasings.model_copy(
                    update={
                        "sv": [f"{p} {rng.choice(words)}" for p in topic.phrasings.sv],
                        "en": [f"{p} {rng.choice(words)}" for p in topic.phrasings.en],
                    }
                )
                extra.append(topic.model_copy(update={"id": f"{topic.id}-x{copy}", "phrasings": phr, "related": []}))
    if extra:
        first = files[0]
        content = first.content.model_copy(update={"topics": [*first.content.topics, *extra]})
        files[0] = type(first)(first.label, content, first.raw)
    return assemble(directory, files)


def flow_walks(k: Knowledge, rng: random.Random, walks: int) -> list[list[Incoming]]:
    """Random complete walks through the flows: start by text, answer by buttons and typed labels."""
    out = []
    flows = list(k.flows.values())
    for _ in range(walks):
        flow = rng.choice(flows)
        msgs = [Incoming(text=(flow.phrasings.sv or [flow.title.sv])[0])]
        node_id = flow.start
        nodes = {n.id: n for n in flow.nodes}
        while node_id != "end":
            node = nodes[node_id]
            if node.number is not None:
                msgs.append(Incoming(text=f"{rng.choice([300, 800, 2500, 9000])} 000 kr"))
                node_id = node.number.next
                continue
            choice = rng.choice(node.choices or [])
            if rng.random() < 0.5:
                msgs.append(Incoming(choice=f"ans:{flow.id}:{node.id}:{choice.id}"))
            else:
                msgs.append(Incoming(text=choice.label.sv))
            node_id = choice.next
        msgs.append(Incoming(text="varför"))
        out.append(msgs)
    return out


async def measure(k: Knowledge, rounds: int) -> list[float]:
    rng = random.Random(7)
    questions = [q.q for q in load_questions(ROOT / "tests" / "eval" / "questions.yaml")]
    walks = flow_walks(k, rng, 40)
    timings: list[float] = []
    for round_no in range(rounds + 1):
        engine = Engine(k, MemoryStore())
        engine.settle()  # as the servers do after loading (Engine.settle)
        conv = 0
        for q in questions:
            conv += 1
            t0 = time.perf_counter()
            await engine.handle(f"q{conv}", Incoming(text=q))
            if round_no:
                timings.append(time.perf_counter() - t0)
        for walk in walks:
            conv += 1
            for msg in walk:
                t0 = time.perf_counter()
                await engine.handle(f"w{conv}", msg)
                if round_no:
                    timings.append(time.perf_counter() - t0)
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1, help="knowledge base size multiplier (synthetic topics)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    t0 = time.perf_counter()
    if args.scale == 1:
        k, problems = load_knowledge(ROOT / "knowledge")
        assert k is not None, problems
    else:
        k = scaled(ROOT / "knowledge", args.scale)
    load_s = time.perf_counter() - t0
    timings = asyncio.run(measure(k, args.rounds))
    ms = [t * 1000 for t in timings]
    print(f"machine: {platform.machine()} {platform.processor() or ''} Python {platform.python_version()}, {os.cpu_count()} cores (pinned to 1)")
    print(f"knowledge: {k.summary()}; {len(k.matcher.phrasings)} phrasings, {len(k.matcher.vocab)} stems (scale x{args.scale})")
    print(f"load + index: {load_s * 1000:.0f} ms")
    print(f"messages: {len(ms)}  median {statistics.median(ms):.2f} ms  p90 {percentile(ms, 90):.2f} ms  p99 {percentile(ms, 99):.2f} ms  max {max(ms):.2f} ms")


if __name__ == "__main__":
    main()
