"""The learned urgency reading (bot/understanding/urgency_model.py): the shipped weights are what the listed
example sets give, the reader computes what scikit-learn computes, the blind set is caught, and a missing or
broken model file is refused like any other knowledge error."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge, load_knowledge
from bot.maintain.urgency_training import examples, knowledge_texts, train
from bot.understanding.learned import features
from bot.understanding.pipeline import Incoming
from bot.understanding.urgency_model import CLASSES, UrgencyModel

from .conftest import SHIPPED_KB, TESTS

REALISTIC = TESTS / "eval" / "realistic"
MANIFEST = REALISTIC / "urgency-training.yaml"
#: Messages the phrases do not describe but the model reads as emergencies (from urgency_blind4.yaml).
LEARNED_ONLY = [
    "she's diabetic and acting drunk, sweaty, not making sense and won't eat anything",
    "everyone in the cabin has a headache and feels sick and dizzy, the gas heater has been on all night",
]


def _items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((REALISTIC / name).read_text(encoding="utf-8"))["items"]
    return items


def _kind(k: Knowledge, text: str) -> str:
    found = k.urgency_detector.detect(text)
    return found.kind if found else "none"


def _say(engine: Engine, text: str, conversation: str = "m") -> Any:
    return asyncio.run(engine.handle(conversation, Incoming(text=text)))


@pytest.fixture(scope="module")
def retrained() -> UrgencyModel:
    return train(examples(MANIFEST))


def test_the_shipped_model_is_what_the_listed_sets_give(retrained: UrgencyModel) -> None:
    shipped = UrgencyModel.load(SHIPPED_KB / "urgency-model.npz")
    stale = "knowledge/urgency-model.npz is out of date (a set or the knowledge's phrasings changed): run `make urgency-model`"
    assert shipped.model.terms == retrained.model.terms and np.allclose(shipped.model.idf, retrained.model.idf), stale
    # The solver's last digits may differ between machines (their BLAS); what it reads may not.
    texts = [e.text for e in examples(MANIFEST)] + [i["text"] for i in _items("urgency_blind5.yaml")]
    worst = max(abs(shipped.probabilities(t)[c] - retrained.probabilities(t)[c]) for t in texts for c in CLASSES)
    assert worst < 0.01, stale


def test_the_manifest_never_lists_a_reported_set() -> None:
    spec = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    listed = [(e["file"], e.get("half")) for e in spec["expect"] + spec["none"]]
    for name, half in listed:
        assert "blind5" not in name and "holdout" not in name.replace("urgency_holdout", "") and "report" not in name, name
        if name in ("urgency.yaml", "urgency_blind2.yaml", "typed_answers.yaml"):
            assert half == "tune", f"{name}: only its tune half may be learned from"


def test_the_examples_hold_every_kind_and_the_knowledge_answers() -> None:
    sets = examples(MANIFEST)
    assert {e.kind for e in sets} == set(CLASSES)
    texts = knowledge_texts(SHIPPED_KB)
    assert "vet inte" in texts and len(texts) > 2000  # a flow answer's synonym and the phrasings


def test_features_are_words_pairs_and_letter_groups() -> None:
    got = features("Han andas INTE")
    assert {"w:han", "w:andas", "w:inte", "b:han andas", "b:andas inte", "c: an", "c:ndas "} <= set(got)
    assert features("Blöder") == features("bloder")  # diacritics and case folded, like the phrases


def test_the_blind_set_is_caught(shipped: Knowledge) -> None:
    # urgency_blind5.yaml was written blind to the detector and is never learned from (docs/performance.md).
    items = _items("urgency_blind5.yaml")
    urgent = [i for i in items if i["expect"] in ("emergency", "suicide")]
    missed = [i["id"] for i in urgent if _kind(shipped, i["text"]) not in (("emergency", "suicide") if i["expect"] == "emergency" else ("suicide",))]
    assert not missed
    none = [i for i in items if i["expect"] == "none"]
    alarms = [i["id"] for i in none if _kind(shipped, i["text"]) != "none"]
    assert len(alarms) <= 0.02 * len(none), alarms
    medical = [_kind(shipped, i["text"]) for i in items if i["expect"] == "medical_advice"]
    assert "emergency" not in medical and "suicide" not in medical


@pytest.mark.parametrize("text", LEARNED_ONLY)
def test_a_message_no_phrase_describes_gets_112_first_and_why_says_it_was_learned(shipped: Knowledge, text: str) -> None:
    assert shipped.urgency_detector.from_phrases(text) is None
    engine = Engine(shipped)
    response = _say(engine, text)
    assert response.urgent == "emergency" and "112" in response.replies[0].text
    why = _say(engine, "why").plain_text()
    assert "learned to recognise" in why or "lärt mig känna igen" in why


def test_the_model_overrules_a_phrase_it_reads_as_a_mention(shipped: Knowledge) -> None:
    text = "Kolmonoxidvarnare i gruppbostäder, är det kommunen eller fastighetsägaren som ansvarar?"
    found = shipped.urgency_detector.from_phrases(text)
    assert found is not None and found.kind == "emergency"  # "kolmonoxid" is a poisoning sign
    assert shipped.urgency_detector.detect(text) is None
    assert _say(Engine(shipped), text).urgent is None


# --- the model file as knowledge ------------------------------------------------------------------


def _errors(directory: Path) -> list[str]:
    knowledge, problems = load_knowledge(directory)
    assert knowledge is None, "expected the knowledge to be refused"
    return [str(p) for p in problems if p.severity == "error"]


def test_a_missing_model_file_is_refused_with_file_and_line(urgency_kbdir: Path) -> None:
    (urgency_kbdir / "urgency-model.npz").unlink()
    errors = _errors(urgency_kbdir)
    assert any("urgency.yaml:" in e and "urgency-model.npz" in e and "urgency-train" in e for e in errors), errors


def test_a_broken_model_file_is_refused(urgency_kbdir: Path) -> None:
    (urgency_kbdir / "urgency-model.npz").write_bytes(b"not a model")
    errors = _errors(urgency_kbdir)
    assert any("urgency.yaml:" in e and "not a readable urgency model" in e for e in errors), errors


def test_without_a_model_the_phrases_alone_decide(urgency_kbdir: Path) -> None:
    path = urgency_kbdir / "urgency.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  model:\n")
    end = text.index("    veto:", start)
    path.write_text(text[:start] + text[text.index("\n", end) + 1 :], encoding="utf-8")
    knowledge, problems = load_knowledge(urgency_kbdir)
    assert knowledge is not None, problems
    assert knowledge.urgency_detector.model is None
    assert knowledge.urgency_detector.detect(LEARNED_ONLY[0]) is None
    assert _kind(knowledge, "brukaren andas inte") == "emergency"


def test_a_changed_model_changes_the_knowledge_version(urgency_kbdir: Path) -> None:
    before, _ = load_knowledge(urgency_kbdir)
    model = UrgencyModel.load(urgency_kbdir / "urgency-model.npz")
    model.model.intercept = model.model.intercept + 0.001
    model.save(urgency_kbdir / "urgency-model.npz")
    after, _ = load_knowledge(urgency_kbdir)
    assert before is not None and after is not None and before.version != after.version
