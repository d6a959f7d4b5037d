"""The learned reading of urgency, beside the phrase vocabulary (`urgency.py`).

The phrases say exactly which words raised the alarm, but every new blind set of messages showed
emergencies described in words no phrase had (80–90 % recall). This model (`learned.LinearModel`) is
learned from the urgency example sets (`regellots urgency-train`) and reads what the phrases miss.
"""

from __future__ import annotations

from pathlib import Path

from bot.understanding.learned import LinearModel, features

__all__ = ["CLASSES", "UrgencyModel", "features"]

#: Kinds the model knows (besides "none"); the file's classes must be exactly these.
CLASSES = ("emergency", "medical", "none", "suicide")


class UrgencyModel:
    """`probabilities(text)`: each kind's probability; `evidence(text, kind)`: the words behind it."""

    def __init__(self, model: LinearModel) -> None:
        if model.classes != CLASSES:
            raise ValueError(f"the model's kinds are {list(model.classes)}, expected {list(CLASSES)}")
        self.model = model

    @classmethod
    def load(cls, path: Path) -> UrgencyModel:
        """Raises ValueError when the file is not a readable urgency model."""
        try:
            return cls(LinearModel.load(path))
        except ValueError as exc:
            raise ValueError(str(exc).replace("not a readable model", "not a readable urgency model")) from None

    def save(self, path: Path) -> None:
        self.model.save(path)

    def probabilities(self, text: str) -> dict[str, float]:
        return {c: float(p) for c, p in zip(CLASSES, self.model.scores(text), strict=True)}

    def evidence(self, text: str, kind: str, most: int = 3) -> tuple[str, ...]:
        """The message's words that weighed most towards `kind` (against "none")."""
        return self.model.evidence(text, kind, "none", most)
