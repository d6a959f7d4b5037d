"""The learned reading of a first message: which entry it asks about, as a model learned from the
knowledge base's own phrasings and the realistic example messages (`regellots route-train`).

Beside the matcher (phrasings, word for word) it is the second reading of a message: the two must agree
before the bot answers, unless this one is sure of itself (docs/knowledge-format.md, "Routing").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.understanding.learned import LinearModel


class RouteModel:
    """`rank(text)`: target keys ("topic:lou-basics", "out_of_scope:oos-employment"), most probable first."""

    def __init__(self, model: LinearModel) -> None:
        self.model = model
        self.known = frozenset(model.classes)

    @classmethod
    def load(cls, path: Path) -> RouteModel:
        return cls(LinearModel.load(path))

    def save(self, path: Path) -> None:
        self.model.save(path)

    def ranked(self, text: str, limit: int = 20) -> list[tuple[str, float]]:
        """(key, probability), most probable first."""
        p = self.model.scores(text)
        order = np.argsort(-p, kind="stable")[:limit]
        return [(self.model.classes[i], float(p[i])) for i in order]

    def rank(self, text: str, limit: int = 20) -> list[str]:
        return [key for key, _ in self.ranked(text, limit)]

    def evidence(self, text: str, key: str, most: int = 3) -> tuple[str, ...]:
        return self.model.evidence(text, key, None, most)
