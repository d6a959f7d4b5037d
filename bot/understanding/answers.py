"""Read a typed answer to a flow question: which choice it means, the amount it gives, or why not.

Deterministic and explainable: every reading says how it was read ("option number 2", "yes",
"the synonym 'app'", "the words 'allvarlig försämring' of the label"), and every failure says
what could not be read. The order of evidence:

1. the option's number ("2", "nr 2", "alt. 2", "den andra", "the second");
2. yes / no / don't know in their everyday forms, mapped to the node's yes-, no- and unsure-like
   choices (the content words then decide between several yes-like choices);
3. the content words: the choices' synonyms (declared per choice in the knowledge base) and
   labels, in either language, tolerant of typos, compounds and inflection.

A number node reads an amount (`numbers.parse_amount`: digits with units, or words such as
"en halv miljon").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from bot.knowledge.model import Choice, Node
from bot.understanding.numbers import parse_amount
from bot.understanding.textnorm import STOPWORDS, fold, stem, words

#: The best content score must reach this, and beat the runner-up by MARGIN, to be taken.
CONTENT_SCORE = 0.6
MARGIN = 0.15

_ORDINALS = {  # folded
    "forsta": 1, "andra": 2, "tredje": 3, "fjarde": 4, "femte": 5, "sjatte": 6, "sjunde": 7, "attonde": 8,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ettan": 1, "tvaan": 2, "trean": 3, "fyran": 4, "femman": 5,
}
_NUMBER_WORDS = frozenset(
    "nr nummer num no alt alternativ alternativet val valet option number svar answer den det the one choice "
    "jag tar i take pick väljer valjer".split()
)
_UNSURE = (
    "vet inte", "vet ej", "vete tusan", "ingen aning", "osaker", "oklart", "inte saker", "vet faktiskt inte",
    "not sure", "dunno", "dont know", "don t know", "do not know", "no idea", "unsure", "idk", "no clue",
    "not decided", "inte bestamt", "har ingen aning",
)
_NO_FIRST = frozenset(fold(w) for w in "nej nä nää näe nope no nah nix icke nejdå nepp".split())
_NO_PHRASES = ("absolut inte", "inte alls", "not at all", "definitely not", "no way", "verkligen inte", "nej tack")
_YES_FIRST = frozenset(
    fold(w)
    for w in "ja japp jepp jo joo jajamän jadå javisst visst absolut precis stämmer yes yeah yep yup ya yea "
    "sure definitely absolutely correct indeed affirmative aa".split()
)
_YES_PHRASES = ("det stammer", "det gor den", "det gor vi", "det gor det", "it does", "we do", "that s right", "thats right")
#: Words that carry nothing about which option is meant.
_FILLER = frozenset(
    fold(w)
    for w in (
        "ja nej jo nä nää japp nope yes no yeah the det den är vi ni jag man bara typ liksom väl nog ju ungefär "
        "mest mer främst it its is a an our we us i gäller handlar sig om about mainly mostly kind of sort "
        "ok okej okay tror think guess kanske nog eh eh hmm mm alltså asså lite"
    ).split()
) | (frozenset(fold(w) for w in STOPWORDS) - {"do"})  # folded 'dö' (die) is not the English 'do'
_GREETINGS = frozenset(fold(w) for w in "hej hejsan hallå hallo tja tjena tjenare hello hi hey hejhej morsning".split())


@dataclass(frozen=True)
class Reading:
    """What a typed answer was read as: a choice id, an amount, or not understood (`problem`)."""

    choice: str | None = None
    amount: float | None = None
    how: str = ""  # how it was read, for `why` and tests
    problem: str | None = None  # why it could not be read: empty, number_out_of_range, unsure_missing, ambiguous, no_match, greeting
    near: tuple[str, ...] = field(default=())  # choice ids that came close (for an ambiguous reading)
    strength: str = ""  # "number", "polarity", "content", "amount" — how firm the reading is
    basis: tuple[str, str] = ("", "")  # for `why`: (number|yes|no|unsure|synonym|label|amount, the number or words)

    @property
    def understood(self) -> bool:
        return self.problem is None


def tokens(text: str) -> list[str]:
    return [fold(w) for w in words(text)]


def read_answer(node: Node, text: str) -> Reading:
    """The reading of `text` as an answer to `node` (a choice node or a number node)."""
    toks = tokens(text)
    if not toks:
        return Reading(problem="empty")
    if node.number is not None:
        amount = parse_amount(text)
        if amount is None:
            return Reading(problem="no_amount")
        return Reading(amount=amount, how=f"the amount {amount:,.0f}", strength="amount", basis=("amount", ""))
    choices = node.choices or []
    if set(toks) <= _GREETINGS:
        return Reading(problem="greeting")
    position = _position(toks, len(choices)) if re.search(r"[0-9]", text) or not any(t.isdigit() for t in toks) else None
    if position is not None:
        if position == 0:
            return Reading(problem="number_out_of_range")
        return Reading(choice=choices[position - 1].id, how=f"option number {position}", strength="number", basis=("number", str(position)))
    scores = {c.id: _content_score(c, toks) for c in choices}
    polarity = _polarity(toks)
    if polarity is not None:
        fitting = [c for c in choices if _polarity_of(c) == polarity]
        if polarity == "unsure" and not fitting:
            return Reading(problem="unsure_missing")
        if len(fitting) == 1:
            return Reading(choice=fitting[0].id, how=_POLARITY_HOW[polarity], strength="polarity", basis=(polarity, ""))
        if len(fitting) > 1:
            ranked = sorted(fitting, key=lambda c: -scores[c.id][0])
            best, second = scores[ranked[0].id][0], scores[ranked[1].id][0]
            if best >= CONTENT_SCORE * 0.75 and best - second >= MARGIN / 2:
                how = scores[ranked[0].id][1]
                return Reading(choice=ranked[0].id, how=f"{_POLARITY_HOW[polarity]} + {how}", strength="polarity", basis=(polarity, _words_of(how)))
            return Reading(problem="ambiguous", near=tuple(c.id for c in fitting))
    ranked_ids = sorted(scores, key=lambda cid: -scores[cid][0])
    best_id = ranked_ids[0]
    best = scores[best_id][0]
    second = scores[ranked_ids[1]][0] if len(ranked_ids) > 1 else 0.0
    if best < CONTENT_SCORE:
        return Reading(problem="no_match", near=tuple(cid for cid in ranked_ids[:2] if scores[cid][0] >= CONTENT_SCORE / 2))
    if best - second < MARGIN:
        return Reading(problem="ambiguous", near=tuple(cid for cid in ranked_ids if best - scores[cid][0] < MARGIN))
    how = scores[best_id][1]
    return Reading(choice=best_id, how=how, strength="content", basis=("synonym" if "synonym" in how else "label", _words_of(how)))


def _words_of(how: str) -> str:
    """The quoted words of a 'how' ("the synonym 'app'" → 'app')."""
    return how.split("'")[1] if how.count("'") >= 2 else ""


_POLARITY_HOW = {"yes": "a yes", "no": "a no", "unsure": "a don't-know"}
_POSITION = re.compile(r"^\d{1,2}$")


def _position(toks: list[str], n: int) -> int | None:
    """The option number a text gives ('2', 'nr 2', 'alt 2', 'den andra', 'the second one'); 0 if out of range."""
    rest = [t for t in toks if t not in _NUMBER_WORDS or t.isdigit()]
    if len(toks) > 4 or len(rest) != 1:
        return None
    word = rest[0]
    if _POSITION.match(word):
        value = int(word)
    elif word in _ORDINALS and (len(toks) > 1 or word not in ("andra", "second")):
        value = _ORDINALS[word]  # a bare "andra" (other) or "second" is too easily something else
    else:
        return None
    return value if 1 <= value <= n else 0


def _polarity(toks: list[str]) -> str | None:
    joined = " ".join(toks)
    padded = f" {joined} "
    if any(f" {p} " in padded for p in _UNSURE):
        return "unsure"
    if toks[0] in _NO_FIRST or any(f" {p} " in padded for p in _NO_PHRASES) or joined in ("inte", "not"):
        return "no"
    if toks[0] in _YES_FIRST or any(f" {p} " in padded for p in _YES_PHRASES):
        return "yes"
    return None


@lru_cache(maxsize=4096)
def _polarity_of_label(sv: str, en: str, choice_id: str) -> str | None:
    sv_t, en_t = tokens(sv), tokens(en)
    cid = choice_id.lower()
    if cid in ("unsure", "unknown", "dont_know") or cid.endswith("_unsure") or sv_t[:2] == ["vet", "inte"] or en_t[:2] == ["not", "sure"]:
        return "unsure"
    if cid in ("no", "nej") or cid.endswith("_no") or (sv_t[:1] == ["nej"] and en_t[:1] == ["no"]):
        return "no"
    if cid in ("yes", "ja") or cid.endswith("_yes") or (sv_t[:1] == ["ja"] and en_t[:1] == ["yes"]):
        return "yes"
    return None


def _polarity_of(choice: Choice) -> str | None:
    return _polarity_of_label(choice.label.sv, choice.label.en, choice.id)


@lru_cache(maxsize=65536)
def _match(user: str, phrase: str) -> float:
    """How well one typed word matches one word of a label or synonym (0–1)."""
    if user == phrase:
        return 1.0
    short, long_ = (user, phrase) if len(user) <= len(phrase) else (phrase, user)
    if len(short) < 4:
        return 0.0
    if stem(user) == stem(phrase):
        return 0.95
    if long_.startswith(short):
        return 0.9  # inflection or the head of a compound: 'hälsodata' / 'hälso', 'lagrar' / 'lagra'
    if len(short) >= 5 and long_.endswith(short):
        return 0.85  # the tail of a compound: 'vårdtjänst' / 'tjänst'
    if len(short) >= 6 and len(long_) - len(short) <= 2 and fuzz.ratio(user, phrase) >= 85:
        return 0.8  # a typo ('upphandlnig'), not a neighbouring word ('larmar' / 'lagrar')
    return 0.0


@lru_cache(maxsize=8192)
def _phrase_tokens(phrase: str) -> tuple[str, ...]:
    toks = tokens(phrase)
    content = [t for t in toks if t not in _FILLER]
    return tuple(content or toks)


@lru_cache(maxsize=4096)
def _phrases(sv: str, en: str, synonyms: tuple[str, ...]) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[tuple[str, ...], ...], frozenset[str]]:
    """A choice's synonyms (each with its words), its labels' words, and all its words."""
    syn = tuple((s, _phrase_tokens(s)) for s in synonyms if _phrase_tokens(s))
    labels = tuple(lt for lt in (_phrase_tokens(sv), _phrase_tokens(en)) if lt)
    vocabulary = frozenset(w for _, st in syn for w in st) | frozenset(w for lt in labels for w in lt)
    return syn, labels, vocabulary


def _content_score(choice: Choice, toks: list[str]) -> tuple[float, str]:
    """How well the typed words fit one choice (0–1), and how.

    Half of it: the best phrase of the choice found in the text (a synonym whole, or the share of
    the label's words present). The other half: how much of what was typed the choice's words
    explain (up to three content words: a long message need not be explained word by word)."""
    content = [t for t in toks if t not in _FILLER] or toks
    syn, labels, vocabulary = _phrases(choice.label.sv, choice.label.en, (*choice.synonyms.sv, *choice.synonyms.en))
    best_word: dict[str, float] = {}  # each word of the choice: how well some typed word matches it
    best_typed: dict[str, float] = {}  # each typed word: how well some word of the choice matches it
    for u in set(content):
        top = 0.0
        for w in vocabulary:
            m = _match(u, w)
            if m:
                top = max(top, m)
                if m > best_word.get(w, 0.0):
                    best_word[w] = m
        best_typed[u] = top
    phrase, how = 0.0, ""
    for synonym, stoks in syn:
        if all(w in best_word for w in stoks):
            score = sum(best_word[w] for w in stoks) / len(stoks)
            if score > phrase:
                phrase, how = score, f"the synonym '{synonym}'"
    for ltoks in labels:
        covered = sum(best_word.get(w, 0.0) for w in ltoks) / len(ltoks)
        if covered > phrase:
            phrase, how = covered, f"the words '{' '.join(w for w in ltoks if w in best_word)}' of the label"
    explained = min(1.0, sum(best_typed[u] for u in content) / min(len(content), 3))
    if not phrase and not explained:
        return 0.0, ""
    return 0.5 * phrase + 0.5 * explained, how
