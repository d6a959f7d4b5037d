"""A plain BM25 over the knowledge base's own phrasings: the reference the engine's routing is measured against.

Each target (topic, flow, regulation, agency, glossary term, out-of-scope area) is one document made of its
phrasings and titles, folded and stemmed like the engine's matcher. The top-scoring document answers; with no
shared word at all it falls back. Same outcomes as `regellots eval-routes`.

    python benchmarks/bm25_reference.py tests/eval/realistic/report.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

from rank_bm25 import BM25Okapi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load_knowledge  # noqa: E402
from bot.knowledge.kinds import KINDS  # noqa: E402
from bot.maintain.routes import RouteOutcome, RouteResult, load_items, report  # noqa: E402
from bot.understanding.textnorm import fold, stem, words  # noqa: E402


def tokens(text: str) -> list[str]:
    return [stem(fold(w)) for w in words(text)]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "eval" / "realistic" / "report.yaml"
    knowledge, problems = load_knowledge(ROOT / "knowledge")
    assert knowledge is not None, problems
    keys, docs = [], []
    for kind in KINDS:
        for eid, entry in knowledge.table(kind).items():
            phrases = list(kind.phrases(entry)) + [kind.title(entry, "sv"), kind.title(entry, "en")]
            keys.append(f"{kind.name}:{eid}")
            docs.append([t for p in phrases for t in tokens(p)])
    bm25 = BM25Okapi(docs)
    result = RouteResult()
    for item in load_items(path):
        scores = bm25.get_scores(tokens(item.text))
        best = max(range(len(keys)), key=lambda i: scores[i])
        target = keys[best] if scores[best] > 0 else None
        if target is None:
            kind = "correct" if item.out_of_scope else "fallback"
        elif item.out_of_scope:
            kind = "correct" if target.startswith("out_of_scope:") else "wrong"
        else:
            kind = "correct" if target in item.accept else "wrong"
        result.outcomes.append(RouteOutcome(item, kind, target))
    print(report(result, misses="--misses" in sys.argv))


if __name__ == "__main__":
    main()
