"""Fitting the learned readings (bot/understanding/learned.py) with scikit-learn.

Training needs scikit-learn (the `train` extra); the bot only reads the result. The same examples give
the same weights: the solver is deterministic and the examples are read in their files' order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np

from bot.understanding.learned import LinearModel, features


def digest(texts: Sequence[str], labels: Sequence[str], **settings: object) -> str:
    """What a model is learned from, in a few characters: the same examples and settings, the same digest."""
    return hashlib.sha256(json.dumps([list(texts), list(labels), settings], ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def fit(texts: Sequence[str], labels: Sequence[str], *, c: float, min_df: int = 1, keep: float = 0.0, balanced: bool = False) -> LinearModel:
    """A multinomial logistic regression over `features`; weights below `keep` in size are left out."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit("training needs scikit-learn: pip install -e '.[train]'") from exc

    vectoriser = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=min_df)
    x = vectoriser.fit_transform(list(texts))
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None).fit(x, np.array(labels))
    terms = vectoriser.get_feature_names_out().tolist()
    model = LinearModel.from_dense(terms, vectoriser.idf_, clf.coef_, clf.intercept_, tuple(str(c) for c in clf.classes_), keep)
    model.source = digest(texts, labels, c=c, min_df=min_df, keep=keep, balanced=balanced)
    # The reader must give what scikit-learn gives (up to the weights left out), or the shipped weights
    # would mean something else.
    expected = clf.predict_proba(x[:200])
    tolerance = 1e-5 if keep == 0 else 0.1  # the weights are kept as float32
    for row, text in zip(expected, texts[:200], strict=False):
        if np.abs(model.scores(text) - row).max() > tolerance:
            raise SystemExit("the model reader disagrees with scikit-learn; not written")
    return model
