"""The rule checker: walk every combination of answers in a flow and check its conclusions.

For each flow it reports, as `file:line: message`:

- combinations of answers that reach no conclusion (warning: the user gets the
  flow's `no_conclusion` text);
- combinations whose conclusions contradict each other: one says a regulation
  applies (`applies:`) and another that it does not (`does_not_apply:`) — and a
  single conclusion that says both (errors);
- rules that no combination makes fire (error: a conclusion that can never be
  given is almost always a mistake in its `when:` or in the facts the answers set).

The walk is bounded (`flowwalk.MAX_PATHS`); a flow with more paths is reported
as too large to check whole, and rules are then not called unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.knowledge.flowwalk import MAX_PATHS, Path, paths
from bot.knowledge.loaded import Knowledge
from bot.knowledge.model import Flow, Rule
from bot.knowledge.rules import conclude
from bot.knowledge.yamlfile import Problem

#: At most this many examples of one kind of finding per flow (the first is the shortest path).
EXAMPLES = 3


@dataclass
class FlowReport:
    flow: str
    paths: int = 0
    complete: bool = True
    no_conclusion: list[Path] = field(default_factory=list)
    contradictions: dict[tuple[str, str, str], Path] = field(default_factory=dict)  # (regulation, says-applies, says-not) → example
    fired: set[str] = field(default_factory=set)


def check_flow(k: Knowledge, flow: Flow, limit: int = MAX_PATHS) -> FlowReport:
    rules = k.rules_for(flow.id)
    report = FlowReport(flow.id)
    for path in paths(flow, rules, limit):
        if path is None:
            report.complete = False
            break
        report.paths += 1
        fired = conclude(rules, path.facts)
        report.fired.update(r.id for r in fired)
        if not fired:
            report.no_conclusion.append(path)
        for key in contradictions(fired):
            report.contradictions.setdefault(key, path)
    return report


def contradictions(fired: list[Rule]) -> list[tuple[str, str, str]]:
    """(regulation, rule saying it applies, rule saying it does not) among conclusions given together."""
    says = [(r.id, set(r.conclude.applies), set(r.conclude.does_not_apply)) for r in fired]
    out = []
    for a_id, applies, _ in says:
        for b_id, _, not_applies in says:
            for reg in sorted(applies & not_applies):
                out.append((reg, a_id, b_id))
    return out


def check_rules(k: Knowledge, limit: int = MAX_PATHS) -> list[Problem]:
    problems: list[Problem] = []
    for flow in k.flows.values():
        f, line = k.where.get(("flows", flow.id), (str(k.directory), 0))
        report = check_flow(k, flow, limit)
        if not report.complete:
            problems.append(Problem(f, line, f"flow '{flow.id}': more than {limit} ways through it – too large for the rule checker to walk whole; checked the first {limit}", "warning"))
        for path in sorted(report.no_conclusion, key=lambda p: len(p.steps))[:EXAMPLES]:
            problems.append(Problem(f, line, f"flow '{flow.id}': these answers reach no conclusion: {describe(flow, path)}", "warning"))
        if len(report.no_conclusion) > EXAMPLES:
            problems.append(Problem(f, line, f"flow '{flow.id}': … and {len(report.no_conclusion) - EXAMPLES} more combinations with no conclusion", "warning"))
        for (reg, yes, no), path in report.contradictions.items():
            rf, rline = k.where.get(("rules", no), (f, line))
            same = "itself " if yes == no else ""
            problems.append(
                Problem(rf, rline, f"rule '{no}' says '{reg}' does not apply but rule '{yes}' {same}says it applies, both after: {describe(flow, path)}")
            )
        if report.complete:
            for rule in k.rules_for(flow.id):
                if rule.id not in report.fired:
                    rf, rline = k.where.get(("rules", rule.id), (f, line))
                    problems.append(Problem(rf, rline, f"rule '{rule.id}' can never fire in flow '{flow.id}': no combination of answers satisfies its 'when'"))
    return problems


def describe(flow: Flow, path: Path) -> str:
    """The answers of a path, as node=answer pairs a maintainer can follow in the file."""
    return ", ".join(f"{node}={_show(answer)}" for node, answer in path.steps) or "(no questions)"


def _show(answer: object) -> str:
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer)
