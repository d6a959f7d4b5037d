"""How well a target fits the situation a message describes (see `situation`).

A topic or flow may declare the situations it is specifically about (`situation: [setting-dental]`). For
each facet on which both the message and the target say something (the setting, who, what the thing is …),
a shared value is a fit and no shared value is a contradiction: a question about elderly care is not
answered confidently with a dental-care topic, however many words they share — the bot asks instead.
(Reading targets' situations from their own phrasings was tried and measured: too noisy, it blocked right
answers; so only declared scopes count.)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from bot.understanding.matching import Match
from bot.understanding.situation import Found

#: Factor on the score of a target whose situation contradicts the message's, and of one that fits it.
CONTRADICTED = 1.0
FITS = 1.0
#: Facets whose contradiction stops a confident answer (the decision asks instead).
BLOCKING = ("setting", "thing")


def facets(found: list[Found], facet_of: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for f in found:
        out[facet_of[f.situation]].add(f.situation)
    return out


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


def reweigh(matches: list[Match], message: dict[str, set[str]], target_facets: dict[str, dict[str, set[str]]]) -> list[Match]:
    """The matches with scores adjusted for fit and contradiction, best first."""
    if not message:
        return matches
    out = []
    for m in matches:
        fits, contradicts = judge(message, target_facets.get(m.target.key, {}))
        factor = (CONTRADICTED if contradicts else 1.0) * (FITS if fits and not contradicts else 1.0)
        out.append(replace(m, score=round(m.score * factor, 4)) if factor != 1.0 else m)
    return sorted(out, key=lambda m: (-m.score, m.target.key))
