"""Learn the routing reading (bot/understanding/route_model.py) from the knowledge base and the tune sets.

    regellots route-train --sets tests/eval/realistic/route-training.yaml --out knowledge/route-model.npz
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.kinds import KINDS
from bot.knowledge.loaded import assemble
from bot.knowledge.loading import read_files
from bot.maintain.learning import fit
from bot.understanding.route_model import RouteModel

#: Regularisation (inverse strength; chosen by leaving tune6 and tune7 out in turn: 3 < 10 < 30 < 100 on both,
#: docs/performance.md), and the size below which a weight is left out of the file: 5 % of the weights, the
#: same first choice for 99 % of the tune messages.
C = 100.0
KEEP = 0.05


def examples(manifest: Path) -> tuple[list[str], list[str]]:
    """(texts, target keys): the knowledge's phrasings and titles, then the listed sets' messages."""
    spec: dict[str, Any] = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    directory = manifest.parent / spec["knowledge"]
    # Assembled without validation: the model file this writes may be the one missing.
    k = assemble(directory, read_files(directory).files)
    texts: list[str] = []
    labels: list[str] = []
    for kind in KINDS:
        for eid, entry in k.table(kind.name).items():
            key = f"{kind.name}:{eid}"
            for text in [*kind.phrases(entry), kind.title(entry, "sv"), kind.title(entry, "en")]:
                if text:
                    texts.append(text)
                    labels.append(key)
    known = set(labels)
    for name in spec.get("sets", []):
        for item in yaml.safe_load((manifest.parent / name).read_text(encoding="utf-8"))["items"]:
            if item.get("gap"):
                continue
            key = f"out_of_scope:{item['oos']}" if item.get("out_of_scope") and item.get("oos") else (item.get("accept") or [None])[0]
            if key in known:
                texts.append(item["text"])
                labels.append(key)
    return texts, labels


def train(manifest: Path) -> tuple[RouteModel, int]:
    texts, labels = examples(manifest)
    return RouteModel(fit(texts, labels, c=C, keep=KEEP)), len(texts)
