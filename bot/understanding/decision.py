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


@dataclass(frozen=True)
class Decision:
    """What to do with a typed question: answer one match, or ask about candidates, or neither."""

    answer: Match | None = None
    also: list[Match] = field(default_factory=list)
    candidates: list[Match] = field(default_factory=list)


def decide(matches: list[Match]) -> Decision:
    """Answer, ask which one was meant, or admit not knowing — never a confident guess."""
    if not matches or matches[0].score < CLARIFY_SCORE:
        return Decision()
    top = matches[0]
    group = [top] + [m for m in matches[1:] if top.score - m.score < CLARIFY_MARGIN and m.score >= CLARIFY_SCORE]
    if top.score < ANSWER_SCORE:
        return Decision(candidates=[m for m in group if m.target.kind != "out_of_scope"][:3])
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
