"""bot/metrics.py: the counters and histograms the issue names, served as /metrics over real HTTP,
with no message text and no ids in any label."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def scrape(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as r:
        return r.status, r.headers["Content-Type"], await r.text()


async def test_metrics_are_served_in_the_prometheus_format_and_count_what_happened() -> None:
    app = web.Application()
    metrics.add_route(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        _, _, before = await scrape(url)
        metrics.turn("teams", "answer")
        metrics.turn("teams", "fallback")
        metrics.turn("telegram", "something-new")  # an unknown kind is "other": the label set stays bounded
        metrics.reply_latency("teams", 0.02)
        with metrics.timed_reply("telegram"):
            pass
        metrics.store_error("turn")
        metrics.reload(False)
        metrics.reload(True, "abc123def456")
        status, content_type, after = await scrape(url)
    finally:
        await runner.cleanup()
    assert status == 200 and content_type.startswith("text/plain; version=")

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("regellots_turns_total", channel="teams", kind="answer") == 1
    assert delta("regellots_turns_total", channel="teams", kind="fallback") == 1
    assert delta("regellots_turns_total", channel="telegram", kind="other") == 1
    assert delta("regellots_reply_seconds_count", channel="teams") == 1
    assert delta("regellots_reply_seconds_bucket", channel="teams", le="0.025") == 1
    assert delta("regellots_reply_seconds_count", channel="telegram") == 1
    assert delta("regellots_store_errors_total", operation="turn") == 1
    assert delta("regellots_knowledge_reloads_total", result="refused") == 1
    assert delta("regellots_knowledge_reloads_total", result="accepted") == 1
    assert sample(after, "regellots_knowledge_info", version="abc123def456") == 1
    assert sample(after, "regellots_knowledge_loaded_timestamp_seconds") > 0
    assert "process_cpu_seconds_total" in after


def test_only_bounded_labels() -> None:
    """No label can carry text or an id: every label of every regellots_ metric comes from a fixed set."""
    metrics.turn("some-other-channel", "answer")
    text = metrics.exposition().decode()
    allowed = {"channel": metrics.CHANNELS | {"other"}, "kind": metrics.KINDS | {"other"}, "operation": {"turn", "record", "ready"}, "result": {"accepted", "refused"}}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if not s.name.startswith("regellots_"):
                continue
            for key, value in s.labels.items():
                if key in ("le", "version"):
                    continue
                assert value in allowed[key], (s.name, key, value)
