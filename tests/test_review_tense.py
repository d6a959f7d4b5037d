"""`regellots review` lists texts that speak of a date in the wrong tense, with the source to check."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import assemble, read_files
from bot.maintain.tense import wrong_tense

from .conftest import FIXTURE_KB, SHIPPED_KB


def _knowledge(directory: Path):  # type: ignore[no-untyped-def]
    return assemble(directory, read_files(directory).files)


def test_a_date_said_to_have_passed_before_it_has_is_listed() -> None:
    k = _knowledge(SHIPPED_KB)
    before = [t for t in wrong_tense(k, date(2026, 3, 1)) if t.id == "ai-act"]
    assert before and all(t.says == "past" and t.day == date(2026, 8, 2) for t in before)
    assert before[0].source == "https://eur-lex.europa.eu/eli/reg/2024/1689/oj"
    assert not [t for t in wrong_tense(k, date(2026, 12, 2)) if t.id == "ai-act"]


def test_a_future_date_that_has_passed_is_listed_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    topics = kb / "topics.yaml"
    text = topics.read_text(encoding="utf-8")
    marker = "answer: {sv: Direktupphandling är tillåten under gränsen."
    assert marker in text
    topics.write_text(text.replace(marker, marker[:-1] + " – reglerna kommer att gälla från 1 januari 2020.", 1), encoding="utf-8")
    found = wrong_tense(_knowledge(kb), date(2026, 12, 2))
    assert [(t.says, t.day) for t in found] == [("future", date(2020, 1, 1))]
    assert "kommer att gälla från 1 januari 2020" in topics.read_text(encoding="utf-8").splitlines()[found[0].line - 1]
    assert main(["review", "--knowledge", str(kb), "--today", "2026-12-02"]) == 0
    out = capsys.readouterr().out
    assert "speaks of 2020-01-01 as coming, but it has passed" in out and "source: https://" in out
