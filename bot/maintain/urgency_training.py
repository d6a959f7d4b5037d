"""Learn the urgency model (`bot/understanding/urgency_model.py`) from the example sets a manifest lists.

    regellots urgency-train --sets tests/eval/realistic/urgency-training.yaml --out knowledge/urgency-model.npz

Training needs scikit-learn (the `train` extra); the bot only reads the result. The same sets give the
same weights: the solver is deterministic and the examples are read in the manifest's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.maintain.learning import fit
from bot.understanding.urgency_model import CLASSES, UrgencyModel

#: Regularisation (inverse strength) and the smallest number of messages a feature must occur in.
C = 10.0
MIN_DF = 2
_LABELS = {"emergency": "emergency", "suicide": "suicide", "medical_advice": "medical", "none": "none"}


@dataclass(frozen=True)
class Example:
    text: str
    kind: str  # one of CLASSES


def examples(manifest: Path) -> list[Example]:
    """The manifest's messages with their kinds, in its order."""
    spec: dict[str, Any] = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    out: list[Example] = []
    for entry in spec.get("expect", []):
        for item in _items(manifest.parent / entry["file"]):
            if entry.get("half") in (None, item.get("half")):
                out.append(Example(item["text"], _LABELS[item["expect"]]))
    for entry in spec.get("none", []):
        for item in _items(manifest.parent / entry["file"]):
            text = item.get("text") or item.get("q")
            # Out-of-scope items only where the manifest says so, and never the medical-advice ones.
            oos = item.get("out_of_scope") and not (entry.get("out_of_scope") and item.get("oos") != "oos-clinical-advice")
            if text and not oos and entry.get("half") in (None, item.get("half")):
                out.append(Example(text, "none"))
    if spec.get("knowledge"):
        out += [Example(text, "none") for text in knowledge_texts(manifest.parent / spec["knowledge"])]
    return out


#: Knowledge files whose phrasings and answer choices are regulatory or small talk: never urgent.
_KNOWLEDGE_GLOBS = ("topics/*.yaml", "flows/*.yaml", "glossary.yaml", "regulations.yaml", "agencies.yaml")


def knowledge_texts(directory: Path) -> list[str]:
    """The knowledge base's phrasings, and its flow answers' labels and synonyms (what people type in a flow:
    "ja", "vet inte", "an app"), in file order: examples of messages that are not urgent."""
    out: list[str] = []

    def walk(node: Any, in_choice: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "phrasings" or (in_choice and key in ("label", "synonyms")):
                    out.extend(_strings(value))
                elif key == "choices":
                    for choice in value or []:
                        walk(choice, in_choice=True)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for pattern in _KNOWLEDGE_GLOBS:
        for path in sorted(directory.glob(pattern)):
            walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _items(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data.get("items") or data.get("questions") or [])


def train(train_on: list[Example]) -> UrgencyModel:
    # Balanced: emergencies are rarer than work messages in the sets, and missing one costs most.
    model = fit([e.text for e in train_on], [e.kind for e in train_on], c=C, min_df=MIN_DF, balanced=True)
    if model.classes != CLASSES:
        raise SystemExit(f"the sets must hold every kind {list(CLASSES)}; they hold {list(model.classes)}")
    return UrgencyModel(model)
