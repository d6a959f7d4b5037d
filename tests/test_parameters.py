"""Dated parameters: the value valid on a day, the coming one within 90 days, and the checks on them."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.knowledge import load_knowledge
from bot.knowledge.parameters import Param, ParameterTable, Period, fmt
from bot.state import MemoryStore

from .conftest import SHIPPED_KB, Chat

LIMIT = Param("limit", "SEK", (Period(date(2022, 2, 1), 700000), Period(date(2027, 1, 1), 800000)))


def test_a_parameter_is_rendered_as_the_value_valid_on_the_day() -> None:
    table = ParameterTable([LIMIT])
    text = "Gränsen är {param:limit}."
    assert table.render(text, "sv", date(2026, 9, 1)) == "Gränsen är 700 000 kr."
    assert table.render(text, "en", date(2027, 1, 2)) == "Gränsen är SEK 800,000."


def test_within_90_days_before_a_change_the_coming_value_is_given_too() -> None:
    table = ParameterTable([LIMIT])
    assert table.render("{param:limit}", "sv", date(2026, 10, 3)) == "700 000 kr (från 1 januari 2027: 800 000 kr)"
    assert table.render("{param:limit}", "en", date(2026, 12, 31)) == "SEK 700,000 (from 1 January 2027: SEK 800,000)"
    assert table.render("{param:limit}", "sv", date(2026, 10, 2)) == "700 000 kr"  # 91 days before: not yet


def test_a_dated_placeholder_names_a_past_value_and_an_unknown_value_says_so() -> None:
    table = ParameterTable([LIMIT, Param("sek", "SEK", (Period(date(2024, 1, 1), 2389585), Period(date(2026, 1, 1), None)))])
    assert table.render("{param:limit@2023-01-01}", "sv", date(2027, 6, 1)) == "700 000 kr"
    assert table.render("{param:sek}", "sv", date(2026, 6, 1)) == "ej bekräftat"
    assert table.value("sek", date(2026, 6, 1)) is None and table.value("sek", date(2025, 6, 1)) == 2389585
    assert fmt("EUR", 216000, "sv") == "216 000 €" and fmt("EUR", 216000, "en") == "€216,000"
    assert fmt("date", date(2028, 8, 2), "sv") == "2 augusti 2028" and fmt("date", date(2028, 8, 2), "en") == "2 August 2028"


def test_the_shipped_ai_act_date_on_both_sides_of_the_omnibus(monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge, problems = load_knowledge(SHIPPED_KB)
    assert knowledge is not None, problems
    text = knowledge.topics["ai-act-medical-devices"].answer
    monkeypatch.setenv("REGELLOTS_TODAY", "2026-05-01")  # the original date, the amended one coming within 90 days
    assert "Datum: från 2 augusti 2027 (från 29 juni 2026: 2 augusti 2028)." in text.get("sv")
    monkeypatch.setenv("REGELLOTS_TODAY", "2026-12-02")
    assert "Datum: från 2 augusti 2028." in text.get("sv")


async def test_the_procurement_flow_decides_the_threshold_itself_when_the_sek_amount_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge, _ = load_knowledge(SHIPPED_KB)
    assert knowledge is not None
    monkeypatch.setenv("REGELLOTS_TODAY", "2025-06-01")  # 2024–2025: the SEK thresholds are published
    chat = Chat(Engine(knowledge, MemoryStore()))
    await chat.say("/start procurement")
    await chat.press("Region eller kommun")
    await chat.press("Varor, IT-system, appar eller andra tjänster")
    reply = await chat.say("3 mkr")
    assert "Finns det redan lösningar" in reply.replies[-1].text  # the threshold question was not asked
    await chat.press("Ja, det finns färdiga produkter eller tjänster")
    reply = await chat.press("Spara checklista")  # the whole result, with the answers as they were read
    text = reply.documents[0].content.decode("utf-8")
    assert "Värdet är över EU:s tröskelvärde" in text and "beräknat av dina svar" in text
    # the same purchase below the 2024–2025 threshold for regions (2 389 585 kr)
    chat = Chat(Engine(knowledge, MemoryStore()), "c2")
    await chat.say("/start procurement")
    await chat.press("Region eller kommun")
    await chat.press("Varor, IT-system, appar eller andra tjänster")
    await chat.say("2 mkr")
    await chat.press("Ja, det finns färdiga produkter eller tjänster")
    reply = await chat.press("Spara checklista")  # the whole result
    assert "under EU:s tröskelvärde" in reply.documents[0].content.decode("utf-8")


async def test_without_a_known_sek_threshold_the_flow_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge, _ = load_knowledge(SHIPPED_KB)
    assert knowledge is not None
    monkeypatch.setenv("REGELLOTS_TODAY", "2026-12-02")  # 2026–2027: SEK amounts not confirmed
    chat = Chat(Engine(knowledge, MemoryStore()))
    await chat.say("/start procurement")
    await chat.press("Region eller kommun")
    await chat.press("Varor, IT-system, appar eller andra tjänster")
    reply = await chat.say("3 mkr")
    text = reply.replies[-1].text
    assert "Ligger värdet över EU:s tröskelvärde?" in text and "216 000 €" in text
    assert [o.label for o in reply.options][:2] == ["Under tröskelvärdet", "Över tröskelvärdet"]


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED_KB, target)
    return target


def test_validate_refuses_an_unknown_parameter_and_says_which_was_meant(shipped_copy: Path) -> None:
    topics = shipped_copy / "topics" / "procurement.yaml"
    text = topics.read_text(encoding="utf-8")
    assert "{param:lou-direct-award-limit}" in text
    topics.write_text(text.replace("{param:lou-direct-award-limit}", "{param:lou-direct-award-limt}", 1), encoding="utf-8")
    knowledge, problems = load_knowledge(shipped_copy)
    assert knowledge is None
    [problem] = [p for p in problems if p.severity == "error"]
    assert "unknown parameter 'lou-direct-award-limt' (did you mean 'lou-direct-award-limit'?)" in problem.message
    assert "{param:lou-direct-award-limt}" in topics.read_text(encoding="utf-8").splitlines()[problem.line - 1]


def test_validate_warns_when_a_text_writes_out_a_parameters_value(shipped_copy: Path) -> None:
    topics = shipped_copy / "topics" / "procurement.yaml"
    text = topics.read_text(encoding="utf-8")
    topics.write_text(text.replace("{param:lou-direct-award-limit}", "700 000 kr", 1), encoding="utf-8")
    knowledge, problems = load_knowledge(shipped_copy)
    assert knowledge is not None
    warnings = [p for p in problems if p.severity == "warning" and "parameter" in p.message]
    assert len(warnings) == 1 and "writes out '700 000', a value of parameter 'lou-direct-award-limit'" in warnings[0].message
    assert "700 000 kr" in topics.read_text(encoding="utf-8").splitlines()[warnings[0].line - 1]


def test_the_shipped_texts_hard_code_no_parameter_value() -> None:
    knowledge, problems = load_knowledge(SHIPPED_KB)
    assert knowledge is not None
    assert not [p for p in problems if "parameter" in p.message], problems


@pytest.mark.parametrize(
    ("planted", "needle"),
    [
        ("31 december 2027: klass III", "31 december 2027"),  # Swedish
        ("31 December 2027: klass III", "31 December 2027"),  # English
        ("2027-12-31: klass III", "2027-12-31"),  # ISO
    ],
)
def test_validate_warns_when_a_text_hard_codes_a_date(shipped_copy: Path, planted: str, needle: str) -> None:
    medtech = shipped_copy / "topics" / "medtech.yaml"
    text = medtech.read_text(encoding="utf-8")
    assert "{param:mdr-legacy-end-class-iii}: klass III" in text
    medtech.write_text(text.replace("{param:mdr-legacy-end-class-iii}: klass III", planted, 1), encoding="utf-8")
    knowledge, problems = load_knowledge(shipped_copy)
    assert knowledge is not None  # a warning, not an error
    [warning] = [p for p in problems if p.severity == "warning" and "parameter" in p.message]
    assert warning.file.endswith("topics/medtech.yaml")
    assert planted in medtech.read_text(encoding="utf-8").splitlines()[warning.line - 1]
    # the MDR class III deadline and the IVDR class D deadline are the same day: both are named
    assert f"topic 'mdr-transition-legacy': the text writes out '{needle}'" in warning.message
    assert "'mdr-legacy-end-class-iii'" in warning.message and "'ivdr-legacy-end-class-d'" in warning.message


def test_a_placeholders_own_date_and_a_source_title_are_not_hard_coded_values(shipped_copy: Path) -> None:
    ehds = shipped_copy / "topics" / "ai-ehds.yaml"
    text = ehds.read_text(encoding="utf-8")
    # the value at a day that is itself a parameter's value (26 March 2029) is not written out
    planted = text.replace("{param:ehds-first-stage}: kommissionen", "{param:ehds-first-stage@2029-03-26}: kommissionen", 1)
    assert planted != text
    ehds.write_text(planted, encoding="utf-8")
    knowledge, problems = load_knowledge(shipped_copy)
    assert knowledge is not None
    assert not [p for p in problems if "parameter" in p.message], problems
    # the shipped testing flow quotes a source titled "26 maj 2024: Nya bestämmelser …" – a quotation, not a value
    assert "26 maj 2024: Nya bestämmelser" in (shipped_copy / "flows" / "testing.yaml").read_text(encoding="utf-8")


def test_the_shipped_mdr_deadline_on_both_sides_of_regulation_2023_607(monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge, problems = load_knowledge(SHIPPED_KB)
    assert knowledge is not None, problems
    text = knowledge.topics["mdr-transition-legacy"].answer
    monkeypatch.setenv("REGELLOTS_TODAY", "2022-06-01")  # well before the amendment: only the original end of the transition
    assert "- 26 maj 2024: klass III och implanterbara klass IIb" in text.get("sv")
    assert "31 december 2027" not in text.get("sv")
    monkeypatch.setenv("REGELLOTS_TODAY", "2023-01-15")  # 64 days before 2023/607 entered into force
    assert "- 26 maj 2024 (från 20 mars 2023: 31 december 2027): klass III" in text.get("sv")
    assert "- 26 May 2024 (from 20 March 2023: 31 December 2027): class III" in text.get("en")
    monkeypatch.setenv("REGELLOTS_TODAY", "2026-12-02")  # after: the extended deadline alone
    assert "- 31 december 2027: klass III och implanterbara klass IIb" in text.get("sv")
    assert "- 31 December 2028: other IIb" in text.get("en")
    assert "26 maj 2024 (från" not in text.get("sv")


def test_an_ehds_date_before_near_and_after_the_day_it_applies(monkeypatch: pytest.MonkeyPatch, shipped_copy: Path) -> None:
    from bot.maintain.tense import wrong_tense

    ehds = shipped_copy / "topics" / "ai-ehds.yaml"
    text = ehds.read_text(encoding="utf-8")
    shipped = "Reglerna gäller från {param:ehds-patient-summaries-and-most-secondary-use} för de flesta datakategorier"
    assert shipped in text
    # the same sentence as a maintainer might word it in the future tense, in a copy
    ehds.write_text(text.replace("Ja, på sikt.", "Ja, på sikt. Reglerna börjar gälla {param:ehds-patient-summaries-and-most-secondary-use}.", 1), encoding="utf-8")
    knowledge, problems = load_knowledge(shipped_copy)
    assert knowledge is not None, problems
    answer = knowledge.topics["ehds-secondary-use"].answer

    def flagged(day: str) -> list[str]:
        return [t.excerpt for t in wrong_tense(knowledge, date.fromisoformat(day)) if t.id == "ehds-secondary-use"]

    for day in ("2026-12-02", "2029-01-15"):  # well before, and 70 days before 26 March 2029
        monkeypatch.setenv("REGELLOTS_TODAY", day)
        assert "Reglerna gäller från 26 mars 2029 för de flesta datakategorier och från 26 mars 2031 för resten" in answer.get("sv")
        assert "The rules apply from 26 March 2029 for most data categories" in answer.get("en")
        assert flagged(day) == []  # "börjar gälla 26 mars 2029" is right while the day is ahead
    monkeypatch.setenv("REGELLOTS_TODAY", "2029-04-01")  # after
    assert "Reglerna gäller från 26 mars 2029" in answer.get("sv")  # the shipped wording stays true
    [excerpt] = flagged("2029-04-01")  # the future-tense one is listed for rephrasing
    assert excerpt.endswith("börjar gälla 26 mars 2029")
