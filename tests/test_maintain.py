"""The maintainers' tools, run for real on the fixture knowledge base and on temporary copies.

test (conversation tests), coverage, review, unanswered, schema and graph —
through the `regellots` command line where a maintainer would use them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.conversation.engine import Engine
from bot.knowledge import Knowledge, assemble, load_knowledge, read_files
from bot.maintain.graph import mermaid
from bot.maintain.periods import before, parse_period, parse_since
from bot.maintain.unanswered import group
from bot.state import MemoryStore, SQLiteStore, StateStore
from bot.understanding.pipeline import Incoming

from .conftest import FIXTURE_KB, SHIPPED_KB

# A conversation through the fixture's device-check flow; every turn matches.
GOOD = """\
name: Device check – medical software that costs a lot
turns:
  - say: starta medicintekniska frågorna
    expect: {kind: flow, flow: device-check, regulations: [mdr], choices: [Ja, Nej]}
  - choose: Ja
    expect: {kind: question, contains: "Är det programvara?", choices: [Programvara, Fysisk produkt]}
  - choose: Programvara
    expect: {kind: question, contains: vad kostar utvecklingen}
  - say: 1,5 miljoner
    expect:
      kind: conclusion
      regulations: [mdr]
      agencies: [lakemedelsverket]
      contains: [Regel 11, Gör en klassning]
      not_contains: inte en medicinteknisk produkt
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def kbdir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


# -- conversation tests ------------------------------------------------------------


def test_a_passing_conversation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    code, out = run(capsys, "test", str(path), "--knowledge", str(FIXTURE_KB))
    assert code == 0, out
    assert "PASS" in out and "Device check – medical software that costs a lot (4 turns)" in out
    assert "1 passed, 0 failed (1 file)" in out


def test_a_failing_turn_is_reported_with_file_line_expected_and_got(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("  - choose: Programvara\n    expect: {kind: question", "  - choose: Programvara\n    expect: {kind: answer, topic: direct-award")
    path = write(tmp_path, "bad.yaml", text)
    line = text.splitlines().index("  - choose: Programvara") + 1
    code, out = run(capsys, "test", str(path), "--knowledge", str(FIXTURE_KB))
    assert code == 1
    assert "FAIL" in out and "0 passed, 1 failed" in out
    assert f"bad.yaml:{line}: turn 3, choose 'Programvara'" in out
    assert "kind: expected answer, got question" in out
    assert "topic: expected direct-award, got none" in out
    assert "what came back:" in out and "flow: device-check" in out and "Vad kostar utvecklingen ungefär?" in out


def test_text_choices_and_ids_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("contains: [Regel 11, Gör en klassning]", "contains: [Gör en klassning, Ring IVO]")
    text = text.replace("regulations: [mdr]\n      agencies: [lakemedelsverket]", "regulations: [mdr, gdpr]\n      agencies: [lakemedelsverket]\n      choices: [Beställ kaffe]")
    text = text.replace("not_contains: inte en medicinteknisk produkt", "not_contains: [regel 11]")
    code, out = run(capsys, "test", str(write(tmp_path, "t.yaml", text)), "--knowledge", str(FIXTURE_KB))
    assert code == 1
    assert "turn 4, say '1,5 miljoner'" in out
    assert "regulations: expected at least ['mdr', 'gdpr'], missing ['gdpr']" in out
    assert "choices: expected an option with 'Beställ kaffe'" in out
    assert "text: expected to contain 'Ring IVO'" in out
    assert "text: expected NOT to contain 'regel 11'" in out  # case-insensitive
    assert "Gör en klassning'" not in out  # what matched is not reported


def test_choosing_an_option_that_is_not_offered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("  - choose: Programvara", "  - choose: Mjukvara")
    code, out = run(capsys, "test", str(write(tmp_path, "t.yaml", text)), "--knowledge", str(FIXTURE_KB))
    assert code == 1
    assert "turn 3, choose 'Mjukvara'" in out
    assert "no such option; offered: Programvara | Fysisk produkt | ⬅ Tillbaka" in out


def test_options_are_chosen_by_label_value_or_unique_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = """\
    name: choosing
    lang: en
    turns:
      - choose: "▶ Is it a medical device?"
        expect: {kind: flow, lang: en}
      - choose: "ans:device-check:purpose:yes"
        expect: {kind: question, contains: "Is it software?"}
      - choose: physical
        expect: {kind: question, contains: development cost}
      - say: 2 MSEK
        expect: {kind: conclusion, contains: probably a medical device, not_contains: funding}
      - say: back
        expect: {kind: question, contains: Going back one step}
    """
    code, out = run(capsys, "test", str(write(tmp_path, "t.yaml", text)), "--knowledge", str(FIXTURE_KB))
    assert code == 0, out


def test_invalid_test_files_get_file_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "invalid.yaml",
        """\
        name: typos
        turns:
          - say: hej
            expect: {kind: greting, topik: x}
          - choose: Yes
          - say: a
            choose: b
          - sai: hej
        colour: blue
        """,
    )
    code, out = run(capsys, "test", str(path), "--knowledge", str(FIXTURE_KB))
    assert code == 1
    assert "INVALID" in out and "1 invalid" in out
    assert "invalid.yaml:4: turn 1: expect.kind: 'greting' is not one of 'answer'" in out
    assert "invalid.yaml:4: turn 1: expect.topik: unknown key 'topik' (known keys: kind, topic, flow" in out
    assert "invalid.yaml:5: turn 2: choose: YAML read this as true/false: put the text in quotes" in out
    assert "invalid.yaml:6: turn 3: a turn needs exactly one of 'say' or 'choose'" in out
    assert "invalid.yaml:8: turn 4: sai: unknown key 'sai' (known keys: say, choose, expect)" in out
    assert "invalid.yaml:9: colour: unknown key 'colour'" in out


def test_yaml_syntax_errors_and_empty_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "dir", "a.yaml", "name: x\nturns:\n  - say: [unclosed\n")
    write(tmp_path / "dir", "b.yaml", "")
    write(tmp_path / "dir", "_ignored.yaml", "not: a test")
    code, out = run(capsys, "test", str(tmp_path / "dir"), "--knowledge", str(FIXTURE_KB))
    assert code == 1
    assert "a.yaml:" in out and "YAML syntax" in out
    assert "b.yaml:1: a conversation test is a mapping" in out
    assert "_ignored" not in out and "2 invalid (2 files)" in out


def test_broken_knowledge_is_reported_not_tested(kbdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topics = kbdir / "topics.yaml"
    topics.write_text(topics.read_text(encoding="utf-8").replace("related: [direct-award, device-check]", "related: [nowhere]"), encoding="utf-8")
    code, out = run(capsys, "test", str(write(tmp_path / "t", "good.yaml", GOOD)), "--knowledge", str(kbdir))
    assert code == 1
    assert "the knowledge base has errors" in out and "nowhere" in out


# -- coverage -------------------------------------------------------------------------


def test_coverage_lists_what_no_test_or_question_reaches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tests = tmp_path / "conversations"
    write(tests, "good.yaml", GOOD)
    questions = write(tmp_path, "questions.yaml", "questions:\n  - q: vad är direktupphandlingsgränsen\n    lang: sv\n    expect: {regulations: [lou]}\n")
    code, out = run(capsys, "coverage", "--knowledge", str(FIXTURE_KB), "--tests", str(tests), "--eval", str(questions))
    assert code == 0
    assert "1 conversation test file(s)" in out and "1 evaluation question(s)" in out
    assert "topics         1/5     20.0%" in out  # direct-award, reached by the question
    assert "flow nodes     3/3    100.0%" in out
    assert "rules          3/4     75.0%" in out  # device-no is never concluded
    missed = out.split("Not reached – topics (4):")[1]
    for topic in ("market-dialogue", "app-medical-device", "data-breach", "supplier-visit"):
        assert topic in missed
    assert "direct-award " not in missed
    assert "Not reached – rules (1):" in out and "device-no" in out and "device-check.yaml:" in out
    assert "Not reached – flow nodes" not in out


def test_coverage_counts_flow_nodes_per_question(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.split("  - choose: Ja")[0] + "  - choose: Nej\n    expect: {kind: conclusion}\n"
    write(tmp_path / "c", "no.yaml", text)
    code, out = run(capsys, "coverage", "--knowledge", str(FIXTURE_KB), "--tests", str(tmp_path / "c"), "--eval", str(tmp_path / "none.yaml"))
    assert code == 0
    assert "no evaluation questions" in out
    assert "flow nodes     1/3     33.3%" in out
    assert "device-check/software" in out and "device-check/value" in out and "device-check.yaml:" in out
    assert "device-check/purpose" not in out


# -- review dates ------------------------------------------------------------------------


def test_review_lists_old_entries_with_file_line_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "review", "--knowledge", str(FIXTURE_KB), "--older-than", "12m", "--today", "2026-11-22")
    assert code == 0
    entities = (FIXTURE_KB / "entities.yaml").read_text(encoding="utf-8").splitlines()
    line = entities.index("    reviewed: 2020-01-01") + 1
    assert f"entities.yaml:{line}: regulation 'gdpr' reviewed 2020-01-01" in out
    assert "source: https://eur-lex.europa.eu/eli/reg/2016/679/oj" in out
    assert "1 entry due for review (reviewed before 2025-11-22)" in out
    assert "'lou'" not in out and "'imy'" not in out  # reviewed 2026-11-01: newer than the cutoff


def test_review_orders_oldest_first_and_says_when_nothing_is_due(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "review", "--knowledge", str(FIXTURE_KB), "--older-than", "2w", "--today", "2026-11-22")
    assert code == 0
    assert "7 entries due" in out
    assert out.index("'gdpr'") < out.index("'lou'")
    code, out = run(capsys, "review", "--knowledge", str(FIXTURE_KB), "--older-than", "10y", "--today", "2026-11-22")
    assert code == 0 and "nothing due for review" in out


def test_review_reads_topics_and_survives_a_broken_file(kbdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topics = kbdir / "topics.yaml"
    text = topics.read_text(encoding="utf-8")
    topics.write_text(text.replace("    related: [direct-award, device-check]", "    related: [direct-award, device-check]\n    reviewed: 2019-05-05"), encoding="utf-8")
    (kbdir / "broken.yaml").write_text("topics: [", encoding="utf-8")
    code, out = run(capsys, "review", "--knowledge", str(kbdir), "--today", "2026-11-22")
    assert code == 0
    assert "topic 'market-dialogue' reviewed 2019-05-05" in out and "https://www.upphandlingsmyndigheten.se/dialog" in out
    assert out.index("'market-dialogue'") < out.index("'gdpr'")
    assert "could not be read" in out and "broken.yaml" in out


def test_periods() -> None:
    assert parse_period("12m") == (12, "m") and parse_period(" 3 W ") == (3, "w")
    assert before(date(2026, 11, 22), "90d") == date(2026, 8, 24)
    assert before(date(2026, 11, 22), "2w") == date(2026, 11, 8)
    assert before(date(2026, 5, 31), "1m") == date(2026, 4, 30)
    assert before(date(2026, 3, 15), "14m") == date(2025, 1, 15)
    assert before(date(2028, 2, 29), "1y") == date(2027, 2, 28)
    assert parse_since("2026-01-31") == date(2026, 1, 31)
    assert parse_since("30d", today=date(2026, 11, 22)) == date(2026, 10, 23)
    for bad in ("12", "m", "12 months", "-1d"):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_review_refuses_a_bad_period(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["review", "--older-than", "a year"])
    assert exc.value.code == 2
    assert "is not a period" in capsys.readouterr().err


# -- unanswered questions --------------------------------------------------------------------------

UNANSWERED = [
    ("hur bakar man kanelbullar", "telegram"),
    ("Hur bakar man kanelbullar?", "teams"),
    ("hur bakar man goda kanelbullar", "telegram"),
    ("vad kostar parkeringen vid sjukhuset", "telegram"),
    ("vad kostar parkering vid sjukhuset", "teams"),
    ("how do I bake cinnamon buns", "teams"),
    ("ring mig på 070-123 45 67 om kanelbullar", "telegram"),
]


async def _record(knowledge: Knowledge, store: StateStore) -> None:
    """Ask unanswerable questions through the engine, as users of two channels would."""
    engines = {channel: Engine(knowledge, store, channel=channel) for channel in ("telegram", "teams")}
    for i, (text, channel) in enumerate(UNANSWERED):
        response = await engines[channel].handle(f"u{i}", Incoming(text=text), user=f"user-{i}")
        assert response.kind == "fallback", text


async def test_unanswered_groups_similar_questions(kb: Knowledge) -> None:
    store = MemoryStore()
    await _record(kb, store)
    groups = group(await store.events())
    assert [g.count for g in groups] == [3, 2, 1, 1]
    buns, parking = groups[0], groups[1]
    assert buns.representative in ("hur bakar man kanelbullar", "Hur bakar man kanelbullar?")
    assert set(buns.texts) == {"hur bakar man kanelbullar", "Hur bakar man kanelbullar?", "hur bakar man goda kanelbullar"}
    assert buns.channels == {"telegram": 2, "teams": 1} and buns.langs == {"sv": 3}
    assert set(parking.texts) == {"vad kostar parkeringen vid sjukhuset", "vad kostar parkering vid sjukhuset"}
    singles = {g.representative for g in groups[2:]}
    assert singles == {"how do I bake cinnamon buns", "ring mig på [telefon] om kanelbullar"}  # redacted before it was stored


async def test_unanswered_report_from_a_sqlite_state_file(kb: Knowledge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state.sqlite3"
    store = SQLiteStore(path)
    await _record(kb, store)
    await store.close()
    code, out = await asyncio.to_thread(run, capsys, "unanswered", "--state", str(path))
    assert code == 0
    assert "7 unanswered questions, in 4 groups, most frequent first:" in out
    assert "    3×  " in out and "languages: sv 3 · channels: telegram 2, teams 1 · fallback 3" in out
    assert "also asked as:" in out and "first seen" in out and "last seen" in out
    assert out.index("kanelbullar") < out.index("parkering") < out.index("cinnamon")
    assert "070-123" not in out and "123 45 67" not in out and "user" not in out  # redacted text only, never user ids or their hashes
    code, out = await asyncio.to_thread(run, capsys, "unanswered", "--state", str(path), "--json")
    data = json.loads(out)
    assert data["total"] == 7 and [g["count"] for g in data["groups"]] == [3, 2, 1, 1]
    assert "user" not in out
    code, out = await asyncio.to_thread(run, capsys, "unanswered", "--state", str(path), "--since", "2999-01-01")
    assert code == 0 and "no unanswered questions recorded since 2999-01-01" in out


async def test_unanswered_reads_the_state_named_by_the_environment(
    kb: Knowledge, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "env.sqlite3"
    store = SQLiteStore(path)
    await _record(kb, store)
    await store.close()
    monkeypatch.setenv("REGELLOTS_STATE", str(path))
    code, out = await asyncio.to_thread(run, capsys, "unanswered", "--since", "1d", "--limit", "1")
    assert code == 0 and "7 unanswered questions since" in out and "and 3 more group(s)" in out


async def test_unanswered_report_from_redis(kb: Knowledge, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.state.redis_store import RedisStore
    from tests.support.redis_server import running_server

    servers = running_server(tmp_path_factory)
    server = next(servers)
    try:
        store = RedisStore(server.url)
        await _record(kb, store)
        await store.close()
        code, out = await asyncio.to_thread(run, capsys, "unanswered", "--state", server.url)
        assert code == 0
        assert "7 unanswered questions, in 4 groups" in out and "channels: telegram 2, teams 1" in out
        assert "user" not in out
    finally:
        servers.close()


# -- schemas -------------------------------------------------------------------------------------


def _plain(data: object) -> object:
    """YAML data as JSON sees it (dates become strings), for jsonschema."""
    return json.loads(json.dumps(data, default=str))


def test_schema_output_validates_knowledge_and_catches_typos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    code, out = run(capsys, "schema", "--out", str(tmp_path / "s"))
    assert code == 0 and "knowledge-file.schema.json" in out
    schema = json.loads((tmp_path / "s" / "knowledge-file.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for path in [*sorted(FIXTURE_KB.rglob("*.yaml")), SHIPPED_KB / "regulations.yaml", SHIPPED_KB / "flows" / "mdr-check.yaml"]:
        errors = [e.message for e in validator.iter_errors(_plain(yaml.safe_load(path.read_text(encoding="utf-8"))))]
        assert not errors, (path, errors[:3])
    data = _plain(yaml.safe_load((FIXTURE_KB / "topics.yaml").read_text(encoding="utf-8")))
    data["topics"][0]["regulation"] = data["topics"][0].pop("regulations")  # a typo
    assert any("regulation" in e.message for e in validator.iter_errors(data))


def test_schema_for_conversation_tests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    run(capsys, "schema", "--out", str(tmp_path))
    validator = jsonschema.Draft202012Validator(json.loads((tmp_path / "conversation-test.schema.json").read_text(encoding="utf-8")))
    assert not list(validator.iter_errors(yaml.safe_load(GOOD)))
    bad = yaml.safe_load(GOOD)
    bad["turns"][0]["expect"]["knd"] = "flow"
    assert list(validator.iter_errors(bad))


def test_schema_link_adds_the_line_once(kbdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = kbdir / "_schema"
    code, out = run(capsys, "schema", "--out", str(out_dir), "--link", str(kbdir))
    assert code == 0 and "added the schema line to 3 file(s)" in out
    flow = (kbdir / "flows" / "device-check.yaml").read_text(encoding="utf-8")
    assert flow.startswith("# yaml-language-server: $schema=../_schema/knowledge-file.schema.json\nflows:")
    assert (kbdir / "topics.yaml").read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=_schema/knowledge-file.schema.json\n")
    code, out = run(capsys, "schema", "--out", str(out_dir), "--link", str(kbdir))
    assert "added the schema line to 0 file(s)" in out
    knowledge, problems = load_knowledge(kbdir)  # the line is a comment: the knowledge is unchanged
    assert knowledge is not None, problems


# -- pictures of flows --------------------------------------------------------------------------------


def test_mermaid_graph_has_every_question_choice_and_conclusion(kb: Knowledge, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "graph", "device-check", "--knowledge", str(FIXTURE_KB))
    assert code == 0
    assert out.startswith("flowchart TD\n")
    flow = kb.flows["device-check"]
    for node in flow.nodes:
        assert f'q_{node.id}["{node.ask.sv}' in out
        for choice in node.choices or []:
            assert f'-->|"{choice.label.sv}"|' in out
    assert 'q_purpose -->|"Ja"| q_software' in out and 'q_purpose -->|"Nej"| stop' in out
    assert "q_value --> stop" in out and "tal (kronor) → cost_sek" in out
    assert 'stop(("end"))' in out and "stop -.-> conclusions[" in out
    for rule in kb.rules_for("device-check"):
        assert f"{rule.id}: {rule.conclude.text.sv}" in out
    assert "never reached" not in out and "nås aldrig" not in out


def test_dot_graph_in_english(kb: Knowledge, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "graph", "device-check", "--knowledge", str(FIXTURE_KB), "--format", "dot", "--lang", "en")
    assert code == 0
    assert out.startswith('digraph "device-check" {') and out.rstrip().endswith("}")
    assert '"purpose" -> "software" [label="Yes"];' in out and '"purpose" -> "__end" [label="No"];' in out
    assert '"software" -> "value" [label="Physical product"];' in out
    assert '"__end" -> "__conclusions"' in out and "device-no: The product is probably not a medical device." in out
    assert out.count("{") == out.count("}")


def test_graph_marks_a_rule_no_answers_can_reach(kbdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = kbdir / "flows" / "device-check.yaml"
    never = (
        "  - id: device-never\n"
        "    flows: [device-check]\n"
        "    when: {all: [{fact: medical_purpose, equals: false}, {fact: kind, equals: software}]}\n"
        "    conclude:\n"
        "      text: {sv: Kan aldrig hända., en: Can never happen.}\n"
    )
    flow.write_text(flow.read_text(encoding="utf-8") + never, encoding="utf-8")
    # `validate` refuses it, pointing at the rule …
    knowledge, problems = load_knowledge(kbdir, check_rules=True)
    assert knowledge is None
    assert [p.message for p in problems if p.severity == "error"] == [
        "rule 'device-never' can never fire in flow 'device-check': no combination of answers satisfies its 'when'"
    ]
    assert problems[0].line == flow.read_text(encoding="utf-8").splitlines().index("  - id: device-never") + 1
    # … and the picture, drawn from the files as they are, marks it.
    collected = read_files(kbdir)
    drawn = mermaid(assemble(kbdir, collected.files), assemble(kbdir, collected.files).flows["device-check"], "en")
    assert "device-never: Can never happen.  ⚠ never reached" in drawn
    assert "device-no: The product is probably not a medical device.<br/>" in drawn  # reachable: not marked


def test_graph_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "graph", "no-such-flow", "--knowledge", str(FIXTURE_KB))
    assert code == 2 and "flows: device-check" in out
    code, out = run(capsys, "graph", "--knowledge", str(FIXTURE_KB))
    assert code == 2 and "--all" in out


def test_all_flows_as_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "flows.md"
    code, _ = run(capsys, "graph", "--all", "--knowledge", str(FIXTURE_KB), "--out", str(out_file))
    assert code == 0
    text = out_file.read_text(encoding="utf-8")
    assert text.startswith("<!-- Generated by `regellots graph --all --out docs/flows.md`")
    assert "## Är det en medicinteknisk produkt? (`device-check`)" in text and "Defined in `kb/flows/device-check.yaml`." in text
    assert text.count("```mermaid") == 1


# -- shipped, generated artefacts are current -----------------------------------------------------------


def test_shipped_schemas_are_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "schema", "--out", str(tmp_path))
    for name in ("knowledge-file.schema.json", "conversation-test.schema.json"):
        shipped = SHIPPED_KB / "_schema" / name
        assert shipped.is_file(), f"missing {shipped}: run `regellots schema`"
        assert shipped.read_text(encoding="utf-8") == (tmp_path / name).read_text(encoding="utf-8"), f"{shipped} is out of date: run `regellots schema`"


def test_every_shipped_yaml_file_references_its_schema() -> None:
    from bot.knowledge.loader import knowledge_files
    from bot.maintain.schema import modeline

    knowledge_schema = SHIPPED_KB / "_schema" / "knowledge-file.schema.json"
    test_schema = SHIPPED_KB / "_schema" / "conversation-test.schema.json"
    files = [(p, knowledge_schema) for p in knowledge_files(SHIPPED_KB)]
    files += [(p, test_schema) for p in sorted((SHIPPED_KB.parent / "tests" / "conversations").glob("*.yaml"))]
    missing = [str(p) for p, schema in files if p.read_text(encoding="utf-8").splitlines()[0] != modeline(p, schema)]
    assert not missing, "files without the schema line (run `regellots schema --link knowledge`):\n" + "\n".join(missing)


def test_docs_flows_md_is_current(shipped: Knowledge) -> None:
    from bot.maintain.graph import flows_markdown

    docs = SHIPPED_KB.parent / "docs" / "flows.md"
    assert docs.is_file(), "docs/flows.md is missing: run `regellots graph --all --out docs/flows.md`"
    assert docs.read_text(encoding="utf-8") == flows_markdown(shipped), "docs/flows.md is out of date: run `regellots graph --all --out docs/flows.md`"
    for flow in shipped.flows:
        assert f"(`{flow}`)" in docs.read_text(encoding="utf-8")


def test_every_shipped_rule_can_be_reached(shipped: Knowledge) -> None:
    from bot.maintain.graph import reachability

    for flow in shipped.flows.values():
        result = reachability(shipped, flow)
        never = [r.id for r in shipped.rules_for(flow.id) if r.id not in result.reached]
        assert result.complete and not never, f"flow {flow.id}: rules no answers can reach: {never}"
