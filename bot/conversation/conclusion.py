"""A flow's result, verdict first: one short message, then each part of the detail on demand.

The verdict (at most `VERDICT_CHARS` visible characters): what applies in one
or two sentences, the three most important next steps, whom to contact first,
and buttons for the rest — why, all steps, agencies, sources, the checklist to
keep, start over. Each part is one short message (a page of at most
`PAGE_CHARS`); a longer part gets a "next" button.

Findings that name rules come first, then funding and guidance (findings that
name no regulation); each group in the order of the work (the rule's stage:
idea → development and testing → procurement and introduction → follow-up),
then file order. A finding's
"why" lists only the answers that decided it, in a short form, and is cut to
about `FINDING_CHARS`; the checklist document has everything in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.conversation.cards import visible_chars
from bot.conversation.messages import READ_KEYS, t
from bot.conversation.replies import Citation, Fact, Option, Reply, short_label
from bot.knowledge import Knowledge
from bot.knowledge.model import STAGE_ORDER, Flow, Rule, Source
from bot.knowledge.rules import facts_read

VERDICT_CHARS = 1000
PAGE_CHARS = 1300
FINDING_CHARS = 400
STEP_CHARS = 170
QUESTION_CHARS = 40
ANSWER_CHARS = 40
TOP_STEPS = 3
MAX_NAMES = 6

#: The buttons under a result, in order: (part, option value, label key). A value "res:<part>[:<page>]" opens a part.
PARTS: tuple[tuple[str, str, str], ...] = (
    ("why", "res:why", "btn_why"),
    ("steps", "res:steps", "btn_steps"),
    ("agencies", "res:agencies", "btn_agencies"),
    ("sources", "res:sources", "btn_sources"),
    ("checklist", "res:checklist", "btn_checklist"),
    ("restart", "cmd:restart", "btn_restart"),
)
STAGE_KEYS = {"idea": "stage_idea", "development": "stage_development", "procurement": "stage_procurement", "followup": "stage_followup"}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9“”\"(])")


# -- text helpers -----------------------------------------------------------


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(" ".join(text.split())) if s]


def fit(text: str, limit: int) -> str:
    """`text` whole if it fits; else as many whole sentences as fit; else cut at a word, with '…'."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    kept = ""
    for s in sentences(text):
        candidate = f"{kept} {s}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = text[: max(1, limit - 1)].rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return cut + "…"


def short_question(ask: str, limit: int = QUESTION_CHARS) -> str:
    """A question's short form for 'decided by' lines: up to its first '?' or dash, at most `limit` characters."""
    text = " ".join(ask.split())
    head = text.split("?", 1)[0]
    for dash in (" – ", " — ", ": "):
        if dash in head:
            head = head.split(dash, 1)[0]
    head = head.strip(" ,;")
    if len(head) > limit:
        head = head[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;") + "…"
    return head + "?"


def amount(value: float, lang: str) -> str:
    text = f"{value:,.0f}".replace(",", "\u00a0")
    return f"{text} kr" if lang == "sv" else f"SEK {text}"


# -- what the result is made of -------------------------------------------


def ordered(fired: list[Rule]) -> list[Rule]:
    """Findings that name rules first, then funding and guidance; each group in the order of the work."""
    position = {r.id: i for i, r in enumerate(fired)}
    return sorted(fired, key=lambda r: (not r.conclude.regulations, STAGE_ORDER.get(r.conclude.stage or "", len(STAGE_ORDER)), position[r.id]))


@dataclass(frozen=True)
class Answer:
    """One answer given in the flow, with the facts it set."""

    question: str
    short: str
    answer: str
    facts: frozenset[str]


def answers(flow: Flow, history: list[dict], lang: str) -> list[Answer]:
    nodes = {n.id: n for n in flow.nodes}
    out = []
    for step in history:
        node = nodes.get(step["node"])
        if node is None:
            continue
        ask = node.ask.get(lang).strip()
        if node.number is not None:
            out.append(Answer(ask, short_question(ask), amount(step["answer"], lang), frozenset({node.number.fact})))
            continue
        choice = next((c for c in node.choices or [] if c.id == step["answer"]), None)
        if choice is not None:
            read = step.get("read")  # how a typed answer was read, e.g. "japp" as yes
            how = f" ({t('read_' + read[0], lang, words=read[1])})" if read and f"read_{read[0]}" in READ_KEYS else ""
            if step.get("derived"):  # answered from earlier answers (e.g. the threshold from the amount)
                how = f" ({t('derived_answer', lang)})"
            out.append(Answer(ask, short_question(ask), choice.label.get(lang) + how, frozenset(choice.set)))
    return out


def deciding(rule: Rule, given: list[Answer]) -> list[Answer]:
    """The answers that set a fact the rule's condition reads."""
    read = set(facts_read(rule.when))
    return [a for a in given if a.facts & read]


def regulation_short(k: Knowledge, rid: str, lang: str) -> str:
    r = k.regulations[rid]
    return r.short_in(lang) or r.name.get(lang)


def steps_of(rules: list[Rule], lang: str) -> list[str]:
    return list(dict.fromkeys(s.get(lang).strip() for r in rules for s in r.conclude.next_steps))


def agencies_of(rules: list[Rule]) -> list[str]:
    return list(dict.fromkeys(a for r in rules for a in r.conclude.agencies))


def sources_of(k: Knowledge, rules: list[Rule]) -> list[Source]:
    sources = [s for r in rules for s in r.conclude.sources]
    for rid in dict.fromkeys(x for r in rules for x in r.conclude.regulations):
        sources.extend(k.regulations[rid].sources)
    return sources


def citations(sources: list[Source], lang: str) -> tuple[Citation, ...]:
    seen: dict[str, Citation] = {}
    for s in sources:
        seen.setdefault(s.url, Citation(s.title_in(lang), s.url))
    return tuple(seen.values())


def top_steps(rules: list[Rule], lang: str, n: int = TOP_STEPS) -> list[str]:
    """The first step of each of the first findings, then the next ones, until there are `n`."""
    picked: list[str] = []
    for r in rules:
        if r.conclude.next_steps:
            step = r.conclude.next_steps[0].get(lang).strip()
            if step not in picked:
                picked.append(step)
        if len(picked) == n:
            return picked
    for step in steps_of(rules, lang):
        if len(picked) == n:
            break
        if step not in picked:
            picked.append(step)
    return picked


def leading(rules: list[Rule], given: list[Answer]) -> Rule:
    """The finding the verdict opens with: of those naming rules, the one decided by the latest answer (the
    flow's questions narrow down, so the last ones are the most specific), then by the most answers; the
    earliest of equals."""
    candidates = [r for r in rules if r.conclude.regulations] or rules

    def key(r: Rule) -> tuple[int, int, int]:
        positions = [i for i, a in enumerate(given) if a.facts & set(facts_read(r.when))]
        return (max(positions, default=-1), len(positions), -candidates.index(r))

    return max(candidates, key=key)


def first_contact(rules: list[Rule]) -> str | None:
    for r in rules:
        if r.conclude.agencies:
            return r.conclude.agencies[0]
    return None


# -- the replies --------------------------------------------------------------


def part_options(lang: str, current: str | None = None, page: int = 1, pages: int = 1) -> tuple[Option, ...]:
    """'Next' while a part has more pages, then a button for every other part."""
    options = []
    if current is not None and page < pages:
        options.append(Option(t("btn_next", lang, page=page + 1, pages=pages), f"res:{current}:{page + 1}"))
    options += [Option(t(key, lang), value) for name, value, key in PARTS if name != current]
    return tuple(options)


def title_of(flow: Flow, lang: str) -> str:
    return f"{t('result', lang)} – {flow.title.get(lang)}"


def verdict(k: Knowledge, flow: Flow, fired: list[Rule], history: list[dict], lang: str) -> Reply:
    """The first message of a result: what applies, three steps, whom to ask first, and the buttons."""
    rules = ordered(fired)
    if not rules:
        text = flow.no_conclusion.get(lang).strip() + "\n\n" + t("disclaimer_short", lang)
        return Reply(text, title=title_of(flow, lang), options=(Option(t("btn_checklist", lang), "res:checklist"), Option(t("btn_restart", lang), "cmd:restart")))
    regs = list(dict.fromkeys(r for rule in rules for r in rule.conclude.regulations))
    names = [regulation_short(k, r, lang) for r in regs]
    facts: list[Fact] = []
    if names:
        shown = ", ".join(names[:MAX_NAMES]) + (" " + t("and_more", lang, n=len(names) - MAX_NAMES) if len(names) > MAX_NAMES else "")
        facts.append(Fact(t("applies", lang), shown))
    contact = first_contact(rules)
    if contact is not None:
        facts.append(Fact(t("contact_first", lang), k.agencies[contact].name.get(lang)))
    # What applies in one or two sentences: the first finding that names rules (the basic answer) and the
    # one the latest answers decided (the most specific), each by its first sentence.
    first, specific = next((r for r in rules if r.conclude.regulations), rules[0]), leading(rules, answers(flow, history, lang))
    leads = [first] if specific.id == first.id else [first, specific]
    summary_limit = 240
    step_limit = STEP_CHARS
    while True:
        paragraphs = [" ".join(fit(sentences(r.conclude.text.get(lang))[0], summary_limit) for r in leads)]
        steps = top_steps(rules, lang)
        if steps:
            paragraphs.append(t("most_important", lang) + ":\n" + "\n".join(f"{i}. {fit(s, step_limit)}" for i, s in enumerate(steps, 1)))
        counts = t(
            "result_counts",
            lang,
            findings=len(rules),
            steps=len(steps_of(rules, lang)),
            agencies=len(agencies_of(rules)),
        )
        paragraphs.append(counts + " " + t("disclaimer_short", lang))
        reply = Reply("\n\n".join(paragraphs), title=title_of(flow, lang), options=part_options(lang), facts=tuple(facts))
        if visible_chars(reply) <= VERDICT_CHARS or step_limit <= 60:
            return reply
        summary_limit, step_limit = max(120, summary_limit - 60), step_limit - 20


def finding_block(k: Knowledge, number: int, rule: Rule, given: list[Answer], lang: str, limit: int = FINDING_CHARS) -> str:
    c = rule.conclude
    tail = []
    decided = deciding(rule, given)
    if decided:
        tail.append(f"{t('decided_by', lang)}: " + "; ".join(f"{a.short} → {short_label(a.answer, ANSWER_CHARS)}" for a in decided))
    if c.regulations:
        tail.append(f"{t('rules_apply', lang)}: " + ", ".join(regulation_short(k, r, lang) for r in c.regulations))
    head = f"{number}. {fit(c.text.get(lang), max(180, min(260, limit - sum(len(x) + 1 for x in tail) - 4)))}"
    used = len(head) + sum(len(x) + 1 for x in tail)
    lines = [head]
    if c.why and limit - used > 60:
        lines.append(f"{t('because', lang)}: {fit(c.why.get(lang), limit - used - len(t('because', lang)) - 3)}")
    return "\n".join(lines + tail)


def paginate(blocks: list[str], limit: int = PAGE_CHARS) -> list[list[str]]:
    pages: list[list[str]] = []
    size = 0
    for block in blocks:
        if pages and size + len(block) + 2 <= limit:
            pages[-1].append(block)
            size += len(block) + 2
        else:
            pages.append([block])
            size = len(block)
    return pages or [[]]


def part(k: Knowledge, flow: Flow, fired: list[Rule], history: list[dict], lang: str, name: str, page: int = 1) -> Reply:
    """One page of one part of the result: why, steps, agencies or sources (a page past the end: the last)."""
    pages = part_pages(k, flow, fired, history, lang, name)
    return pages[min(max(page, 1), len(pages)) - 1]


def part_pages(k: Knowledge, flow: Flow, fired: list[Rule], history: list[dict], lang: str, name: str) -> list[Reply]:
    """Every page of one part of the result."""
    rules = ordered(fired)
    if name == "sources":
        heading = t("sources", lang)
        cites = citations(sources_of(k, rules), lang)
        per_page = 8
        chunks = [cites[i : i + per_page] for i in range(0, len(cites), per_page)] or [()]
        return [
            Reply("", title=heading + (f" ({n}/{len(chunks)})" if len(chunks) > 1 else ""), options=part_options(lang, name, n, len(chunks)), citations=chunk)
            for n, chunk in enumerate(chunks, 1)
        ]
    if name == "why":
        heading = t("btn_why", lang)
        given = answers(flow, history, lang)
        blocks = [finding_block(k, i, r, given, lang) for i, r in enumerate(rules, 1)] or [flow.no_conclusion.get(lang).strip()]
    elif name == "steps":
        heading = t("all_steps", lang)
        blocks = []
        seen: set[str] = set()
        for stage in (*STAGE_ORDER, None):
            in_stage = [r for r in rules if (r.conclude.stage if r.conclude.stage in STAGE_ORDER else None) == stage]
            steps = [s for s in steps_of(in_stage, lang) if s not in seen]
            seen.update(steps)
            if steps:
                label = t(STAGE_KEYS[stage], lang) if stage else t("stage_other", lang)
                blocks.append(f"{label}:\n" + "\n".join(f"☐ {s}" for s in steps))
    else:  # agencies
        heading = t("agencies_heading", lang)
        blocks = []
        for aid in agencies_of(rules):
            a = k.agencies[aid]
            blocks.append(f"• {a.name.get(lang)} – {fit(a.contact_about.get(lang), 200)} {a.website}")
    pages = paginate(blocks or [t("nothing_here", lang)])
    return [
        Reply("\n\n".join(chunk), title=heading + (f" ({n}/{len(pages)})" if len(pages) > 1 else ""), options=part_options(lang, name, n, len(pages)))
        for n, chunk in enumerate(pages, 1)
    ]
