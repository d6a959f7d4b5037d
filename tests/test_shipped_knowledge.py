"""The shipped knowledge base: sound, complete against the canonical ids, and accurate."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge, load_knowledge
from bot.maintain.evaluation import evaluate, load_questions
from bot.state import MemoryStore

from .conftest import SHIPPED_KB, TESTS

CANONICAL = yaml.safe_load((TESTS / "data" / "canonical-ids.yaml").read_text(encoding="utf-8"))


def test_validates_without_warnings() -> None:
    knowledge, problems = load_knowledge(SHIPPED_KB, check_collisions=True, check_rules=True)
    assert knowledge is not None
    assert [str(p) for p in problems] == []


def test_every_canonical_regulation_and_agency_exists(shipped: Knowledge) -> None:
    assert set(CANONICAL["regulations"]) <= set(shipped.regulations)
    assert set(CANONICAL["agencies"]) <= set(shipped.agencies)


def test_regulations_and_agencies_have_official_sources(shipped: Knowledge) -> None:
    for entry in [*shipped.regulations.values(), *shipped.agencies.values()]:
        assert entry.sources and all(s.url.startswith("https://") for s in entry.sources), entry.id


def test_topics_meet_the_content_bar(shipped: Knowledge) -> None:
    assert len(shipped.topics) >= 120
    for topic in shipped.topics.values():
        assert len(topic.phrasings.sv) >= 6 and len(topic.phrasings.en) >= 3, topic.id
        assert topic.regulations or topic.agencies, topic.id
        for lang in ("sv", "en"):
            words = len(re.findall(r"\w+", topic.answer.get(lang)))
            assert words <= 150, f"{topic.id} ({lang}): {words} words"


def test_required_flows_exist(shipped: Knowledge) -> None:
    assert {"mdr-check", "procurement", "data-protection", "testing", "triage"} <= set(shipped.flows)
    for flow_id in shipped.flows:
        assert shipped.rules_for(flow_id), flow_id


async def test_evaluation_accuracy_stays_above_the_recorded_floor(shipped: Knowledge) -> None:
    floor = yaml.safe_load((TESTS / "eval" / "floor.yaml").read_text(encoding="utf-8"))
    questions = load_questions(TESTS / "eval" / "questions.yaml")
    sv = sum(q.lang == "sv" for q in questions)
    assert len(questions) >= 200 and sv / len(questions) >= 0.6 and sum(q.out_of_scope for q in questions) >= 25
    result = await evaluate(Engine(shipped, MemoryStore()), questions)
    assert result.in_scope_accuracy >= floor["in_scope"], result.summary()["misses"]
    assert result.out_of_scope_accuracy >= floor["out_of_scope"], result.summary()["misses"]


def test_eval_questions_use_canonical_or_known_ids(shipped: Knowledge) -> None:
    for q in load_questions(Path(TESTS / "eval" / "questions.yaml")):
        assert set(q.regulations) <= set(shipped.regulations), q.q
        assert set(q.agencies) <= set(shipped.agencies), q.q


def test_every_source_is_https_and_a_specific_page(shipped: Knowledge) -> None:
    """Issue 13: no plain http, and no entry that cites only an agency's home page."""
    import re

    home = re.compile(r"^https?://[^/]+/?$")
    sourced = [*shipped.regulations.values(), *shipped.agencies.values(), *shipped.topics.values(), *shipped.glossary.values()]
    conclusions = [(r.id, r.conclude.sources) for r in shipped.rules]
    for entry_id, sources in [(e.id, e.sources) for e in sourced] + conclusions:
        assert all(s.url.startswith("https://") for s in sources), entry_id
        assert not any(home.match(s.url) for s in sources), (entry_id, [s.url for s in sources])
