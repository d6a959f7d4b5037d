"""From scored matches to a decision: answer one, ask which was meant, or admit not knowing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.understanding.matching import Match
from bot.understanding.textnorm import plain

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
#: With a second reading (`fulltext`): the two rankings are fused by reciprocal rank (1 / (FUSE_K + rank));
#: an answer is confident only when the fused winner leads one ranking and is among the first AGREE of the other.
FUSE_K = 3
#: How many entries each reading ranks for the fusion.
SEARCH_LIMIT = 20
AGREE = 3
#: Fused scores closer than this are a tie (ask).
FUSE_TIE = 0.01
#: A matcher score from which its reading alone decides (a phrasing nearly asked word for word).
SURE_SCORE = 0.45
#: A short message is a crowd, not a question, when at least CROWD entries score within CROWD_SPREAD of the
#: best and the best is below CROWD_SCORE.
CROWD = 4
CROWD_SPREAD = 0.06
CROWD_SCORE = 0.8


@dataclass(frozen=True)
class Decision:
    """What to do with a typed question: answer one match, or ask about candidates, or neither."""

    answer: Match | None = None
    also: list[Match] = field(default_factory=list)
    candidates: list[Match] = field(default_factory=list)


def decide(matches: list[Match], second: Sequence[str] | None = None, asked: str | None = None) -> Decision:
    """Answer, ask which one was meant, or admit not knowing — never a confident guess.

    `matches` is the matcher's reading (phrasings); `second`, when given, the target keys as the whole-text
    index ranks them (`fulltext`). With both, the message must be understood by the matcher at all (its
    top score), and the answer is the entry both readings agree on; where they disagree, the bot asks."""
    if not matches:
        return Decision()
    top = matches[0]
    # A message that is, word for word, one entry's own phrasing or title ("Måste vi upphandla – och hur?")
    # is that entry, even where another entry's phrasing scores as high on the same content words.
    if asked is not None and top.score >= SURE_SCORE:
        said = plain(asked)
        exact = [m for m in matches if m.score >= top.score - CLARIFY_MARGIN and plain(m.phrasing) == said]
        if len(exact) == 1:
            return Decision(answer=exact[0])
    answer_at = ANSWER_SCORE + (ANSWER_SCORE_LONG - ANSWER_SCORE) * top.length
    clarify_at = CLARIFY_SCORE + (CLARIFY_SCORE_LONG - CLARIFY_SCORE) * top.length
    if top.score < clarify_at:
        return Decision()
    if second is None or (top.target.kind == "out_of_scope" and top.score >= answer_at and top.length == 0):
        return _alone(matches, answer_at, clarify_at)
    second = list(second)
    # A short message whose words many entries share about equally ("municipality", "vem ska jag fråga")
    # names no question yet: ask which was meant instead of picking by a hair.
    if top.length == 0 and top.score < CROWD_SCORE:
        crowd = [m for m in matches if m.target.kind != "out_of_scope" and m.score >= top.score - CROWD_SPREAD]
        if len(crowd) >= CROWD:
            return Decision(candidates=crowd[:3])
    sure = top.score >= SURE_SCORE
    # Sure (nearly a phrasing word for word), and the other reading has it near the top — for a short
    # question anywhere: a name or a keyword alone says little to a whole-text ranking.
    if sure and top.target.key in (second if top.length == 0 else second[:AGREE]):
        return _alone(matches, answer_at, clarify_at)
    agreed = _agreed(matches, second, clarify_at)
    # Where the readings disagree, a message that nearly repeats a phrasing is still the matcher's to decide.
    return agreed if agreed.answer is not None or not sure else _alone(matches, answer_at, clarify_at)


def _alone(matches: list[Match], answer_at: float, clarify_at: float) -> Decision:
    """The matcher's reading alone: its top if clearly ahead, a question about a near tie, or nothing."""
    top = matches[0]
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


def fuse(*rankings: Sequence[str]) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion of rankings of target keys: (key, fused score), best first."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + 1.0 / (FUSE_K + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def _agreed(matches: list[Match], second: list[str], clarify_at: float) -> Decision:
    """Answer the entry both readings put first (or nearly), else ask about the fused leaders."""
    first = [m.target.key for m in matches]
    by_key = {m.target.key: m for m in matches}
    scored = fuse(first, second)
    fused = [key for key, _ in scored]
    winner = fused[0]
    agreed = (winner == first[0] and winner in second[:AGREE]) or (bool(second) and winner == second[0] and winner in first[:AGREE])
    # Each reading putting a different one of two entries first is a tie, not an agreement.
    agreed = agreed and (len(scored) == 1 or scored[0][1] - scored[1][1] > FUSE_TIE)
    if agreed and by_key[winner].score >= clarify_at:
        answer = by_key[winner]
        also = [m for m in matches if m is not answer and m.target.kind not in (answer.target.kind, "out_of_scope") and answer.score - m.score < CLARIFY_MARGIN]
        return Decision(answer=answer, also=also)
    # Disagreement: offer the fused leaders that the matcher understood at all (never an out-of-scope area).
    near = [by_key[k] for k in fused if k in by_key and by_key[k].target.kind != "out_of_scope" and by_key[k].score >= clarify_at * CLARIFY_WINDOW]
    return Decision(candidates=near[:3])
