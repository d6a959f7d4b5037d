"""Every kind of knowledge error is refused with file:line, and good knowledge passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import load_knowledge

from .conftest import FIXTURE_KB


@pytest.fixture
def kbdir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


def edit(path: Path, old: str, new: str) -> int:
    """Replace text in a file; return the 1-based line where the change starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def errors(directory: Path) -> list[str]:
    knowledge, problems = load_knowledge(directory)
    found = [str(p) for p in problems if p.severity == "error"]
    assert knowledge is None and found, "expected the knowledge to be refused"
    return found


def one_error_containing(found: list[str], *needles: str) -> str:
    hits = [e for e in found if all(n in e for n in needles)]
    assert hits, f"no error with {needles} in:\n" + "\n".join(found)
    return hits[0]


def test_fixture_is_valid() -> None:
    knowledge, problems = load_knowledge(FIXTURE_KB)
    assert knowledge is not None
    assert not [p for p in problems if p.severity == "error"]


def test_yaml_syntax_error_points_at_line(kbdir: Path) -> None:
    line = edit(kbdir / "topics.yaml", "    answer: {sv: Direktupphandling", "    answer: {sv: [Direktupphandling")
    err = one_error_containing(errors(kbdir), "topics.yaml:", "YAML syntax")
    assert f"topics.yaml:{line}" in err or f"topics.yaml:{line + 1}" in err


def test_missing_translation(kbdir: Path) -> None:
    line = edit(kbdir / "topics.yaml", "answer: {sv: Anmäl till IMY inom 72 timmar., en: Notify IMY within 72 hours.}", "answer: {sv: Anmäl till IMY inom 72 timmar.}")
    err = one_error_containing(errors(kbdir), "missing translation ('en')")
    assert f"topics.yaml:{line}:" in err


def test_unknown_field_is_a_spelling_error(kbdir: Path) -> None:
    line = edit(kbdir / "topics.yaml", "    regulations: [gdpr]\n    agencies: [imy]", "    regulation: [gdpr]\n    agencies: [imy]")
    err = one_error_containing(errors(kbdir), "unknown field 'regulation'")
    assert f"topics.yaml:{line}:" in err


def test_duplicate_ids(kbdir: Path) -> None:
    edit(kbdir / "topics.yaml", "  - id: supplier-visit", "  - id: direct-award")
    one_error_containing(errors(kbdir), "duplicate topic id 'direct-award'")


def test_duplicate_yaml_key(kbdir: Path) -> None:
    line = edit(kbdir / "topics.yaml", "    related: [direct-award, device-check]", "    related: [direct-award]\n    related: [device-check]")
    one_error_containing(errors(kbdir), f"topics.yaml:{line + 1}", "duplicate key 'related'")


def test_reference_to_unknown_ids(kbdir: Path) -> None:
    edit(kbdir / "topics.yaml", "    agencies: [imy]\n    sources: [{url: \"https://www.imy.se/incident\"", "    agencies: [ivo]\n    sources: [{url: \"https://www.imy.se/incident\"")
    edit(kbdir / "topics.yaml", "related: [direct-award, device-check]", "related: [direct-award, no-such-topic]")
    found = errors(kbdir)
    one_error_containing(found, "topic 'data-breach'", "unknown agency 'ivo'")
    one_error_containing(found, "topic 'market-dialogue'", "unknown topic or flow 'no-such-topic'")


def test_regulation_without_source_or_reviewed_date(kbdir: Path) -> None:
    edit(kbdir / "entities.yaml", "    sources: [{url: \"https://www.riksdagen.se/lou\", title: LOU – riksdagen.se}]\n    reviewed: 2026-11-01\n", "")
    found = errors(kbdir)
    one_error_containing(found, "entities.yaml:", "regulations[0].sources: required field missing")
    one_error_containing(found, "entities.yaml:", "regulations[0].reviewed: required field missing")


def test_source_url_must_be_http(kbdir: Path) -> None:
    edit(kbdir / "entities.yaml", 'url: "https://www.imy.se", title: IMY', 'url: "www.imy.se", title: IMY')
    one_error_containing(errors(kbdir), "agencies[3].sources[0].url")


def test_choice_that_leads_nowhere(kbdir: Path) -> None:
    edit(kbdir / "flows" / "device-check.yaml", "            next: software", "            next: sofware")
    found = errors(kbdir)
    one_error_containing(found, "device-check.yaml:", "leads nowhere", "'sofware'")


def test_unreachable_node(kbdir: Path) -> None:
    edit(kbdir / "flows" / "device-check.yaml", "            next: software", "            next: value")
    one_error_containing(errors(kbdir), "node 'software' cannot be reached")


def test_loop_with_no_way_out(kbdir: Path) -> None:
    flow = kbdir / "flows" / "device-check.yaml"
    edit(flow, "        number: {fact: cost_sek, unit: {sv: kronor, en: SEK}, next: end}", "        number: {fact: cost_sek, unit: {sv: kronor, en: SEK}, next: software}")
    found = errors(kbdir)
    one_error_containing(found, "node 'software' never reaches 'end'")
    one_error_containing(found, "node 'value' never reaches 'end'")


def test_rule_reading_a_fact_no_answer_sets(kbdir: Path) -> None:
    edit(kbdir / "flows" / "device-check.yaml", "when: {fact: medical_purpose, equals: false}", "when: {fact: medical_purpos, equals: false}")
    one_error_containing(errors(kbdir), "rule 'device-no'", "reads fact 'medical_purpos'")


def test_rule_comparing_with_a_value_no_answer_sets(kbdir: Path) -> None:
    edit(kbdir / "flows" / "device-check.yaml", "{fact: kind, equals: software}", "{fact: kind, equals: sotware}")
    one_error_containing(errors(kbdir), "rule 'device-software'", "'sotware'", "answers set: hardware, software")


def test_malformed_condition(kbdir: Path) -> None:
    edit(kbdir / "flows" / "device-check.yaml", "when: {fact: medical_purpose, equals: true}", "when: {fact: medical_purpose}")
    one_error_containing(errors(kbdir), "device-check.yaml:", "needs exactly one of")


def test_node_needs_two_choices(kbdir: Path) -> None:
    flow = kbdir / "flows" / "device-check.yaml"
    text = flow.read_text(encoding="utf-8")
    start = text.index("          - id: hardware")
    end = text.index("      - id: value")
    flow.write_text(text[:start] + text[end:], encoding="utf-8")
    one_error_containing(errors(kbdir), "at least two")


def test_unquoted_comma_in_flow_mapping_gets_a_hint(kbdir: Path) -> None:
    edit(kbdir / "flows" / "device-check.yaml", "label: {sv: Fysisk produkt, en: Physical product}", "label: {sv: Fysisk, verklig produkt, en: Physical product}")
    one_error_containing(errors(kbdir), "put the text in quotes")


def test_near_colliding_phrasings_are_warnings(kbdir: Path) -> None:
    edit(kbdir / "topics.yaml", "[leverantörsbesök på avdelningen,", "[får vi prata med leverantörer innan upphandlingen,")
    knowledge, problems = load_knowledge(kbdir, check_collisions=True)
    assert knowledge is not None
    warnings = [str(p) for p in problems if p.severity == "warning"]
    assert any("nearly collides" in w and "supplier-visit" in w and "market-dialogue" in w for w in warnings), warnings


def test_cli_validate_exit_codes(kbdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(kbdir)]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("knowledge OK: 3 regulations, 4 agencies, 5 topics, 1 flows, 4 rules")
    edit(kbdir / "flows" / "device-check.yaml", "            next: software", "            next: nowhere")
    assert main(["validate", str(kbdir)]) == 1
    err = capsys.readouterr().err
    assert "device-check.yaml:" in err and "leads nowhere" in err


def test_files_starting_with_underscore_are_ignored(kbdir: Path) -> None:
    (kbdir / "_draft.yaml").write_text("this: is not: valid\n", encoding="utf-8")
    knowledge, _ = load_knowledge(kbdir)
    assert knowledge is not None


def test_yaml_is_loaded_safely(kbdir: Path) -> None:
    (kbdir / "evil.yaml").write_text("topics: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    one_error_containing(errors(kbdir), "evil.yaml:1")


# -- the maintainers' loop (issue 13, item 9) ------------------------------------------------------------------------

NEW_TOPIC = """topics:
  - id: new-topic
    title: {sv: Nytt, en: New}
    phrasings:
      sv: [ett nytt ämne om något, nytt ämne två]
      en: [a new topic]
    answer: {sv: Svar., en: Answer.}
    agencies: [upphandlingsmyndigheten, konkurensverket]
    sources:
      - url: https://www.konkurrensverket.se/upphandling/
        title: KKV
"""


def test_every_problem_is_reported_in_one_run(kbdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Three planted mistakes in three files: one `validate` run names all three, each at its own line."""
    (kbdir / "new.yaml").write_text(NEW_TOPIC, encoding="utf-8")
    slip = edit(kbdir / "topics.yaml", "    regulations: [lou]\n    agencies: [upphandlingsmyndigheten]\n", "    regulations: [lou]\n   - agencies: [upphandlingsmyndigheten]\n")
    code = main(["validate", str(kbdir)])
    out = capsys.readouterr().err
    assert code == 1
    assert "new.yaml:8: topic 'new-topic': agencies refers to unknown agency 'konkurensverket' (did you mean 'konkurrensverket'?)" in out
    assert f"topics.yaml:{slip + 1}: the lines around line {slip + 1} do not line up: check the indentation" in out
    assert "or whether a '- ' is missing" in out


def test_a_new_topic_that_means_the_same_as_an_existing_one_is_warned_about(kbdir: Path) -> None:
    (kbdir / "dup.yaml").write_text(
        """topics:
  - id: talk-to-suppliers
    title: {sv: Prata med leverantörer, en: Talk to suppliers}
    phrasings:
      sv: [får vi prata med leverantörer före upphandlingen, prata med leverantörer innan upphandling, marknadsdialog innan upphandling]
      en: [may we talk to suppliers before procuring]
    answer: {sv: Ja., en: "Yes."}
    sources:
      - url: https://www.upphandlingsmyndigheten.se/inkopsprocessen/forbered-upphandling/tidig-dialog/
        title: Tidig dialog
""",
        encoding="utf-8",
    )
    knowledge, problems = load_knowledge(kbdir, check_collisions=True)
    assert knowledge is not None
    warned = [p for p in problems if p.severity == "warning" and "talk-to-suppliers" in p.message and "market-dialogue" in p.message]
    assert warned, problems
