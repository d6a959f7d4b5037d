"""Grid-search the matcher's weights and the dialogue's thresholds on an evaluation file.

    python benchmarks/tune_matching.py [tests/eval/questions.yaml]

Prints the best settings by in-scope accuracy with out-of-scope accuracy as a
constraint. Used to choose the constants in bot/understanding/matching.py and bot/understanding/decision.py;
keep the grid coarse so the choice generalises beyond the questions it saw.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation.dialogue import Dialogue  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.maintain.evaluation import load_questions  # noqa: E402
from bot.understanding import decision as deciding  # noqa: E402
from bot.understanding.matching import Matcher  # noqa: E402


def ids_of(k, target):  # type: ignore[no-untyped-def]
    d = Dialogue(k)
    return d._about(target)


def score(k, questions, answer: float, clarify: float, margin: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    deciding.ANSWER_SCORE, deciding.CLARIFY_SCORE, deciding.CLARIFY_MARGIN = answer, clarify, margin
    ok_in = ok_out = n_in = n_out = 0
    for q, matches in questions:
        decision = deciding.decide(matches)
        if q.out_of_scope:
            n_out += 1
            ok_out += (decision.answer is None and not decision.candidates) or (
                decision.answer is not None and decision.answer.target.kind == "out_of_scope"
            )
            continue
        n_in += 1
        if decision.answer is not None and decision.answer.target.kind != "out_of_scope":
            regs, ags = ids_of(k, decision.answer.target)
            ok_in += set(q.regulations) <= set(regs) and set(q.agencies) <= set(ags)
    return ok_in / n_in, ok_out / n_out


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "eval" / "questions.yaml"
    questions = load_questions(path)
    results = []
    for covered, doc, unknown, fuzzy in itertools.product([0.55, 0.7, 0.85], [0.2, 0.35, 0.5], [0.5, 1.0], [0.1]):
        Matcher.COVERED, Matcher.DOC, Matcher.UNKNOWN_WEIGHT, Matcher.FUZZY = covered, doc, unknown, fuzzy
        k, _ = load_knowledge(ROOT / "knowledge")
        assert k is not None
        searched = [(q, k.matcher.search(q.q, limit=5)) for q in questions]
        for answer, clarify, margin in itertools.product([0.3, 0.35, 0.4, 0.45, 0.5], [0.25, 0.3, 0.35, 0.4, 0.45], [0.0, 0.01, 0.02, 0.04]):
            if clarify > answer:
                continue
            acc_in, acc_out = score(k, searched, answer, clarify, margin)
            results.append((acc_in, acc_out, dict(covered=covered, doc=doc, unknown=unknown, fuzzy=fuzzy, answer=answer, clarify=clarify, margin=margin)))
    for floor in (1.0, 0.97, 0.94, 0.9):
        ok = [r for r in results if r[1] >= floor]
        ok.sort(key=lambda r: -r[0])
        print(f"out-of-scope ≥ {floor:.0%}:")
        for acc_in, acc_out, params in ok[:5]:
            print(f"  in {acc_in:.1%} out {acc_out:.1%} {params}")


if __name__ == "__main__":
    main()
