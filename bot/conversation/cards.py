"""Turn knowledge entries into channel-neutral replies, in the user's language."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from bot.conversation.messages import READ_KEYS, t
from bot.conversation.replies import Citation, Fact, Option, Reply
from bot.knowledge import Knowledge
from bot.knowledge.kinds import BY_NAME
from bot.knowledge.model import Agency, Flow, GlossaryEntry, Node, OutOfScope, Regulation, Source, Topic


def citations(sources: Iterable[Source], lang: str) -> tuple[Citation, ...]:
    seen: dict[str, Citation] = {}
    for s in sources:
        seen.setdefault(s.url, Citation(s.title_in(lang), s.url))
    return tuple(seen.values())


def reg_label(k: Knowledge, rid: str, lang: str) -> str:
    return BY_NAME["regulation"].title(k.regulations[rid], lang)


def agency_label(k: Knowledge, aid: str, lang: str) -> str:
    return BY_NAME["agency"].title(k.agencies[aid], lang)


def target_title(k: Knowledge, kind: str, tid: str, lang: str) -> str:
    return BY_NAME[kind].title(k.table(kind)[tid], lang)


def contact_line(k: Knowledge, aid: str, lang: str) -> str:
    """'• Agency – what to contact them about: website' for "whom do I contact?"."""
    a = k.agencies[aid]
    line = f"• {agency_label(k, aid, lang)} – {a.contact_about.get(lang).strip()} {a.website}"
    if a.contact is not None:
        routes = [f"{t('contact_phone', lang)}: {a.contact.phone}"] if a.contact.phone else []
        if a.contact.e_service:
            routes.append(f"{t('contact_e_service', lang)}: {a.contact.e_service}")
        routes.append(f"{t('contact_page', lang)}: {a.contact.page}")  # last: a long link wraps least there
        line += "\n  " + " · ".join(routes)
    return line


def agency_guide_options(k: Knowledge, lang: str) -> tuple[Option, ...]:
    option = follow_option(k, "agency-guide", lang)
    return (option,) if option else ()


def follow_option(k: Knowledge, ref: str, lang: str) -> Option | None:
    """A button for a topic or flow id named in `related` or `menu`."""
    if ref in k.flows:
        return Option(target_title(k, "flow", ref, lang), f"go:flow:{ref}")
    if ref in k.topics:
        return Option(target_title(k, "topic", ref, lang), f"go:topic:{ref}")
    return None


def menu_options(k: Knowledge, lang: str) -> tuple[Option, ...]:
    options = [o for ref in k.menu if (o := follow_option(k, ref, lang))]
    return tuple(options)


def about_line(k: Knowledge, regulations: list[str], agencies: list[str], lang: str) -> str:
    parts = []
    if regulations:
        parts.append(t("about", lang) + ": " + ", ".join(k.regulations[r].short_in(lang) or k.regulations[r].name.get(lang) for r in regulations))
    if agencies:
        parts.append(t("ask_agency", lang) + ": " + ", ".join(agency_label(k, a, lang) for a in agencies))
    return " · ".join(parts)


#: A topic answer is one message of at most 1,500 visible characters; this many for title, text, facts and
#: source titles leaves room for what a channel adds (labels, link marks, line breaks).
TOPIC_CHARS = 1400
MAX_OPTIONS = 8  # buttons under one message: what a phone shows without scrolling


def about_facts(k: Knowledge, regulations: list[str], agencies: list[str], lang: str) -> tuple[Fact, ...]:
    """'Gäller' (the rules) and 'Fråga' (the agencies) as labelled lines."""
    facts = []
    if regulations:
        facts.append(Fact(t("about", lang), ", ".join(k.regulations[r].short_in(lang) or k.regulations[r].name.get(lang) for r in regulations)))
    if agencies:
        facts.append(Fact(t("ask_agency", lang), ", ".join(agency_label(k, a, lang) for a in agencies)))
    return tuple(facts)


def deeper_flow(k: Knowledge, regulations: list[str]) -> str | None:
    """The flow that shares most regulations with an answer (the guide that goes deeper), if any."""
    best, score = None, 0
    for fid, flow in k.flows.items():
        shared = len(set(flow.regulations) & set(regulations))
        if shared > score:
            best, score = fid, shared
    return best


def topic_reply(k: Knowledge, topic: Topic, lang: str) -> Reply:
    """The answer, then 'Gäller' / 'Fråga', then buttons for related questions and the flow that goes deeper."""
    refs = list(topic.related)
    if not any(ref in k.flows for ref in refs) and (flow := deeper_flow(k, topic.regulations)):
        refs.append(flow)
    options = tuple(o for ref in refs if (o := follow_option(k, ref, lang)))[: MAX_OPTIONS - 1]
    answer, facts, title = topic.answer.get(lang).strip(), about_facts(k, topic.regulations, topic.agencies, lang), topic.title.get(lang)
    cites = citations(topic.sources, lang)
    for disclaimer in (t("disclaimer", lang), t("disclaimer_short", lang)):
        reply = Reply(f"{answer}\n\n{disclaimer}", title=title, options=options, citations=cites, facts=facts)
        if visible_chars(reply) <= TOPIC_CHARS:
            return reply
    while len(cites) > 1 and visible_chars(reply) > TOPIC_CHARS:  # the first source is the primary one
        cites = cites[:-1]
        reply = replace(reply, citations=cites)
    return reply


def visible_chars(reply: Reply) -> int:
    """Characters a person sees: title, text, facts and citation titles (not URLs, not buttons)."""
    size = len(reply.title or "") + len(reply.text)
    size += sum(len(f.label) + 2 + len(f.value) for f in reply.facts)
    return size + sum(len(c.title) + 2 for c in reply.citations)


def regulation_reply(k: Knowledge, r: Regulation, lang: str) -> Reply:
    lines = [r.summary.get(lang).strip(), f"{t('applies_to', lang)}: {r.applies_to.get(lang).strip()}", f"{t('applies_when', lang)}: {r.applies_when.get(lang).strip()}"]
    if r.in_force:
        lines.append(f"{t('in_force', lang)}: {r.in_force.get(lang).strip()}")
    if r.replaced:
        lines.append(f"{t('replaced', lang)}: {r.replaced.get(lang).strip()}")
    if r.supervision:
        lines.append(f"{t('supervision', lang)}: " + ", ".join(agency_label(k, a, lang) for a in r.supervision))
    if r.guidance:
        lines.append(f"{t('guidance', lang)}: " + ", ".join(agency_label(k, a, lang) for a in r.guidance))
    lines.append(t("disclaimer", lang))
    title = f"{r.name.get(lang)} ({r.identifier})" if r.identifier not in r.name.get(lang) else r.name.get(lang)
    options = [Option(agency_label(k, a, lang), f"go:agency:{a}") for a in dict.fromkeys(r.supervision + r.guidance)]
    return Reply("\n\n".join(lines), title=title, options=tuple(options), citations=citations(r.sources, lang))


def agency_reply(k: Knowledge, a: Agency, lang: str) -> Reply:
    lines = [
        a.role.get(lang).strip(),
        f"{t('contact_about', lang)}: {a.contact_about.get(lang).strip()}",
        f"{t('not_about', lang)}: {a.not_about.get(lang).strip()}",
        f"{t('website', lang)}: {a.website}",
    ]
    return Reply("\n\n".join(lines), title=a.name.get(lang), citations=citations(a.sources, lang))


def glossary_reply(k: Knowledge, g: GlossaryEntry, lang: str) -> Reply:
    body = [g.definition.get(lang).strip()]
    about = about_line(k, g.regulations, g.agencies, lang)
    if about:
        body.append(about)
    return Reply("\n\n".join(body), title=g.term.get(lang), citations=citations(g.sources, lang))


def node_reply(k: Knowledge, flow: Flow, node: Node, lang: str, step: int, can_go_back: bool) -> Reply:
    text = node.ask.get(lang).strip()
    if node.help:
        text += "\n\n" + node.help.get(lang).strip()
    options: list[Option] = []
    if node.choices:
        options = [Option(c.label.get(lang), f"ans:{flow.id}:{node.id}:{c.id}") for c in node.choices]
    elif node.number and node.number.unit:
        text += f"\n\n({node.number.unit.get(lang)})"
    if can_go_back and len(options) < MAX_OPTIONS:
        options.append(Option(t("back", lang), "cmd:back"))
    return Reply(text, title=f"{flow.title.get(lang)} – {t('question_n', lang)} {step}", options=tuple(options))


def answered(k: Knowledge, flow: Flow, history: list[dict], lang: str, only_facts: set[str] | None = None) -> list[str]:
    """'Question → answer' lines for the answers given (optionally only those that set the given facts)."""
    lines = []
    nodes = {n.id: n for n in flow.nodes}
    for step in history:
        node = nodes.get(step["node"])
        if node is None:
            continue
        if node.number is not None:
            if only_facts is None or node.number.fact in only_facts:
                lines.append(f"• {node.ask.get(lang).strip()} → {_amount(step['answer'], lang)}")
            continue
        choice = next((c for c in node.choices or [] if c.id == step["answer"]), None)
        if choice is None:
            continue
        if only_facts is None or only_facts & set(choice.set):
            read = step.get("read")
            how = f" ({t('read_' + read[0], lang, words=read[1])})" if read and f"read_{read[0]}" in READ_KEYS else ""
            if step.get("derived"):
                how = f" ({t('derived_answer', lang)})"
            lines.append(f"• {node.ask.get(lang).strip()} → {choice.label.get(lang)}{how}")
    return lines


def _amount(value: float, lang: str) -> str:
    text = f"{value:,.0f}".replace(",", "\u00a0")
    return f"{text} kr" if lang == "sv" else f"SEK {text}"


def out_of_scope_reply(k: Knowledge, o: OutOfScope, lang: str) -> Reply:
    return Reply(o.answer.get(lang).strip(), title=o.title.get(lang))


def entry_reply(k: Knowledge, entry: Any, lang: str, kind: str) -> Reply:
    """Any entry, from what its kind declares: its title, its answer or definition text if it has one,
    what it is about, and its sources. Kinds with no card of their own in OPENERS are shown so."""
    spec = BY_NAME[kind]
    body = [text.get(lang).strip() for name in ("answer", "definition", "summary", "text") if (text := getattr(entry, name, None)) is not None]
    regs, ags = spec.about(entry)
    about = about_line(k, regs, ags, lang)
    return Reply("\n\n".join([*body, *([about] if about else [])]), title=spec.title(entry, lang), citations=citations(spec.sources(entry), lang))


def open_entry(k: Knowledge, kind: str, entry: Any, lang: str) -> Reply:
    opener = OPENERS.get(kind)
    return opener(k, entry, lang) if opener is not None else entry_reply(k, entry, lang, kind)


#: How an entry of each kind is shown when the conversation opens it (flows start instead); a kind not
#: named here gets the generic `entry_reply`.
OPENERS: dict[str, Callable[[Knowledge, Any, str], Reply]] = {
    "topic": topic_reply,
    "regulation": regulation_reply,
    "agency": agency_reply,
    "glossary": glossary_reply,
    "out_of_scope": out_of_scope_reply,
}
