"""From scored matches to a decision: answer one, ask which was meant, or admit not knowing."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.understanding.matching import Match

# Match scores are 0..1 (see matching.Matcher.search). Tuned on tests/eval.
ANSWER_SCORE = 0.35
CLARIFY_SCORE = 0.35
CLARIFY_MARGIN = 0.01
# In a flow the user is expected to answer the question; a text is taken as a new question only when
# the match is clearly better than it need be between questions.
MIDFLOW_ANSWER_SCORE = 0.55
# A long message scores lower (much of it is the writer's situation, not the knowledge base's words):
# its thresholds move towards these. Tuned on tests/eval/realistic/tune.yaml.
ANSWER_SCORE_LONG = 0.25
CLARIFY_SCORE_LONG = 0.2
#: Below this share of the top score, a runner-up is not offered when asking which was meant.
CLARIFY_WINDOW = 0.8


@dataclass(frozen=True)
class Decision:
    """What to do with a typed question: answer one match, or ask about candidates, or neither."""

    answer: Match | None = None
    also: list[Match] = field(default_factory=list)
    candidates: list[Match] = field(default_factory=list)


def decide(matches: list[Match]) -> Decision:
    """Answer, ask which one was meant, or admit not knowing — never a confident guess."""
    if not matches:
        return Decision()
    top = matches[0]
    answer_at = ANSWER_SCORE + (ANSWER_SCORE_LONG - ANSWER_SCORE) * top.length
    clarify_at = CLARIFY_SCORE + (CLARIFY_SCORE_LONG - CLARIFY_SCORE) * top.length
    if top.score < clarify_at:
        return Decision()
    if top.score < answer_at:
        near = [m for m in matches if m.score >= max(clarify_at, top.score * CLARIFY_WINDOW) and m.target.kind != "out_of_scope"]
        return Decision(candidates=near[:3])
    group = [top] + [m for m in matches[1:] if top.score - m.score < CLARIFY_MARGIN and m.score >= clarify_at]
    if len(group) == 1:
        return Decision(answer=top)
    # A near tie between one topic and other kinds (the regulation it is about, the flow that
    # works it through) is no real ambiguity: answer the topic and offer the others.
    for kind in ("topic", "regulation", "agency", "glossary", "flow", "out_of_scope"):
        of_kind = [m for m in group if m.target.kind == kind]
        if len(of_kind) == 1:
            return Decision(answer=of_kind[0], also=[m for m in group if m is not of_kind[0] and m.target.kind != "out_of_scope"])
        if of_kind:
            break
    return Decision(candidates=[m for m in group if m.target.kind != "out_of_scope"][:3])
