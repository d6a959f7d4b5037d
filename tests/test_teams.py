"""The Teams adapter end to end: the real aiohttp server on 127.0.0.1, real Activity JSON,
and a stub Bot Connector (tests/fake_connector.py) that records the replies."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from adapters import channel, teams
from adapters.teams import TeamsSettings
from adapters.teams_activity import plan_turn, render, strip_mentions
from adapters.teams_cards import escape
from adapters.teams_manifest import COMMANDS, PackageOptions, build_package, color_icon, english, manifest, outline_icon
from bot.cli import build_parser, main
from bot.conversation.commands import command_of
from bot.conversation.engine import Engine
from bot.conversation.replies import Citation, Fact, Option, Reply, Response
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from bot.understanding.pipeline import Incoming
from tests.support.fake_connector import FakeConnector, Sent
from tests.support.teams_client import APP_ID, BOT, CREDENTIAL_ENV, Server, person


def button(sent: list[Sent], label_start: str) -> dict:
    """The last button whose label starts so; a shortened title's full label is its tooltip."""
    found = [b for s in sent for b in s.buttons() if b["title"].startswith(label_start) or b.get("tooltip", "").startswith(label_start)]
    assert found, f"no button {label_start!r} among {[b['title'] for s in sent for b in s.buttons()]}"
    return found[-1]


def text_of(sent: list[Sent]) -> str:
    return "\n\n".join(s.text for s in sent)


@pytest.fixture
async def connector():
    fake = await FakeConnector().start()
    yield fake
    await fake.stop()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture(params=["agents", "botbuilder"])
def sdk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every server test runs on both Teams hosts: the Microsoft 365 Agents SDK and botbuilder (REGELLOTS_TEAMS_SDK)."""
    monkeypatch.setenv("REGELLOTS_TEAMS_SDK", request.param)
    return str(request.param)


@pytest.fixture
async def server(sdk: str, kb: Knowledge, connector: FakeConnector, store: MemoryStore, monkeypatch: pytest.MonkeyPatch):
    for name in (*CREDENTIAL_ENV, "REGELLOTS_WATCH"):
        monkeypatch.delenv(name, raising=False)
    srv = await Server(Engine(kb, store, channel="teams"), connector).start()
    yield srv
    await srv.stop()
    assert not connector.unexpected, connector.unexpected


# -- conversations ------------------------------------------------------------------


async def test_welcome_with_menu_when_the_bot_is_added(server: Server) -> None:
    sent = await server.send(server.activity("conversationUpdate", membersAdded=[person(1), BOT]))
    assert [s.type for s in sent] == ["typing", "message"]
    welcome = sent[1]
    assert "Jag är Regellotsen" in welcome.text
    # The whole menu in one Adaptive Card: every choice a button carrying its value.
    assert len(welcome.cards()) == 1
    values = [b["data"]["choice"] for b in welcome.buttons()]
    assert values == ["go:flow:device-check", "go:topic:market-dialogue", "go:topic:direct-award", "cmd:help"]
    assert welcome.conversation == "a:personal-chat-1"


async def test_no_welcome_when_only_people_join(server: Server) -> None:
    assert await server.send(server.activity("conversationUpdate", membersAdded=[person(2)])) == []
    assert await server.send(server.activity("conversationUpdate", membersRemoved=[person(2)])) == []


async def test_free_text_is_answered_in_an_adaptive_card_with_links_after_a_typing_indicator(server: Server) -> None:
    incoming = server.message("är vår app en medicinteknisk produkt?")
    sent = await server.send(incoming)
    assert [s.type for s in sent] == ["typing", "message"]
    answer = sent[1]
    [card] = answer.cards()
    assert card["version"] == "1.5" and card["body"][0]["text"] == "Är vår app en medicinteknisk produkt?"
    assert "Det beror på det avsedda ändamålet." in answer.text
    assert "Gäller: MDR" in answer.text  # the "Gäller" line as a fact
    sources = [b for b in answer.buttons() if b["type"] == "Action.OpenUrl"]
    assert [(b["title"], b["url"]) for b in sources] == [("Appar", "https://www.lakemedelsverket.se/app")]
    # A reply threads onto the incoming activity and goes from the bot to the user.
    assert answer.reply_to == incoming["id"]
    assert answer.activity["from"]["id"] == BOT["id"] and answer.activity["recipient"]["id"] == person(1)["id"]
    # The flow that goes deeper, as a card button carrying its value (the full label in a tooltip).
    deeper = button([answer], "▶ Är det en medicinteknisk produkt?")
    assert deeper["type"] == "Action.Submit" and deeper["data"] == {"choice": "go:flow:device-check"}
    # Without credentials replies carry no token.
    assert answer.authorization is None


async def test_knowledge_text_is_shown_as_written(server: Server) -> None:
    # Cards show no HTML, so "<Se>" and "&" need no escaping (Markdown marks would be: see the unit test).
    sent = await server.say("tidig marknadsdialog")
    assert "Ja, en marknadsdialog är tillåten om alla behandlas lika. <Se> Upphandlingsmyndigheten & Konkurrensverket." in sent[0].text


async def test_group_chat_answers_only_when_mentioned_and_strips_the_mention(server: Server) -> None:
    assert await server.send(server.message("hjälp", group="groupChat")) == []
    sent = await server.say("hjälp", group="groupChat", mention=True)
    # "Regellotsen hjälp" would not be the help command: the mention was removed before the engine saw it.
    assert "Kommandon:" in sent[0].text
    assert "Regellotsen" not in sent[0].text.split("\n")[0]
    # Buttons in a group chat: an Adaptive Card whose Action.Submit buttons carry the option values.
    assert sent[0].activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "suggestedActions" not in sent[0].activity
    assert {b["type"] for b in sent[0].buttons()} == {"Action.Submit"}


async def test_channel_mentions_and_two_people_keep_separate_flows(server: Server) -> None:
    thread = "19:channel-1@thread.skype;messageid=1700000000000"
    first = await server.say("kolla om vi behöver ce-märka", group="channel", conversation=thread, mention=True)
    assert "Har produkten ett medicinskt syfte?" in text_of(first)
    # Another person in the same thread is not inside the first person's flow.
    other = await server.say("tillbaka", group="channel", conversation=thread, mention=True, sender=person(2))
    assert "Det finns inget tidigare svar att gå tillbaka till." in text_of(other)
    assert "Har produkten" not in text_of(other)
    # Pressing someone else's answer button does not move their flow.
    stranger = await server.press(button(first, "Ja"), group="channel", conversation=thread, sender=person(2))
    assert "Det valet hör till en tidigare fråga." in text_of(stranger)
    # The first person is still at question 1 and answers by pressing the button (no mention needed).
    answered = await server.press(button(first, "Ja"), group="channel", conversation=thread)
    assert "Är det programvara?" in text_of(answered)
    assert all(s.conversation == thread for s in server.connector.sent)


async def test_whole_device_check_flow_by_buttons_in_a_group_chat(server: Server) -> None:
    welcome = [s for s in await server.send(server.activity("conversationUpdate", group="groupChat", membersAdded=[BOT])) if s.type == "message"]
    step = await server.press(button(welcome, "▶ Är det en medicinteknisk produkt?"), group="groupChat")
    assert "Är det en medicinteknisk produkt? – Fråga 1" in text_of(step)
    assert "Har produkten ett medicinskt syfte?" in text_of(step)
    step = await server.press(button(step, "Ja"), group="groupChat")
    assert "Är det programvara?" in text_of(step)
    assert [b["title"] for b in step[-1].buttons()] == ["Programvara", "Fysisk produkt", "⬅ Tillbaka"]
    step = await server.press(button(step, "Programvara"), group="groupChat")
    assert "Vad kostar utvecklingen ungefär?" in text_of(step)
    [verdict] = await server.say("2 miljoner kronor", group="groupChat", mention=True)  # one message, verdict first
    [card] = verdict.cards()
    assert card["body"][1] == {"type": "FactSet", "facts": [{"title": "Gäller", "value": "MDR"}, {"title": "Kontakta först", "value": "Läkemedelsverket"}]}
    assert "Produkten är troligen en medicinteknisk produkt." in verdict.text and "Viktigast nu:" in verdict.text
    assert [a["title"] for a in card["actions"]] == ["Varför?", "Alla steg", "Myndigheter", "Källor", "Spara checklista", "Börja om"]
    state = json.loads(await server.engine.store.load("msteams:19:group-chat-1@thread.v2|aad-object-1") or "{}")
    assert state["flow"]["done"] is True and state["flow"]["facts"] == {"medical_purpose": True, "kind": "software", "cost_sek": 2_000_000}

    # Detail on demand: "Varför?" is one short card with the findings and the answers that decided them.
    [why] = await server.press(button([verdict], "Varför?"), group="groupChat")
    assert "Regel 11 gäller för programvaran." in why.text and "Avgjordes av:" in why.text and len(why.text) <= 1500
    # "Spara checklista": a card that links to the documents, served by the bot itself.
    [saved] = await server.press(button([why], "Spara checklista"), group="groupChat")
    links = [b for b in saved.buttons() if b["type"] == "Action.OpenUrl"]
    assert [b["title"].rsplit(".", 1)[1] for b in links] == ["md", "html"]
    assert all(b["url"].startswith(server.url + "/documents/") for b in links)
    status, kind, disposition, body = await server.fetch(links[0]["url"])
    assert status == 200 and kind == "text/markdown" and disposition.startswith("attachment;")
    markdown = body.decode("utf-8")
    assert markdown.startswith("# Checklista – Är det en medicinteknisk produkt?") and "Sök finansiering tidigt." in markdown
    status, kind, disposition, body = await server.fetch(links[1]["url"])
    assert status == 200 and kind == "text/html" and disposition.startswith("inline;") and b"Regel 11" in body
    # A wrong or guessed token finds nothing.
    assert (await server.fetch(links[0]["url"].replace("/documents/", "/documents/x")))[0] == 404
    assert (await server.fetch(server.url + "/documents/AAAAAAAAAAAAAAAAAAAAAAAA/x.md"))[0] == 404


async def test_personal_chat_flow_by_card_buttons(server: Server) -> None:
    start = await server.say("kolla om vi behöver ce-märka")
    assert start[-1].buttons()[0]["type"] == "Action.Submit"
    step = await server.press(button(start, "Ja"))
    assert "Är det programvara?" in text_of(step)
    step = await server.press(button(step, "⬅ Tillbaka"))
    assert "Vi går tillbaka ett steg." in text_of(step)
    step = await server.press(button(step, "Nej"))
    assert "Produkten är troligen inte en medicinteknisk produkt." in text_of(step)


async def test_a_menu_with_long_labels_is_one_card_of_full_width_rows(server: Server) -> None:
    sent = await server.say("meny")
    assert "suggestedActions" not in sent[0].activity and len(sent[0].cards()) == 1
    rows = [b for b in sent[0].cards()[0]["body"] if b["type"] == "Container"]
    assert [r["items"][0]["text"] for r in rows] == ["▶ Är det en medicinteknisk produkt?", "Får vi prata med leverantörer före upphandlingen?", "Direktupphandlingsgränsen", "Hjälp"]
    opened = await server.press(button(sent, "Direktupphandlingsgränsen"))
    assert opened[0].cards()[0]["body"][0]["text"] == "Direktupphandlingsgränsen"


async def test_locale_en_us_gives_english(server: Server) -> None:
    sent = await server.send(server.activity("conversationUpdate", membersAdded=[BOT], locale="en-US"))
    assert "Hi! I'm Regellotsen" in sent[-1].text
    answer = await server.say("MDR app", locale="en-US", conversation="a:personal-chat-en")
    assert answer[0].activity["locale"] == "en-US"
    assert answer[0].text.startswith("Medical Devices Regulation") and "Applies to: Manufacturers." in answer[0].text
    assert [b["title"] for b in answer[0].buttons() if b["type"] == "Action.ShowCard"] == ["Sources (1)"]


# -- robustness -------------------------------------------------------------------------


async def test_malformed_requests_get_4xx_and_the_next_request_works(server: Server) -> None:
    assert (await server.post(data=b"{not json"))[0] == 400
    status, body = await server.post(data=b"\xff\xfe garbage")
    assert status == 400 and "Traceback" not in body
    assert (await server.post(data=b"[" * 100_000))[0] == 400  # nesting deeper than the JSON parser's recursion limit
    assert (await server.post(data=b"x" * 300_000))[0] == 413  # larger than any Activity
    assert (await server.post({"text": "hej"}, content_type="text/plain"))[0] == 415
    assert (await server.post(["a", "list"]))[0] == 400
    missing_type = server.message("hej")
    del missing_type["type"]
    assert (await server.post(missing_type))[0] == 400
    missing_conversation = server.message("hej")
    del missing_conversation["conversation"]
    assert (await server.post(missing_conversation))[0] == 400
    assert (await server.post(server.message("hej", serviceUrl="ftp://example.org/")))[0] == 400
    assert (await server.post(server.message("hej", recipient="bot")))[0] == 400
    assert (await server.post(server.message("hej", entities="not a list")))[0] == 400
    status, body = await server.post(server.message("hej", timestamp="not a date"))  # the SDK cannot read it
    assert status == 400 and "Traceback" not in body
    assert server.connector.sent == []
    sent = await server.say("hej")
    assert "Jag är Regellotsen" in sent[0].text


async def test_a_very_long_message_is_cut_and_answered_quickly(server: Server) -> None:
    started = asyncio.get_running_loop().time()
    sent = await server.say("x" * 200_000)
    assert "Ditt meddelande var mycket långt" in text_of(sent)
    assert asyncio.get_running_loop().time() - started < 5


async def test_unknown_and_unused_activity_types_are_acknowledged_silently(server: Server) -> None:
    for kind in ("somethingNew", "messageReaction", "installationUpdate", "typing", "event", "endOfConversation"):
        status, _ = await server.post(server.activity(kind))
        assert status == 200, kind
    status, body = await server.post(server.activity("invoke", name="adaptiveCard/action", value={"x": 1}))
    assert status == 200 and json.loads(body) == {}
    assert server.connector.sent == []
    # A button value that is not ours is treated as text, not as a choice.
    assert "Jag är Regellotsen" in (await server.send(server.activity("message", text="hej", value={"other": "x"})))[-1].text


async def test_failing_connector_is_logged_and_the_next_turn_still_answers(sdk: str, server: Server, caplog: pytest.LogCaptureFixture) -> None:
    # The POST is answered before the reply is sent (the Bot Service expects that); a connector that
    # refuses the reply is logged by type, never a 500 with a trace, and stops nothing.
    with caplog.at_level(logging.ERROR, logger="regellotsen.teams"):
        status, body = await server.post(server.message("hej", serviceUrl=server.connector.url + "refuse/"))
    assert status == 200
    assert server.connector.refused >= 1
    error = {"agents": "ReplyFailed", "botbuilder": "ErrorResponseException"}[sdk]
    assert f"could not reply through the Bot Connector: {error}" in caplog.text
    assert (await server.say("hej"))[0].type == "message"


async def test_without_credentials_replies_only_go_to_loopback(server: Server) -> None:
    status, _ = await server.post(server.message("hej", serviceUrl="https://smba.trafficmanager.net/emea/"))
    assert status == 403
    assert len(server.engine.store) == 0


async def test_health_and_readiness(server: Server) -> None:
    assert await server.get("/healthz") == (200, {"status": "ok"})
    status, body = await server.get("/readyz")
    assert status == 200 and body["status"] == "ready" and "3 topics" not in body["knowledge"] and body["knowledge"]


class _DownStore(MemoryStore):
    async def ready(self) -> bool:
        raise ConnectionError("store down")


async def test_readyz_is_503_when_the_store_is_down(sdk: str, kb: Knowledge, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    srv = await Server(Engine(kb, _DownStore()), connector).start()
    try:
        assert await srv.get("/readyz") == (503, {"status": "unavailable"})
        assert (await srv.get("/healthz"))[0] == 200
    finally:
        await srv.stop()


async def test_with_an_app_id_requests_without_a_valid_token_get_401(sdk: str, kb: Knowledge, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-secret")
    monkeypatch.delenv("MicrosoftAppType", raising=False)
    store = MemoryStore()
    srv = await Server(Engine(kb, store), connector).start()  # settings from the environment
    try:
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
            status, body = await srv.post(srv.message("hej"), headers=headers)
            assert status == 401 and json.loads(body) == {"error": "unauthorized"}, headers
        status, _ = await srv.post(srv.activity("conversationUpdate", membersAdded=[BOT]))
        assert status == 401
        assert connector.sent == [] and connector.unexpected == []
        assert len(store) == 0  # no conversation was touched
        assert (await srv.get("/healthz"))[0] == 200
    finally:
        await srv.stop()


def test_credential_settings_are_checked() -> None:
    TeamsSettings().check()
    TeamsSettings(app_id=APP_ID, app_password="secret").check()
    TeamsSettings(app_id=APP_ID, app_type="SingleTenant", app_password="secret", tenant_id="t").check()
    with pytest.raises(ValueError, match="MicrosoftAppPassword"):
        TeamsSettings(app_id=APP_ID).check()
    with pytest.raises(ValueError, match="MicrosoftAppTenantId"):
        TeamsSettings(app_id=APP_ID, app_type="singletenant", app_password="secret").check()
    with pytest.raises(ValueError, match="MicrosoftAppType"):
        TeamsSettings(app_type="Anonymous").check()
    env = {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "p", "MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppTenantId": "t"}
    assert TeamsSettings.from_env(env) == TeamsSettings(APP_ID, "p", "UserAssignedMSI", "t")


async def test_message_text_is_never_logged(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "hemligfråga zebrakrokodil"
    await server.say(secret)
    await server.say(secret, group="groupChat")  # ignored: no mention
    await server.post(server.message(secret, recipient="x"))  # rejected
    await server.say("är vår app en medicinteknisk produkt?")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "regellotsen.teams" in {r.name for r in caplog.records}
    assert "zebrakrokodil" not in logged and "medicinteknisk" not in logged


async def test_hot_reload_starts_with_the_server(kb: Knowledge, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Engine] = []
    real = channel.hotreload.start_reloading

    def spy(engine: Engine, **kw: Any) -> asyncio.Task[None] | None:
        started.append(engine)
        return real(engine, **kw)

    monkeypatch.setattr(channel.hotreload, "start_reloading", spy)
    monkeypatch.delenv("REGELLOTS_WATCH", raising=False)
    engine = Engine(kb, MemoryStore())
    srv = await Server(engine, connector).start(TeamsSettings())
    try:
        assert started == [engine]
        assert srv.app is not None
        task = srv.app[teams.BOT]._reload_task
        assert isinstance(task, asyncio.Task) and not task.done()
    finally:
        await srv.stop()
    assert task.cancelled()


# -- translation units ---------------------------------------------------------------------


def test_card_text_escaping_keeps_urls_and_blocks_formatting() -> None:
    assert escape("a*b_c [x](y) ~z~ `k`") == r"a\*b\_c \[x\](y) \~z\~ \`k\`"
    assert escape("see https://ex.org/a_b*c.") == r"see https://ex.org/a_b*c."


def test_reply_card_title_facts_bullets_and_citations() -> None:
    reply = Reply(
        "Intro *viktigt*\n\n• first_item\n• second",
        title="Rubrik [1]",
        facts=(Fact("Gäller", "MDR"),),
        citations=(Citation("Lag (2017:30)", "https://example.org/a"), Citation("Bad", "javascript:alert(1)")),
    )
    [activity] = render(Response([reply], "answer", "sv"), personal=True)
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["version"] == "1.5" and "Rubrik [1]" in card["fallbackText"]
    assert [b["type"] for b in card["body"]] == ["TextBlock", "FactSet", "TextBlock", "TextBlock"]
    assert card["body"][0] == {"type": "TextBlock", "text": "Rubrik [1]", "wrap": True, "weight": "Bolder", "size": "Medium"}
    assert card["body"][1]["facts"] == [{"title": "Gäller", "value": "MDR"}]
    assert card["body"][2]["text"] == r"Intro \*viktigt\*" and card["body"][3]["text"] == "- first\\_item\n- second"
    # The sources sit behind a ShowCard; only http(s) links become Action.OpenUrl.
    [show] = card["actions"]
    assert show["type"] == "Action.ShowCard" and show["title"] == "Källor (1)"
    assert show["card"]["body"][0]["selectAction"] == {"type": "Action.OpenUrl", "title": "Lag (2017:30)", "url": "https://example.org/a"}


def test_choices_are_card_buttons_or_full_width_rows() -> None:
    few = Response([Reply("Q?", options=(Option("Ja", "ans:f:n:yes"), Option("Nej", "ans:f:n:no")))], "question", "sv")
    long_label = "Vi är ett företag eller forskare som ska släppa ut den på marknaden"
    many = Response([Reply("Menu", options=(*(Option(f"Val {i}", f"go:topic:t{i}") for i in range(7)), Option(long_label, "x")))], "greeting", "en")
    for personal in (True, False):  # the same card in personal chat, group chats and channels
        card = render(few, personal=personal)[0]["attachments"][0]["content"]
        assert card["actions"] == [
            {"type": "Action.Submit", "title": "Ja", "data": {"choice": "ans:f:n:yes"}},
            {"type": "Action.Submit", "title": "Nej", "data": {"choice": "ans:f:n:no"}},
        ]
    # More than six choices, or a long one: one card, each choice a row showing its whole label.
    [activity] = render(many, personal=True)
    rows = [b for b in activity["attachments"][0]["content"]["body"] if b["type"] == "Container"]
    assert [r["items"][0]["text"] for r in rows] == [*(f"Val {i}" for i in range(7)), long_label]
    assert rows[-1]["selectAction"]["data"] == {"choice": "x"} and rows[-1]["selectAction"]["tooltip"] == long_label
    assert len(rows[-1]["selectAction"]["title"]) <= 20


def test_mentions_are_stripped_literally() -> None:
    mention = {"type": "mention", "text": "<at>Bot (test)*</at>", "mentioned": {"id": "b", "name": "Bot (test)*"}}
    assert strip_mentions("<at>Bot (test)*</at>&nbsp;hjälp <at>Anna</at>", [mention]) == "hjälp Anna"
    body = {
        "type": "message",
        "text": "<at>Bot (test)*</at> hjälp",
        "entities": [mention],
        "recipient": {"id": "b"},
        "from": {"id": "u"},
        "conversation": {"id": "c", "conversationType": "channel"},
    }
    turn = plan_turn(body)
    assert turn is not None and turn.incoming == Incoming(text="hjälp") and turn.conversation == "msteams:c|u" and not turn.personal
    assert plan_turn({**body, "entities": []}) is None
    assert plan_turn({**body, "entities": [], "value": '{"choice":"cmd:help"}'}) is not None


# -- the app package ----------------------------------------------------------------------------


def _png_header(data: bytes) -> tuple[int, int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, depth, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, color_type


def _png_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """RGBA pixels of our own PNGs (one IDAT chunk, filter 0 on every row)."""
    width, height, _, _ = _png_header(data)
    length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    raw = zlib.decompress(data[41 : 41 + length])
    stride = width * 4 + 1
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0
        pixels += [tuple(row[1 + x * 4 : 5 + x * 4]) for x in range(width)]
    return pixels  # type: ignore[return-value]


def test_manifest_has_the_required_fields() -> None:
    options = PackageOptions(app_id=APP_ID.upper())
    m = manifest(options)
    for key in ("$schema", "manifestVersion", "version", "id", "developer", "name", "description", "icons", "accentColor", "bots", "localizationInfo"):
        assert key in m, key
    assert float(m["manifestVersion"]) >= 1.17
    assert m["$schema"] == f"https://developer.microsoft.com/json-schemas/teams/v{m['manifestVersion']}/MicrosoftTeams.schema.json"
    assert m["id"] == APP_ID and m["bots"][0]["botId"] == APP_ID
    assert set(m["developer"]) >= {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}
    assert all(m["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert len(m["developer"]["name"]) <= 32 and len(m["name"]["short"]) <= 30 and len(m["name"]["full"]) <= 100
    assert len(m["description"]["short"]) <= 80 and len(m["description"]["full"]) <= 4000
    assert m["name"]["short"] != m["name"]["full"] and m["description"]["short"] != m["description"]["full"]
    assert m["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    commands = m["bots"][0]["commandLists"][0]["commands"]
    assert 0 < len(commands) <= 10 and all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
    assert m["localizationInfo"] == {"defaultLanguageTag": "sv-SE", "additionalLanguages": [{"languageTag": "en-US", "file": "en-US.json"}]}
    en = english(options)
    assert {"name.short", "name.full", "description.short", "description.full"} <= set(en)
    assert len(en["description.short"]) <= 80 and len(en["name.full"]) <= 100
    assert en["bots[0].commandLists[0].commands[0].title"] == "menu"
    # Every command title, in both languages, is a command the engine understands.
    for sv_title, _, en_title, _ in COMMANDS:
        assert command_of(sv_title) and command_of(en_title), (sv_title, en_title)


def test_icons_are_the_right_size_and_kind() -> None:
    assert _png_header(color_icon()) == (192, 192, 8, 6)
    assert _png_header(outline_icon()) == (32, 32, 8, 6)
    color = _png_pixels(color_icon())
    assert all(p[3] == 255 for p in color)  # opaque
    outline = _png_pixels(outline_icon())
    assert all(p[:3] == (255, 255, 255) for p in outline)  # white only
    assert outline[0][3] == 0 and any(p[3] == 255 for p in outline)  # transparent background, solid mark


def test_package_is_deterministic_and_complete(tmp_path: Path) -> None:
    out = tmp_path / "pkg" / "regellotsen.zip"
    assert main(["teams-manifest", "--app-id", APP_ID, "--out", str(out), "--developer-name", "Region Test", "--website-url", "https://region.example.se"]) == 0
    data = out.read_bytes()
    assert data == build_package(PackageOptions(app_id=APP_ID, developer_name="Region Test", website_url="https://region.example.se"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["manifest.json", "en-US.json", "color.png", "outline.png"]
        m = json.loads(archive.read("manifest.json"))
        assert m["developer"]["name"] == "Region Test" and m["developer"]["websiteUrl"] == "https://region.example.se"
        assert m["icons"] == {"color": "color.png", "outline": "outline.png"}
        assert _png_header(archive.read(m["icons"]["color"]))[:2] == (192, 192)
        assert _png_header(archive.read(m["icons"]["outline"]))[:2] == (32, 32)
        assert json.loads(archive.read("en-US.json"))["name.short"] == m["name"]["short"]


def test_package_options_are_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teams-manifest", "--app-id", "not-a-guid", "--out", str(tmp_path / "x.zip")]) == 2
    assert main(["teams-manifest", "--app-id", APP_ID, "--out", str(tmp_path / "y.zip"), "--privacy-url", "http://insecure"]) == 2
    err = capsys.readouterr().err
    assert "GUID" in err and "--privacy-url" in err
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "y.zip").exists()


def test_cli_registers_the_teams_commands() -> None:
    args = build_parser().parse_args(["teams", "--port", "4000", "--knowledge", "tests/fixtures/kb"])
    assert (args.command, args.host, args.port, args.knowledge) == ("teams", "127.0.0.1", 4000, Path("tests/fixtures/kb"))
    assert build_parser().parse_args(["teams"]).port is None  # then $PORT, else 3978 (adapters.teams_cli)


async def test_replies_carry_the_language_they_are_written_in(connector: FakeConnector, server: Server) -> None:
    """The SDK would stamp replies with the client's locale (sv-SE); a user who chose English gets en-US."""
    [reply] = await server.say("/lang en")
    assert reply.text.startswith("OK, I'll answer in English") and reply.activity.get("locale") == "en-US"


async def test_metrics_count_turns_without_text_or_ids(server: Server) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        assert server.http is not None
        async with server.http.get(server.url + "/metrics") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            text = await r.text()
        assert "hemligfråga" not in text and "aad-object" not in text and "personal-chat" not in text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}

    before = await scrape()
    await server.say("hemligfråga om medicinteknisk produkt")
    await server.say("hemligfråga zebrakrokodil")
    after = await scrape()

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("regellots_reply_seconds_count", channel="teams") == 2
    kinds = {labels: after[(name, labels)] - before.get((name, labels), 0.0) for name, labels in after if name == "regellots_turns_total"}
    assert sum(kinds.values()) == 2 and all(dict(labels)["channel"] == "teams" for labels, n in kinds.items() if n)
