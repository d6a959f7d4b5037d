"""Urgency first: does a message describe an emergency, suicidal thoughts or a personal medical question?

The vocabulary is data (`urgency:` in the knowledge base, see docs/knowledge-format.md); this
module only reads it. The rules, in the order they are applied:

1. **Signs.** A group of phrases of one kind (`emergency`, `suicide`, `medical`) matches anywhere
   in the message: "ont i bröstet", "andas inte", "kill myself".
2. **Context vetoes, now overrides.** If the message also has a *context* marker (work, product,
   report or regulation words: "app", "sensor", "lex maria", "förra veckan") the sign is read as a
   subject, not an event — unless a *now* marker ("just nu", "vad ska jag göra", "min pappa", "help
   me") stands in the same sentence as the sign. Groups marked `always` (first-person suicidal
   phrases) are not vetoed by context. An *over* marker (a past time, a habit, statistics: "igår",
   "ofta") silences emergency signs in its own part of the sentence (up to a comma), suicide signs
   there only in a message with a context marker; an *example* marker ("messages like") silences
   every sign in its sentence, `always` ones too, in a message with a context marker.
3. **Medical questions** need a sign of kind `medical` *and* an `ask` marker ("får man ta", "is it
   safe") and no context marker.
4. Of what is left, suicide wins over emergency, emergency over medical.

Phrases are matched on lower-case words with å/ä/ö folded (so "brostet" finds "bröstet"); a
phrase's words must come in order in one sentence with at most `gap` other words between them.
Apostrophes are dropped ("can't" is "cant"). In a phrase, `word*` matches any word that starts with `word` (compounds and endings:
"bröstsmärt*"), `a|b` matches either word, `<n>` any number. Everything is deterministic, and the
result names the words that decided it, for `why`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from bot.understanding.learned import drop_apostrophes, fold
from bot.understanding.urgency_model import UrgencyModel

KINDS = ("emergency", "suicide", "medical")
#: Which kind wins when several match.
PRIORITY = {"suicide": 0, "emergency": 1, "medical": 2}

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
# Sentence ends, and the pivots where people turn from their question, or from what was, to what is
# happening ("… men nu har en brukare …", "… btw one of our …", "feber sen igår och nu är hon …",
# "feber sen igår, nu är hon …", "Angående rutiner för X: en boende föll precis ihop …"): what follows
# is read on its own. A colon ends a sentence only before a space, so times and ratios ("14:30") stay
# whole; a comma only before "nu" / "now".
_SENTENCES = re.compile(
    r"[.!?;\n]+|:(?=\s)|,(?=\s*(?:nu|now)\b)"
    r"|(?=\b(?:men nu|but now|och nu|and now|förresten|forresten|btw|by the way|fast vänta|fast vanta)\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"^[^\W_]+\*?$|^<n>$", re.UNICODE)


def split_sentences(text: str) -> list[str]:
    """The text's sentences as the detector reads them (punctuation, line breaks and pivots like "men nu" end one)."""
    return [part for part in _SENTENCES.split(text) if part.strip()]
#: The shortest prefix a `word*` may have: shorter ones match far too much.
MIN_PREFIX = 3


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word)


@dataclass(frozen=True)
class _Slot:
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    number: bool

    def accepts(self, word: str) -> bool:
        if word in self.exact:
            return True
        if self.number and word.isdigit():
            return True
        return any(word.startswith(p) for p in self.prefixes)


@lru_cache(maxsize=16384)  # validation and the detector both parse every phrase of a load; reloads repeat them
def parse_phrase(phrase: str) -> tuple[_Slot, ...]:
    """A phrase's word slots. Raises ValueError with a maintainer-readable reason when malformed."""
    words = fold(phrase).split()
    if not words:
        raise ValueError(f"empty phrase {phrase!r}")
    slots = []
    for word in words:
        exact: set[str] = set()
        prefixes: list[str] = []
        number = False
        for alt in word.split("|"):
            if not _WORD.match(alt):
                raise ValueError(f"phrase {phrase!r}: {alt!r} is not a word (letters and digits, 'word*', 'a|b' or '<n>')")
            if alt == "<n>":
                number = True
            elif alt.endswith("*"):
                if len(alt) - 1 < MIN_PREFIX:
                    raise ValueError(f"phrase {phrase!r}: {alt!r} is too short a prefix (at least {MIN_PREFIX} letters before '*')")
                prefixes.append(alt[:-1])
            else:
                exact.add(alt)
        slots.append(_Slot(frozenset(exact), tuple(prefixes), number))
    return tuple(slots)


@dataclass(frozen=True)
class _Phrase:
    text: str
    category: str  # sign | now | context | ask
    group: str  # the sign group's id, or the category
    kind: str  # emergency | suicide | medical for signs, "" otherwise
    always: bool
    slots: tuple[_Slot, ...]


@dataclass(frozen=True)
class Hit:
    """One phrase found in the message: which, where (sentence), and the words as the user wrote them."""

    phrase: _Phrase
    sentence: int
    words: str
    #: Which comma-separated part of its sentence (0, 1, …): an over word qualifies its own part only.
    clause: int = 0


@dataclass(frozen=True)
class SignGroup:
    id: str
    kind: str
    phrases: Sequence[str]
    always: bool = False


@dataclass(frozen=True)
class Found:
    """What the detector decided, and why: the words of the deciding signs and markers."""

    kind: str  # emergency | suicide | medical
    signs: tuple[str, ...]  # the user's words that matched signs of this kind
    groups: tuple[str, ...]  # the sign groups' ids
    now: tuple[str, ...] = ()  # now markers that overrode a context
    context: tuple[str, ...] = ()  # context markers that were present (and overridden)
    asks: tuple[str, ...] = ()  # for medical: the question markers
    #: A context marker (work, product, regulation) is in the message: it may also ask a regulatory question.
    work: bool = False
    #: Found by the learned model (the phrases found nothing, or less): `signs` are then the words that weighed most.
    learned: bool = False


@dataclass
class _Index:
    exact: dict[str, list[_Phrase]] = field(default_factory=dict)
    by_prefix: dict[str, list[tuple[str, _Phrase]]] = field(default_factory=dict)
    numbers: list[_Phrase] = field(default_factory=list)

    def add(self, phrase: _Phrase) -> None:
        first = phrase.slots[0]
        for word in first.exact:
            self.exact.setdefault(word, []).append(phrase)
        for p in first.prefixes:
            self.by_prefix.setdefault(p[:MIN_PREFIX], []).append((p, phrase))
        if first.number:
            self.numbers.append(phrase)

    def starting(self, word: str) -> Iterable[_Phrase]:
        yield from self.exact.get(word, ())
        for p, phrase in self.by_prefix.get(word[:MIN_PREFIX], ()):
            if word.startswith(p):
                yield phrase
        if word.isdigit():
            yield from self.numbers


class Detector:
    """Compiled once per knowledge load; `detect(text)` is pure and fast (one pass over the words)."""

    def __init__(
        self,
        signs: Sequence[SignGroup] = (),
        now: Sequence[str] = (),
        context: Sequence[str] = (),
        ask: Sequence[str] = (),
        gap: int = 2,
        over: Sequence[str] = (),
        example: Sequence[str] = (),
        model: UrgencyModel | None = None,
        threshold: float = 1.0,
        veto: float = 0.0,
    ) -> None:
        self.gap = gap
        #: The learned reading (urgency_model.py): finds what no phrase describes, and vetoes a phrase's
        #: finding that it reads as a mere mention (its kind below `veto`).
        self.model = model
        self.threshold = threshold
        self.veto = veto
        #: Two indexes: signs first; the markers are looked for only when a sign was found, so a
        #: message with no sign (nearly all of them) costs one dictionary look-up per word.
        self._signs = _Index()
        self._markers = _Index()
        #: word → the phrases that can start at it (most words: none), per index; bounded.
        self._starts: tuple[dict[str, tuple[_Phrase, ...]], dict[str, tuple[_Phrase, ...]]] = ({}, {})
        self.empty = not signs
        for group in signs:
            for text in group.phrases:
                self._signs.add(_Phrase(text, "sign", group.id, group.kind, group.always, parse_phrase(text)))
        for category, phrases in (("now", now), ("context", context), ("ask", ask), ("over", over), ("example", example)):
            for text in phrases:
                self._markers.add(_Phrase(text, category, category, "", False, parse_phrase(text)))

    def hits(self, text: str) -> list[Hit]:
        """Every phrase found (signs, then markers, each in message order); nothing when no sign is found."""
        if self.empty or not text:
            return []
        originals, words, sentences, clauses = self._tokens(text)
        signs = self._scan(0, self._signs, originals, words, sentences, clauses)
        return signs + self._scan(1, self._markers, originals, words, sentences, clauses) if signs else []

    def context_words(self, text: str) -> tuple[str, ...]:
        """The message's work, product or regulation words (context markers)."""
        if self.empty or not text:
            return ()
        hits = self._scan(1, self._markers, *self._tokens(text))
        return _unique(h.words for h in hits if h.phrase.category == "context")

    def _tokens(self, text: str) -> tuple[list[str], list[str], list[int], list[int]]:
        """The words as written, folded, and each word's sentence and comma part."""
        lowered = drop_apostrophes(text.lower())
        # Fast fold of the whole text: decompose, keep ASCII (å → a, é → e). A word that loses
        # letters this way changes the word count, and that sentence is then folded word by word.
        folded = lowered if lowered.isascii() else unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode("ascii")
        originals: list[str] = []
        words: list[str] = []
        sentences: list[int] = []
        #: Which comma-separated part of its sentence each word is in (an over word qualifies its own part).
        clauses: list[int] = []
        for sentence, (part, folded_part) in enumerate(zip(_SENTENCES.split(lowered), _SENTENCES.split(folded), strict=False)):
            # Folding keeps every comma, and a comma never sits inside a word: the parts line up.
            tokens, folded_tokens = [], []
            for n, (piece, folded_piece) in enumerate(zip(part.split(","), folded_part.split(","), strict=False)):
                piece_tokens = _WORDS.findall(piece)
                tokens += piece_tokens
                folded_tokens += _WORDS.findall(folded_piece)
                clauses += [n] * len(piece_tokens)
            if len(folded_tokens) != len(tokens):  # e.g. a letter with no ASCII form: word by word
                folded_tokens = [_fold_word(t) for t in tokens]
            originals += tokens
            words += folded_tokens
            sentences += [sentence] * len(tokens)
        return originals, words, sentences, clauses

    def _scan(
        self, which: int, index: _Index, originals: list[str], words: list[str], sentences: list[int], clauses: list[int]
    ) -> list[Hit]:
        out: list[Hit] = []
        seen: set[tuple[int, int, str, str]] = set()  # a context and an over phrase may share a text
        starts = self._starts[which]
        for i, word in enumerate(words):
            candidates = starts.get(word)
            if candidates is None:
                if len(starts) > 100_000:
                    starts.clear()
                candidates = starts[word] = tuple(index.starting(word))
            for phrase in candidates:
                end = self._extend(phrase.slots, 1, i, words, sentences)
                key = (sentences[i], clauses[i], phrase.category, phrase.text)
                if end is not None and key not in seen:
                    seen.add(key)
                    out.append(Hit(phrase, sentences[i], " ".join(originals[i : end + 1]), clauses[i]))
        return out

    def _extend(self, slots: Sequence[_Slot], k: int, at: int, words: list[str], sentences: list[int]) -> int | None:
        """The index of the last word when slots[k:] match after position `at`, else None."""
        if k == len(slots):
            return at
        for j in range(at + 1, min(at + 2 + self.gap, len(words))):
            if sentences[j] != sentences[at]:
                break
            if slots[k].accepts(words[j]):
                end = self._extend(slots, k + 1, j, words, sentences)
                if end is not None:
                    return end
        return None

    def detect(self, text: str) -> Found | None:
        """The phrases' finding, weighed with the learned model's reading when there is one."""
        found = self.from_phrases(text)
        if self.model is None or not text:
            return found
        p = self.model.probabilities(text)
        learned = next((k for k in sorted(PRIORITY, key=PRIORITY.__getitem__) if p[k] >= self.threshold), None)
        if found is not None and p[found.kind] >= self.veto:
            if learned is not None and PRIORITY[learned] < PRIORITY[found.kind]:
                return self._learned(text, learned, found.work)  # e.g. phrases: medical question; model: suicide
            return found
        if learned is None:
            return None
        return self._learned(text, learned, bool(self.context_words(text)))

    def _learned(self, text: str, kind: str, work: bool) -> Found:
        assert self.model is not None
        return Found(kind=kind, signs=self.model.evidence(text, kind), groups=("learned",), work=work, learned=True)

    def from_phrases(self, text: str) -> Found | None:
        """What the phrase vocabulary alone finds."""
        hits = self.hits(text)
        signs = [h for h in hits if h.phrase.category == "sign"]
        if not signs:
            return None
        context = [h.words for h in hits if h.phrase.category == "context"]
        now_by_sentence: dict[int, list[str]] = {}
        context_by_sentence: dict[int, list[str]] = {}
        over_clauses = {(h.sentence, h.clause) for h in hits if h.phrase.category == "over"}
        example_sentences = {h.sentence for h in hits if h.phrase.category == "example"}
        for h in hits:
            if h.phrase.category == "now":
                now_by_sentence.setdefault(h.sentence, []).append(h.words)
            elif h.phrase.category == "context":
                context_by_sentence.setdefault(h.sentence, []).append(h.words)
        asks = [h.words for h in hits if h.phrase.category == "ask"]
        # A sign in a sentence with no work word of its own is an event even in a work message ("… men nu har
        # en brukare slutat andas"), as long as the message has a now marker somewhere or no work word at all.
        any_now = bool(now_by_sentence)
        kept: list[tuple[Hit, list[str]]] = []
        for h in signs:
            now = now_by_sentence.get(h.sentence, [])
            if context and h.sentence in example_sentences:
                continue  # quoted as an example in a work message ("test with messages like 'I want to die'")
            if h.phrase.kind == "medical":
                if asks and not context:
                    kept.append((h, []))
            elif h.phrase.always:
                kept.append((h, now))
            elif (h.sentence, h.clause) in over_clauses and (h.phrase.kind != "suicide" or context):
                # Over, or a subject ("statistik över hjärtstopp", "stabil nu"), in the over word's own part of the
                # sentence ("hög feber sen igår, nu är hon …" and "… hänger, han var som vanligt igår" stay events).
                # Suicidal words said yesterday are no less a risk today: a past time or a figure of speech silences
                # a suicide sign only in a work message (one with a context word).
                continue
            elif not context or now or (any_now and h.sentence not in context_by_sentence):
                kept.append((h, now if context else []))
        if not kept:
            return None
        kind = min((h.phrase.kind for h, _ in kept), key=PRIORITY.__getitem__)
        chosen = [(h, now) for h, now in kept if h.phrase.kind == kind]
        return Found(
            kind=kind,
            signs=_unique(h.words for h, _ in chosen),
            groups=_unique(h.phrase.group for h, _ in chosen),
            now=_unique(w for _, now in chosen for w in now),
            context=_unique(context) if any(now for _, now in chosen) or any(h.phrase.always for h, _ in chosen) else (),
            asks=_unique(asks) if kind == "medical" else (),
            work=bool(context),
        )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """In order, without repeats or words already inside a longer one ("blöder mycket" in "blöder mycket från huvudet")."""
    found = list(dict.fromkeys(items))
    return tuple(w for w in found if not any(w != other and w in other for other in found))
