"""Urgency first: the whole urgency set, the regulatory sets as false-alarm material, the replies
through the engine, and a broken urgency vocabulary refused by validation.

tests/eval/realistic/urgency.yaml (tune and report halves) and urgency_holdout.yaml were written before
the vocabulary was tuned on them; the history of what was measured blind, and when each set was then
used for development, is in docs/performance.md. Safety first: every emergency and suicide message of
all of them must trigger, and false alarms on mentions stay at most 2 %.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge, load_knowledge
from bot.understanding.pipeline import Incoming
from bot.understanding.urgency import Detector, SignGroup, parse_phrase, split_sentences

from .conftest import TESTS

REALISTIC = TESTS / "eval" / "realistic"


def _items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((REALISTIC / name).read_text(encoding="utf-8"))["items"]
    return items


URGENCY = _items("urgency.yaml")
TUNE = [i for i in URGENCY if i["half"] == "tune"]
REPORT = [i for i in URGENCY if i["half"] == "report"]
HOLDOUT: list[dict[str, Any]] = yaml.safe_load((REALISTIC / "urgency_holdout.yaml").read_text(encoding="utf-8"))["items"]
#: Written later to widen the vocabulary (urgency_train2/3/4), the tune half of the second blind set, and the third
#: blind set (measured blind once, then used for development). The second set's report half is left out on purpose:
#: it is the estimate for unseen messages (docs/performance.md), not a target.
TRAINING = [
    *({**i, "half": "train2"} for i in _items("urgency_train2.yaml")),
    *({**i, "half": "train3"} for i in _items("urgency_train3.yaml")),
    *({**i, "half": "train4"} for i in _items("urgency_train4.yaml")),
    *(i for i in _items("urgency_blind2.yaml") if i["half"] == "tune"),
    *({**i, "half": "blind3"} for i in _items("urgency_blind3.yaml")),
    *({**i, "half": "train5"} for i in _items("urgency_train5.yaml")),
    *({**i, "half": "blind4"} for i in _items("urgency_blind4.yaml")),
]


def _kind(k: Knowledge, text: str) -> str:
    found = k.urgency_detector.detect(text)
    return found.kind if found else "none"


def test_the_set_is_the_one_described() -> None:
    by_expect = {e: sum(i["expect"] == e for i in URGENCY) for e in ("emergency", "suicide", "medical_advice", "none")}
    assert by_expect["emergency"] + by_expect["suicide"] >= 60 and by_expect["none"] >= 60
    assert {i["half"] for i in URGENCY} == {"tune", "report"}


def _triggers(k: Knowledge, item: dict[str, Any]) -> bool:
    wanted = ("emergency", "suicide") if item["expect"] == "emergency" else ("suicide",)
    return _kind(k, item["text"]) in wanted


@pytest.mark.parametrize("item", [i for i in URGENCY + HOLDOUT + TRAINING if i["expect"] in ("emergency", "suicide")], ids=lambda i: i["id"])
def test_every_emergency_and_suicide_message_triggers(item: dict[str, Any], shipped: Knowledge) -> None:
    got = _kind(shipped, item["text"])
    # An emergency may also read as suicide (the suicide reply starts with 112 too); a suicide
    # message must get the suicide reply with the crisis line.
    wanted = ("emergency", "suicide") if item["expect"] == "emergency" else ("suicide",)
    assert got in wanted, f"{item['id']} ({item['half']}): {item['text']!r} → {got}"


def test_false_alarms_on_mentions_stay_at_most_two_percent(shipped: Knowledge) -> None:
    every = URGENCY + HOLDOUT + TRAINING
    alarms = [(i["id"], _kind(shipped, i["text"]), i["text"]) for i in every if i["expect"] == "none" and _kind(shipped, i["text"]) != "none"]
    assert len(alarms) <= 0.02 * sum(i["expect"] == "none" for i in every), alarms


def test_personal_medical_questions_never_get_112_first_and_the_trained_ones_get_1177(shipped: Knowledge) -> None:
    got = {i["id"]: _kind(shipped, i["text"]) for i in URGENCY + HOLDOUT if i["expect"] == "medical_advice"}
    assert "emergency" not in got.values() and "suicide" not in got.values()
    assert all(got[i["id"]] == "medical" for i in TUNE if i["expect"] == "medical_advice"), got
    trained = {i["id"]: _kind(shipped, i["text"]) for i in TRAINING if i["expect"] == "medical_advice"}
    assert set(trained.values()) == {"medical"}, {i: kind for i, kind in trained.items() if kind != "medical"}


def test_regulatory_first_messages_trigger_at_most_one_in_fifty(shipped: Knowledge) -> None:
    # The tune sets are among the urgency model's examples: at most 1 in 200 of them may trigger (a phrase the
    # model does not overrule: "Min mamma fick fel medicin på sjukhuset …", a complaint). The others were never
    # learned from; the issue's bound for messages that only mention symptoms is 1 in 50, over all of them.
    def regulatory(name: str) -> list[dict[str, Any]]:
        return [i for i in _items(name) if not i.get("out_of_scope")]

    learned = [i for name in ("tune.yaml", "tune2.yaml", "tune3.yaml", "tune4.yaml", "tune5.yaml", "tune6.yaml", "tune7.yaml") for i in regulatory(name)]
    alarms = [(i["id"], _kind(shipped, i["text"])) for i in learned if _kind(shipped, i["text"]) != "none"]
    assert len(alarms) <= len(learned) / 200, alarms
    unseen = [i for name in ("report.yaml", "holdout.yaml", "holdout2.yaml", "holdout3.yaml") for i in regulatory(name)]
    assert len(unseen) > 500
    triggered = [(i["id"], _kind(shipped, i["text"])) for i in unseen if _kind(shipped, i["text"]) != "none"]
    assert len(triggered) <= 0.02 * len(unseen), triggered


# --- through the engine ---------------------------------------------------------------------------


def _say(engine: Engine, text: str, conversation: str = "u") -> Any:
    return asyncio.run(engine.handle(conversation, Incoming(text=text)))


def test_the_two_messages_from_the_issue_get_112_first(shipped: Knowledge) -> None:
    engine = Engine(shipped)
    for n, text in enumerate(["jag har haft ont i bröstet sen i morse och är andfådd, vad ska jag göra", "min pappa har ramlat och blöder från huvudet"]):
        response = _say(engine, text, f"issue{n}")
        assert response.urgent == "emergency" and response.kind == "urgent"
        assert "112" in response.replies[0].text and "1177" in response.replies[0].text
        assert "Jag hittar inget säkert svar" not in response.plain_text()


def test_every_emergency_of_the_tune_half_leads_with_112_in_the_engine(shipped: Knowledge) -> None:
    engine = Engine(shipped)
    for item in TUNE:
        if item["expect"] not in ("emergency", "suicide"):
            continue
        response = _say(engine, item["text"], item["id"])
        first = response.replies[0].text
        assert response.urgent in ("emergency", "suicide") and "112" in first, item["id"]
        if item["expect"] == "suicide":
            assert "90101" in first, item["id"]


def test_personal_data_warning_comes_after_the_urgent_reply(shipped: Knowledge) -> None:
    response = _say(Engine(shipped), "min mamma andas inte, ring mig på 070-123 45 67")
    assert response.urgent == "emergency"
    assert "112" in response.replies[0].text
    assert "personuppgifter" in response.replies[1].text


def test_why_names_the_words_and_a_later_plain_question_is_not_urgent(shipped: Knowledge) -> None:
    engine = Engine(shipped)
    _say(engine, "Vi har en ny fallsensor. Just nu ligger en boende på golvet och blöder kraftigt, vad gör vi?", "w")
    why = _say(engine, "varför", "w").plain_text()
    assert "blöder kraftigt" in why and "just nu" in why and "fallsensor" in why
    plain = _say(engine, "vår fallsensor larmar när någon ramlar, är den medicinteknisk?", "w")
    assert plain.urgent is None and "112" not in plain.replies[0].text
    assert "blöder" not in _say(engine, "varför", "w").plain_text()


def test_no_urgency_section_means_no_detection(kb: Knowledge) -> None:
    assert kb.urgency is None
    assert kb.urgency_detector.detect("min pappa andas inte") is None


# --- the detector's rules -------------------------------------------------------------------------


def _detector() -> Detector:
    return Detector(
        [SignGroup("breathing", "emergency", ["andas inte", "can't breathe"]), SignGroup("self", "suicide", ["kill myself"], always=True),
         SignGroup("od", "emergency", ["tagit <n> tabletter|alvedon"]), SignGroup("chest", "emergency", ["bröstsmärt*"])],
        now=["just nu"],
        context=["app", "lex maria"],
        gap=1,
    )


def test_context_vetoes_a_sign_unless_now_is_in_the_same_sentence() -> None:
    d = _detector()
    assert d.detect("patienten andas inte") is not None
    assert d.detect("vår app larmar när patienten andas inte") is None
    assert d.detect("patienten andas alltså inte") is not None  # the phrase's words may have `gap` (1) words between
    assert d.detect("patienten andas alltså fortfarande inte") is None  # … but not more
    # A sign in a sentence of its own, in a message that says something is happening now, is an event
    # even in a work message; with no now marker anywhere the work context still reads it as a subject.
    assert d.detect("Vi har en app. Just nu! Patienten andas inte.") is not None
    assert d.detect("Vi har en app. Patienten andas inte.") is None
    found = d.detect("Vi har en app. Patienten andas inte just nu!")
    assert found is not None and found.signs == ("andas inte",) and found.now == ("just nu",) and found.context == ("app",)


def test_over_markers_and_pivots() -> None:
    from bot.knowledge import load_knowledge

    k, _ = load_knowledge()
    assert k is not None
    d = k.urgency_detector
    # Over or a subject: vetoed even with "nu" in the sentence.
    assert d.detect("Patienten som hade kramper igår är stabil nu, hur journalför vi det?") is None
    assert d.detect("finns det statistik över hjärtstopp i regionen") is None
    # A pivot starts a new sentence: what is happening now is read on its own.
    found = d.detect("skriver en rutin för delegering av insulin men nu har en brukare blodsocker på 1,8 och svarar inte alls")
    assert found is not None and found.kind == "emergency"


def test_and_now_and_a_colon_start_a_new_sentence() -> None:
    d = Detector([SignGroup("breathing", "emergency", ["can't breathe", "andas inte"])], over=["yesterday", "i går"], gap=1)
    # What was ("fever since yesterday") and what is happening now are read apart ...
    assert d.detect("She has had a fever since yesterday and now she can't breathe") is not None
    assert d.detect("Hon har haft feber sen i går och nu andas hon inte") is not None
    assert d.detect("Hon har haft feber sen i går, nu andas hon inte") is not None
    # ... and so are a heading and what follows a colon; a time keeps its colon.
    assert d.detect("About what happened yesterday: she can't breathe") is not None
    assert d.detect("At 14:30 yesterday she can't breathe") is None
    assert split_sentences("Angående rutiner för hjärtstartare: en boende föll precis ihop kl 14:30") == [
        "Angående rutiner för hjärtstartare", " en boende föll precis ihop kl 14:30"]


def test_an_over_word_qualifies_its_own_part_of_the_sentence() -> None:
    d = Detector([SignGroup("breathing", "emergency", ["can't breathe", "andas inte", "andas konstigt"]), SignGroup("other", "suicide", ["vill dö"])],
                 context=["app"], over=["yesterday", "igår", "i går"], gap=1)
    # A comma ends the reach of an over word: the fever was yesterday, the breathing is now; he was well yesterday.
    assert d.detect("She has had a fever since yesterday, she can't breathe") is not None
    assert d.detect("Han andas konstigt, han var som vanligt igår") is not None
    assert d.detect("Han andas konstigt igår men mår bra") is None
    assert d.detect("Patienten andas inte igår, enligt journalen") is None
    # Both spellings of a past time are over words (written as two phrases: 'igår|i går' would be "igår går" or "i går").
    assert d.detect("patienten andas inte igår") is None and d.detect("patienten andas inte i går") is None
    # Suicidal words said yesterday are still a risk today; only a work message reads them as a report.
    assert d.detect("min son sa igår att han vill dö") is not None
    assert d.detect("i vår app sa en användare igår att han vill dö") is None


def test_an_example_marker_silences_even_first_person_phrases_in_a_work_message() -> None:
    d = Detector([SignGroup("self", "suicide", ["i want to die"], always=True)], context=["app", "chatbot*"], example=["messages like"], gap=1)
    assert d.detect("We test our chatbot with simulated messages like 'I want to die'. Do we need ethics approval?") is None
    # Outside a work message the same words are somebody's, and are not silenced.
    assert d.detect("my friend keeps sending me messages like 'I want to die'") is not None
    assert d.detect("our app is down and I want to die") is not None


def test_the_shipped_vocabulary_reads_the_known_weak_spots() -> None:
    from bot.knowledge import load_knowledge

    k, _ = load_knowledge()
    assert k is not None
    d = k.urgency_detector
    # "kan inte prata" about talks with an organisation is no stroke; about a person it is.
    assert d.detect("vi kan inte prata med regionen om avtalet, vad gör vi?") is None
    found = d.detect("farmor kan inte prata och ena armen är slapp")
    assert found is not None and found.kind == "emergency"
    # "dog" is a Swedish past tense only in Swedish word order: an English dog does not veto an emergency.
    found = d.detect("our dog bit my son and he is bleeding heavily from the arm")
    assert found is not None and found.kind == "emergency"
    assert d.detect("patienten dog i natt efter ett hjärtstopp, vem ska vi meddela?") is None
    # "igår" written as one word is a past time too.
    assert d.detect("Patienten som fick ett krampanfall igår, hur journalför vi det?") is None


def test_always_groups_are_not_vetoed_and_suicide_wins() -> None:
    found = _detector().detect("our app failed and I can't breathe, I want to kill myself")
    assert found is not None and found.kind == "suicide" and found.signs == ("kill myself",)


def test_folding_apostrophes_numbers_and_prefixes() -> None:
    d = _detector()
    assert d.detect("I cant breathe") is not None
    assert d.detect("han andas inte") is not None and d.detect("han ANDAS inte") is not None
    assert d.detect("har tagit 30 alvedon") is not None and d.detect("har tagit många alvedon") is None
    assert d.detect("svår bröstsmärta") is not None and d.detect("bröstsmärtorna") is not None


@pytest.mark.parametrize("phrase", ["ab*", "ont i bröst/et", "", "a||b"])
def test_malformed_phrases_are_refused(phrase: str) -> None:
    with pytest.raises(ValueError):
        parse_phrase(phrase)


# --- a broken urgency file is refused -------------------------------------------------------------


def _errors(directory: Path) -> list[str]:
    knowledge, problems = load_knowledge(directory)
    found = [str(p) for p in problems if p.severity == "error"]
    assert knowledge is None and found, "expected the knowledge to be refused"
    return found


def test_the_shipped_urgency_file_is_valid_on_its_own(urgency_kbdir: Path) -> None:
    knowledge, problems = load_knowledge(urgency_kbdir)
    assert knowledge is not None, problems
    assert knowledge.urgency_detector.detect("brukaren andas inte") is not None


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_malformed_phrase_is_refused_with_file_and_line(urgency_kbdir: Path) -> None:
    _edit(urgency_kbdir / "urgency.yaml", "        - bröstsmärt*\n", "        - br*\n")
    found = _errors(urgency_kbdir)
    assert any("urgency.yaml:" in e and "'br*' is too short a prefix" in e for e in found), found


def test_an_emergency_reply_without_112_is_refused(urgency_kbdir: Path) -> None:
    _edit(urgency_kbdir / "urgency.yaml", "ring 112 direkt", "ring någon")
    found = _errors(urgency_kbdir)
    assert any("urgency.replies.emergency.text.sv: must give the emergency number 112" in e for e in found), found


def test_a_misspelt_key_or_missing_translation_is_refused(urgency_kbdir: Path) -> None:
    _edit(urgency_kbdir / "urgency.yaml", "  context:\n", "  kontext:\n")
    assert any("unknown field 'kontext'" in e for e in _errors(urgency_kbdir))


def test_a_reply_without_sources_is_refused(urgency_kbdir: Path) -> None:
    path = urgency_kbdir / "urgency.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["urgency"]["replies"]["medical"]["sources"] = []
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert any("sources" in e for e in _errors(urgency_kbdir))


def test_a_second_urgency_section_is_refused(urgency_kbdir: Path) -> None:
    shutil.copy(urgency_kbdir / "urgency.yaml", urgency_kbdir / "urgency-copy.yaml")
    assert any("a second 'urgency:' section" in e for e in _errors(urgency_kbdir))


def test_validate_command_exits_1_on_a_broken_urgency_file(urgency_kbdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    _edit(urgency_kbdir / "urgency.yaml", "  gap: 2\n", "  gap: 9\n")
    assert main(["validate", str(urgency_kbdir)]) == 1
    assert "urgency.yaml:10: urgency.gap" in capsys.readouterr().err


def test_every_channel_shows_the_urgent_reply_first(shipped: Knowledge) -> None:
    from adapters import console, teams_activity, telegram

    response = _say(Engine(shipped), "We make a home care app. My colleague just collapsed and is not breathing, help! Does GDPR apply to our app?")
    assert response.urgent == "emergency" and len(response.replies) > 1
    assert console.render(response).lstrip().split("\n")[0].find("112") >= 0
    assert "112" in teams_activity.render(response, personal=True)[0]["attachments"][0]["content"]["fallbackText"]
    assert "112" in telegram.render(response.replies[0])[0]
    assert "112" not in telegram.render(response.replies[1])[0]
