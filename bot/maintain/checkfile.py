"""Check one knowledge file against the schema: `python -m bot.maintain.checkfile FILE...`.

A quick check for authors; `regellots validate` checks the whole knowledge
base, including references between files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.knowledge.loader import parse_file


def main(argv: list[str]) -> int:
    failed = False
    for name in argv:
        _, problems = parse_file(Path(name), name)
        for problem in problems:
            print(problem)
        failed = failed or any(p.severity == "error" for p in problems)
    if not failed:
        print("schema OK")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
