"""Urgency first: recall and false alarms per half of tests/eval/realistic/urgency.yaml, false alarms
on the regulatory first messages, and the detector's time on long messages.

    .venv/bin/python benchmarks/urgency.py              # both halves, labelled
    .venv/bin/python benchmarks/urgency.py --misses     # also list what was missed (tune half only)
    .venv/bin/python benchmarks/urgency.py --set urgency_blind2.yaml   # another set (no half: all report)

Only the tune half was looked at while the vocabulary was written; the report half is the number
to quote. --misses never lists report-half items, so tuning cannot look at them by accident.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parent.parent
REALISTIC = ROOT / "tests" / "eval" / "realistic"


def _items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((REALISTIC / name).read_text(encoding="utf-8"))["items"]
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list the tune half's misses")
    parser.add_argument("--phrases-only", action="store_true", help="the phrase vocabulary alone, without the learned model")
    parser.add_argument(
        "--set", default="urgency.yaml", help="the set in tests/eval/realistic/ (items without a half count as report half)"
    )
    args = parser.parse_args()
    knowledge, problems = load_knowledge(ROOT / "knowledge")
    assert knowledge is not None, problems
    detect = knowledge.urgency_detector.from_phrases if args.phrases_only else knowledge.urgency_detector.detect

    def kind(text: str) -> str:
        found = detect(text)
        return found.kind if found else "none"

    items = _items(args.set)
    for i in items:
        i.setdefault("half", "report")
    print(f"urgency set {args.set}: {len(items)} messages")
    for half in ("tune", "report"):
        part = [i for i in items if i["half"] == half]
        if not part:
            continue
        got = {i["id"]: kind(i["text"]) for i in part}
        emerg = [i for i in part if i["expect"] == "emergency"]
        sui = [i for i in part if i["expect"] == "suicide"]
        med = [i for i in part if i["expect"] == "medical_advice"]
        none = [i for i in part if i["expect"] == "none"]
        e_ok = sum(got[i["id"]] in ("emergency", "suicide") for i in emerg)
        s_ok = sum(got[i["id"]] == "suicide" for i in sui)
        m_ok = sum(got[i["id"]] == "medical" for i in med)
        m_112 = sum(got[i["id"]] in ("emergency", "suicide") for i in med)
        fa = sum(got[i["id"]] != "none" for i in none)
        label = "TUNE half (looked at while tuning)" if half == "tune" else "REPORT half (not looked at)"
        print(f"\n{label}: {len(part)} messages")
        print(f"  emergency recall (112 first)     {e_ok}/{len(emerg)} = {100 * e_ok / len(emerg):.1f} %")
        print(f"  suicide recall (crisis line)     {s_ok}/{len(sui)} = {100 * s_ok / len(sui):.1f} %")
        print(f"  medical questions → 1177 reply   {m_ok}/{len(med)} (given 112 first: {m_112})")
        print(f"  false alarms on mentions (none)  {fa}/{len(none)} = {100 * fa / len(none):.1f} % of the none items, {100 * fa / len(part):.1f} % of the half")
        if args.misses and half == "tune":
            for i in part:
                want = {"medical_advice": "medical"}.get(i["expect"], i["expect"])
                if got[i["id"]] != want and not (want == "emergency" and got[i["id"]] == "suicide"):
                    print(f"    miss {i['id']} expect {i['expect']} got {got[i['id']]}: {i['text'][:120]}")

    for name in ("tune.yaml", "report.yaml"):
        regulatory = [i for i in _items(name) if not i.get("out_of_scope")]
        alarms = sum(kind(i["text"]) != "none" for i in regulatory)
        print(f"\n{name}: in-scope regulatory first messages that triggered: {alarms}/{len(regulatory)}")

    # Time on long messages: 2,000 characters (the engine's cut), built from realistic text.
    # "regulatory": first messages with no urgency (the common case: no sign, markers never read);
    # "urgent": the urgency set's messages run together (the worst case: signs and markers everywhere).
    rng = random.Random(11)
    pools = {"regulatory": [i["text"] for i in _items("tune.yaml") + _items("report.yaml")], "urgent": [i["text"] for i in items]}
    print()
    for name, pool in pools.items():
        long_messages = []
        for _ in range(300):
            text = ""
            while len(text) < 2000:
                text += rng.choice(pool) + " "
            long_messages.append(text[:2000])
        for text in long_messages:
            detect(text)  # warm the per-word caches, as a running bot has them
        times = []
        cpu = time.process_time()
        for text in long_messages * 3:
            start = time.perf_counter()
            detect(text)
            times.append((time.perf_counter() - start) * 1000)
        cpu_mean = (time.process_time() - cpu) * 1000 / len(times)
        times.sort()
        p99 = times[int(0.99 * len(times)) - 1]
        print(
            f"detector, 2,000-character {name} messages ({len(times)} runs): median {statistics.median(times):.3f} ms, "
            f"p99 {p99:.3f} ms, max {times[-1]:.3f} ms (wall); mean CPU time {cpu_mean:.3f} ms"
        )

if __name__ == "__main__":
    main()
