"""Try matcher and decision settings on the TUNE half of the realistic first messages (never the report half).

    python benchmarks/tune_routes.py [tests/eval/realistic/tune.yaml]

Prints the figures of `regellots eval-routes` for each setting in the grid below."""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation.engine import Engine  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.maintain.routes import evaluate_routes, load_items  # noqa: E402
from bot.state import MemoryStore  # noqa: E402
from bot.understanding import decision  # noqa: E402
from bot.understanding.matching import Matcher  # noqa: E402

GRID = {
    "COVERED_LONG": [0.5, 0.7],
    "DOC_LONG": [0.4, 0.5],
    "ANSWER_SCORE_LONG": [0.25, 0.3],
    "CLARIFY_SCORE_LONG": [0.2],
}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "eval" / "realistic" / "tune.yaml"
    assert "report" not in path.name, "tune on the tune half only"
    knowledge, problems = load_knowledge(ROOT / "knowledge")
    assert knowledge is not None, problems
    items = load_items(path)
    for values in itertools.product(*GRID.values()):
        for name, value in zip(GRID, values, strict=True):
            target = decision if hasattr(decision, name) else Matcher
            setattr(target, name, value)
        knowledge.matcher._resolve.cache_clear()
        s = asyncio.run(evaluate_routes(Engine(knowledge, MemoryStore()), items)).summary()
        print(dict(zip(GRID, values, strict=True)), f"in {s['in_scope_accuracy']:.3f} oos {s['out_of_scope_accuracy']:.3f} "
              f"wrong {s['confidently_wrong']:.3f} clarify {s['clarify_rate_in_scope']:.3f} fb {s['fallback_rate_in_scope']:.3f}")


if __name__ == "__main__":
    main()
