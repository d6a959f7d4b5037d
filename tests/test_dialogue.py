"""Whole conversations driven through the engine on the fixture knowledge base."""

from __future__ import annotations

import json
from typing import Any

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from bot.understanding.pipeline import Incoming

from .conftest import Chat


async def test_greeting_offers_the_menu(chat: Chat) -> None:
    r = await chat.say("hej")
    assert r.kind == "greeting"
    labels = [o.label for o in r.options]
    assert labels[0] == "▶ Är det en medicinteknisk produkt?"
    assert "Får vi prata med leverantörer före upphandlingen?" in labels


async def test_free_text_question_is_answered_with_ids_and_sources(chat: Chat) -> None:
    r = await chat.say("Får vi prata med leverantörerna innan upphandlingen?")
    assert r.kind == "answer" and r.topic == "market-dialogue"
    assert r.regulations == ["lou"] and r.agencies == ["upphandlingsmyndigheten"]
    assert r.replies[0].citations[0].url == "https://www.upphandlingsmyndigheten.se/dialog"
    assert "inte juridisk rådgivning" in r.replies[0].text  # guidance, not legal advice
    assert any(o.value == "go:flow:device-check" for o in r.options)  # related follow-up


async def test_typos_and_chat_style(chat: Chat) -> None:
    for text in ["direktupphandlingsgrns?", "hur mkt får vi köpa utan upphandlig", "DIREKTUPPHANDLING belopp!!"]:
        r = await chat.say(text)
        assert r.topic == "direct-award", (text, r.kind, r.topic)



async def test_aliases_reach_the_entity(chat: Chat) -> None:
    r = await chat.say("Datainspektionen")
    assert r.kind == "answer" and r.agencies == ["imy"]
    assert r.replies[0].title == "Integritetsskyddsmyndigheten"
    r = await chat.say("LoU?")
    assert "lou" in r.regulations


async def test_out_of_scope_gets_the_fallback_not_a_guess(chat: Chat) -> None:
    r = await chat.say("hur bakar man kanelbullar")
    assert r.kind == "fallback"
    assert r.regulations == [] and r.topic is None
    assert any(o.value == "go:flow:device-check" for o in r.options)


async def test_number_picks_an_offered_option(chat: Chat) -> None:
    await chat.say("hej")
    r = await chat.say("1")
    assert r.kind == "flow" and r.flow == "device-check"


async def test_complete_flow_with_buttons_gives_conclusions_why_and_sources(chat: Chat) -> None:
    r = await chat.say("starta medicintekniska frågorna")
    assert r.kind == "flow" and r.flow == "device-check"
    assert r.replies[-1].text.startswith("Har produkten ett medicinskt syfte?")
    r = await chat.press("Ja")
    assert r.kind == "question" and "Är det programvara?" in r.replies[-1].text
    r = await chat.press("Programvara")
    assert "Vad kostar utvecklingen" in r.replies[-1].text
    r = await chat.say("ca 1,5 miljoner kr")
    assert r.kind == "conclusion"
    # The verdict first: one reply with what applies, the most important steps and whom to contact first.
    [verdict] = r.replies
    assert [(f.label, f.value) for f in verdict.facts] == [("Gäller", "MDR"), ("Kontakta först", "Läkemedelsverket")]
    assert "troligen en medicinteknisk produkt" in verdict.text and "Viktigast nu:\n1. Gör en klassning." in verdict.text
    assert [o.label for o in verdict.options] == ["Varför?", "Alla steg", "Myndigheter", "Källor", "Spara checklista", "Börja om"]
    assert r.regulations == ["mdr"] and r.agencies == ["lakemedelsverket"]
    # Why: the findings that name rules first (in the order of the work), then funding; each with its
    # reasoning and only the answers that decided it.
    r = await chat.say("varför")
    text = r.plain_text()
    assert text.index("troligen en medicinteknisk produkt") < text.index("Regel 11") < text.index("Sök finansiering tidigt")
    assert "Varför: Medicinskt syfte avgör." in text
    assert "Avgjordes av: Har produkten ett medicinskt syfte? → Ja\n" in text and "Är det programvara? → Programvara" in text
    r = await chat.press("Alla steg")
    assert "☐ Gör en klassning." in r.plain_text()
    r = await chat.press("Myndigheter")
    assert "Läkemedelsverket" in r.plain_text() and "https://www.lakemedelsverket.se" in r.plain_text()
    r = await chat.say("källor")
    assert any(c.url == "https://eur-lex.europa.eu/eli/reg/2017/745/oj" for c in r.replies[0].citations)
    r = await chat.press("Spara checklista")
    assert r.kind == "document" and [d.media_type for d in r.documents] == ["text/markdown", "text/html"]


async def test_typed_answers_are_matched_fuzzily(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    r = await chat.say("japp")
    assert "Är det programvara?" in r.replies[-1].text
    r = await chat.say("det är en app")
    assert "Vad kostar" in r.replies[-1].text


async def test_back_undoes_the_last_answer(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    await chat.press("Ja")
    r = await chat.say("tillbaka")
    assert "Har produkten ett medicinskt syfte?" in r.replies[-1].text
    r = await chat.press("Nej")
    assert r.kind == "conclusion"
    assert "inte en medicinteknisk produkt" in r.plain_text() and r.agencies == ["imy"]
    r = await chat.say("back")  # back after the conclusion reopens the last question (English "back": in English)
    assert "Does the product have a medical purpose?" in r.replies[-1].text


async def test_question_mid_flow_is_answered_and_the_flow_offered(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    await chat.press("Ja")
    r = await chat.say("vad är direktupphandlingsgränsen")
    assert r.kind == "answer" and r.topic == "direct-award"
    assert "Tillbaka till frågan:" not in r.plain_text() and "Är det programvara?" not in r.plain_text()
    assert "Vill du fortsätta" in r.replies[-1].text
    assert [o.value for o in r.replies[-1].options] == ["cmd:resume"]
    # Offered, not forced: the next question is answered without the flow's question appended.
    r = await chat.say("får vi prata med leverantörer före upphandlingen")
    assert r.kind == "answer" and r.topic == "market-dialogue"
    r = await chat.press("cmd:resume")
    assert r.kind == "question" and r.replies[-1].text.startswith("Är det programvara?")
    r = await chat.press("Fysisk produkt")
    assert "Vad kostar" in r.replies[-1].text


async def test_offered_flow_resumes_on_a_short_clear_answer(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    await chat.press("Ja")
    await chat.say("vad är direktupphandlingsgränsen")
    r = await chat.say("hårdvara")
    assert r.kind == "question" and "Vad kostar" in r.replies[-1].text


async def test_unintelligible_answer_mid_flow_reasks(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    r = await chat.say("blorp")
    assert "kunde inte koppla ”blorp”" in r.plain_text()
    assert r.replies[-1].text.startswith("Har produkten ett medicinskt syfte?")
    assert [o.label for o in r.options][:2] == ["Ja", "Nej"]


async def test_typed_one_after_a_failed_answer_picks_the_first_option(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    await chat.press("Ja")
    r = await chat.say("något helt annat om leverantörer och upphandling av saker")
    assert r.kind == "question" and r.options[0].label == "Programvara"
    r = await chat.say("1")
    assert r.kind == "question" and "Vad kostar" in r.replies[-1].text


async def test_typed_answers_are_read(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    r = await chat.say("japp")
    assert "Är det programvara?" in r.replies[-1].text
    r = await chat.say("det är en app")
    assert "Vad kostar" in r.replies[-1].text
    r = await chat.say("ungefär en halv miljon")
    assert r.kind == "conclusion"
    r = await chat.say("varför")  # why shows how the typed answers were read
    assert "Ja (ditt skrivna svar lästes som ja)" in r.plain_text()


async def test_option_number_out_of_range_says_so(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    r = await chat.say("alternativ 7")
    assert r.kind == "question" and "inget alternativ ”alternativ 7”" in r.plain_text()


async def test_restart_leaves_the_flow(chat: Chat) -> None:
    await chat.say("starta medicintekniska frågorna")
    r = await chat.say("börja om")
    assert r.kind == "command" and "Vi börjar om" in r.plain_text()
    r = await chat.say("ja")
    assert r.kind != "question"  # no flow is waiting for an answer any more


async def test_stale_button_cannot_change_state(chat: Chat) -> None:
    r = await chat.say("starta medicintekniska frågorna")
    old_yes = next(o.value for o in r.options if o.label == "Ja")
    await chat.press("Nej")  # concludes
    r = await chat.engine.handle(chat.conversation, Incoming(choice=old_yes))
    assert r.kind == "notice" and "tidigare fråga" in r.plain_text()
    r = await chat.say("starta medicintekniska frågorna")
    await chat.press("Ja")
    r = await chat.engine.handle(chat.conversation, Incoming(choice=old_yes))  # same node id, but already answered
    assert "redan besvarad" in r.plain_text() and r.replies[-1].text.startswith("Är det programvara?")


async def test_language_is_guessed_and_switchable(chat: Chat) -> None:
    r = await chat.say("may we talk to suppliers before a tender?")
    assert r.lang == "en" and r.topic == "market-dialogue"
    assert r.replies[0].title == "May we talk to suppliers before procuring?"
    r = await chat.say("svenska")
    assert r.lang == "sv"
    r = await chat.say("early market dialogue")
    assert r.replies[0].title == "Får vi prata med leverantörer före upphandlingen?"


async def test_channel_locale_sets_language_until_chosen(engine: Engine) -> None:
    chat = Chat(engine, "loc", locale="en-US")
    r = await chat.say("GDPR")
    assert r.lang == "en"
    r = await chat.say("/lang sv")
    assert r.lang == "sv"
    r = await chat.say("GDPR")
    assert r.lang == "sv"


async def test_help_and_why_without_context(chat: Chat) -> None:
    r = await chat.say("hjälp")
    assert "börja om" in r.plain_text()
    r = await chat.say("varför")
    assert "inte gett något svar" in r.plain_text()


async def test_why_explains_a_topic_match(chat: Chat) -> None:
    await chat.say("personuppgiftsincident")
    r = await chat.say("why")
    assert "Personuppgiftsincident" in r.plain_text() and "Dataskyddsförordningen" in r.plain_text()


async def test_clarifies_near_ties() -> None:
    from bot.understanding.decision import CLARIFY_MARGIN, decide
    from bot.understanding.matching import Match, Target

    tie = [Match(Target("topic", "a"), 0.8, "x"), Match(Target("topic", "b"), 0.8 - CLARIFY_MARGIN / 2, "y")]
    assert decide(tie).candidates == tie
    topic_and_flow = [Match(Target("flow", "f"), 0.9, "x"), Match(Target("topic", "b"), 0.9, "y")]
    decision = decide(topic_and_flow)
    assert decision.answer == topic_and_flow[1] and decision.also == [topic_and_flow[0]]
    assert decide([Match(Target("topic", "a"), 0.3, "x")]).answer is None


async def test_clarify_reply_offers_candidates(chat: Chat) -> None:
    r = await chat.say("leverantör upphandling")  # could be dialogue or direct award
    assert r.kind in ("clarify", "answer")
    if r.kind == "clarify":
        assert r.options[-1].value == "cmd:fallback"


async def test_deep_link_opens_a_flow_or_topic(chat: Chat) -> None:
    r = await chat.say("/start device-check")
    assert r.kind == "flow"
    r = await chat.say("/start market-dialogue")
    assert r.topic == "market-dialogue"
    r = await chat.say("/start mdr")  # a regulation id: the flow about it
    assert r.flow == "device-check"


async def test_state_survives_a_new_engine_on_the_same_store(kb) -> None:  # type: ignore[no-untyped-def]
    store = MemoryStore()
    first = Chat(Engine(kb, store), "shared")
    await first.say("starta medicintekniska frågorna")
    await first.press("Ja")
    second = Chat(Engine(kb, store), "shared")
    r = await second.say("programvara")
    assert "Vad kostar" in r.replies[-1].text


async def test_conversations_do_not_cross(engine: Engine) -> None:
    a, b = Chat(engine, "a"), Chat(engine, "b")
    await a.say("starta medicintekniska frågorna")
    r = await b.say("ja")
    assert r.kind != "question"
    r = await a.say("ja")
    assert "Är det programvara?" in r.replies[-1].text


async def test_odd_input_never_crashes(chat: Chat) -> None:
    for text in ["", "   ", "\x00\x07", "🙂" * 50, "‮rtl‬ text", "'; DROP TABLE conversations; --", "<b>&amp;</b>", "x" * 100_000, "1" * 40, "99"]:
        r = await chat.say(text)
        assert r.replies, text[:20]
    r = await chat.say("y" * 5000)
    assert "mycket långt" in r.plain_text()


def _strings(value: Any, skip: set[str]) -> list[str]:
    """Every string in parsed JSON (keys too), except the values of the keys in skip."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *([] if k in skip else _strings(v, skip))]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, skip)]
    return []


async def test_personal_data_is_warned_about_and_not_stored(engine: Engine) -> None:
    chat = Chat(engine, "pii")
    r = await chat.say("Patient 19121212-1212 ringde från 070-123 45 67, kan vi anmäla en personuppgiftsincident?")
    assert "Dela inte personuppgifter" in r.replies[0].text
    assert r.topic == "data-breach"  # still answered
    raw = await engine.store.load("pii")
    assert raw is not None
    # Look only at the text in the state, not at numbers (timestamps, scores) or the version hash, which may contain any digits.
    texts = " ".join(_strings(json.loads(raw), skip={"knowledge_version"}))
    for typed in ("19121212", "1212-1212", "070-123", "123 45 67"):
        assert typed not in texts


async def test_unanswered_questions_are_recorded_redacted(engine: Engine) -> None:
    chat = Chat(engine, "u")
    await chat.say("hur bakar man kanelbullar, mejla mig på anna@example.se")
    events = await engine.store.events()
    assert len(events) == 1
    assert events[0]["type"] == "fallback" and "[e-post]" in events[0]["text"] and "anna@" not in events[0]["text"]
    assert events[0]["channel"] == "console" and "user" not in events[0]


async def test_whom_to_contact_gives_the_contact_routes_and_cites_where_they_were_read(kb: Knowledge) -> None:
    engine = Engine(kb, MemoryStore())
    chat = Chat(engine, "contact")
    r = await chat.say("vi har läckt personuppgifter")
    assert r.kind == "answer" and "imy" in r.agencies
    r = await chat.say("vem ska jag kontakta?")
    text = r.plain_text()
    assert "Integritetsskyddsmyndigheten" in text
    assert "Telefon: 08-000 00 00 · E-tjänst: https://www.example.org/imy/anmal · Kontakt: https://www.example.org/imy/kontakt" in text
    assert any(c.url == "https://www.example.org/imy/kontakt" for reply in r.replies for c in reply.citations)
