"""Read a message as a situation: which declared situation values (knowledge/situations.yaml) its words show.

Deterministic and explainable: each value found comes with the words that showed it, so the bot can say
"Du skrev *app* – jag räknar den som programvara" and `why` can show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.knowledge.model import Situation
from bot.understanding.textnorm import fold, words


@dataclass(frozen=True)
class Found:
    situation: str  #: the situation id
    words: str  #: the message's words that showed it


def _pattern(term: str) -> tuple[tuple[str, bool], ...]:
    """A term as (folded word, is a prefix) pairs: 'app*' → (('app', True),); 'start-up' → two words."""
    out: list[tuple[str, bool]] = []
    for raw in term.split():
        parts = [fold(w) for w in words(raw.rstrip("*"))]
        out += [(p, raw.endswith("*") and i == len(parts) - 1) for i, p in enumerate(parts)]
    return tuple(out)


class SituationReader:
    """Built once per knowledge base from its declared situations."""

    def __init__(self, situations: Mapping[str, Situation]) -> None:
        self._patterns: list[tuple[str, tuple[tuple[str, bool], ...]]] = []
        for sid, situation in situations.items():
            for _, term in situation.terms.all():
                pattern = _pattern(term)
                if pattern and all(w for w, _ in pattern):
                    self._patterns.append((sid, pattern))
        # Longer patterns first, so "privat vårdgivare" is found before a shorter pattern inside it.
        self._patterns.sort(key=lambda p: -len(p[1]))

    def read(self, text: str) -> list[Found]:
        tokens = [fold(w) for w in words(text)]
        found: dict[str, Found] = {}
        for sid, pattern in self._patterns:
            if sid in found:
                continue
            n = len(pattern)
            for i in range(len(tokens) - n + 1):
                if all(tok.startswith(w) if prefix else tok == w for tok, (w, prefix) in zip(tokens[i : i + n], pattern, strict=True)):
                    found[sid] = Found(sid, " ".join(words(text)[i : i + n]))
                    break
        return list(found.values())


def shown(found: Iterable[Found]) -> dict[str, Found]:
    return {f.situation: f for f in found}
