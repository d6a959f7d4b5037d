"""The token-key refresh never blocks the event loop (issue #12, item 8).

botbuilder fetched the token-signing keys with a blocking `requests.get`
without a timeout inside a coroutine: while the key endpoint was slow the whole
process froze, /healthz included. Here the key endpoint (a thread of its own,
on loopback) holds every request until the test releases it; /healthz must
answer meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from tests.support.fake_connector import FakeConnector
from tests.support.teams_client import APP_ID, Server


class SlowKeys:
    """An OpenID metadata + JWKS endpoint that answers only after `release` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 — http.server's name
                outer.requests += 1
                outer.release.wait(timeout=60)
                port = self.server.server_address[1]
                body = {"jwks_uri": f"http://127.0.0.1:{port}/keys"} if self.path.startswith("/meta") else {"keys": []}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/meta"

    def __enter__(self) -> SlowKeys:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def channel_token() -> str:
    """A token with the Bot Framework's issuer (so validation goes on to fetch the keys) and a bogus signature."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "key-1"}
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "nbf": now - 10, "exp": now + 600, "serviceurl": "http://127.0.0.1/"}
    return f"{_b64(header)}.{_b64(claims)}.{base64.urlsafe_b64encode(b'not-a-signature').decode().rstrip('=')}"


async def test_healthz_answers_while_the_key_endpoint_hangs(kb: Knowledge, monkeypatch: pytest.MonkeyPatch) -> None:
    from botframework.connector.auth import jwt_token_extractor as jte
    from botframework.connector.auth.authentication_constants import AuthenticationConstants

    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-secret")
    monkeypatch.delenv("MicrosoftAppType", raising=False)
    monkeypatch.setenv("REGELLOTS_WATCH", "0")
    # botbuilder's own key refresh (adapters.teams._unblock_key_refresh). The Agents SDK host fetches keys with
    # PyJWKClient in a worker thread (JwtTokenValidator), so its loop never waits on the key endpoint.
    monkeypatch.setenv("REGELLOTS_TEAMS_SDK", "botbuilder")
    connector = await FakeConnector().start()
    with SlowKeys() as keys:
        # Point the SDK's key cache for the channel's metadata URL at the slow endpoint.
        monkeypatch.setitem(jte.JwtTokenExtractor.metadataCache, AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL, jte._OpenIdMetadata(keys.url))
        srv = await Server(Engine(kb, MemoryStore()), connector).start()
        try:
            headers = {"Authorization": f"Bearer {channel_token()}"}
            posts = [asyncio.create_task(srv.post(srv.message("hej"), headers=headers, wait=False)) for _ in range(3)]
            for _ in range(200):  # until the bot is waiting on the key endpoint (bounded)
                if keys.requests:
                    break
                await asyncio.sleep(0.02)
            assert keys.requests == 1
            latencies = []
            for _ in range(5):
                started = time.perf_counter()
                async with asyncio.timeout(10):  # a frozen loop would not answer until the keys came
                    assert (await srv.get("/healthz"))[0] == 200
                latencies.append(time.perf_counter() - started)
            assert not keys.release.is_set() and all(not p.done() for p in posts)  # the key fetch is still hanging
            assert sorted(latencies)[len(latencies) // 2] < 0.1  # the median /healthz within 100 ms
            keys.release.set()
            results = await asyncio.gather(*posts)
            assert all(status == 401 for status, _ in results)  # no such key: refused, after the keys came
            assert keys.requests == 2  # metadata, then the keys: one refresh for all three requests
        finally:
            await srv.stop()
            await connector.stop()
