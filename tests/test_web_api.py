"""The web chat's server end to end over real HTTP on 127.0.0.1: the JSON API, the page and its headers,
settings, limits, privacy and state. (The page in a browser: test_web_browser.py.)"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.web import STATIC, create_app
from adapters.web_api import MAX_BODY, RateLimiter, parse_turn
from adapters.web_settings import Theme, WebSettings, contrast
from adapters.web_text import KEYS, accept_language, text
from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore, open_store

from .support.load import free_port

TIMEOUT = aiohttp.ClientTimeout(total=15)
ID = "test-conversation-0001"
OPEN = WebSettings(rate_per_minute=0, conversation_rate_per_minute=0)


class Server:
    def __init__(self, engine: Engine, settings: WebSettings) -> None:
        self.engine, self.settings = engine, settings
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> Server:
        self._runner = web.AppRunner(create_app(self.engine, self.settings))
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self.http = aiohttp.ClientSession(timeout=TIMEOUT, auto_decompress=True)
        return self

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def chat(self, status: int = 200, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        body.setdefault("conversation", ID)
        assert self.http is not None
        async with self.http.post(self.url + "/api/chat", json=body, headers=headers) as r:
            data = await r.json()
            assert r.status == status, data
            return data

    async def get(self, path: str, **headers: str) -> tuple[aiohttp.ClientResponse, bytes]:
        assert self.http is not None
        async with self.http.get(self.url + path, headers=headers) as r:
            return r, await r.read()


@pytest.fixture
async def serve(kb: Knowledge) -> AsyncIterator[Any]:
    servers: list[Server] = []

    async def start(settings: WebSettings = OPEN, engine: Engine | None = None) -> Server:
        server = await Server(engine or Engine(kb, MemoryStore(), channel="web"), settings).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def server(serve: Any) -> Server:
    return await serve()


def labels(data: dict[str, Any]) -> list[str]:
    return [o["label"] for r in data["replies"] for o in r["options"]]


def value(data: dict[str, Any], label: str) -> str:
    return next(o["value"] for r in data["replies"] for o in r["options"] if o["label"] == label)


# -- the API -------------------------------------------------------------------------


async def test_a_conversation_through_the_api(server: Server) -> None:
    greeting = await server.chat(choice="cmd:menu", locale="sv-SE")
    assert greeting["conversation"] == ID and greeting["kind"] == "greeting" and greeting["lang"] == "sv"
    reply = greeting["replies"][0]
    assert set(reply) == {"title", "text", "facts", "options", "citations", "documents"} and reply["options"]
    flow = await server.chat(choice=value(greeting, labels(greeting)[0]))
    assert flow["kind"] in ("flow", "question")
    answered = await server.chat(text="1")  # a typed number picks the offered option, as in every channel
    assert answered["kind"] in ("question", "conclusion")
    # Another conversation id is another conversation.
    other = await server.chat(conversation="another-conversation-01", text="hej", locale="en")
    assert other["kind"] == "greeting"


async def test_sources_come_as_title_and_url(kb: Knowledge, server: Server) -> None:
    data = await server.chat(text="mdr")
    citations = [c for r in data["replies"] for c in r["citations"]]
    assert citations and all(c["url"].startswith("http") and c["title"] for c in citations)


async def test_language_switch_is_a_choice(server: Server) -> None:
    await server.chat(choice="cmd:menu", locale="sv")
    data = await server.chat(choice="lang:en", locale="en")
    assert data["lang"] == "en" and "OK, I'll answer in English." in data["replies"][0]["text"]
    again = await server.chat(choice="cmd:menu", locale="sv")  # the page's locale no longer overrides the choice
    assert again["lang"] == "en"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"conversation": "short", "text": "hej"}, "conversation must be"),
        ({"conversation": "x" * 65, "text": "hej"}, "conversation must be"),
        ({"conversation": "has spaces in it 123", "text": "hej"}, "conversation must be"),
        ({"conversation": ID}, "exactly one of text and choice"),
        ({"conversation": ID, "text": "hej", "choice": "cmd:menu"}, "exactly one of text and choice"),
        ({"conversation": ID, "text": 12}, "text must be a string"),
        ({"conversation": ID, "choice": ""}, "choice must be"),
        ({"conversation": ID, "choice": "x" * 201}, "choice must be"),
        ({"conversation": ID, "text": "hej", "locale": "<script>"}, "locale must be"),
        ([1, 2], "JSON object"),
    ],
)
async def test_bad_bodies_are_400_with_a_reason(server: Server, body: Any, problem: str) -> None:
    assert server.http is not None
    async with server.http.post(server.url + "/api/chat", json=body) as r:
        assert r.status == 400
        assert problem in (await r.json())["error"]


async def test_wrong_type_size_and_origin_are_refused(server: Server) -> None:
    assert server.http is not None
    url = server.url + "/api/chat"
    async with server.http.post(url, data="conversation=x", headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
        assert r.status == 415  # a plain HTML form from another site cannot post JSON without CORS, which is never granted
    async with server.http.post(url, data=b"{not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
    big = json.dumps({"conversation": ID, "text": "a" * MAX_BODY}).encode()
    async with server.http.post(url, data=big, headers={"Content-Type": "application/json"}) as r:
        assert r.status == 413
        assert (await r.json())["error"].startswith("the body is over")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit still holds
        for _ in range(4):
            yield b" " * (MAX_BODY // 2)

    async with server.http.post(url, data=chunks(), headers={"Content-Type": "application/json"}) as r:
        assert r.status == 413
    await server.chat(403, headers={"Sec-Fetch-Site": "cross-site"}, text="hej")
    await server.chat(403, headers={"Sec-Fetch-Site": "same-site"}, text="hej")
    await server.chat(200, headers={"Sec-Fetch-Site": "same-origin"}, text="hej")
    async with server.http.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}) as r:
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_a_very_long_text_is_cut_and_said_so(server: Server) -> None:
    data = await server.chat(text="mdr " * 1000)
    assert "läste bara de första 2000 tecknen" in data["replies"][0]["text"]


async def test_rate_limit_per_client_with_retry_after(serve: Any) -> None:
    server = await serve(WebSettings(rate_per_minute=60, conversation_rate_per_minute=0))
    statuses = []
    for n in range(25):
        assert server.http is not None
        async with server.http.post(server.url + "/api/chat", json={"conversation": f"conversation-{n:012d}", "text": "hej"}) as r:
            statuses.append(r.status)
            if r.status == 429:
                assert int(r.headers["Retry-After"]) >= 1
    assert statuses[:20] == [200] * 20  # a burst of a third of the minute's allowance passes
    assert 429 in statuses[20:]


async def test_rate_limit_per_conversation(serve: Any) -> None:
    server = await serve(WebSettings(rate_per_minute=0, conversation_rate_per_minute=30))
    for _ in range(10):
        await server.chat(text="hej")
    data = await server.chat(429, text="hej")
    assert "too many" in data["error"]
    await server.chat(200, conversation="a-fresh-conversation-1", text="hej")


async def test_the_client_behind_trusted_proxies(serve: Any) -> None:
    server = await serve(WebSettings(rate_per_minute=3, conversation_rate_per_minute=0, trusted_proxies=1))
    for n in range(1):  # burst 1 per address (a third of 3)
        await server.chat(conversation=f"proxied-conversation-{n}", headers={"X-Forwarded-For": "203.0.113.7"}, text="hej")
    await server.chat(429, conversation="proxied-conversation-x", headers={"X-Forwarded-For": "203.0.113.7"}, text="hej")
    # Another client behind the same proxy has its own allowance; a forged extra hop does not change who the proxy saw.
    await server.chat(200, conversation="proxied-conversation-y", headers={"X-Forwarded-For": "198.51.100.2"}, text="hej")
    await server.chat(429, conversation="proxied-conversation-z", headers={"X-Forwarded-For": "10.0.0.1, 198.51.100.2"}, text="hej")


def test_rate_limiter_refills_and_stays_bounded() -> None:
    limiter = RateLimiter(60, burst=2, max_keys=3)
    assert limiter.take("a", now=0) == 0 and limiter.take("a", now=0) == 0
    assert limiter.take("a", now=0) == pytest.approx(1.0)
    assert limiter.take("a", now=1.0) == 0  # one a second comes back
    for key in "bcd":
        limiter.take(key, now=2)
    assert len(limiter._buckets) == 3 and "a" not in limiter._buckets
    assert RateLimiter(0).take("x") == 0


async def test_personal_data_is_redacted_with_a_warning_and_never_logged(
    kb: Knowledge, serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    server = await serve(OPEN, Engine(kb, store, channel="web"))
    secret = "mitt personnummer är 19121212-1212 och min e-post kalle@example.se, hemligt-ord-xyzzy"
    with caplog.at_level(logging.DEBUG):
        data = await server.chat(text=secret)
        await server.chat(text="hemligt-ord-xyzzy igen")
    assert data["replies"][0]["text"].startswith("⚠️")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "regellotsen.web" in {r.name for r in caplog.records}
    for fragment in ("19121212", "kalle@example.se", "xyzzy", "personnummer", ID):
        assert fragment not in logged
    stored = json.dumps(await store.load("web:" + ID)) + json.dumps(await store.events())
    assert "19121212" not in stored and "kalle@example.se" not in stored


async def test_conversations_live_in_the_configured_store(kb: Knowledge, serve: Any, tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = await serve(OPEN, Engine(kb, open_store(f"sqlite:///{path}"), channel="web"))
    greeting = await first.chat(choice="cmd:menu")
    flow = await first.chat(choice=value(greeting, labels(greeting)[0]))
    answer = next(o["value"] for r in flow["replies"] for o in r["options"] if o["value"].startswith("ans:"))
    await first.stop()
    # A new server process on the same store: the conversation goes on where it was, so the open question's
    # button still answers it (a fresh conversation would call it a button from an earlier question).
    second = await serve(OPEN, Engine(kb, open_store(f"sqlite:///{path}"), channel="web"))
    going_on = await second.chat(choice=answer)
    assert going_on["kind"] in ("question", "conclusion"), going_on
    fresh = await second.chat(conversation="a-fresh-conversation-2", choice=answer)
    assert fresh["kind"] == "notice"


# -- the page, headers and settings -----------------------------------------------------------


async def test_page_headers_csp_and_framing(serve: Any) -> None:
    server = await serve()
    response, body = await server.get("/")
    h = response.headers
    assert response.status == 200 and h["Content-Type"].startswith("text/html")
    csp = h["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe" not in csp and "http" not in csp
    assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff" and h["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in h
    page = body.decode()
    assert "<script>" not in page and " style=" not in page and "http://" not in page and "https://" not in page, (
        "nothing inline, nothing external"
    )

    embedded = await serve(WebSettings(frame_ancestors=("https://www.region.se", "https://*.region.se")))
    response, _ = await embedded.get("/")
    assert "frame-ancestors https://www.region.se https://*.region.se" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers  # it cannot name several sites; frame-ancestors decides
    response, _ = await embedded.get("/api/chat")
    assert response.status == 405 and "Content-Security-Policy" in response.headers


async def test_the_page_speaks_the_browsers_language(server: Server) -> None:
    for header, lang in (("sv-SE,sv;q=0.9,en;q=0.8", "sv"), ("en-GB,en;q=0.9", "en"), ("de-DE,en;q=0.5,sv;q=0.4", "en"), ("", "sv")):
        response, body = await server.get("/", **({"Accept-Language": header} if header else {}))
        page = body.decode()
        assert f'<html lang="{lang}">' in page and response.headers["Content-Language"] == lang
        label = text("input_label", lang)
        assert f">{label}</label>" in page
    strings = json.loads(re.search(r'<script type="application/json" id="strings">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert set(strings) == {"sv", "en"} and set(strings["sv"]) == set(strings["en"]) == set(KEYS)


def test_accept_language() -> None:
    assert accept_language("en;q=0.2, sv;q=0.8") == "sv"
    assert accept_language("sv;q=0, en") == "en"
    assert accept_language("fi") == "en" and accept_language(None) == "sv"


def test_every_page_word_has_both_languages() -> None:
    """Every word the page shows comes from the catalogue, in both languages; the script uses no other."""
    script = (STATIC / "app.js").read_text(encoding="utf-8") + (STATIC / "index.html").read_text(encoding="utf-8")
    used = set(re.findall(r'\bt\("([a-z_]+)"\)', script)) | set(re.findall(r'data-t="([a-z_]+)"', script))
    assert used and used <= set(KEYS), used - set(KEYS)
    for key in KEYS:
        assert text(key, "sv").strip() and text(key, "en").strip(), key


async def test_assets_are_small_cached_and_compressed(server: Server) -> None:
    response, page = await server.get("/", **{"Accept-Encoding": "identity"})
    version = re.search(r"app\.js\?v=([0-9a-f]+)", page.decode()).group(1)  # type: ignore[union-attr]
    total = len(page)
    compressed = 0
    for path in (f"/static/app.js?v={version}", f"/static/style.css?v={version}", f"/theme.css?v={version}", "/logo"):
        response, body = await server.get(path, **{"Accept-Encoding": "identity"})
        assert response.status == 200
        total += len(body)
        assert server.http is not None
        async with server.http.get(server.url + path, headers={"Accept-Encoding": "gzip"}, auto_decompress=False) as r:
            raw = await r.read()
            compressed += len(raw)
            if r.headers.get("Content-Encoding") == "gzip":
                assert gzip.decompress(raw) == body
    assert total <= 40_000, total  # the whole page, uncompressed; the budget is 100 KB transferred
    assert compressed < total
    response, _ = await server.get(f"/static/app.js?v={version}")
    assert "immutable" in response.headers["Cache-Control"] and response.headers["Content-Type"].startswith("text/javascript")
    again, body = await server.get(f"/static/app.js?v={version}", **{"If-None-Match": response.headers["ETag"]})
    assert again.status == 304 and body == b""
    response, _ = await server.get("/static/../web.py")
    assert response.status == 404
    response, _ = await server.get("/static/index.html")
    assert response.status == 404


def test_theme_colours_keep_contrast() -> None:
    for colour in ("#0b5394", "#ffd700", "#e30613", "#00a19a", "#ffffff", "#000000", "#777777"):
        theme = Theme.of(colour)
        assert contrast(theme.brand, theme.on_brand) >= 4.5, colour
        assert contrast(theme.link, "#ffffff") >= 4.5, colour
        assert contrast(theme.link, "#f4f6f9") >= 4.5, colour  # links inside the reply bubbles
    assert Theme.of("#ffd700").on_brand == "#000000" and Theme.of("#0b5394").on_brand == "#ffffff"


async def test_theme_and_logo_by_setting(serve: Any, tmp_path: Path) -> None:
    logo = tmp_path / "region.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    server = await serve(WebSettings(theme="#E30613", logo=logo))
    response, body = await server.get("/theme.css")
    assert body.decode().startswith(":root{--brand:#e30613;--on-brand:")
    response, body = await server.get("/logo")
    assert response.headers["Content-Type"] == "image/png" and body == logo.read_bytes()
    _, page = await server.get("/")
    assert b'<meta name="theme-color" content="#e30613">' in page


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"REGELLOTS_WEB_FRAME_ANCESTORS": "https://ok.se javascript:alert(1)"}, "is not an origin"),
        ({"REGELLOTS_WEB_FRAME_ANCESTORS": "https://ok.se/path"}, "is not an origin"),
        ({"REGELLOTS_WEB_FRAME_ANCESTORS": "'none' https://ok.se"}, "cannot be combined"),
        ({"REGELLOTS_WEB_THEME": "red"}, "REGELLOTS_WEB_THEME"),
        ({"REGELLOTS_WEB_LOGO": "/no/such/logo.svg"}, "no file"),
        ({"REGELLOTS_WEB_LOGO": "/etc/passwd"}, "must be one of"),
        ({"REGELLOTS_WEB_CONTACT": "javascript:alert(1)"}, "REGELLOTS_WEB_CONTACT"),
        ({"REGELLOTS_WEB_STATEMENT_DATE": "igår"}, "REGELLOTS_WEB_STATEMENT_DATE"),
        ({"REGELLOTS_WEB_RATE": "many"}, "must be a number"),
        ({"REGELLOTS_WEB_STATEMENT_DIR": "/tmp"}, "no accessibility.sv.html"),
    ],
)
def test_bad_settings_are_refused_before_start(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        WebSettings.from_env(env)


def test_settings_from_env() -> None:
    s = WebSettings.from_env(
        {
            "REGELLOTS_WEB_FRAME_ANCESTORS": "'self' https://www.region.se",
            "REGELLOTS_WEB_THEME": "#00A19A",
            "REGELLOTS_WEB_RATE": "30",
            "REGELLOTS_WEB_TRUSTED_PROXIES": "1",
            "REGELLOTS_WEB_CONTACT": "tillganglighet@region.se",
        }
    )
    assert s.frame_ancestors == ("'self'", "https://www.region.se") and s.rate_per_minute == 30 and s.trusted_proxies == 1
    assert WebSettings.from_env({}) == WebSettings()


async def test_accessibility_statement_template_and_filled_in(serve: Any, tmp_path: Path) -> None:
    server = await serve()
    for path, lang in (("/tillganglighet", "sv"), ("/accessibility", "en")):
        response, body = await server.get(path)
        page = body.decode()
        assert response.status == 200 and f'<html lang="{lang}">' in page
        assert "[REGELLOTS_WEB_ORGANISATION]" in page and '<mark class="fill">' in page  # unfilled parts are marked
        assert "{{" not in page
    filled = await serve(WebSettings(organisation="Region <Exempel>", contact="https://www.region.se/kontakt", statement_date="2026-11-30"))
    _, body = await filled.get("/tillganglighet")
    page = body.decode()
    assert "Region &lt;Exempel&gt; står bakom" in page and 'href="https://www.region.se/kontakt"' in page and "2026-11-30" in page
    assert '<mark class="fill">' not in page
    own = tmp_path / "statement"
    own.mkdir()
    for lang in ("sv", "en"):
        (own / f"accessibility.{lang}.html").write_text(
            f"<!doctype html><html lang={lang}><title>x</title><p>Egen text {{{{organisation}}}}</p>"
        )
    custom = await serve(WebSettings(statement_dir=own, organisation="Kommunen"))
    _, body = await custom.get("/tillganglighet")
    assert b"Egen text Kommunen" in body


async def test_health_and_readiness(server: Server) -> None:
    response, body = await server.get("/healthz")
    assert response.status == 200 and json.loads(body) == {"status": "ok"}
    response, body = await server.get("/readyz")
    assert response.status == 200 and json.loads(body)["status"] == "ready"
    await server.chat(text="hej")
    response, body = await server.get("/metrics")
    assert response.status == 200 and b"web" in body  # the channel base's metrics count the web channel's turns


def test_parse_turn_passes_the_locale() -> None:
    parsed = parse_turn({"conversation": ID, "choice": "cmd:menu", "locale": "en-GB"})
    assert not isinstance(parsed, str) and parsed[1].locale == "en-GB" and parsed[1].choice == "cmd:menu"


def test_static_files_are_what_the_page_needs() -> None:
    names = {p.name for p in STATIC.iterdir()}
    assert {"index.html", "app.js", "style.css", "logo.svg", "accessibility.sv.html", "accessibility.en.html"} <= names


async def test_regellots_web_runs_as_a_process(tmp_path: Path) -> None:
    """`regellots web` as an operator starts it: settings from the environment, the shipped knowledge, SIGTERM stops it."""
    port = free_port()
    env = {**os.environ, "REGELLOTS_STATE": "memory", "REGELLOTS_WATCH": "0", "REGELLOTS_WEB_FRAME_ANCESTORS": "https://www.region.se"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "web",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert process.returncode is None and time.monotonic() < deadline, "regellots web did not become ready"
                await asyncio.sleep(0.1)
            async with http.get(f"http://127.0.0.1:{port}/") as r:
                assert "frame-ancestors https://www.region.se" in r.headers["Content-Security-Policy"]
            async with http.post(f"http://127.0.0.1:{port}/api/chat", json={"conversation": ID, "text": "vad är mdr?"}) as r:
                assert r.status == 200 and (await r.json())["replies"]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), 15))[0].decode()
    assert process.returncode == 0, output
    assert "vad är mdr" not in output and "web chat on http://127.0.0.1" in output


def test_regellots_web_refuses_bad_settings() -> None:
    env = {**os.environ, "REGELLOTS_WEB_THEME": "pink"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "web"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "REGELLOTS_WEB_THEME" in done.stderr


def test_documents_travel_as_text_or_base64() -> None:
    from types import SimpleNamespace

    from adapters.web_api import document_json

    text_doc = SimpleNamespace(name="checklista.md", media_type="text/markdown", title="Checklista", content="# Åtgärder\n".encode())
    assert document_json(text_doc) == {
        "name": "checklista.md",
        "media_type": "text/markdown",
        "title": "Checklista",
        "encoding": "utf-8",
        "content": "# Åtgärder\n",
    }
    pdf = SimpleNamespace(name="checklista.pdf", media_type="application/pdf", title="", content=b"%PDF-1.7\x00\xff")
    assert document_json(pdf)["encoding"] == "base64" and document_json(pdf)["content"] == "JVBERi0xLjcA/w=="
