"""Linear text models learned from examples: the urgency reading and the learned routing reading.

A message becomes its words, word pairs and letter groups (3–5 letters inside a word, which carry typos,
compounds and endings), weighted as a TF-IDF vectoriser does (sublinear term frequency, smoothed idf,
unit length); each class scores the sum of its weights over those features, and a softmax turns the
scores into probabilities (a multinomial logistic regression). Training uses scikit-learn with
`features` below as its analyser (bot/maintain/learning.py); reading needs only numpy. The weights are
data shipped in the knowledge directory (.npz, no pickled objects), kept per feature (only the weights
that matter, for a model over hundreds of classes), so the same message always gets the same scores
and `evidence` can name the words that weighed most.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bot.understanding import textnorm
from bot.understanding.textnorm import STOPWORDS

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_APOSTROPHES = "'’`´"
#: Letter groups of these lengths inside a word padded with a space on each side.
GRAMS = (3, 4, 5)


def drop_apostrophes(text: str) -> str:
    for mark in _APOSTROPHES:  # str.replace is far faster than str.translate on long non-ASCII text
        if mark in text:
            text = text.replace(mark, "")
    return text


def fold(text: str) -> str:
    """Lower-case, no diacritics, no apostrophes: "Can't andas" → "cant andas" (the urgency phrases fold alike)."""
    return textnorm.fold(drop_apostrophes(text.lower()))


def word_features(word: str) -> list[str]:
    """The word itself and its letter groups."""
    out = ["w:" + word]
    padded = f" {word} "
    for n in GRAMS:
        if len(padded) < n:
            out.append("c:" + padded)
            break
        out.extend("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def features(text: str) -> list[str]:
    """Every feature of a message, repeated as often as it occurs (training's analyser)."""
    words = _WORDS.findall(fold(text))
    out: list[str] = []
    for w in words:
        out += word_features(w)
    out += [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    return out


class LinearModel:
    """Per-class weights over a fixed vocabulary of features, stored per feature (compressed sparse columns)."""

    def __init__(
        self,
        terms: list[str],
        idf: np.ndarray,
        intercept: np.ndarray,
        classes: tuple[str, ...],
        indptr: np.ndarray,
        rows: np.ndarray,
        weights: np.ndarray,
        source: str = "",
    ) -> None:
        if len(terms) != len(idf) or len(indptr) != len(terms) + 1 or len(intercept) != len(classes):
            raise ValueError("the model's arrays do not fit together (terms, idf, weights)")
        if len(rows) != len(weights) or (len(rows) and (int(rows.max()) >= len(classes) or int(rows.min()) < 0)):
            raise ValueError("the model's weights name classes it does not have")
        self.terms = terms
        self.index = {t: i for i, t in enumerate(terms)}
        self.idf = idf.astype(np.float64)
        self.intercept = intercept.astype(np.float64)
        self.classes = tuple(classes)
        self.indptr = indptr.astype(np.int64)
        self.rows = rows.astype(np.int16 if len(classes) < 2**15 else np.int32)  # kept small: 10^5–10^6 weights
        self.weights = weights.astype(np.float32)  # half the memory and file; sums are still taken in float64
        #: A few classes (urgency): all weights as one (classes × features) matrix, read by columns, faster.
        self._dense: np.ndarray | None = None
        if len(classes) <= 8:
            self._dense = np.zeros((len(classes), len(terms)), dtype=np.float32)
            cols = np.repeat(np.arange(len(terms)), np.diff(self.indptr))
            self._dense[self.rows.astype(np.int64), cols] = self.weights
        #: A digest of what the model was learned from (bot/maintain/learning.py), to tell when it is out of date.
        self.source = source
        #: word → the feature ids of the word and its letter groups (unknown ones left out); bounded.
        self._word_ids: dict[str, list[int]] = {}

    @classmethod
    def from_dense(cls, terms: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray, classes: tuple[str, ...], keep: float = 0.0) -> LinearModel:
        """From a (classes × features) weight matrix; weights smaller than `keep` in size are left out.
        Two classes may come as one row (a logistic regression's second class against the first)."""
        if len(classes) == 2 and coef.shape[0] == 1:
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        mask = np.abs(coef) > keep if keep > 0 else coef != 0
        rows, cols = np.nonzero(mask.T)  # by feature, then class: compressed sparse columns
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=coef.shape[1]))])
        return cls(terms, idf, intercept, classes, indptr, cols, coef.T[rows, cols])

    # -- file --------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model file (numpy's .npz, no pickled objects). Raises ValueError when it is not one."""
        try:
            with np.load(path, allow_pickle=False) as data:
                terms = bytes(data["terms"]).decode("utf-8").split("\n")
                classes = tuple(bytes(data["classes"]).decode("utf-8").split("\n"))
                source = bytes(data["source"]).decode("ascii") if "source" in data else ""
                return cls(terms, data["idf"], data["intercept"], classes, data["indptr"], data["rows"], data["weights"], source)
        except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path.name}: not a readable model ({exc})") from None

    def save(self, path: Path) -> None:
        # Not compressed: decompressing was half of a model's load time (the repository and the wheel compress anyway).
        np.savez(
            path,
            terms=np.frombuffer("\n".join(self.terms).encode("utf-8"), dtype=np.uint8),
            classes=np.frombuffer("\n".join(self.classes).encode("utf-8"), dtype=np.uint8),
            idf=self.idf,
            intercept=self.intercept,
            indptr=self.indptr.astype(np.int32),
            rows=self.rows.astype(np.int16 if len(self.classes) < 2**15 else np.int32),
            weights=self.weights,
            source=np.frombuffer(self.source.encode("ascii"), dtype=np.uint8),
        )

    # -- reading -----------------------------------------------------------------------------------

    def _ids(self, word: str) -> list[int]:
        ids = self._word_ids.get(word)
        if ids is None:
            if len(self._word_ids) > 100_000:
                self._word_ids.clear()
            index = self.index
            ids = self._word_ids[word] = [index[f] for f in word_features(word) if f in index]
        return ids

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's known features (ids) and their TF-IDF values (unit length)."""
        words = _WORDS.findall(fold(text))
        ids: list[int] = []
        for w in words:
            ids += self._ids(w)
        get = self.index.get
        for a, b in zip(words, words[1:], strict=False):
            pair = get(f"b:{a} {b}")
            if pair is not None:
                ids.append(pair)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        unique, counts = np.unique(np.array(ids, dtype=np.int64), return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf[unique]
        return unique, values / np.linalg.norm(values)

    def scores(self, text: str) -> np.ndarray:
        """Probabilities per class, in `classes` order."""
        ids, values = self.vector(text)
        scores = self.intercept.copy()
        if len(ids) and self._dense is not None:
            scores += self._dense[:, ids] @ values
        elif len(ids):
            # The weights of each feature sit together (indptr); gather them all at once and add them up by class.
            starts = self.indptr[ids]
            lengths = self.indptr[ids + 1] - starts
            total = int(lengths.sum())
            if total:
                positions = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
                contributions = self.weights[positions] * np.repeat(values, lengths)
                scores += np.bincount(self.rows[positions], weights=contributions, minlength=len(self.classes))
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()

    def evidence(self, text: str, towards: str, against: str | None = None, most: int = 3) -> tuple[str, ...]:
        """The message's words (as written) that weighed most towards class `towards` (less `against`)."""
        k = self.classes.index(towards)
        other = self.classes.index(against) if against is not None else None
        original = _WORDS.findall(text)
        scored: dict[str, float] = {}
        for w in original:
            f = fold(w)
            if len(f) < 3 or f in STOPWORDS:  # "och", "my": frequent in hurried messages, no explanation
                continue
            score = 0.0
            for i in self._ids(f):
                lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
                for r, weight in zip(self.rows[lo:hi], self.weights[lo:hi], strict=True):
                    if r == k:
                        score += weight * self.idf[i]
                    elif r == other:
                        score -= weight * self.idf[i]
            if score > 0 and score > scored.get(w, 0):
                scored[w] = score
        best = set(sorted(scored, key=lambda w: -scored[w])[:most])
        return tuple(dict.fromkeys(w for w in original if w in best))  # in the message's order
