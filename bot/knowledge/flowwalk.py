"""Every way through a flow: the answers a user can give and the facts they leave at `end`.

Shared by the rule checker (`validate`) and the flow pictures (`graph`). A
number question is tried with each bound the flow's rules and derivations
compare its fact with, and the neighbours of each bound, so every side of
every comparison is walked. Derivations and skipped questions behave as in a
conversation (`derive_facts`, `skipped_choice`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.knowledge.model import END, Choice, Condition, Flow, Node, Rule
from bot.knowledge.rules import bound_value, holds, walk

MAX_PATHS = 20_000


@dataclass(frozen=True)
class Path:
    """One way through a flow: (node id, answer) steps and the facts at the end."""

    steps: tuple[tuple[str, Any], ...]
    facts: Mapping[str, Any]


def derive_facts(flow: Flow, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The facts plus what the flow's derivations set on them (in order; an earlier derivation may feed a later one)."""
    out = dict(facts)
    for d in flow.derive:
        if holds(d.when, out):
            out.update(d.set)
    return out


def skipped_choice(node: Node, facts: Mapping[str, Any]) -> Choice | None:
    """The choice a `skip_when_known` question is answered with when its fact is already derived."""
    fact = node.skip_when_known
    if fact is None or fact not in facts:
        return None
    return next((c for c in node.choices or [] if fact in c.set and c.set[fact] == facts[fact]), None)


def number_values(flow: Flow, rules: list[Rule], fact: str) -> list[float]:
    """Values worth trying for a number question: 0, each bound compared with, and its neighbours."""
    conditions: list[Condition] = [r.when for r in rules] + [d.when for d in flow.derive]
    values = {0.0}
    for cond in conditions:
        for c in walk(cond):
            if c.fact != fact:
                continue
            bounds = [bound_value(b) for b in (c.gt, c.gte, c.lt, c.lte) if b is not None]
            bounds += [v for v in (c.equals, c.not_equals, *(c.in_ or [])) if isinstance(v, int | float) and not isinstance(v, bool)]
            for b in bounds:
                if b is not None:
                    values |= {b - 1, float(b), b + 1}
    return sorted(values)


def paths(flow: Flow, rules: list[Rule], limit: int = MAX_PATHS) -> Iterator[Path | None]:
    """Every path from start to `end` (no node twice on one path); a final None if `limit` was reached first."""
    nodes = {n.id: n for n in flow.nodes}
    count = 0
    stack: list[tuple[str, dict[str, Any], tuple[tuple[str, Any], ...], frozenset[str]]] = [(flow.start, {}, (), frozenset())]
    while stack:
        node_id, facts, steps, seen = stack.pop()
        if node_id == END:
            count += 1
            if count > limit:
                yield None
                return
            yield Path(steps, facts)
            continue
        node = nodes.get(node_id)
        if node is None or node_id in seen:
            continue
        seen = seen | {node_id}
        skip = skipped_choice(node, facts)
        if skip is not None:
            stack.append((skip.next, derive_facts(flow, {**facts, **skip.set}), (*steps, (node_id, skip.id)), seen))
            continue
        if node.number is not None:
            for value in number_values(flow, rules, node.number.fact):
                new = derive_facts(flow, {**facts, node.number.fact: value})
                stack.append((node.number.next, new, (*steps, (node_id, value)), seen))
        for choice in reversed(node.choices or []):
            stack.append((choice.next, derive_facts(flow, {**facts, **choice.set}), (*steps, (node_id, choice.id)), seen))
