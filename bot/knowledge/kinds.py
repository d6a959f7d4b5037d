"""The kinds of knowledge, each declared once.

A kind says where its entries live (the YAML section, which is also the
attribute of `Knowledge`), how an entry is titled, which phrases index it for
matching, what it is about (regulation and agency ids), and which sources cite
it. Loading, validation, matching, the conversation's `why` and `sources`, and
the maintainers' tools all read this table instead of switching on kind names.
How an entry is shown as a reply lives with the replies (`conversation.cards.OPENERS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.knowledge.model import Agency, Flow, GlossaryEntry, OutOfScope, Regulation, Source, Strict, Topic


@dataclass(frozen=True)
class Kind:
    name: str  #: singular, as in a target key "topic:lou-threshold"
    section: str  #: the YAML section and the `Knowledge` attribute holding {id: entry}
    model: type[Strict]
    title: Callable[[Any, str], str]
    phrases: Callable[[Any], Iterable[str]]  #: what users may type for it (besides aliases rewritten to it)
    about: Callable[[Any], tuple[list[str], list[str]]] = lambda e: (list(e.regulations), list(e.agencies))
    sources: Callable[[Any], list[Source]] = lambda e: list(e.sources)
    answerable: bool = True  #: False: matched only to say plainly that we do not answer it
    #: Factor on the kind's match score for a long message: a definition or an entity card answers
    #: "what is X" well and a described situation rarely (see understanding.matching).
    long_message_weight: float = 1.0
    reviewed: bool = False  #: entries carry a `reviewed` date that `regellots review` reports on


def _entity_phrases(e: Regulation | Agency) -> list[str]:
    return [p for _, p in e.phrasings.all()]


def _regulation_title(r: Regulation, lang: str) -> str:
    short, name = r.short_in(lang), r.name.get(lang)
    return f"{short} – {name}" if short and short not in name else name


def _regulation_about(r: Regulation) -> tuple[list[str], list[str]]:
    return [r.id], list(dict.fromkeys(r.supervision + r.guidance))


KINDS: tuple[Kind, ...] = (
    Kind(
        "topic", "topics", Topic,
        title=lambda e, lang: e.title.get(lang),
        phrases=lambda e: [p for _, p in e.phrasings.all()],
        reviewed=True,
    ),
    Kind(
        "flow", "flows", Flow,
        title=lambda e, lang: "▶ " + e.title.get(lang),
        phrases=lambda e: [*(p for _, p in e.phrasings.all()), e.title.sv, e.title.en],
        sources=lambda e: [],
    ),
    Kind(
        "regulation", "regulations", Regulation,
        title=_regulation_title,
        phrases=_entity_phrases,
        about=_regulation_about,
        reviewed=True,
        long_message_weight=0.85,
    ),
    Kind(
        "agency", "agencies", Agency,
        title=lambda e, lang: e.name.get(lang),
        phrases=_entity_phrases,
        about=lambda e: ([], [e.id]),
        reviewed=True,
        long_message_weight=0.85,
    ),
    Kind(
        "glossary", "glossary", GlossaryEntry,
        title=lambda e, lang: e.term.get(lang),
        phrases=lambda e: [e.term.sv, e.term.en, *e.aliases],
        long_message_weight=0.7,
    ),
    Kind(
        "out_of_scope", "out_of_scope", OutOfScope,
        title=lambda e, lang: e.title.get(lang),
        phrases=lambda e: [p for _, p in e.phrasings.all()],
        about=lambda e: ([], []),
        sources=lambda e: [],
        answerable=False,
    ),
)

BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
BY_SECTION: dict[str, Kind] = {k.section: k for k in KINDS}
#: Sections of a knowledge file that hold something else than entries with ids.
OTHER_SECTIONS = ("rules", "synonyms", "menu", "situations", "urgency", "routing", "parameters")
SECTIONS: tuple[str, ...] = (*(k.section for k in KINDS), *OTHER_SECTIONS)
