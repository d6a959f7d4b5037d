"""Every kind of Adaptive Card the Teams adapter can build is valid against the official 1.5 schema.

The schema is the official file from microsoft/AdaptiveCards (tests/data/, with where it came from).
Cards are built from real engine replies on the shipped knowledge: the menu, help, every kind of
question, every topic, regulation, agency and glossary answer, clarify, fallback, and for every flow
a result with each of its parts and the checklist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adapters.teams_cards import MAX_ACTIONS, attachment, card
from bot.conversation import cards
from bot.conversation.engine import Engine
from bot.conversation.replies import Citation, Document, Option, Reply, Response
from bot.knowledge import Knowledge
from bot.state import MemoryStore
from bot.understanding.pipeline import Incoming
from tests.support.flowpaths import DAY

SCHEMA = json.loads((Path(__file__).parent / "data" / "adaptive-card-1.5.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft6Validator:
    jsonschema.Draft6Validator.check_schema(SCHEMA)
    return jsonschema.Draft6Validator(SCHEMA)


def _errors(validator: jsonschema.Draft6Validator, content: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(content)]


def test_the_schema_catches_mistakes(validator: jsonschema.Draft6Validator) -> None:
    """The schema file is the real thing: it rejects an unknown element, a misspelt property and a bad action."""
    good = card(Reply("Hej", title="T", options=(Option("Ja", "ans:f:n:ja"),)), "sv")
    assert _errors(validator, good) == []
    for broken in (
        {**good, "body": [{"type": "TextBlok", "text": "x"}]},
        {**good, "body": [{"type": "TextBlock", "txt": "x"}]},
        {**good, "actions": [{"type": "Action.Submit", "titel": "x"}]},
    ):
        assert _errors(validator, broken), broken


async def _replies(engine: Engine, conversation: str, steps: list[Incoming]) -> list[Response]:
    out = []
    for incoming in steps:
        out.append(await engine.handle(conversation, incoming))
    return out


async def _every_reply(shipped: Knowledge) -> list[tuple[str, Reply, str]]:
    """(what, reply, lang) for every kind of reply the engine gives, in both languages."""
    engine = Engine(shipped, MemoryStore(), channel="test", today=lambda: DAY)
    out: list[tuple[str, Reply, str]] = []

    def add(what: str, response: Response) -> None:
        out.extend((what, r, response.lang) for r in response.replies)

    for lang in ("sv", "en"):
        for kind, table in (("topic", shipped.topics), ("regulation", shipped.regulations), ("agency", shipped.agencies), ("glossary", shipped.glossary)):
            for entry_id in table:
                add(f"{kind}:{entry_id}", Response([cards.OPENERS[kind](shipped, table[entry_id], lang)], "answer", lang))
        c = f"misc-{lang}"
        for what, incoming in (
            ("language", Incoming(choice=f"lang:{lang}")),
            ("menu", Incoming(choice="cmd:menu")),
            ("help", Incoming(choice="cmd:help")),
            ("clarify", Incoming(text="regler")),
            ("fallback", Incoming(text="hur parkerar jag bilen")),
            ("sources-nothing", Incoming(text="källor")),
            ("language-choice", Incoming(text="språk")),
        ):
            add(what, await engine.handle(c, incoming))
        for flow_id in shipped.flows:
            c = f"flow-{flow_id}-{lang}"
            await engine.handle(c, Incoming(choice=f"lang:{lang}"))
            response = await engine.handle(c, Incoming(choice=f"go:flow:{flow_id}"))
            add(f"{flow_id}:start", response)
            for _ in range(60):
                if response.kind == "conclusion":
                    break
                answers = [o for o in response.options if o.value.startswith("ans:")]
                incoming = Incoming(choice=answers[-1].value) if answers else Incoming(text="2 miljoner")
                response = await engine.handle(c, incoming)
                add(f"{flow_id}:step", response)
            assert response.kind == "conclusion"
            add(f"{flow_id}:why-mid", await engine.handle(f"x{c}", Incoming(choice="cmd:why")))
            for part in ("why", "why:2", "steps", "steps:2", "agencies", "sources", "sources:2", "checklist"):
                add(f"{flow_id}:{part}", await engine.handle(c, Incoming(choice=f"res:{part}")))
    return out


_FREE_TEXT = {"text", "title", "value", "url", "fallbackText", "tooltip", "choice"}


def _skeleton(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("…" if k in _FREE_TEXT and isinstance(v, str) else _skeleton(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_skeleton(x) for x in node]
    return node


def _cards(replies: list[tuple[str, Reply, str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for what, reply, lang in replies:
        yield what, attachment(reply, lang, lambda d: f"https://bot.example/checklist/{d.name}")["content"]


async def test_every_card_is_valid(shipped: Knowledge, validator: jsonschema.Draft6Validator) -> None:
    replies = await _every_reply(shipped)
    kinds = {what.split(":")[-1] if ":" in what and not what.startswith(("topic", "regulation", "agency", "glossary")) else what.split(":")[0] for what, _, _ in replies}
    assert {"topic", "regulation", "agency", "glossary", "menu", "help", "clarify", "fallback", "start", "step", "why", "steps", "agencies", "sources", "checklist"} <= kinds
    seen_elements: set[str] = set()
    problems = []
    checked: set[str] = set()
    for what, content in _cards(replies):
        # Cards that differ only in their free texts validate alike (the schema only asks for strings there).
        skeleton = json.dumps(_skeleton(content), sort_keys=True)
        if skeleton not in checked:
            checked.add(skeleton)
            errors = _errors(validator, content)
            if errors:
                problems.append(f"{what}: {errors[:3]}")
        text = json.dumps(content)
        seen_elements |= {e for e in ("TextBlock", "FactSet", "Action.Submit", "Action.OpenUrl", "Action.ShowCard", "Container") if f'"{e}"' in text}
        assert len(content.get("actions", [])) <= MAX_ACTIONS, what
    assert problems == [], "\n".join(problems[:20])
    assert seen_elements == {"TextBlock", "FactSet", "Action.Submit", "Action.OpenUrl", "Action.ShowCard", "Container"}


def test_hand_made_edge_cases_are_valid(validator: jsonschema.Draft6Validator) -> None:
    long = "Vi är ett företag eller forskare som ska släppa ut den på marknaden"
    doc = Document("regellotsen-checklista-x-2026-12-02.md", "text/markdown", b"# x", "x")
    for reply in (
        Reply(""),
        Reply("• a\n• b", options=tuple(Option(f"{long} {i}", f"v{i}") for i in range(8))),
        Reply("", title="Källor", citations=(Citation("A", "https://a.se"), Citation("B", "ftp://b.se"))),
        Reply("Klart.", documents=(doc,)),
    ):
        assert _errors(validator, card(reply, "sv", lambda d: "https://bot.example/d")) == []
        assert _errors(validator, card(reply, "en")) == []


async def test_welcome_menu_is_one_card_with_every_choice(shipped: Knowledge) -> None:
    engine = Engine(shipped, MemoryStore())
    response = await engine.handle("m", Incoming(choice="cmd:menu"))
    assert len(response.replies) == 1
    content = card(response.replies[0], response.lang)
    values = [c["selectAction"]["data"]["choice"] for c in content["body"] if c["type"] == "Container"]
    values += [a["data"]["choice"] for a in content.get("actions", []) if a["type"] == "Action.Submit"]
    assert values == [o.value for o in response.replies[0].options]
    assert "cmd:help" in values
