"""Parsed knowledge files kept between starts: the same knowledge, faster; never a way around a check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge, parsecache

from .conftest import FIXTURE_KB


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("REGELLOTS_CACHE", str(directory))
    return directory


def _loaded(directory: Path):  # type: ignore[no-untyped-def]
    knowledge, problems = load_knowledge(directory)
    assert knowledge is not None, problems
    return knowledge


def test_a_second_load_reads_the_kept_parse_and_gets_the_same_knowledge(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _loaded(FIXTURE_KB)
    kept = sorted((cache / "knowledge").glob("*.json"))
    assert kept, "the parsed files were kept"
    for path in kept:
        json.loads(path.read_text(encoding="utf-8"))  # plain JSON, nothing executable

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again although the text was kept")

    monkeypatch.setattr("bot.knowledge.yamlfile._LineLoader.get_single_data", no_parsing)
    second = _loaded(FIXTURE_KB)
    assert second.version == first.version
    assert second.where == first.where  # line numbers survive
    assert {k: v.model_dump() for k, v in second.topics.items()} == {k: v.model_dump() for k, v in first.topics.items()}
    assert [r.model_dump() for r in second.rules] == [r.model_dump() for r in first.rules]


def test_a_changed_file_is_parsed_again_and_a_broken_cache_entry_is_ignored(cache: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    _loaded(kb)
    for path in (cache / "knowledge").glob("*.json"):
        path.write_text('{"d": [[', encoding="utf-8")  # torn or foreign: must not matter
    topics = kb / "topics.yaml"
    topics.write_text(topics.read_text(encoding="utf-8").replace("Direktupphandlingsgränsen", "Gränsen för direktupphandling"), encoding="utf-8")
    knowledge = _loaded(kb)
    assert knowledge.topics["direct-award"].title.sv == "Gränsen för direktupphandling"


def test_a_file_with_problems_is_never_kept_and_its_problems_are_reported_every_time(cache: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    topics = kb / "topics.yaml"
    text = topics.read_text(encoding="utf-8")
    topics.write_text(text.replace("topics:\n", "topics:\n  - id: dup\n    id: dup\n", 1), encoding="utf-8")
    for _ in range(2):
        knowledge, problems = load_knowledge(kb)
        assert knowledge is None and any("duplicate key 'id'" in p.message for p in problems)
    assert parsecache.get(topics.read_text(encoding="utf-8")) is None


def test_off_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGELLOTS_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _loaded(FIXTURE_KB)
    assert not (tmp_path / "xdg").exists()
