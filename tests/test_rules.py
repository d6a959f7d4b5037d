"""Declarative conditions: semantics of every operator, unanswered facts, ordering."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.knowledge.model import Condition, Rule
from bot.knowledge.rules import conclude, facts_read, holds


def c(data: dict) -> Condition:
    return Condition.model_validate(data)


@pytest.mark.parametrize(
    ("cond", "facts", "expected"),
    [
        ({"fact": "a", "equals": True}, {"a": True}, True),
        ({"fact": "a", "equals": True}, {"a": 1}, False),  # true is not 1
        ({"fact": "a", "equals": 1}, {"a": True}, False),
        ({"fact": "a", "equals": "x"}, {}, False),  # unanswered: never fires on a guess
        ({"fact": "a", "not_equals": "x"}, {}, False),
        ({"fact": "a", "not_equals": "x"}, {"a": "y"}, True),
        ({"fact": "a", "in": ["x", "y"]}, {"a": "y"}, True),
        ({"fact": "a", "in": ["x", "y"]}, {"a": "z"}, False),
        ({"fact": "v", "gte": 700000}, {"v": 700000.0}, True),
        ({"fact": "v", "gt": 700000}, {"v": 700000.0}, False),
        ({"fact": "v", "lt": 700000}, {"v": 699999}, True),
        ({"fact": "v", "lte": 10}, {"v": "10"}, False),  # a string is not a number
        ({"fact": "v", "gte": 1}, {"v": True}, False),
        ({"fact": "a", "exists": True}, {"a": False}, True),
        ({"fact": "a", "exists": False}, {}, True),
        ({"all": [{"fact": "a", "equals": True}, {"fact": "b", "equals": "x"}]}, {"a": True, "b": "x"}, True),
        ({"all": [{"fact": "a", "equals": True}, {"fact": "b", "equals": "x"}]}, {"a": True}, False),
        ({"any": [{"fact": "a", "equals": True}, {"fact": "b", "equals": "x"}]}, {"b": "x"}, True),
        ({"not": {"fact": "a", "equals": True}}, {"a": False}, True),
        ({"not": {"fact": "a", "equals": True}}, {}, True),
    ],
)
def test_condition_semantics(cond: dict, facts: dict, expected: bool) -> None:
    assert holds(c(cond), facts) is expected


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"fact": "a"},
        {"fact": "a", "equals": 1, "in": [1]},
        {"all": [], "any": []},
        {"equals": 1},
        {"fact": "A-b", "equals": 1},
        {"fact": "a", "equals": 1, "code": "__import__('os')"},
    ],
)
def test_malformed_conditions_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        c(bad)


def test_facts_read_in_order() -> None:
    cond = c({"all": [{"fact": "b", "equals": 1}, {"any": [{"fact": "a", "equals": 1}, {"not": {"fact": "b", "equals": 2}}]}]})
    assert facts_read(cond) == ["b", "a"]


def test_conclusions_in_lifecycle_order_then_file_order() -> None:
    def rule(rid: str, stage: str | None) -> Rule:
        return Rule.model_validate(
            {"id": rid, "flows": ["f"], "when": {"fact": "x", "exists": True}, "conclude": {"text": {"sv": rid, "en": rid}, "stage": stage}}
        )

    rules = [rule("follow", "followup"), rule("none", None), rule("dev1", "development"), rule("idea", "idea"), rule("dev2", "development")]
    assert [r.id for r in conclude(rules, {"x": 1})] == ["idea", "dev1", "dev2", "follow", "none"]
    assert conclude(rules, {}) == []
