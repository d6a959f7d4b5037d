"""English is English: no English reply carries Swedish-only knowledge text.

"Swedish-only knowledge text" is the Swedish side of every bilingual text in
the knowledge base and the message catalogue whose English differs, and every
plain (one-language) string a reply can show — source titles, short names —
that reads as Swedish. A Swedish name that the English texts themselves use
(e.g. "Läkemedelsverket" in "… (Läkemedelsverket)") is not Swedish-only.

Checked: every reply every path of every flow gives in English (each question,
the verdict, every page of every part of the result, the checklist documents),
and every topic, regulation, agency and glossary answer, in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from bot.conversation import cards, checklist, conclusion
from bot.conversation.messages import TEXTS
from bot.conversation.replies import Reply
from bot.knowledge import Knowledge
from bot.knowledge.model import Regulation, Source, Text
from bot.understanding.language import guess_language
from tests.support.flowpaths import DAY, every_path

N = 4  # words in a shingle: long enough to be a phrase, short enough to catch a Swedish clause
_WORD = re.compile(r"[\wåäöÅÄÖéü]+(?:[-:][\wåäö]+)*", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + N]) for i in range(len(words) - N + 1)}


def _walk(node: object, texts: list[Text], plain: list[str]) -> None:
    if isinstance(node, Text):
        texts.append(node)
    elif isinstance(node, Source):
        if isinstance(node.title, str):
            plain.append(node.title)
        else:
            texts.append(node.title)
    elif isinstance(node, BaseModel):
        if isinstance(node, Regulation):
            plain.append(node.identifier)
            if isinstance(node.short_name, str):
                plain.append(node.short_name)
        for name in type(node).model_fields:
            _walk(getattr(node, name), texts, plain)
    elif isinstance(node, list | tuple):
        for item in node:
            _walk(item, texts, plain)
    elif isinstance(node, dict):
        for item in node.values():
            _walk(item, texts, plain)


class SwedishOnly:
    """What an English reply must not contain."""

    def __init__(self, k: Knowledge) -> None:
        texts: list[Text] = list(TEXTS.values())
        plain: list[str] = []
        for table in (k.regulations, k.agencies, k.topics, k.flows, k.glossary, k.out_of_scope):
            _walk(list(table.values()), texts, plain)
        _walk(k.rules, texts, plain)
        english = " \n ".join(t.en for t in texts) + " \n " + " \n ".join(p for p in plain if not _reads_swedish(p))
        english_shingles = _shingles(english)
        english_lower = english.lower()
        self.shingles: dict[tuple[str, ...], str] = {}
        self.phrases: dict[str, str] = {}
        swedish = [t.sv for t in texts if t.sv.strip() != t.en.strip()]
        swedish += [p for p in plain if _reads_swedish(p)]
        for sv in swedish:
            for shingle in _shingles(sv) - english_shingles:
                self.shingles.setdefault(shingle, sv)
            if len(_words(sv)) < N and len(sv) >= 6 and sv.lower() not in english_lower and (_swedish_letters(sv) or guess_language(sv) == "sv"):
                self.phrases[sv.lower()] = sv

        alternatives = "|".join(re.escape(p) for p in sorted(self.phrases, key=len, reverse=True))
        self._phrase = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])") if alternatives else None

    def found_in(self, text: str) -> list[str]:
        hits = [f"{' '.join(s)!r} (from {self.shingles[s][:80]!r})" for s in _shingles(text) if s in self.shingles]
        if self._phrase is not None:
            hits += [repr(m.group(0)) for m in self._phrase.finditer(text.lower())]
        return sorted(hits)


def _swedish_letters(text: str) -> bool:
    return any(c in text for c in "åäöÅÄÖ")


def _reads_swedish(text: str) -> bool:
    """A one-language string that reads as Swedish: Swedish words, or Swedish letters and no English words."""
    guess = guess_language(text)
    return guess == "sv" or (guess is None and _swedish_letters(text))


def reply_text(reply: Reply) -> str:
    parts = [reply.title or "", reply.text, *(f"{f.label}: {f.value}" for f in reply.facts), *(c.title for c in reply.citations), *(o.label for o in reply.options)]
    parts += [d.content.decode("utf-8") for d in reply.documents]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def swedish_only(shipped: Knowledge) -> SwedishOnly:
    return SwedishOnly(shipped)


def test_the_check_finds_swedish(shipped: Knowledge, swedish_only: SwedishOnly) -> None:
    rule = shipped.rules[0]
    assert swedish_only.found_in(rule.conclude.text.sv)
    assert not swedish_only.found_in(rule.conclude.text.en)
    assert swedish_only.found_in("Read more: " + TEXTS["disclaimer"].sv)
    assert swedish_only.found_in("Rules that apply: MDR, CE-märkning")
    assert not swedish_only.found_in("Rules that apply: MDR, CE marking (Läkemedelsverket)")


def _entry_replies(k: Knowledge) -> Iterator[tuple[str, Reply]]:
    for kind, table in (("topic", k.topics), ("regulation", k.regulations), ("agency", k.agencies), ("glossary", k.glossary)):
        for entry_id, entry in table.items():
            yield f"{kind}:{entry_id}", cards.OPENERS[kind](k, entry, "en")
    for flow in k.flows.values():
        for node in flow.nodes:
            yield f"{flow.id}/{node.id}", cards.node_reply(k, flow, node, "en", 2, True)
    yield "menu", Reply("", options=cards.menu_options(k, "en"))


def test_every_english_answer_and_question_is_english(shipped: Knowledge, swedish_only: SwedishOnly) -> None:
    problems = [f"{what}: {hits[:3]}" for what, reply in _entry_replies(shipped) if (hits := swedish_only.found_in(reply_text(reply)))]
    assert problems == [], "\n".join(problems[:30])


@pytest.mark.slow  # every path: about a minute
async def test_every_english_flow_reply_is_english(shipped: Knowledge, swedish_only: SwedishOnly) -> None:
    """Every path's verdict; every finding of `why` with the answers that decided it; steps, agencies,
    sources (every page) and the checklist for every set of findings a path reaches. Each distinct text
    is checked once (a page is made of these pieces, the catalogue's words and the knowledge's titles)."""
    problems: dict[str, str] = {}
    checked: set[str] = set()

    def check(where: str, text: str) -> None:
        if text in checked:
            return
        checked.add(text)
        hits = swedish_only.found_in(text)
        if hits:
            problems.setdefault(hits[0], f"{where}: {hits[:3]}")

    seen_sets: set[tuple[str, ...]] = set()
    blocks: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for path in await every_path(shipped, "en"):
        assert path.conclusion.lang == "en"
        where = f"{path.flow} {path.answers}"
        for reply in path.conclusion.replies:
            check(where, reply_text(reply))
        flow, fired, history = path.result(shipped)
        given = conclusion.answers(flow, history, "en")
        for rule in fired:
            decided = tuple((a.short, a.answer) for a in conclusion.deciding(rule, given))
            if (rule.id, decided) not in blocks:
                blocks.add((rule.id, decided))
                check(where, conclusion.finding_block(shipped, 1, rule, given, "en"))
        key = (flow.id, *sorted(r.id for r in fired))
        if key in seen_sets:
            continue
        seen_sets.add(key)
        for name in ("why", "steps", "agencies", "sources"):
            for reply in conclusion.part_pages(shipped, flow, fired, history, "en", name):
                check(where, reply_text(reply))
        # The checklist: the Markdown document (the HTML one is built from the same texts).
        check(where, checklist.markdown(shipped, flow, fired, history, "en", DAY))
    assert problems == {}, "\n".join(list(problems.values())[:30])
