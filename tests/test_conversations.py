"""Every conversation test in tests/conversations/ runs against the shipped knowledge: one pytest test per file.

The same files run with `regellots test`; see docs/maintaining.md for the format.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bot.knowledge import Knowledge
from bot.maintain.convtests import FileResult, find_test_files, load_test, run_test

from .conftest import TESTS

CONVERSATIONS = TESTS / "conversations"
FILES = find_test_files([CONVERSATIONS])


_RESULTS: dict[Path, FileResult] = {}


def _result(path: Path, knowledge: Knowledge) -> FileResult:
    """Each file runs once per session (the flow check below reuses the results)."""
    if path not in _RESULTS:
        tf, problems = load_test(path)
        assert tf is not None, "invalid conversation test:\n" + "\n".join(map(str, problems))
        _RESULTS[path] = asyncio.run(run_test(knowledge, tf))
    return _RESULTS[path]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conversation(path: Path, shipped: Knowledge) -> None:
    result = _result(path, shipped)
    assert result.passed, "\n" + result.report()


def test_every_shipped_flow_has_two_tested_paths_to_a_conclusion(shipped: Knowledge) -> None:
    concluded = Counter(flow for path in FILES for flow in _result(path, shipped).reached.concluded)
    short = {flow: concluded[flow] for flow in shipped.flows if concluded[flow] < 2}
    assert not short, f"flows with fewer than two conversation tests that reach a conclusion: {short}"
