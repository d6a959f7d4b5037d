"""The loaded knowledge base: immutable, validated, indexed for matching.

`load_knowledge(dir)` reads every file, validates the whole (see
`validation`), and only then builds a `Knowledge`. A reload builds a new one
beside the old and swaps it in only if it validated, so a broken edit never
takes the bot down.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.loader import ParsedFile, knowledge_files, label_for, parse_file
from bot.matching import Matcher, Target
from bot.model import Agency, Flow, GlossaryEntry, Node, OutOfScope, Regulation, Rule, Synonym, Topic
from bot.yamlfile import Problem

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "knowledge"


def default_directory() -> Path:
    return Path(os.environ.get("REGELLOTS_KNOWLEDGE") or DEFAULT_DIR)


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
    menu: tuple[str, ...]
    #: (kind, id) → (file, line), for messages that point maintainers to an entry.
    where: dict[tuple[str, str], tuple[str, int]] = field(repr=False)
    matcher: Matcher = field(repr=False)

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


@dataclass
class _Collected:
    files: list[ParsedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_files(directory: Path) -> _Collected:
    out = _Collected()
    if not directory.is_dir():
        out.problems.append(Problem(str(directory), 0, "knowledge directory not found"))
        return out
    files = knowledge_files(directory)
    if not files:
        out.problems.append(Problem(str(directory), 0, "no .yaml files in the knowledge directory"))
    for path in files:
        parsed, problems = parse_file(path, label_for(path))
        out.problems.extend(problems)
        if parsed is not None:
            out.files.append(parsed)
    return out


def load_knowledge(directory: Path | None = None, *, check_collisions: bool = False) -> tuple[Knowledge | None, list[Problem]]:
    """Load and validate. Returns (knowledge, problems); knowledge is None if any problem is an error."""
    from bot.validation import validate

    directory = directory or default_directory()
    collected = read_files(directory)
    problems = list(collected.problems)
    if any(p.severity == "error" for p in problems):
        return None, sorted(set(problems))
    knowledge = assemble(directory, collected.files)
    problems += validate(knowledge, check_collisions=check_collisions)
    problems = sorted(set(problems))
    if any(p.severity == "error" for p in problems):
        return None, problems
    return knowledge, problems


def assemble(directory: Path, files: list[ParsedFile]) -> Knowledge:
    """Merge parsed files into one Knowledge (the first of duplicate ids wins; validation reports the rest)."""
    regulations: dict[str, Regulation] = {}
    agencies: dict[str, Agency] = {}
    topics: dict[str, Topic] = {}
    flows: dict[str, Flow] = {}
    glossary: dict[str, GlossaryEntry] = {}
    out_of_scope: dict[str, OutOfScope] = {}
    rules: list[Rule] = []
    synonyms: list[Synonym] = []
    menu: list[str] = []
    where: dict[tuple[str, str], tuple[str, int]] = {}
    duplicates: list[tuple[str, str, str, int]] = []
    digest = hashlib.sha256()

    for f in files:
        digest.update(f.label.encode())
        digest.update(f.content.model_dump_json().encode())
        c = f.content
        for section, items, target in (
            ("regulations", c.regulations, regulations),
            ("agencies", c.agencies, agencies),
            ("topics", c.topics, topics),
            ("flows", c.flows, flows),
            ("glossary", c.glossary, glossary),
            ("out_of_scope", c.out_of_scope, out_of_scope),
        ):
            for i, item in enumerate(items):
                line = f.line(section, i)
                if item.id in target:
                    duplicates.append((section, item.id, f.label, line))
                    continue
                target[item.id] = item  # type: ignore[index]
                where[(section, item.id)] = (f.label, line)
        for i, rule in enumerate(c.rules):
            if ("rules", rule.id) in where:
                duplicates.append(("rules", rule.id, f.label, f.line("rules", i)))
                continue
            where[("rules", rule.id)] = (f.label, f.line("rules", i))
            rules.append(rule)
        synonyms.extend(c.synonyms)
        if c.menu:
            where.setdefault(("menu", "menu"), (f.label, f.line("menu")))
            menu.extend(c.menu)

    matcher = build_matcher(regulations, agencies, topics, flows, glossary, synonyms, out_of_scope)
    knowledge = Knowledge(
        directory=directory,
        version=digest.hexdigest()[:12],
        regulations=regulations,
        agencies=agencies,
        topics=topics,
        flows=flows,
        rules=tuple(rules),
        glossary=glossary,
        out_of_scope=out_of_scope,
        synonyms=tuple(synonyms),
        menu=tuple(menu),
        where=where,
        matcher=matcher,
    )
    object.__setattr__(knowledge, "_duplicates", duplicates)
    return knowledge


def entity_token(entity_id: str) -> str:
    """The one word an entity's names and aliases are rewritten to before matching."""
    return entity_id.replace("-", "")


def build_matcher(
    regulations: dict[str, Regulation],
    agencies: dict[str, Agency],
    topics: dict[str, Topic],
    flows: dict[str, Flow],
    glossary: dict[str, GlossaryEntry],
    synonyms: list[Synonym],
    out_of_scope: dict[str, OutOfScope] | None = None,
) -> Matcher:
    rewrites: list[tuple[str, str]] = []
    entries: list[tuple[Target, str]] = []
    for kind, table in (("regulation", regulations), ("agency", agencies)):
        for eid, e in table.items():
            token = entity_token(eid)
            names = [e.name.sv, e.name.en, *e.aliases] + ([e.short_name] if e.short_name else [])
            rewrites += [(name, token) for name in names]
            entries.append((Target(kind, eid), token))
            entries += [(Target(kind, eid), p) for _, p in e.phrasings.all()]
    for syn in synonyms:
        rewrites += [(variant, syn.canonical) for variant in syn.variants]
    for tid, t in topics.items():
        entries += [(Target("topic", tid), p) for _, p in t.phrasings.all()]
    for fid, fl in flows.items():
        entries += [(Target("flow", fid), p) for _, p in fl.phrasings.all()]
        entries += [(Target("flow", fid), fl.title.sv), (Target("flow", fid), fl.title.en)]
    for gid, g in glossary.items():
        entries += [(Target("glossary", gid), g.term.sv), (Target("glossary", gid), g.term.en)]
        entries += [(Target("glossary", gid), a) for a in g.aliases]
    for oid, o in (out_of_scope or {}).items():
        entries += [(Target("offtopic", oid), p) for _, p in o.phrasings.all()]
    return Matcher(entries, rewrites)
