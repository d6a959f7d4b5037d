"""The checklist to keep: a flow's whole result as a document (Markdown and printable HTML).

Everything the short replies leave out: the answers given, each finding with
its full reasoning and the answers that decided it, every next step as a
checklist in the order of the work, the agencies with their contact routes,
the sources as links, the date, the knowledge version and the note that this
is guidance, not legal advice. Pure: the same answers, knowledge and date give
byte-identical documents (no clock, no random ids).
"""

from __future__ import annotations

import html
from datetime import date

from bot.conversation.conclusion import STAGE_KEYS, answers, citations, deciding, ordered, regulation_short, sources_of, steps_of
from bot.conversation.messages import t
from bot.conversation.replies import Document
from bot.knowledge import Knowledge
from bot.knowledge.model import STAGE_ORDER, Flow, Rule


def _stages(rules: list[Rule], lang: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for stage in (*STAGE_ORDER, None):
        in_stage = [r for r in rules if (r.conclude.stage if r.conclude.stage in STAGE_ORDER else None) == stage]
        steps = [s for s in steps_of(in_stage, lang) if s not in seen]
        seen.update(steps)
        if steps:
            out.append((t(STAGE_KEYS[stage], lang) if stage else t("stage_other", lang), steps))
    return out


def file_stem(flow: Flow, lang: str, day: date) -> str:
    return f"regellotsen-{t('checklist_file', lang)}-{flow.id}-{day.isoformat()}"


def markdown(k: Knowledge, flow: Flow, fired: list[Rule], history: list[dict], lang: str, day: date) -> str:
    rules = ordered(fired)
    given = answers(flow, history, lang)
    out = [f"# {t('checklist_title', lang)} – {flow.title.get(lang)}", ""]
    out.append(f"{t('checklist_date', lang)}: {day.isoformat()} · {t('checklist_version', lang)}: {k.version}")
    out += ["", f"> {t('disclaimer', lang)}", ""]
    out += [f"## {t('checklist_answers', lang)}", ""]
    out += [f"{i}. {a.question} → **{a.answer}**" for i, a in enumerate(given, 1)] or ["—"]
    out += ["", f"## {t('checklist_findings', lang)}", ""]
    if not rules:
        out += [flow.no_conclusion.get(lang).strip(), ""]
    for i, rule in enumerate(rules, 1):
        c = rule.conclude
        out += [f"### {i}. {c.text.get(lang).strip()}", ""]
        if c.why:
            out += [f"{t('because', lang)}: {c.why.get(lang).strip()}", ""]
        decided = deciding(rule, given)
        if decided:
            out += [f"{t('decided_by', lang)}:"] + [f"- {a.question} → {a.answer}" for a in decided] + [""]
        if c.regulations:
            out += [f"{t('rules_apply', lang)}: " + ", ".join(regulation_short(k, r, lang) for r in c.regulations), ""]
    out += [f"## {t('all_steps', lang)}", ""]
    for label, steps in _stages(rules, lang):
        out += [f"### {label}", ""] + [f"- [ ] {s}" for s in steps] + [""]
    agencies = list(dict.fromkeys(a for r in rules for a in r.conclude.agencies))
    if agencies:
        out += [f"## {t('agencies_heading', lang)}", ""]
        for aid in agencies:
            a = k.agencies[aid]
            out.append(f"- **{a.name.get(lang)}** – {a.contact_about.get(lang).strip()} <{a.website}>")
        out.append("")
    cites = citations(sources_of(k, rules), lang)
    if cites:
        out += [f"## {t('sources', lang)}", ""] + [f"- [{c.title}]({c.url})" for c in cites] + [""]
    return "\n".join(out).rstrip() + "\n"


_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.45;color:#111}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.8rem;border-bottom:1px solid #ccc}"
    "h3{font-size:1rem;margin-bottom:.3rem}.meta{color:#555}.note{border-left:4px solid #888;padding:.3rem .8rem;background:#f4f4f4}"
    "ul.check{list-style:none;padding-left:0}ul.check li::before{content:'\\2610\\00a0\\00a0'}a{color:#0645ad;word-break:break-all}"
    "@media print{body{margin:0;max-width:none}a{color:#000}h2,h3{page-break-after:avoid}li{page-break-inside:avoid}}"
)


def html_document(k: Knowledge, flow: Flow, fired: list[Rule], history: list[dict], lang: str, day: date) -> str:
    e = html.escape
    rules = ordered(fired)
    given = answers(flow, history, lang)
    title = f"{t('checklist_title', lang)} – {flow.title.get(lang)}"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{e(t("checklist_date", lang))}: {day.isoformat()} · {e(t("checklist_version", lang))}: {e(k.version)}</p>',
        f'<p class="note">{e(t("disclaimer", lang))}</p>',
        f"<h2>{e(t('checklist_answers', lang))}</h2>",
    ]
    if given:
        out.append("<ol>" + "".join(f"<li>{e(a.question)} → <strong>{e(a.answer)}</strong></li>" for a in given) + "</ol>")
    out.append(f"<h2>{e(t('checklist_findings', lang))}</h2>")
    if not rules:
        out.append(f"<p>{e(flow.no_conclusion.get(lang).strip())}</p>")
    for i, rule in enumerate(rules, 1):
        c = rule.conclude
        out.append(f"<h3>{i}. {e(c.text.get(lang).strip())}</h3>")
        if c.why:
            out.append(f"<p>{e(t('because', lang))}: {e(c.why.get(lang).strip())}</p>")
        decided = deciding(rule, given)
        if decided:
            out.append(f"<p>{e(t('decided_by', lang))}:</p><ul>" + "".join(f"<li>{e(a.question)} → {e(a.answer)}</li>" for a in decided) + "</ul>")
        if c.regulations:
            out.append(f"<p>{e(t('rules_apply', lang))}: " + e(", ".join(regulation_short(k, r, lang) for r in c.regulations)) + "</p>")
    out.append(f"<h2>{e(t('all_steps', lang))}</h2>")
    for label, steps in _stages(rules, lang):
        out.append(f"<h3>{e(label)}</h3><ul class=\"check\">" + "".join(f"<li>{e(s)}</li>" for s in steps) + "</ul>")
    agencies = list(dict.fromkeys(a for r in rules for a in r.conclude.agencies))
    if agencies:
        out.append(f"<h2>{e(t('agencies_heading', lang))}</h2><ul>")
        for aid in agencies:
            a = k.agencies[aid]
            out.append(
                f"<li><strong>{e(a.name.get(lang))}</strong> – {e(a.contact_about.get(lang).strip())} "
                f'<a href="{e(a.website, quote=True)}">{e(a.website)}</a></li>'
            )
        out.append("</ul>")
    cites = citations(sources_of(k, rules), lang)
    if cites:
        out.append(f"<h2>{e(t('sources', lang))}</h2><ul>")
        out += [f'<li><a href="{e(c.url, quote=True)}">{e(c.title)}</a></li>' for c in cites]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def documents(k: Knowledge, flow: Flow, fired: list[Rule], history: list[dict], lang: str, day: date) -> tuple[Document, ...]:
    stem = file_stem(flow, lang, day)
    title = f"{t('checklist_title', lang)} – {flow.title.get(lang)}"
    return (
        Document(f"{stem}.md", "text/markdown", markdown(k, flow, fired, history, lang, day).encode("utf-8"), title),
        Document(f"{stem}.html", "text/html", html_document(k, flow, fired, history, lang, day).encode("utf-8"), title),
    )
