"""No SSRF through serviceUrl (issue #12, item 5).

The bot sends its replies to the activity's serviceUrl. Running without
MicrosoftAppId (local testing) it may only reply to this machine; the old check
read the host with urlsplit while the HTTP client read another, so
``http://127.0.0.2:P\\@127.0.0.1:Q/`` passed as loopback and the reply went to
127.0.0.2:P. These tests post such activities to the real server on loopback with
a second server listening where the reply would have gone, and check it gets
nothing.
"""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from adapters.teams_activity import LOOPBACK_HOSTS, TEAMS_SERVICE_HOSTS, host_allowed, is_loopback, service_url_allowed

from .test_teams import CREDENTIAL_ENV, Server, connector, sdk, server, store  # noqa: F401 — fixtures

BAD_FORMS = [
    "http://127.0.0.2:{victim}\\@127.0.0.1:{port}/",  # backslash: urlsplit sees 127.0.0.1, some clients 127.0.0.2
    "http://127.0.0.2:{victim}\\\\@127.0.0.1:{port}/",
    "http://127.0.0.2:{victim}@127.0.0.1:{port}/",  # user info
    "http://user:secret@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}@127.0.0.2:{victim}/",
    "http://127.0.0.2:{victim}%5C@127.0.0.1:{port}/",
    "http://127.0.0.2:{victim}#@127.0.0.1:{port}/",
    "http://127.0.0.2:{victim}?@127.0.0.1:{port}/",
    "http://[::ffff:127.0.0.2]:{victim}/",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:2]:{victim}/",
    "http://2130706434:{victim}/",  # 127.0.0.2 in decimal
    "http://0177.0.0.2:{victim}/",  # octal
    "http://0x7f.0.0.2:{victim}/",  # hex
    "http://127.2:{victim}/",  # short form
    "http://127.0.0.2.nip.io:{victim}/",  # names that resolve to loopback: DNS rebinding
    "http://localtest.me:{victim}/",
    "http://localhost.evil.example:{victim}/",
    "http://127.0.0.1 :{port}/",
    "http://127.0.0.1\t:{port}/",
    "http://127.0.0.2\u3002:{victim}/",  # ideographic full stop
    "http://ⓛocalhost:{victim}/",  # IDNA folding
]


class Victim:
    """A server on 127.0.0.2 standing for any host the bot must never reach."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _any(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path}")
        return web.json_response({"id": "stolen"})

    async def start(self) -> Victim:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.2", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def victim():
    v = await Victim().start()
    yield v
    await v.stop()


async def test_no_form_of_serviceurl_reaches_another_host(server: Server, victim: Victim) -> None:  # noqa: F811
    port = server.connector.url.rsplit(":", 1)[1].strip("/")
    for form in BAD_FORMS:
        url = form.format(victim=victim.port, port=port)
        status, body = await server.post(server.message("hej", serviceUrl=url))
        assert status in (400, 403), (url, status, body)
    assert victim.requests == []
    assert server.connector.sent == []
    assert len(server.engine.store) == 0  # refused before the engine ran
    # The plain loopback URL still works.
    assert (await server.say("hej"))[0].type == "message"


async def test_a_loopback_url_on_another_port_is_still_allowed_locally(server: Server, victim: Victim) -> None:  # noqa: F811
    """Locally any port on localhost/127.0.0.1/[::1] is fine (the Emulator picks its own); 127.0.0.2 is not listed."""
    status, _ = await server.post(server.message("hej", serviceUrl=f"http://127.0.0.2:{victim.port}/"))
    assert status == 403 and victim.requests == []
    status, body = await server.post(server.message("hej", serviceUrl=server.connector.url.replace("127.0.0.1", "localhost")))
    assert status == 200, body


@pytest.mark.parametrize("form", BAD_FORMS)
def test_bad_forms_are_refused_by_the_check(form: str) -> None:
    url = form.format(victim=5000, port=6000)
    assert not is_loopback(url)
    assert not service_url_allowed(url, ("127.0.0.1", "127.0.0.2", "localhost", "::1"), require_https=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:3978/", "http://localhost:1/x/y", "http://[::1]:80/", "https://127.0.0.1/", "http://LOCALHOST:5/"])
def test_plain_loopback_urls_are_loopback(url: str) -> None:
    assert is_loopback(url)


def test_operator_hosts() -> None:
    teams = TEAMS_SERVICE_HOSTS
    assert service_url_allowed("https://smba.trafficmanager.net/emea/", teams)
    assert not service_url_allowed("http://smba.trafficmanager.net/emea/", teams)  # https only off loopback
    assert not service_url_allowed("https://smba.trafficmanager.net.evil.example/", teams)
    assert not service_url_allowed("https://evil.example/smba.trafficmanager.net/", teams)
    assert not service_url_allowed("https://smba.trafficmanager.net@evil.example/", teams)
    assert service_url_allowed("https://eu.bots.example/", ["*.bots.example"])
    assert not service_url_allowed("https://bots.example/", ["*.bots.example"])
    assert not service_url_allowed("https://evilbots.example/", ["*.bots.example"])
    assert host_allowed("connector.internal", 8443, ["connector.internal:8443"]) and not host_allowed("connector.internal", 8444, ["connector.internal:8443"])
    assert host_allowed("::1", 5, ["[::1]"]) and "::1" in LOOPBACK_HOSTS


async def test_the_refusal_says_why_without_echoing_the_url(server: Server, victim: Victim) -> None:  # noqa: F811
    url = f"http://127.0.0.2:{victim.port}\\@127.0.0.1:1/"
    status, body = await server.post(server.message("hej", serviceUrl=url))
    assert status == 403 and "127.0.0.2" not in body
    assert json.loads(body)["error"]


async def test_with_credentials_only_the_operators_hosts_get_replies(kb, connector, victim: Victim, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Authenticated, the token is checked first; then the serviceUrl must be on an operator-listed host too."""
    from adapters import teams
    from bot.conversation.engine import Engine
    from bot.state import MemoryStore

    monkeypatch.setenv("MicrosoftAppId", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-secret")
    monkeypatch.setenv("REGELLOTS_TEAMS_SERVICE_HOSTS", "smba.trafficmanager.net, 127.0.0.1")
    monkeypatch.setenv("REGELLOTS_WATCH", "0")

    async def accept_any_token(self: object, activity: object, header: str) -> object:
        return object()  # as if the token were valid: what is checked here is what comes after it

    monkeypatch.setattr(teams._BotFramework, "authenticate", accept_any_token)
    from adapters.teams_agents import AgentsFramework

    monkeypatch.setattr(AgentsFramework, "authenticate", accept_any_token)  # the same for the default SDK
    srv = await Server(Engine(kb, MemoryStore()), connector).start()
    try:
        assert srv.bot.settings.service_hosts == ("smba.trafficmanager.net", "127.0.0.1")
        for url in (f"http://127.0.0.2:{victim.port}/", f"https://evil.example:{victim.port}/", "http://smba.trafficmanager.net/emea/", *[f.format(victim=victim.port, port=1) for f in BAD_FORMS]):
            status, _ = await srv.post(srv.message("hej", serviceUrl=url))
            assert status in (400, 403), url
        assert victim.requests == []
    finally:
        await srv.stop()


def test_the_default_hosts_are_the_teams_connectors() -> None:
    from adapters.teams import TeamsSettings

    assert TeamsSettings.from_env({}).service_hosts == TEAMS_SERVICE_HOSTS
    assert "smba.trafficmanager.net" in TEAMS_SERVICE_HOSTS
