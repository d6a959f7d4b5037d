"""Prometheus metrics (prometheus-client) and the `/metrics` route every HTTP server mounts.

What is counted, never with message text or any id (user, chat, conversation) as a label:

- `regellots_turns_total{channel, kind}`: turns answered, by channel and by the kind of reply
  (answer, flow, question, conclusion, clarify, fallback, emergency, command, greeting, notice,
  error; anything else is counted as `other`, so the label set stays small);
- `regellots_reply_seconds{channel}`: time from an incoming message to its last reply sent;
- `regellots_store_errors_total{operation}`: the state store failed (`turn`, `record`, `ready`);
- `regellots_knowledge_reloads_total{result}`: reloads `accepted` and `refused`;
- `regellots_knowledge_info{version}` (always 1) and `regellots_knowledge_loaded_timestamp_seconds`;
- the library's process metrics (CPU seconds, resident memory, open files, start time).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

KINDS = frozenset({"answer", "flow", "question", "conclusion", "clarify", "fallback", "emergency", "command", "greeting", "notice", "error"})
CHANNELS = frozenset({"teams", "telegram", "console", "web"})
#: Seconds; the channel path is milliseconds, a queue under load is seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

TURNS = Counter("regellots_turns", "Turns answered, by channel and kind of reply.", ["channel", "kind"])
REPLY_SECONDS = Histogram("regellots_reply_seconds", "Seconds from an incoming message to its last reply sent.", ["channel"], buckets=LATENCY_BUCKETS)
STORE_ERRORS = Counter("regellots_store_errors", "State store failures, by operation.", ["operation"])
RELOADS = Counter("regellots_knowledge_reloads", "Knowledge reloads, accepted or refused (the previous knowledge kept serving).", ["result"])
KNOWLEDGE = Gauge("regellots_knowledge_info", "The knowledge version being served (value always 1).", ["version"])
KNOWLEDGE_LOADED = Gauge("regellots_knowledge_loaded_timestamp_seconds", "When the knowledge being served was loaded (Unix time).")

for _result in ("accepted", "refused"):  # both series exist from the start, so a rate() sees the first refusal
    RELOADS.labels(_result)
for _operation in ("turn", "record", "ready"):
    STORE_ERRORS.labels(_operation)


def _channel(channel: str) -> str:
    return channel if channel in CHANNELS else "other"


def turn(channel: str, kind: str) -> None:
    TURNS.labels(_channel(channel), kind if kind in KINDS else "other").inc()


def reply_latency(channel: str, seconds: float) -> None:
    REPLY_SECONDS.labels(_channel(channel)).observe(seconds)


@contextmanager
def timed_reply(channel: str) -> Iterator[None]:
    """Observe the reply latency of the block (also when it fails: the user waited all the same)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        reply_latency(channel, time.perf_counter() - started)


def store_error(operation: str) -> None:
    STORE_ERRORS.labels(operation).inc()


def knowledge_loaded(version: str) -> None:
    """The served knowledge changed (at start and on each accepted reload): one version series at a time."""
    KNOWLEDGE.clear()
    KNOWLEDGE.labels(version).set(1)
    KNOWLEDGE_LOADED.set(time.time())


def reload(accepted: bool, version: str | None = None) -> None:
    RELOADS.labels("accepted" if accepted else "refused").inc()
    if accepted and version is not None:
        knowledge_loaded(version)


def exposition(registry: CollectorRegistry = REGISTRY) -> bytes:
    return generate_latest(registry)


async def handler(request: web.Request) -> web.Response:
    """GET /metrics in the Prometheus text format."""
    return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_route(app: web.Application) -> None:
    app.router.add_get("/metrics", handler)
