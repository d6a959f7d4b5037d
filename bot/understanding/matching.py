"""Match a free-text message to what the knowledge base can answer.

Scanning every phrasing with a fuzzy scorer is too slow at the knowledge
base's full size, so matching works in two steps:

1. Shortlist through an inverted index of word stems. A word the index does
   not know is resolved first by splitting a Swedish compound into known
   stems, then by edit distance to the nearest known stems (rapidfuzz,
   transposition-aware), which is what keeps typos working.
2. Score each shortlisted phrasing by how much of it the message covers and
   how much of the message it explains, both weighted by how rare each stem is
   (IDF), plus rapidfuzz's token-set similarity of the two stem strings.

Targets are scored by their best phrasing. The dialogue decides from the
scores whether to answer, ask which one was meant, or admit it does not know.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.understanding.textnorm import STOPWORDS, fold, stem, words

_STOP = frozenset(fold(w) for w in STOPWORDS)
MAX_WORD = 40  # longer "words" are noise (pasted hashes, keyboard mashing) and costly to fuzz


@dataclass(frozen=True)
class Target:
    """Something a message can lead to: a topic, flow, regulation, agency or glossary term."""

    kind: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


#: Words that make a message ask what to do, who or when – not what a term means (folded: å/ä/ö → a/a/o).
PROCEDURAL = frozenset(
    "hur nar vem vart maste far ska skall bor behover how when who where must may should need".split()
)


@dataclass(frozen=True)
class Match:
    target: Target
    score: float  # 0..1: how well the message and the target fit each other
    phrasing: str  # the target's best-fitting phrasing
    evidence: float = 0.0  # summed rarity (IDF) of the message's words the target knows
    length: float = 0.0  # 0 for a short question, 1 for a long message (see Matcher.SHORT and LONG)


@dataclass(frozen=True)
class _Phrasing:
    target: int
    text: str
    stems: tuple[str, ...]
    joined: str
    weight: float  # sum of the stems' IDF


class Rewriter:
    """Rewrites multi-word variants to canonical words ("lagen om offentlig upphandling" → "lou")."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = defaultdict(list)
        for variant, canonical in pairs:
            v = tuple(fold(w) for w in words(variant))
            c = tuple(fold(w) for w in words(canonical))
            if v and c and v != c:
                self._by_first[v[0]].append((v, c))
        for options in self._by_first.values():
            options.sort(key=lambda vc: -len(vc[0]))

    def apply(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for variant, canonical in self._by_first.get(tokens[i], ()):
                if tuple(tokens[i : i + len(variant)]) == variant:
                    out.extend(canonical)
                    i += len(variant)
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


class Matcher:
    """The match index over every phrasing of every target. Built once; read-only after."""

    # Score weights (0..1), tuned on tests/eval/questions.yaml; see docs/performance.md.
    COVERED = 0.85  # share of a phrasing's weight the message covers, vs. share of the message explained
    FUZZY = 0.1  # whole-string similarity of the stem strings
    DOC = 0.35  # share of the message the target's whole vocabulary explains
    UNKNOWN_WEIGHT = 1.0  # weight of a word the knowledge base does not know, relative to a median word
    SHORTLIST = 40  # targets that get the whole-vocabulary second look
    OTHER_ENTITY = 0.6  # factor on a phrasing that names another agency (or law) than the message does
    DEFINITION_FOR_HOW = 0.9  # factor on a definition (glossary) when the message asks how, who, when, must, may …
    # A long message is a situation, not a keyword: how well one phrasing is covered matters less, how much
    # of the message the target explains matters more. Between SHORT and LONG content words the weights
    # move from the values above to these. Tuned on tests/eval/realistic/tune.yaml.
    SHORT, LONG = 4, 12
    COVERED_LONG = 0.5
    DOC_LONG = 0.5

    def __init__(
        self,
        entries: Iterable[tuple[Target, str]],
        rewrites: Iterable[tuple[str, str]] = (),
        long_message_weight: dict[str, float] | None = None,
        entities: dict[str, str] | None = None,
    ) -> None:
        self.rewriter = Rewriter(rewrites)
        #: kind → factor on a target's score for a long message (definitions and entity cards answer
        #: "what is X", rarely a situation); 1.0 for kinds not named.
        self.long_message_weight = dict(long_message_weight or {})
        self.targets: list[Target] = []
        target_index: dict[Target, int] = {}
        raw: list[tuple[int, str, tuple[str, ...]]] = []
        for target, text in entries:
            stems = self.analyse(text)
            if not stems:
                continue
            idx = target_index.setdefault(target, len(self.targets))
            if idx == len(self.targets):
                self.targets.append(target)
            raw.append((idx, text, stems))

        # IDF over targets, not phrasings: a word in every phrasing of one topic is still rare.
        self.doc_stems: list[frozenset[str]] = [frozenset() for _ in self.targets]
        for idx, _, stems in raw:
            self.doc_stems[idx] = self.doc_stems[idx] | frozenset(stems)
        df: dict[str, int] = defaultdict(int)
        for doc in self.doc_stems:
            for s in doc:
                df[s] += 1
        n = max(len(self.targets), 1)
        self.idf: dict[str, float] = {s: math.log(1 + n / c) for s, c in df.items()}
        ordered = sorted(self.idf.values())
        # A word the knowledge base has never seen counts like a typical word: long, chatty questions
        # are full of them, so they must not drown what did match.
        self.unknown_idf = ordered[len(ordered) // 2] * self.UNKNOWN_WEIGHT if ordered else 1.0
        self.vocab: list[str] = sorted(self.idf)
        self._vocab_set = frozenset(self.vocab)

        self.phrasings: list[_Phrasing] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for idx, text, stems in raw:
            pid = len(self.phrasings)
            self.phrasings.append(_Phrasing(idx, text, stems, " ".join(stems), sum(self.idf[s] for s in stems)))
            for s in stems:
                postings[s].append(pid)
        self._resolve = lru_cache(maxsize=16384)(self._resolve_uncached)
        #: stem → the phrasings that have it, as an array: a message's words add their weights to every phrasing
        #: that has them in one vectorised step each (a tenfold knowledge base has tenfold postings; a Python
        #: loop over them was most of the reply time). The sums are taken in the same order as that loop did.
        self.postings = {word: np.asarray(pids, dtype=np.int64) for word, pids in postings.items()}
        self._weights = np.asarray([p.weight for p in self.phrasings], dtype=np.float64)
        self._target_of = np.asarray([p.target for p in self.phrasings], dtype=np.int64)
        #: An entity's one word (after rewriting: entity name → token) as a stem → its kind (agency, regulation).
        self.entity_kind: dict[str, str] = {}
        for token, kind in (entities or {}).items():
            for st in self.analyse(token):
                self.entity_kind[st] = kind
        #: phrasing → the entities it names, as {kind: stems}, for phrasings that name any
        self.named: dict[int, dict[str, frozenset[str]]] = {}
        for pid, p in enumerate(self.phrasings):
            named: dict[str, set[str]] = defaultdict(set)
            for st in p.stems:
                if st in self.entity_kind:
                    named[self.entity_kind[st]].add(st)
            if named:
                self.named[pid] = {kind: frozenset(v) for kind, v in named.items()}
        self._is_named = np.zeros(len(self.phrasings), dtype=bool)
        self._is_named[list(self.named)] = True

    # -- analysis ---------------------------------------------------------

    def analyse(self, text: str) -> tuple[str, ...]:
        """Content stems of a text, in order, without repeats."""
        tokens = self.rewriter.apply([fold(w) for w in words(text)])
        seen: dict[str, None] = {}
        for token in tokens:
            if token in _STOP or len(token) > MAX_WORD or (token.isdigit() and len(token) < 3):
                continue  # short numbers ("5 kap. 1 §", "1,5 miljoner") say nothing about the topic
            seen.setdefault(stem(token), None)
        return tuple(seen)

    def _resolve_uncached(self, s: str) -> tuple[tuple[str, float], ...]:
        """Known stems a query stem stands for, with a confidence weight."""
        if s in self._vocab_set:
            return ((s, 1.0),)
        if s.isdigit():
            return ()
        parts = self._split_compound(s)
        if parts:
            return tuple((p, 0.9) for p in parts)
        if len(s) < 4:
            return ()
        if len(s) == 4:
            # Four letters leave no room for a real edit; accept only a swap ("gdrp" → "gdpr").
            swapped = [w for w in self.vocab if len(w) == 4 and sorted(w) == sorted(s) and OSA.distance(s, w) == 1]
            return tuple((w, 0.8) for w in swapped[:2])
        cutoff = 0.8
        found = process.extract(s, self.vocab, scorer=OSA.normalized_similarity, score_cutoff=cutoff, limit=2)
        return tuple((word, float(score)) for word, score, _ in found)

    def _split_compound(self, s: str) -> tuple[str, str] | None:
        """Split a Swedish compound into two known stems: 'upphandlingsregl' → 'upphandling', 'regl'."""
        for i in range(len(s) - 3, 3, -1):
            head, tail = s[:i], s[i:]
            tail_stem = stem(tail)
            if tail_stem not in self._vocab_set:
                continue
            for h in (head, head[:-1] if head.endswith("s") else None):
                if h and len(h) >= 3 and (h in self._vocab_set or stem(h) in self._vocab_set):
                    return (h if h in self._vocab_set else stem(h)), tail_stem
        return None

    # -- search -----------------------------------------------------------

    def search(self, text: str, limit: int = 5) -> list[Match]:
        query = self.analyse(text)
        if not query:
            return []
        resolved = [self._resolve(s) for s in query]
        hits: dict[str, float] = {}
        for options in resolved:
            for word, weight in options:
                hits[word] = max(hits.get(word, 0.0), weight)
        if not hits:
            return []
        term_idf = [max((self.idf[w] for w, _ in opts), default=self.unknown_idf) for opts in resolved]
        query_weight = sum(term_idf)
        # Unknown words stay in the string, so they count against the similarity.
        query_joined = " ".join(opts[0][0] if opts else s for s, opts in zip(query, resolved, strict=True))

        # stem → [(query term index, weight)], for the whole-vocabulary look below.
        by_stem: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, opts in enumerate(resolved):
            for word, weight in opts:
                by_stem[word].append((i, weight))

        def matched_weight(stems: Iterable[str]) -> float:
            best_term: dict[int, float] = {}
            for s in stems:
                for i, weight in by_stem.get(s, ()):
                    if weight > best_term.get(i, 0.0):
                        best_term[i] = weight
            return sum(term_idf[i] * w for i, w in best_term.items())

        length = min(1.0, max(0.0, (len(query) - self.SHORT) / (self.LONG - self.SHORT)))
        # "hur anmäler vi en personuppgiftsincident" asks what to do, not what the word means: a definition
        # that names the term counts a little less than a topic that answers the question.
        procedural = not PROCEDURAL.isdisjoint(fold(w) for w in words(text))
        covered_w = self.COVERED + (self.COVERED_LONG - self.COVERED) * length
        doc_w = self.DOC + (self.DOC_LONG - self.DOC) * length

        # Both parts of a phrasing's score are sums over the words it shares with the message, so they
        # are added up along the postings of the message's words (a phrasing's stems are unique):
        # covered — the rarity of the phrasing's words the message has; matched — the rarity of the
        # message's words the phrasing has (for each message word its best-matching stem).
        n = len(self.phrasings)
        covered = np.zeros(n)
        for word, weight in hits.items():
            covered[self.postings[word]] += self.idf[word] * weight
        matched = np.zeros(n)
        for i, opts in enumerate(resolved):
            if len(opts) == 1:
                word, weight = opts[0]
                matched[self.postings[word]] += term_idf[i] * weight
            elif opts:
                term_best = np.zeros(n)
                for word, weight in opts:
                    at = self.postings[word]
                    term_best[at] = np.maximum(term_best[at], weight)
                matched += term_idf[i] * term_best

        # The agencies and laws the message names, by kind: a phrasing about another agency (when the message
        # names one, and not that one) is a different question, however many other words it shares.
        asked: dict[str, set[str]] = defaultdict(set)
        for st in hits:
            if st in self.entity_kind:
                asked[self.entity_kind[st]].add(st)

        shared = np.flatnonzero(covered)  # the phrasings that share a word with the message, in order
        # The score before the whole-string similarity, and per target the best of those.
        pre = (1 - self.FUZZY) * (covered_w * covered[shared] / self._weights[shared] + (1 - covered_w) * matched[shared] / query_weight)
        if asked:
            for j in np.flatnonzero(self._is_named[shared]):
                named = self.named[int(shared[j])]
                if any(kind in asked and not (stems & asked[kind]) for kind, stems in named.items()):
                    pre[j] *= self.OTHER_ENTITY
        of_target = self._target_of[shared]
        top_pre = np.full(len(self.targets), -1.0)
        np.maximum.at(top_pre, of_target, pre)
        # Only phrasings that a perfect string similarity could lift to their target's best get that look, and
        # only of targets that could still be among the SHORTLIST leading ones (no other target is ever returned).
        look = pre + self.FUZZY >= top_pre[of_target]
        reached = top_pre[top_pre > -1.0]
        if len(reached) > self.SHORTLIST:
            entry = np.partition(reached, len(reached) - self.SHORTLIST)[len(reached) - self.SHORTLIST]
            look &= top_pre[of_target] + self.FUZZY >= entry
        best: dict[int, tuple[float, int]] = {}
        for j in np.flatnonzero(look):
            pid = int(shared[j])
            p = self.phrasings[pid]
            phrase = float(pre[j]) + self.FUZZY * fuzz.token_sort_ratio(query_joined, p.joined) / 100.0
            current = best.get(p.target)
            if current is None or phrase > current[0]:
                best[p.target] = (phrase, pid)
        # The best phrasing says how well one way of asking fits; the target's whole vocabulary says
        # how much of a long, scenario-style question the target accounts for. Only the leading
        # targets can win, so only they get the second look.
        leading = sorted(best.items(), key=lambda kv: -kv[1][0])[: self.SHORTLIST]
        evidence: dict[int, float] = {}
        rescored: dict[int, tuple[float, int]] = {}
        for t, (phrase, pid) in leading:
            evidence[t] = matched_weight(self.doc_stems[t] & hits.keys())
            score = (1 - doc_w) * phrase + doc_w * evidence[t] / query_weight
            factor = self.long_message_weight.get(self.targets[t].kind, 1.0)
            score *= 1 - (1 - factor) * length
            if procedural and self.targets[t].kind == "glossary":
                score *= self.DEFINITION_FOR_HOW
            rescored[t] = (score, pid)
        best = rescored

        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], self.targets[kv[0]].key))[:limit]
        return [
            Match(self.targets[t], round(score, 4), self.phrasings[pid].text, round(evidence[t], 3), length)
            for t, (score, pid) in ranked
        ]
