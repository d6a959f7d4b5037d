"""Evaluate declarative rule conditions over the facts a flow collected.

Conditions are data (see `model.Condition`); this module interprets them. A
fact that was never answered makes every comparison false except
`exists: false`, so a rule never fires on a guess.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bot.knowledge.model import STAGE_ORDER, Condition, ParamRef, Rule
from bot.knowledge.parameters import active

Facts = Mapping[str, Any]


def holds(cond: Condition, facts: Facts) -> bool:
    if cond.all is not None:
        return all(holds(c, facts) for c in cond.all)
    if cond.any is not None:
        return any(holds(c, facts) for c in cond.any)
    if cond.not_ is not None:
        return not holds(cond.not_, facts)
    assert cond.fact is not None  # guaranteed by the model
    present = cond.fact in facts
    if cond.exists is not None:
        return present is cond.exists
    if not present:
        return False
    value = facts[cond.fact]
    if cond.equals is not None:
        return _same(value, cond.equals)
    if cond.not_equals is not None:
        return not _same(value, cond.not_equals)
    if cond.in_ is not None:
        return any(_same(value, v) for v in cond.in_)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    for op, given in (("gt", cond.gt), ("gte", cond.gte), ("lt", cond.lt), ("lte", cond.lte)):
        if given is not None:
            bound = bound_value(given)
            if bound is None:
                return False  # the parameter has no known value today: never fire on a guess
            return {"gt": value > bound, "gte": value >= bound, "lt": value < bound, "lte": value <= bound}[op]
    return False


def bound_value(given: float | ParamRef) -> float | None:
    """A comparison bound: the number itself, or the parameter's value valid today (None if unknown)."""
    if isinstance(given, ParamRef):
        value = active().value(given.param)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return float(given)


def param_refs(cond: Condition) -> list[str]:
    """The parameters a condition compares with."""
    return [b.param for c in walk(cond) for b in (c.gt, c.gte, c.lt, c.lte) if isinstance(b, ParamRef)]


def _same(a: Any, b: Any) -> bool:
    # YAML gives true and 1 different types; a fact set to true must not equal 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def walk(cond: Condition) -> Iterator[Condition]:
    yield cond
    for child in (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ else []):
        yield from walk(child)


def condition_facts(cond: Condition) -> list[tuple[str, list[Any]]]:
    """(fact, values compared with) for every fact comparison in a condition."""
    out: list[tuple[str, list[Any]]] = []
    for c in walk(cond):
        if c.fact is None:
            continue
        values: list[Any] = []
        if c.equals is not None:
            values.append(c.equals)
        if c.not_equals is not None:
            values.append(c.not_equals)
        if c.in_ is not None:
            values.extend(c.in_)
        out.append((c.fact, values))
    return out


def facts_read(cond: Condition) -> list[str]:
    """The facts a condition reads, in order of first appearance."""
    return list(dict.fromkeys(fact for fact, _ in condition_facts(cond)))


def conclude(rules: list[Rule], facts: Facts) -> list[Rule]:
    """The rules that fire, in lifecycle order (stage), then in file order."""
    fired = [r for r in rules if holds(r.when, facts)]
    return sorted(fired, key=lambda r: STAGE_ORDER.get(r.conclude.stage or "", len(STAGE_ORDER)))
