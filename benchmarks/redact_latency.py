"""Time privacy.redact on long messages: plain text, and text dense with personal data.

    .venv/bin/python benchmarks/redact_latency.py [--n 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bot.understanding.privacy import redact

PLAIN = "Är vår app en medicinteknisk produkt om den används av sjuksköterskor på avdelningen och vad säger MDR? "
DENSE = "Patienten 19121212-1212 ringde från (070) 123 45 67, mejla anna(at)region.se. Anna Svensson har diabetes. "


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="runs per message")
    parser.add_argument("--chars", type=int, default=2000)
    args = parser.parse_args()
    for name, unit in (("plain", PLAIN), ("dense", DENSE)):
        text = (unit * (args.chars // len(unit) + 1))[: args.chars]
        for _ in range(50):
            redact(text)
        times = []
        for _ in range(args.n):
            t = time.perf_counter()
            redact(text)
            times.append(time.perf_counter() - t)
        times.sort()
        p50, p99 = statistics.median(times), times[int(len(times) * 0.99) - 1]
        print(f"{name:6} {len(text)} chars: p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
