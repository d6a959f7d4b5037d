"""The loaded knowledge base: immutable, indexed for matching.

`assemble` merges parsed files into one `Knowledge` and builds its match
index from the kinds' declared phrases (`kinds`). Reading and validating the
files is `loading.load_knowledge`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.knowledge.kinds import BY_NAME, KINDS, Kind
from bot.knowledge.loader import ParsedFile
from bot.knowledge.model import (
    Agency,
    Flow,
    GlossaryEntry,
    Node,
    OutOfScope,
    Parameter,
    Regulation,
    Routing,
    Rule,
    Situation,
    Synonym,
    Topic,
    Urgency,
)
from bot.knowledge.parameters import ParameterTable, activate, table_from
from bot.understanding.fulltext import FullText, texts_of
from bot.understanding.fulltext import tokens as fulltext_tokens
from bot.understanding.matching import Matcher, Target
from bot.understanding.route_model import RouteModel
from bot.understanding.situation import Found, SituationReader, facets
from bot.understanding.urgency import Detector, SignGroup
from bot.understanding.urgency_model import UrgencyModel

M = TypeVar("M")


@dataclass(frozen=True)
class Knowledge:
    directory: Path
    version: str
    regulations: dict[str, Regulation]
    agencies: dict[str, Agency]
    topics: dict[str, Topic]
    flows: dict[str, Flow]
    rules: tuple[Rule, ...]
    glossary: dict[str, GlossaryEntry]
    out_of_scope: dict[str, OutOfScope]
    synonyms: tuple[Synonym, ...]
    situations: dict[str, Situation]
    menu: tuple[str, ...]
    #: (kind, id) → (file, line), for messages that point maintainers to an entry.
    where: dict[tuple[str, str], tuple[str, int]] = field(repr=False)
    matcher: Matcher = field(repr=False)
    #: The second reading: BM25 over each entry's whole text (see understanding.fulltext).
    fulltext: FullText = field(repr=False)
    situation_reader: SituationReader = field(repr=False)
    #: "kind:id" → facet → the situation ids the entry declares it is specifically about (for understanding.fit).
    target_situations: dict[str, dict[str, set[str]]] = field(default_factory=dict, repr=False)
    #: (section, id, file, line) of every entry whose id was taken already; validation reports them.
    duplicates: tuple[tuple[str, str, str, int], ...] = field(default=(), repr=False)
    #: Urgency first: the vocabulary and replies (None: the knowledge base has no `urgency:` section).
    urgency: Urgency | None = None
    #: The compiled urgency vocabulary (empty when there is none, or when its phrases are malformed:
    #: validation then refuses the knowledge).
    urgency_detector: Detector = field(default_factory=Detector, repr=False)
    #: Why the urgency model could not be read (validation reports it; the knowledge is then refused).
    urgency_model_problem: str | None = None
    #: The learned routing reading (None: the knowledge base has none, and the whole-text index is the second reading).
    routing: Routing | None = None
    route_model: RouteModel | None = field(default=None, repr=False)
    route_model_problem: str | None = None
    #: Dated parameters by id, and the table texts and rules read them through.
    parameters: dict[str, Parameter] = field(default_factory=dict, repr=False)
    parameter_table: ParameterTable = field(default_factory=ParameterTable, repr=False)
    #: (section, id) → the entry's raw YAML mapping (with line numbers), to point at a field's own line.
    raw: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def table(self, kind: Kind | str) -> dict[str, Any]:
        """The {id: entry} table of a kind (by `Kind` or its name)."""
        table: dict[str, Any] = getattr(self, (BY_NAME[kind] if isinstance(kind, str) else kind).section)
        return table

    def entry(self, kind: str, entry_id: str) -> Any | None:
        """The entry of that kind and id, or None (also for an unknown kind)."""
        return self.table(kind).get(entry_id) if kind in BY_NAME else None

    def node(self, flow_id: str, node_id: str) -> Node | None:
        flow = self.flows.get(flow_id)
        if flow is None:
            return None
        return next((n for n in flow.nodes if n.id == node_id), None)

    def rules_for(self, flow_id: str) -> list[Rule]:
        return [r for r in self.rules if flow_id in r.flows]

    def summary(self) -> str:
        return (
            f"{len(self.regulations)} regulations, {len(self.agencies)} agencies, {len(self.topics)} topics, "
            f"{len(self.flows)} flows, {len(self.rules)} rules, {len(self.glossary)} glossary terms"
        )


def assemble(directory: Path, files: list[ParsedFile]) -> Knowledge:
    """Merge parsed files into one Knowledge (the first of duplicate ids wins; validation reports the rest)."""
    tables: dict[str, dict[str, Any]] = {kind.section: {} for kind in KINDS}
    rules: list[Rule] = []
    synonyms: list[Synonym] = []
    situations: dict[str, Situation] = {}
    menu: list[str] = []
    sections: dict[str, Any] = {}  # urgency, routing
    where: dict[tuple[str, str], tuple[str, int]] = {}
    raw: dict[tuple[str, str], Any] = {}
    duplicates: list[tuple[str, str, str, int]] = []
    parameters: dict[str, Parameter] = {}
    digest = hashlib.sha256()

    for f in files:
        digest.update(f.label.encode())
        digest.update(f.content.model_dump_json().encode())
        c = f.content
        for kind in KINDS:
            section, target = kind.section, tables[kind.section]
            items = getattr(c, section)
            for i, item in enumerate(items):
                line = f.line(section, i)
                if item.id in target:
                    duplicates.append((section, item.id, f.label, line))
                    continue
                target[item.id] = item
                where[(section, item.id)] = (f.label, line)
                raw[(section, item.id)] = _raw_entry(f.raw, section, i)
        for i, rule in enumerate(c.rules):
            if ("rules", rule.id) in where:
                duplicates.append(("rules", rule.id, f.label, f.line("rules", i)))
                continue
            where[("rules", rule.id)] = (f.label, f.line("rules", i))
            raw[("rules", rule.id)] = _raw_entry(f.raw, "rules", i)
            rules.append(rule)
        for i, param in enumerate(c.parameters):
            if ("parameters", param.id) in where:
                duplicates.append(("parameters", param.id, f.label, f.line("parameters", i)))
                continue
            where[("parameters", param.id)] = (f.label, f.line("parameters", i))
            raw[("parameters", param.id)] = _raw_entry(f.raw, "parameters", i)
            parameters[param.id] = param
        synonyms.extend(c.synonyms)
        for i, situation in enumerate(c.situations):
            if situation.id in situations:
                duplicates.append(("situations", situation.id, f.label, f.line("situations", i)))
                continue
            situations[situation.id] = situation
            where[("situations", situation.id)] = (f.label, f.line("situations", i))
        if c.menu:
            where.setdefault(("menu", "menu"), (f.label, f.line("menu")))
            menu.extend(c.menu)
        # Sections one file only may hold: the first counts, a second is reported.
        for name in ("urgency", "routing"):
            if getattr(c, name) is None:
                continue
            if name not in sections:
                sections[name] = getattr(c, name)
                where[(name, name)] = (f.label, f.line(name))
            else:
                duplicates.append((name, name, f.label, f.line(name)))

    urgency: Urgency | None = sections.get("urgency")
    routing: Routing | None = sections.get("routing")
    detector, model_problem, model_digest = build_detector(urgency, directory)
    digest.update(model_digest)
    route_model, route_problem, route_digest = _read_model(directory, routing.model.file if routing and routing.model else None, RouteModel.load)
    digest.update(route_digest)
    reader = SituationReader(situations)
    table = table_from(parameters)
    activate(table)
    return Knowledge(
        directory=directory,
        version=digest.hexdigest()[:12],
        rules=tuple(rules),
        synonyms=tuple(synonyms),
        situations=situations,
        menu=tuple(menu),
        where=where,
        matcher=build_matcher(tables, synonyms),
        fulltext=build_fulltext(tables),
        situation_reader=reader,
        target_situations=_target_situations(tables, situations),
        duplicates=tuple(duplicates),
        urgency=urgency,
        urgency_detector=detector,
        urgency_model_problem=model_problem,
        routing=routing,
        route_model=route_model,
        route_model_problem=route_problem,
        parameters=parameters,
        parameter_table=table,
        raw=raw,
        **tables,
    )


def _read_model(directory: Path, name: str | None, load: Callable[[Path], M]) -> tuple[M | None, str | None, bytes]:
    """A learned model's file: the model, or why it could not be read, and its bytes' digest (for the version)."""
    if name is None:
        return None, None, b""
    path = directory / name
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
        return load(path), None, digest
    except OSError as exc:
        return None, f"{name}: {exc.strerror or exc}", b""
    except ValueError as exc:
        return None, str(exc), b""


def build_detector(urgency: Urgency | None, directory: Path) -> tuple[Detector, str | None, bytes]:
    """The compiled urgency vocabulary with its learned model; an empty detector when there is none or a
    phrase is malformed (validation reports the phrase with its file and line, and refuses the knowledge).
    Also: why the model file could not be read (None if it could), and its bytes' digest for the version."""
    if urgency is None:
        return Detector(), None, b""
    model, problem, model_digest = _read_model(directory, urgency.model.file if urgency.model else None, UrgencyModel.load)
    try:
        detector = Detector(
            [SignGroup(g.id, g.kind, g.phrases, g.always) for g in urgency.signs],
            urgency.now,
            urgency.context,
            urgency.ask,
            urgency.gap,
            urgency.over,
            urgency.example,
            model=model,
            threshold=urgency.model.threshold if urgency.model else 1.0,
            veto=urgency.model.veto if urgency.model else 0.0,
        )
    except ValueError:
        detector = Detector()
    return detector, problem, model_digest


def _raw_entry(data: Any, section: str, index: int) -> Any:
    try:
        return data[section][index]
    except (KeyError, IndexError, TypeError):
        return None


def entity_token(entity_id: str) -> str:
    """The one word an entity's names and aliases are rewritten to before matching."""
    return entity_id.replace("-", "")


def _target_situations(tables: dict[str, dict[str, Any]], situations: dict[str, Situation]) -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = {}
    for kind in KINDS:
        for eid, entry in tables.get(kind.section, {}).items():
            declared = [s for s in getattr(entry, "situation", []) if s in situations]
            if declared:
                out[f"{kind.name}:{eid}"] = facets([Found(s, "") for s in declared], {sid: s.facet for sid, s in situations.items()})
    return out


def build_fulltext(tables: dict[str, dict[str, Any]]) -> FullText:
    """Each entry as one document: its phrasings and titles twice (how people ask weighs more), then all its text."""
    documents: list[tuple[str, list[str]]] = []
    for kind in KINDS:
        for eid, e in tables.get(kind.section, {}).items():
            asked = [*kind.phrases(e), kind.title(e, "sv"), kind.title(e, "en")]
            words = fulltext_tokens("\n".join(asked))
            body = fulltext_tokens("\n".join(texts_of(e.model_dump(mode="json"))))
            documents.append((f"{kind.name}:{eid}", words * 2 + body))
    return FullText(documents)


def build_matcher(tables: dict[str, dict[str, Any]], synonyms: list[Synonym] | tuple[Synonym, ...]) -> Matcher:
    """The match index: every kind's phrases, with entity names and aliases rewritten to one token."""
    rewrites: list[tuple[str, str]] = []
    entries: list[tuple[Target, str]] = []
    entities: dict[str, str] = {}
    for kind in KINDS:
        for eid, e in tables.get(kind.section, {}).items():
            target = Target(kind.name, eid)
            if isinstance(e, (Regulation, Agency)):
                token = entity_token(eid)
                short = e.short_names() if isinstance(e, Regulation) else ([e.short_name] if e.short_name else [])
                names = [e.name.sv, e.name.en, *e.aliases, *short]
                rewrites += [(name, token) for name in names]
                entries.append((target, token))
                entities[token] = kind.name
            entries += [(target, p) for p in kind.phrases(e)]
    for syn in synonyms:
        rewrites += [(variant, syn.canonical) for variant in syn.variants]
    return Matcher(entries, rewrites, {kind.name: kind.long_message_weight for kind in KINDS}, entities)
