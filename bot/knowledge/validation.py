"""Whole-knowledge checks that a schema alone cannot express.

Duplicate ids, references to unknown ids, flow graphs (unreachable nodes,
`next` that leads nowhere, loops with no way out), rules that read facts no
answer sets, and — as warnings — phrasings that nearly collide across topics.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rapidfuzz import fuzz, process

from bot.knowledge.kinds import BY_SECTION, KINDS
from bot.knowledge.loaded import Knowledge
from bot.knowledge.model import END, Condition, Flow, Node
from bot.knowledge.paramcheck import check_parameters, did_you_mean
from bot.knowledge.rulecheck import check_rules as rule_checker
from bot.knowledge.rules import condition_facts
from bot.knowledge.yamlfile import Problem, line_containing
from bot.understanding.urgency import parse_phrase

COLLISION_SCORE = 95.0


def validate(k: Knowledge, *, check_collisions: bool = False, check_rules: bool = False) -> list[Problem]:
    problems: list[Problem] = []
    problems += _duplicates(k)
    problems += _references(k)
    graph_errors = False
    for flow in k.flows.values():
        found = _flow_graph(k, flow)
        graph_errors |= any(p.severity == "error" for p in found)
        problems += found
    problems += _rule_facts(k)
    problems += _urgency(k)
    problems += _routing(k)
    problems += check_parameters(k)
    if check_rules and not graph_errors:
        problems += rule_checker(k)
    if check_collisions:
        problems += phrasing_collisions(k)
        problems += answered_elsewhere(k)
        problems += duplicate_topics(k)
    return problems


def _at(k: Knowledge, kind: str, entry_id: str) -> tuple[str, int]:
    return k.where.get((kind, entry_id), (str(k.directory), 0))


def _duplicates(k: Knowledge) -> list[Problem]:
    out = [
        Problem(f, line, "a second 'urgency:' section: keep the urgency vocabulary in one file" if section == "urgency" else f"duplicate {_singular(section)} id '{i}'")
        for section, i, f, line in k.duplicates
    ]
    # Topics, flows and glossary terms share one namespace: `related` and `menu` name them by id alone.
    seen: dict[str, str] = {}
    for section in ("flows", "topics", "glossary", "out_of_scope"):
        table: dict[str, Any] = getattr(k, section)
        for entry_id in table:
            if entry_id in seen:
                f, line = _at(k, section, entry_id)
                out.append(Problem(f, line, f"id '{entry_id}' is used by both {seen[entry_id]} and {section}"))
            else:
                seen[entry_id] = section
    return out


def _references(k: Knowledge) -> list[Problem]:
    out: list[Problem] = []

    def check(kind: str, entry_id: str, field: str, ids: list[str], table: dict[str, Any] | set[str], what: str) -> None:
        for ref in ids:
            if ref not in table:
                f, line = _at(k, kind, entry_id)
                # point at the line with the wrong id, not at the entry's `- id:` line
                line = line_containing(_field(k.raw.get((kind, entry_id)), field), ref) or line
                hint = did_you_mean(ref, sorted(table))
                out.append(Problem(f, line, f"{_singular(kind)} '{entry_id}': {field} refers to unknown {what} '{ref}'{hint}"))

    followable = set(k.topics) | set(k.flows)
    for r in k.regulations.values():
        check("regulations", r.id, "supervision", r.supervision, k.agencies, "agency")
        check("regulations", r.id, "guidance", r.guidance, k.agencies, "agency")
    for t in k.topics.values():
        check("topics", t.id, "regulations", t.regulations, k.regulations, "regulation")
        check("topics", t.id, "agencies", t.agencies, k.agencies, "agency")
        check("topics", t.id, "related", t.related, followable, "topic or flow")
        if not t.phrasings.sv or not t.phrasings.en:
            f, line = _at(k, "topics", t.id)
            out.append(Problem(f, line, f"topic '{t.id}': needs phrasings in both sv and en (missing translation)"))
    for t in k.topics.values():
        check("topics", t.id, "situation", t.situation, k.situations, "situation")
    for fl in k.flows.values():
        check("flows", fl.id, "situation", fl.situation, k.situations, "situation")
        check("flows", fl.id, "regulations", fl.regulations, k.regulations, "regulation")
        check("flows", fl.id, "agencies", fl.agencies, k.agencies, "agency")
        for node in fl.nodes:
            for choice in node.choices or []:
                check("flows", fl.id, f"node '{node.id}' choice '{choice.id}' situation", choice.situation, k.situations, "situation")
    for situation in k.situations.values():
        if not situation.terms.sv or not situation.terms.en:
            f, line = k.where.get(("situations", situation.id), (str(k.directory), 0))
            out.append(Problem(f, line, f"situation '{situation.id}': needs terms in both sv and en (missing translation)"))
    for g in k.glossary.values():
        check("glossary", g.id, "regulations", g.regulations, k.regulations, "regulation")
        check("glossary", g.id, "agencies", g.agencies, k.agencies, "agency")
    for rule in k.rules:
        check("rules", rule.id, "flows", rule.flows, k.flows, "flow")
        check("rules", rule.id, "conclude.regulations", rule.conclude.regulations, k.regulations, "regulation")
        check("rules", rule.id, "conclude.agencies", rule.conclude.agencies, k.agencies, "agency")
    for ref in k.menu:
        if ref not in followable:
            f, line = k.where.get(("menu", "menu"), (str(k.directory), 0))
            out.append(Problem(f, line, f"menu refers to unknown topic or flow '{ref}'"))
    return out


def _field(raw: Any, dotted: str) -> Any:
    """The raw YAML of a (dotted) field of an entry, e.g. 'conclude.regulations'; the entry itself if absent."""
    node = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return raw
        node = node[part]
    return {dotted: node} if isinstance(node, list) else node


def _flow_graph(k: Knowledge, flow: Flow) -> list[Problem]:
    f, line = _at(k, "flows", flow.id)
    out: list[Problem] = []
    nodes: dict[str, Node] = {}
    for node in flow.nodes:
        if node.id in nodes or node.id == END:
            out.append(Problem(f, line, f"flow '{flow.id}': duplicate or reserved node id '{node.id}'"))
        nodes.setdefault(node.id, node)
        choice_ids = [c.id for c in node.choices or []]
        for dup in {c for c in choice_ids if choice_ids.count(c) > 1}:
            out.append(Problem(f, line, f"flow '{flow.id}': node '{node.id}' has duplicate choice id '{dup}'"))
        for succ in node.successors():
            if succ != END and succ not in {n.id for n in flow.nodes}:
                out.append(Problem(f, line, f"flow '{flow.id}': a choice in node '{node.id}' leads nowhere: next '{succ}' is not a node (or 'end')"))
    if flow.start not in nodes:
        out.append(Problem(f, line, f"flow '{flow.id}': start '{flow.start}' is not a node"))
        return out

    reachable = _reach(flow.start, lambda n: [s for s in nodes[n].successors() if s in nodes])
    for node_id in nodes:
        if node_id not in reachable:
            out.append(Problem(f, line, f"flow '{flow.id}': node '{node_id}' cannot be reached from start '{flow.start}'"))

    # Reverse reachability from END: a reachable node that cannot get there is a loop with no way out.
    predecessors: dict[str, set[str]] = defaultdict(set)
    for n in nodes.values():
        for s in n.successors():
            predecessors[s].add(n.id)
    finishing = _reach(END, lambda n: list(predecessors.get(n, ())))
    for node_id in sorted(reachable - finishing):
        out.append(Problem(f, line, f"flow '{flow.id}': node '{node_id}' never reaches 'end' (a loop with no way out)"))
    if not k.rules_for(flow.id):
        out.append(Problem(f, line, f"flow '{flow.id}': no rule concludes this flow", "warning"))
    return out


def _reach(start: str, successors: Any) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in successors(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _rule_facts(k: Knowledge) -> list[Problem]:
    """Each fact a rule reads must be set in one of its flows, with a value some answer gives."""
    out: list[Problem] = []
    for rule in k.rules:
        values: dict[str, set[Any]] = defaultdict(set)
        numeric: set[str] = set()
        for fid in rule.flows:
            for node in k.flows[fid].nodes if fid in k.flows else []:
                if node.number is not None:
                    numeric.add(node.number.fact)
                for choice in node.choices or []:
                    for fact, value in choice.set.items():
                        values[fact].add(_key(value))
        f, line = _at(k, "rules", rule.id)
        for fact, compared in condition_facts(rule.when):
            if fact not in values and fact not in numeric:
                out.append(Problem(f, line, f"rule '{rule.id}': reads fact '{fact}' that no answer in flows {rule.flows} sets"))
                continue
            for value in compared:
                if fact in values and _key(value) not in values[fact] and fact not in numeric:
                    choices = ", ".join(sorted(_show(v) for _, v in values[fact]))
                    out.append(Problem(f, line, f"rule '{rule.id}': compares fact '{fact}' with {value!r}, which no answer sets (answers set: {choices})"))
    return out


def _routing(k: Knowledge) -> list[Problem]:
    """The learned routing reading: its file must be readable; entries it does not know (added since it was
    learned) are answered from the phrasings alone until it is learned again."""
    if k.routing is None or k.routing.model is None:
        return []
    f, line = _at(k, "routing", "routing")
    if k.route_model_problem:
        return [Problem(f, line, f"routing.model: {k.route_model_problem} (write it with `regellots route-train`, or remove `model:`)")]
    assert k.route_model is not None
    entries = {f"{kind.name}:{eid}" for kind in KINDS for eid in k.table(kind.name)}
    unknown = sorted(entries - k.route_model.known)
    gone = sorted(k.route_model.known - entries)
    out = []
    if unknown:
        out.append(Problem(f, line, f"routing.model does not know {len(unknown)} entr{'y' if len(unknown) == 1 else 'ies'} ({', '.join(unknown[:5])}{', …' if len(unknown) > 5 else ''}): run `make route-model`", "warning"))
    if gone:
        out.append(Problem(f, line, f"routing.model names {len(gone)} entr{'y' if len(gone) == 1 else 'ies'} the knowledge no longer has ({', '.join(gone[:5])}): run `make route-model`", "warning"))
    return out


def _urgency(k: Knowledge) -> list[Problem]:
    """The urgency vocabulary: one section in the whole knowledge base, every phrase well formed,
    no group id twice."""
    u = k.urgency
    if u is None:
        return []
    f, line = _at(k, "urgency", "urgency")
    out: list[Problem] = []
    seen: set[str] = set()
    for group in u.signs:
        if group.id in seen:
            out.append(Problem(f, line, f"urgency: sign group id '{group.id}' is used twice"))
        seen.add(group.id)
        for phrase in group.phrases:
            out += _phrase_problem(f, line, f"urgency sign group '{group.id}'", phrase)
    for name in ("now", "context", "ask", "over", "example"):
        for phrase in getattr(u, name):
            out += _phrase_problem(f, line, f"urgency.{name}", phrase)
    if not any(g.kind == "emergency" for g in u.signs):
        out.append(Problem(f, line, "urgency: needs at least one sign group of kind 'emergency'"))
    if k.urgency_model_problem:
        out.append(Problem(f, line, f"urgency.model: {k.urgency_model_problem} (write it with `regellots urgency-train`, or remove `model:`)"))
    for reply_kind in ("emergency", "suicide"):
        reply = getattr(u.replies, reply_kind)
        for lang in ("sv", "en"):
            if "112" not in reply.text.get(lang):
                out.append(Problem(f, line, f"urgency.replies.{reply_kind}.text.{lang}: must give the emergency number 112"))
    return out


def _phrase_problem(f: str, line: int, where: str, phrase: str) -> list[Problem]:
    try:
        parse_phrase(phrase)
    except ValueError as exc:
        return [Problem(f, line, f"{where}: {exc}")]
    return []


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _key(value: Any) -> Any:
    """Compare 1 and 1.0 alike but keep True apart from 1."""
    return (type(value) is bool, value)


def phrasing_collisions(k: Knowledge) -> list[Problem]:
    """Warnings for near-identical phrasings in two different topics or flows."""
    owners: list[tuple[str, str, str]] = []  # (kind, id, phrasing)
    for section in ("topics", "flows", "out_of_scope"):
        for entry_id, entry in getattr(k, section).items():
            for _, p in entry.phrasings.all():
                owners.append((section, entry_id, p))
    texts = [" ".join(k.matcher.analyse(p)) for _, _, p in owners]
    out: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for i, text in enumerate(texts):
        if not text:
            continue
        for _, score, j in process.extract(text, texts, scorer=fuzz.ratio, score_cutoff=COLLISION_SCORE, limit=None):
            if j <= i or owners[i][1] == owners[j][1]:
                continue
            pair = (owners[i][1], owners[j][1])
            if pair in reported:
                continue
            reported.add(pair)
            f, line = _at(k, owners[i][0], owners[i][1])
            out.append(
                Problem(
                    f,
                    line,
                    f"'{owners[i][1]}' phrasing {owners[i][2]!r} nearly collides with '{owners[j][1]}' phrasing {owners[j][2]!r} ({score:.0f}%)",
                    "warning",
                )
            )
    return out


ANSWERED_SCORE = 0.95


def answered_elsewhere(k: Knowledge) -> list[Problem]:
    """Warnings for topic and flow phrasings that another entry matches as well as its own: the bot may answer
    with the other one. Typical for a new topic that means the same as an existing one."""
    out: list[Problem] = []
    for section in ("topics", "flows"):
        for entry_id, entry in getattr(k, section).items():
            for _, phrasing in entry.phrasings.all():
                other = next((m for m in k.matcher.search(phrasing, limit=6) if m.target.id != entry_id and m.target.kind in ("topic", "flow")), None)
                if other is None or other.score < ANSWERED_SCORE or _linked(k, entry_id, other.target.id):
                    continue
                f, line = _at(k, section, entry_id)
                line = line_containing(k.raw.get((section, entry_id)), phrasing) or line
                out.append(
                    Problem(
                        f,
                        line,
                        f"'{entry_id}' phrasing {phrasing!r} is answered just as well by {other.target.kind} '{other.target.id}' "
                        f"(phrasing {other.phrasing!r}): if both mean the same, add the phrasing to '{other.target.id}' instead",
                        "warning",
                    )
                )
    return out


def _linked(k: Knowledge, a: str, b: str) -> bool:
    """True if either topic lists the other under `related`: the maintainer knows them as neighbours."""
    return b in getattr(k.topics.get(a), "related", []) or a in getattr(k.topics.get(b), "related", [])


#: Share of a topic's phrasings that another entry would answer (if this topic were not there) to call it a duplicate.
DUPLICATE_SHARE = 0.6


def duplicate_topics(k: Knowledge) -> list[Problem]:
    """Warnings for topics whose phrasings another topic or flow mostly answers already, unless the two are
    linked by `related` (then the maintainer knows them to be neighbours, not duplicates)."""
    from bot.understanding.decision import decide

    out: list[Problem] = []
    for entry_id, topic in k.topics.items():
        phrasings = topic.phrasings.all()
        counts: dict[str, int] = defaultdict(int)
        for _, phrasing in phrasings:
            decision = decide([m for m in k.matcher.search(phrasing, limit=8) if m.target.id != entry_id])
            if decision.answer is not None and decision.answer.target.kind in ("topic", "flow"):
                counts[decision.answer.target.id] += 1
        if not counts:
            continue
        other, n = max(counts.items(), key=lambda item: item[1])
        if n / len(phrasings) < DUPLICATE_SHARE or _linked(k, entry_id, other):
            continue
        f, line = _at(k, "topics", entry_id)
        out.append(
            Problem(
                f,
                line,
                f"topic '{entry_id}': {n} of its {len(phrasings)} phrasings are already answered by '{other}' – "
                f"if it means the same, add the phrasings there instead; if it is a neighbour, list '{other}' under related",
                "warning",
            )
        )
    return out


__all__ = ["validate", "phrasing_collisions", "answered_elsewhere", "duplicate_topics", "Condition"]


def _singular(section: str) -> str:
    """'agencies' → 'agency': the kind's name as maintainers read it in a message."""
    kind = BY_SECTION.get(section)
    return kind.name.replace("_", "-") if kind else section.removesuffix("s")
