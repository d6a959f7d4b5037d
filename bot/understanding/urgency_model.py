"""A learned reading of urgency, beside the phrase vocabulary.

The phrases (`urgency.py`) say exactly which words raised the alarm, but every new blind set of messages
showed emergencies described in words no phrase had (80–90 % recall). This model is a linear classifier
over a message's words, word pairs and letter groups (3–5 letters inside a word, which carry typos,
compounds and endings), learned from the urgency example sets (`regellots urgency-train`). Its weights
are data shipped beside `urgency.yaml`; reading a message is a sum of weights, so the same message
always gets the same probabilities, and `evidence` names the words that weighed most.

Features and weighting are those of a TF-IDF vectoriser (sublinear term frequency, smoothed idf, unit
length) followed by a multinomial logistic regression; training uses scikit-learn with `features` below
as its analyser, and reading needs only numpy.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import numpy as np

from bot.understanding.textnorm import STOPWORDS

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_APOSTROPHES = "'’`´"
#: Letter groups of these lengths inside a word padded with a space on each side.
GRAMS = (3, 4, 5)
#: Kinds the model knows (besides "none"); the file's classes must be exactly these.
CLASSES = ("emergency", "medical", "none", "suicide")


def fold(text: str) -> str:
    """Lower-case, no diacritics, no apostrophes: "Can't andas" → "cant andas"."""
    for mark in _APOSTROPHES:
        if mark in text:
            text = text.replace(mark, "")
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


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


class UrgencyModel:
    """Weights for each kind over a fixed vocabulary of features; `probabilities(text)` reads a message."""

    def __init__(self, terms: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray, classes: tuple[str, ...]) -> None:
        if tuple(classes) != CLASSES:
            raise ValueError(f"the model's kinds are {list(classes)}, expected {list(CLASSES)}")
        if not (len(terms) == len(idf) == coef.shape[1]) or coef.shape[0] != len(classes) or len(intercept) != len(classes):
            raise ValueError("the model's arrays do not fit together (terms, idf, weights)")
        self.terms = terms
        self.index = {t: i for i, t in enumerate(terms)}
        self.idf = idf.astype(np.float64)
        self.coef = coef.astype(np.float64)
        self.intercept = intercept.astype(np.float64)
        self.classes = tuple(classes)
        #: word → the feature ids of the word and its letter groups (unknown ones left out); bounded.
        self._word_ids: dict[str, list[int]] = {}

    # -- file --------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> UrgencyModel:
        """Read a model file (numpy's .npz, no pickled objects). Raises ValueError when it is not one."""
        try:
            with np.load(path, allow_pickle=False) as data:
                terms = bytes(data["terms"]).decode("utf-8").split("\n")
                classes = tuple(bytes(data["classes"]).decode("utf-8").split("\n"))
                return cls(terms, data["idf"], data["coef"], data["intercept"], classes)
        except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path.name}: not a readable urgency model ({exc})") from None

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            terms=np.frombuffer("\n".join(self.terms).encode("utf-8"), dtype=np.uint8),
            classes=np.frombuffer("\n".join(self.classes).encode("utf-8"), dtype=np.uint8),
            idf=self.idf.astype(np.float64),
            coef=self.coef.astype(np.float64),
            intercept=self.intercept.astype(np.float64),
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
        counts: dict[int, int] = {}
        for w in words:
            for i in self._ids(w):
                counts[i] = counts.get(i, 0) + 1
        index = self.index
        for a, b in zip(words, words[1:], strict=False):
            pair = index.get(f"b:{a} {b}")
            if pair is not None:
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        values = tf * self.idf[ids]
        return ids, values / np.linalg.norm(values)

    def probabilities(self, text: str) -> dict[str, float]:
        ids, values = self.vector(text)
        scores = self.coef[:, ids] @ values + self.intercept
        scores = np.exp(scores - scores.max())
        scores /= scores.sum()
        return {c: float(p) for c, p in zip(self.classes, scores, strict=True)}

    def evidence(self, text: str, kind: str, most: int = 3) -> tuple[str, ...]:
        """The message's words that weighed most towards `kind` (against "none"), as written in the message."""
        k, none = self.classes.index(kind), self.classes.index("none")
        weights = self.coef[k] - self.coef[none]
        original = _WORDS.findall(text)
        folded = [fold(w) for w in original]
        scored: dict[str, float] = {}
        for w, f in zip(original, folded, strict=True):
            if len(f) < 3 or f in STOPWORDS:  # "och", "my": frequent in hurried messages, no explanation
                continue
            ids = self._ids(f)
            if ids:
                score = float(sum(weights[i] * self.idf[i] for i in ids))
                if score > 0 and score > scored.get(w, 0):
                    scored[w] = score
        best = set(sorted(scored, key=lambda w: -scored[w])[:most])
        return tuple(dict.fromkeys(w for w in original if w in best))  # in the message's order
