"""The second reading: BM25 over each entry's whole text, and the decision that needs both readings to agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from bot.knowledge import load_knowledge
from bot.understanding.decision import AGREE, SURE_SCORE, decide, fuse
from bot.understanding.fulltext import FullText, tokens
from bot.understanding.matching import Match, Target

DOCS = {
    "topic:dpia": "Måste vi göra en konsekvensbedömning? DPIA enligt artikel 35 vid hög risk för de registrerade.",
    "topic:lex-maria": "Lex Maria: vårdgivaren anmäler händelser som medfört allvarlig vårdskada till IVO.",
    "topic:direct-award": "Direktupphandling under 700 000 kr: köpa direkt av en leverantör utan annonsering.",
    "topic:ce": "CE-märkning av en medicinteknisk produkt: klassning, teknisk dokumentation, anmält organ.",
    "topic:fall": "Fallsensor i hemtjänsten som larmar när en brukare ramlar; larm och trygghet i boendet.",
}


@pytest.mark.parametrize(
    "query",
    ["får vi köpa direkt av leverantören", "brukaren ramlade och larmet gick inte", "allvarlig vårdskada anmälan", "ce märkning anmält organ risk"],
)
def test_ranks_as_rank_bm25_does(query: str) -> None:
    index = FullText((key, tokens(text)) for key, text in DOCS.items())
    reference = BM25Okapi([tokens(text) for text in DOCS.values()])
    scores = reference.get_scores(tokens(query))
    expected = [key for key, s in sorted(zip(DOCS, scores, strict=True), key=lambda ks: (-ks[1], ks[0])) if s > 0]
    assert index.rank(query) == expected


def test_only_entries_sharing_a_word_are_ranked() -> None:
    index = FullText((key, tokens(text)) for key, text in DOCS.items())
    assert index.rank("parkeringsböter på jobbet") == []


def test_shipped_index_reads_a_situation_from_answer_texts() -> None:
    k, problems = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge")
    assert k is not None, problems
    # The dental topic's answer says new dental practices are notified to IVO's register of care providers;
    # its phrasings say nothing of registers, so the whole-text reading ranks it higher than the matcher does.
    query = "vi öppnar en tandvårdsverksamhet, hamnar den i ett vårdgivarregister"
    ranked = k.fulltext.rank(query)
    matched = [m.target.key for m in k.matcher.search(query, limit=20)]
    assert "topic:dental-care-innovation" in ranked[:2]
    assert ranked.index("topic:dental-care-innovation") < matched.index("topic:dental-care-innovation")


def _m(key: str, score: float, length: float = 1.0) -> Match:
    kind, eid = key.split(":", 1)
    return Match(Target(kind, eid), score, "…", length=length)


def test_long_message_answered_only_where_the_readings_agree() -> None:
    matches = [_m("topic:a", 0.3), _m("topic:b", 0.29), _m("topic:e", 0.27), _m("topic:c", 0.25)]
    agreed = decide(matches, ["topic:a", "topic:c"])
    assert agreed.answer is not None and agreed.answer.target.id == "a"
    # The whole-text reading puts another first and does not have the matcher's top near it: ask, offering both.
    disagreed = decide(matches, ["topic:c", "topic:x", "topic:y", "topic:a"])
    assert disagreed.answer is None
    assert {m.target.id for m in disagreed.candidates} >= {"a", "c"}


def test_two_readings_each_first_on_a_different_entry_is_a_tie() -> None:
    matches = [_m("topic:a", 0.3), _m("topic:b", 0.29)]
    assert fuse(["topic:a", "topic:b"], ["topic:b", "topic:a"])[0][1] == fuse(["topic:a", "topic:b"], ["topic:b", "topic:a"])[1][1]
    decision = decide(matches, ["topic:b", "topic:a"])
    assert decision.answer is None and [m.target.id for m in decision.candidates][:2] in (["a", "b"], ["b", "a"])


def test_the_whole_text_winner_can_win_when_the_matcher_has_it_near_the_top() -> None:
    matches = [_m("topic:a", 0.3), _m("topic:b", 0.29), _m("topic:c", 0.2)]
    decision = decide(matches, ["topic:b", "topic:c", "topic:d"])
    assert decision.answer is not None and decision.answer.target.id == "b"
    assert AGREE >= 2


def test_a_sure_short_match_stays_the_matchers_when_the_other_reading_knows_it_at_all() -> None:
    name = [_m("regulation:ai-act", 1.0, length=0.0), _m("topic:ai-act-health", 0.8, length=0.0)]
    ranked = ["topic:x", "topic:y", "topic:z", "topic:w", "regulation:ai-act"]
    decision = decide(name, ranked)
    assert decision.answer is not None and decision.answer.target.id == "ai-act"
    # Below the sure score, the same disagreement is asked about.
    unsure = [_m("regulation:ai-act", SURE_SCORE - 0.1, length=0.0), _m("topic:ai-act-health", 0.2, length=0.0)]
    assert decide(unsure, ranked).answer is None


def test_without_a_second_reading_the_matcher_decides_as_before() -> None:
    matches = [_m("topic:a", 0.9, length=0.0), _m("topic:b", 0.5, length=0.0)]
    decision = decide(matches)
    assert decision.answer is not None and decision.answer.target.id == "a"
