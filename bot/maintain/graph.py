"""`regellots graph`: a flow drawn as a picture (Mermaid or Graphviz dot).

Questions are boxes, choices are the labelled arrows between them, and every
path ends in `end`, which leads to the flow's conclusions: the rules of the
flow, each marked with whether any path through the questions can make it
fire. A rule no path reaches is a mistake worth knowing about.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge import Knowledge
from bot.knowledge.flowwalk import MAX_PATHS, paths
from bot.knowledge.model import END, Flow, Node
from bot.knowledge.rules import conclude

WRAP = 38
SHORT = 70


@dataclass(frozen=True)
class Reachability:
    """Which rules of a flow some path through its questions makes fire."""

    reached: frozenset[str]
    complete: bool  # False when there were too many paths to try them all


def reachability(k: Knowledge, flow: Flow, limit: int = MAX_PATHS) -> Reachability:
    rules = k.rules_for(flow.id)
    reached: set[str] = set()
    for path in paths(flow, rules, limit):
        if path is None:
            return Reachability(frozenset(reached), False)
        reached.update(r.id for r in conclude(rules, path.facts))
        if len(reached) == len(rules):
            break
    return Reachability(frozenset(reached), True)


def shorten(text: str, width: int = SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip(" ,.;:–-") + "…"


def _wrap(text: str, width: int = WRAP) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width) or [""]


def _question(node: Node, lang: str) -> list[str]:
    lines = _wrap(node.ask.get(lang))
    if node.number is not None:
        unit = f" ({node.number.unit.get(lang)})" if node.number.unit else ""
        lines.append(f"[{'tal' if lang == 'sv' else 'number'}{unit} → {node.number.fact}]")
    return lines


def _conclusion_lines(k: Knowledge, flow: Flow, lang: str) -> list[str]:
    rules = k.rules_for(flow.id)
    result = reachability(k, flow)
    head = "Slutsatser" if lang == "sv" else "Conclusions"
    lines = [head]
    for rule in rules:
        mark = "" if rule.id in result.reached or not result.complete else ("  ⚠ nås aldrig" if lang == "sv" else "  ⚠ never reached")
        lines.append(f"• {rule.id}: {shorten(rule.conclude.text.get(lang))}{mark}")
    if not rules:
        lines.append("• " + shorten(flow.no_conclusion.get(lang)))
    elif not result.complete:
        lines.append("(för många vägar för att pröva alla)" if lang == "sv" else "(too many paths to try them all)")
    return lines


# -- Mermaid ------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for the characters Mermaid would read)."""
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;")):
        text = text.replace(char, code)
    return text


def _ids(flow: Flow) -> dict[str, str]:
    """Mermaid-safe node ids ('end' is a Mermaid keyword, '-' an arrow)."""
    out: dict[str, str] = {}
    for node in flow.nodes:
        base = "q_" + re.sub(r"[^A-Za-z0-9_]", "_", node.id)
        ident, n = base, 2
        while ident in out.values():
            ident, n = f"{base}_{n}", n + 1
        out[node.id] = ident
    out[END] = "stop"
    return out


def mermaid(k: Knowledge, flow: Flow, lang: str = "sv") -> str:
    ids = _ids(flow)

    def label(lines: list[str]) -> str:
        return '"' + "<br/>".join(_mermaid_text(line) for line in lines) + '"'

    out = ["flowchart TD", f"  start([{label(['▶ ' + flow.title.get(lang)])}])", f"  start --> {ids[flow.start]}"]
    for node in flow.nodes:
        out.append(f"  {ids[node.id]}[{label(_question(node, lang))}]")
    for node in flow.nodes:
        for choice in node.choices or []:
            out.append(f"  {ids[node.id]} -->|{label([choice.label.get(lang)])}| {ids.get(choice.next, choice.next)}")
        if node.number is not None:
            out.append(f"  {ids[node.id]} --> {ids.get(node.number.next, node.number.next)}")
    out.append(f"  {ids[END]}(({label(['end'])}))")
    out.append(f"  {ids[END]} -.-> conclusions[{label(_conclusion_lines(k, flow, lang))}]")
    return "\n".join(out) + "\n"


# -- Graphviz dot -----------------------------------------------------------------


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_text(text: str) -> str:
    return '"' + _dot_escape(text) + '"'


def _dot_lines(items: list[str], left: bool = False) -> str:
    """A multi-line dot label: centred lines (\\n) or left-aligned ones (\\l, which also ends the last line)."""
    sep = "\\l" if left else "\\n"
    return '"' + sep.join(_dot_escape(i) for i in items) + (sep if left else "") + '"'


def dot(k: Knowledge, flow: Flow, lang: str = "sv") -> str:
    q = _dot_text
    end, start = q("__end"), q("__start")
    out = [
        f"digraph {q(flow.id)} {{",
        f'  label={q(flow.title.get(lang))}; labelloc=t; fontname="Helvetica";',
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        f"  {start} [shape=oval, label={q('▶ ' + flow.title.get(lang))}];",
        f"  {start} -> {q(flow.start)};",
    ]
    for node in flow.nodes:
        out.append(f"  {q(node.id)} [label={_dot_lines(_question(node, lang))}];")
    for node in flow.nodes:
        for choice in node.choices or []:
            out.append(f"  {q(node.id)} -> {end if choice.next == END else q(choice.next)} [label={q(choice.label.get(lang))}];")
        if node.number is not None:
            out.append(f"  {q(node.id)} -> {end if node.number.next == END else q(node.number.next)};")
    out.append(f'  {end} [shape=doublecircle, label="end"];')
    out.append(f"  {q('__conclusions')} [shape=note, label={_dot_lines(_conclusion_lines(k, flow, lang), left=True)}];")
    out.append(f"  {end} -> {q('__conclusions')} [style=dashed];")
    out.append("}")
    return "\n".join(out) + "\n"


# -- docs/flows.md ------------------------------------------------------------------

GENERATED = "regellots graph --all --out docs/flows.md"


def flows_markdown(k: Knowledge, lang: str = "sv") -> str:
    """Every flow as a Mermaid picture, in one Markdown page (GitHub and most editors draw Mermaid)."""
    out = [
        "<!-- Generated by `" + GENERATED + "`. Do not edit by hand: change knowledge/flows/ and run the command again. -->",
        "",
        "# The flows, drawn",
        "",
        "Generated from `knowledge/flows/` by `" + GENERATED + "`; do not edit this file by hand.",
        "Each box is a question, each arrow an answer; `end` leads to the conclusions the flow's rules can give",
        "(⚠ marks a rule that no combination of answers reaches). See docs/maintaining.md.",
        "",
    ]
    for flow in sorted(k.flows.values(), key=lambda f: f.id):
        rel = _defined_in(k, flow)
        out += [f"## {flow.title.get(lang)} (`{flow.id}`)", "", f"Defined in `{rel}`.", "", "```mermaid", mermaid(k, flow, lang).rstrip("\n"), "```", ""]
    return "\n".join(out)


def _defined_in(k: Knowledge, flow: Flow) -> str:
    """'knowledge/flows/x.yaml', the same whatever the working directory."""
    file = k.where.get(("flows", flow.id), ("", 0))[0]
    try:
        rel = Path(file).resolve().relative_to(k.directory.resolve()).as_posix()
    except ValueError:
        return file
    return f"{k.directory.name}/{rel}"
