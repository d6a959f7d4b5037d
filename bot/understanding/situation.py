"""Read a message as a situation: which declared situation values (knowledge/situations.yaml) its words show.

Deterministic and explainable: each value found comes with the words that showed it, so the bot can say
"Du skrev *app* – jag räknar den som programvara" and `why` can show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

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
        # Indexed by the pattern's first word (exact, or the first letters of a prefix), so reading a
        # message costs a look-up per word, not a pass over every pattern.
        self._exact: dict[str, list[tuple[str, tuple[tuple[str, bool], ...]]]] = {}
        self._prefix: dict[str, list[tuple[str, tuple[tuple[str, bool], ...]]]] = {}
        for sid, situation in situations.items():
            for _, term in situation.terms.all():
                pattern = _pattern(term)
                if not pattern or not all(w for w, _ in pattern):
                    continue
                first, is_prefix = pattern[0]
                table, key = (self._prefix, first[:2]) if is_prefix else (self._exact, first)
                table.setdefault(key, []).append((sid, pattern))
        self._facet_of = {sid: situation.facet for sid, situation in situations.items()}
        self.read = lru_cache(maxsize=4096)(self._read)  # one turn reads its message more than once

    def facets(self, text: str) -> dict[str, set[str]]:
        """Facet → the situation ids the text shows (see understanding.fit)."""
        return facets(self.read(text), self._facet_of)

    def _read(self, text: str) -> list[Found]:
        tokens = [fold(w) for w in words(text)]
        shown = words(text)
        best: dict[str, tuple[int, Found]] = {}  # situation → (pattern length, found): the longest phrase wins
        for i, tok in enumerate(tokens):
            candidates = self._exact.get(tok, []) + self._prefix.get(tok[:2], [])
            for sid, pattern in candidates:
                n = len(pattern)
                if i + n > len(tokens) or (sid in best and best[sid][0] >= n):
                    continue
                if all(t.startswith(w) if prefix else t == w for t, (w, prefix) in zip(tokens[i : i + n], pattern, strict=True)):
                    best[sid] = (n, Found(sid, " ".join(shown[i : i + n])))
        return [found for _, found in best.values()]


def facets(found: Iterable[Found], facet_of: Mapping[str, str]) -> dict[str, set[str]]:
    """Facet → the situation ids found, for the situations `facet_of` maps to their facet."""
    out: dict[str, set[str]] = {}
    for f in found:
        out.setdefault(facet_of[f.situation], set()).add(f.situation)
    return out
