"""How well a target fits the situation a message describes (see `situation`).

A topic or flow may declare the situations it is specifically about (`situation: [setting-dental]`). For
each facet on which both the message and the target say something (the setting, who, what the thing is …),
a shared value is a fit and no shared value is a contradiction: a question about elderly care is not
answered confidently with a dental-care topic, however many words they share — the bot asks instead.
(Reading targets' situations from their own phrasings was tried and measured: too noisy, it blocked right
answers; so only declared scopes count.)
"""

from __future__ import annotations

from bot.understanding.matching import Match
from bot.understanding.situation import facets

__all__ = ["BLOCKING", "contradicted", "facets", "judge"]

#: Facets whose contradiction stops a confident answer (the decision asks instead).
BLOCKING = ("setting", "thing")


def judge(message: dict[str, set[str]], target: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """(the facets that fit, the facets that contradict)."""
    fits: list[str] = []
    contradicts: list[str] = []
    for facet, values in message.items():
        theirs = target.get(facet)
        if not theirs:
            continue
        (fits if values & theirs else contradicts).append(facet)
    return fits, contradicts


def contradicted(match: Match, message: dict[str, set[str]], target_facets: dict[str, dict[str, set[str]]]) -> list[str]:
    """The blocking facets on which the target's situation contradicts the message's."""
    _, contradicts = judge(message, target_facets.get(match.target.key, {}))
    return [f for f in contradicts if f in BLOCKING]
