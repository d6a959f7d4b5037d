"""The rule checker in `regellots validate`: combinations with no conclusion, contradictions, rules that never fire."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge
from bot.knowledge.rulecheck import check_flow

from .conftest import FIXTURE_KB, SHIPPED_KB


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED_KB, target)
    return target


def test_a_planted_contradiction_is_caught(shipped_copy: Path) -> None:
    """The R&D case of issue 13: shared R&D (outside LOU) must not also get 'the EU rules in LOU apply in full'."""
    flow = shipped_copy / "flows" / "procurement.yaml"
    text = flow.read_text(encoding="utf-8")
    start = text.index("  - id: proc-above-threshold\n")
    guard = "        - not: {fact: rd_model, equals: rd_shared}\n"
    assert guard in text[start : start + 400]
    flow.write_text(text[:start] + text[start:].replace(guard, "", 1), encoding="utf-8")

    knowledge, problems = load_knowledge(shipped_copy, check_rules=True)
    assert knowledge is None
    errors = [p for p in problems if p.severity == "error"]
    assert errors and all("says 'lou' does not apply but rule 'proc-above-threshold' says it applies" in p.message for p in errors)
    assert any("rule 'proc-pre-commercial'" in p.message and "rd_model=rd_shared" in p.message and "threshold=above" in p.message for p in errors)
    lines = flow.read_text(encoding="utf-8").splitlines()
    assert lines[errors[0].line - 1] == "  - id: proc-pre-commercial"


def test_one_conclusion_that_says_both_is_caught(shipped_copy: Path) -> None:
    flow = shipped_copy / "flows" / "mdr-check.yaml"
    text = flow.read_text(encoding="utf-8")
    flow.write_text(text.replace("      does_not_apply: [mdr, ce-marking]\n", "      applies: [mdr]\n      does_not_apply: [mdr, ce-marking]\n", 1), encoding="utf-8")
    _, problems = load_knowledge(shipped_copy, check_rules=True)
    assert any("rule 'mdr-not-a-device' says 'mdr' does not apply but rule 'mdr-not-a-device' itself says it applies" in p.message for p in problems)


def test_answers_that_reach_no_conclusion_are_reported(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    knowledge, _ = load_knowledge(kb)
    assert knowledge is not None
    flow = knowledge.flows["device-check"]
    report = check_flow(knowledge, flow)
    assert report.complete and report.paths > 0
    # drop every rule but one: most answers then conclude nothing
    rules = kb / "flows" / "device-check.yaml"
    text = rules.read_text(encoding="utf-8")
    head, _, body = text.partition("\nrules:\n")
    first = body.split("\n  - id: ")[0]
    rules.write_text(head + "\nrules:\n" + first + "\n", encoding="utf-8")
    knowledge, problems = load_knowledge(kb, check_rules=True)
    assert knowledge is not None  # a warning, not an error: the user gets the flow's no_conclusion text
    found = [p for p in problems if "reach no conclusion" in p.message]
    assert found and all(p.severity == "warning" and p.message.startswith("flow 'device-check': these answers reach no conclusion: purpose=") for p in found)


def test_the_shipped_flows_are_walked_whole_with_nothing_to_report() -> None:
    knowledge, problems = load_knowledge(SHIPPED_KB, check_rules=True)
    assert knowledge is not None and problems == []
    for flow in knowledge.flows.values():
        report = check_flow(knowledge, flow)
        assert report.complete and report.paths > 0 and not report.no_conclusion and not report.contradictions, flow.id
        assert report.fired == {r.id for r in knowledge.rules_for(flow.id)}, flow.id
