"""The learned routing reading (knowledge/routing.yaml, bot/understanding/route_model.py): the shipped weights
are what the knowledge and the tune sets give, it never learns from a reported set, the sparse reader computes
what scikit-learn computes, and a missing or out-of-date model is reported like any other knowledge problem."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge, load_knowledge
from bot.maintain.learning import digest, fit
from bot.maintain.route_training import KEEP, C, examples
from bot.understanding.learned import LinearModel
from bot.understanding.pipeline import Incoming

from .conftest import SHIPPED_KB, TESTS

MANIFEST = TESTS / "eval" / "realistic" / "route-training.yaml"


def _say(engine: Engine, text: str, conversation: str = "r") -> Any:
    return asyncio.run(engine.handle(conversation, Incoming(text=text)))


def test_the_shipped_model_is_what_the_knowledge_and_the_tune_sets_give(shipped: Knowledge) -> None:
    assert shipped.route_model is not None
    texts, labels = examples(MANIFEST)
    expected = digest(texts, labels, c=C, min_df=1, keep=KEEP, balanced=False)
    assert shipped.route_model.model.source == expected, "knowledge/route-model.npz is out of date (phrasings, entries or tune sets changed): run `make route-model`"


def test_the_manifest_lists_only_tune_sets() -> None:
    spec = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert spec["sets"] and all(name.startswith("tune") for name in spec["sets"]), spec["sets"]


def test_every_entry_is_known_to_the_shipped_model(shipped: Knowledge) -> None:
    assert shipped.route_model is not None
    problems = [p for p in load_knowledge(SHIPPED_KB)[1] if "routing.model" in p.message]
    assert not problems, problems


def test_the_sparse_reader_computes_what_scikit_learn_computes() -> None:
    pytest.importorskip("sklearn")
    texts = ["måste vi upphandla", "är appen en medicinteknisk produkt", "vem har tillsyn", "what is lex maria", "upphandling av appar"]
    labels = ["lou", "mdr", "ivo", "ivo", "lou"]
    model = fit(texts, labels, c=10.0)  # fit itself refuses a model whose reader disagrees (1e-9)
    two = fit(texts, ["a", "b", "a", "b", "a"], c=10.0)  # two classes come from scikit-learn as one row
    assert model.classes == ("ivo", "lou", "mdr") and two.classes == ("a", "b")
    assert np.isclose(model.scores("upphandla app").sum(), 1.0) and model.classes[int(np.argmax(model.scores("upphandla app")))] == "lou"


def test_dropped_small_weights_keep_the_file_small_and_the_order(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    texts = [f"fråga {i} om {w}" for i in range(30) for w in ("lou", "mdr", "gdpr")]
    labels = [w for _ in range(30) for w in ("lou", "mdr", "gdpr")]
    full, kept = fit(texts, labels, c=10.0), fit(texts, labels, c=10.0, keep=0.05)
    assert len(kept.weights) < len(full.weights)
    kept.save(tmp_path / "m.npz")
    again = LinearModel.load(tmp_path / "m.npz")
    assert again.classes == kept.classes and again.source == kept.source
    for text in ("fråga om lou", "mdr", "gdpr nu"):
        assert int(np.argmax(again.scores(text))) == int(np.argmax(full.scores(text)))


def test_a_long_message_both_readings_share_is_answered_and_a_disagreement_asked(shipped: Knowledge) -> None:
    engine = Engine(shipped)
    agreed = _say(engine, "Jag jobbar som undersköterska på ett särskilt boende. Vi vill börja använda en surfplatta med en app där de boende kan videosamtala med sina anhöriga. Måste vi göra en konsekvensbedömning för dataskyddet först?")
    assert agreed.kind == "answer" and agreed.topic == "dpia-when-required"
    asked = _say(Engine(shipped), "Our company makes a sensor for home care and wants to run a pilot with a municipality and then sell to them. What should we think about first?")
    assert asked.kind == "clarify"


def test_a_short_question_stays_with_the_phrasings(shipped: Knowledge) -> None:
    # One keyword spreads a model over 256 entries thin; the phrasings name it exactly.
    assert _say(Engine(shipped), "municipality").kind == "clarify"
    assert _say(Engine(shipped), "vad är LOU").kind == "answer"


# --- the model file as knowledge ------------------------------------------------------------------


@pytest.fixture
def kbdir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(SHIPPED_KB, target, ignore=shutil.ignore_patterns("_schema"))
    return target


def test_a_missing_model_file_is_refused_with_file_and_line(kbdir: Path) -> None:
    (kbdir / "route-model.npz").unlink()
    knowledge, problems = load_knowledge(kbdir)
    assert knowledge is None
    assert any("routing.yaml:" in str(p) and "route-model.npz" in p.message and "route-train" in p.message for p in problems), problems


def test_a_new_entry_is_answered_from_its_phrasings_and_validate_warns(kbdir: Path) -> None:
    path = kbdir / "topics" / "funding.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.index("  - id: ")
    new = """  - id: test-new-grant
    title: {sv: Zyxwvu-bidraget för kvantvård, en: The Zyxwvu grant for quantum care}
    phrasings:
      sv: [zyxwvu-bidraget kvantvård ansökan]
      en: [zyxwvu grant quantum care application]
    answer: {sv: Ett påhittat bidrag för testet., en: A made-up grant for the test.}
    sources:
      - {url: "https://www.vinnova.se/", title: Vinnova}
    reviewed: 2026-12-02
"""
    path.write_text(text[:first] + new + text[first:], encoding="utf-8")
    knowledge, problems = load_knowledge(kbdir)
    assert knowledge is not None, [str(p) for p in problems if p.severity == "error"]
    assert any(p.severity == "warning" and "does not know 1 entry" in p.message and "topic:test-new-grant" in p.message for p in problems)
    response = _say(Engine(knowledge), "Hur söker vi zyxwvu-bidraget för kvantvård till vårt stora projekt om nya vårdformer i regionen?")
    assert response.kind == "answer" and response.topic == "test-new-grant"
