"""The distribution carries its knowledge: every package is listed, the shipped knowledge is package data
read through importlib.resources, and commands that write never write into the installed package.
(.ci/wheel-check builds the wheel and drives it from a fresh virtualenv outside the checkout.)"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import default_directory
from bot.knowledge.loader import knowledge_files
from bot.knowledge.loading import SHIPPED_PACKAGE, shipped_directory

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_every_python_package_is_in_the_distribution() -> None:
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("bot", "adapters") for p in (ROOT / top).rglob("__init__.py")}
    listed = {p for p in SETUPTOOLS["packages"] if not p.startswith(SHIPPED_PACKAGE)}
    assert found == listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(found - listed)}; remove: {sorted(listed - found)}"


def test_every_knowledge_file_is_package_data() -> None:
    """Each file the loader reads (and the editors' schemas) matches a package-data pattern of its directory."""
    assert SETUPTOOLS["package-dir"][SHIPPED_PACKAGE] == "knowledge"
    data = SETUPTOOLS["package-data"]
    shipped = ROOT / "knowledge"
    files = [*knowledge_files(shipped), *(shipped / "_schema").glob("*.json")]
    assert len(files) > 10
    for path in files:
        rel = path.relative_to(shipped)
        package = ".".join([SHIPPED_PACKAGE, *rel.parts[:-1]])
        assert package in SETUPTOOLS["packages"], f"{rel}: add {package} to the packages"
        assert any(fnmatch.fnmatch(rel.name, pattern) for pattern in data.get(package, [])), f"{rel}: no package-data pattern of {package} matches it"


def test_the_license_is_an_spdx_string() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"  # the table form is deprecated by setuptools


def test_the_shipped_knowledge_is_read_through_importlib_resources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert shipped_directory() == ROOT / "knowledge"  # in the checkout (editable install) it is the knowledge/ directory
    monkeypatch.delenv("REGELLOTS_KNOWLEDGE", raising=False)
    assert default_directory() == shipped_directory()
    monkeypatch.setenv("REGELLOTS_KNOWLEDGE", str(tmp_path))
    assert default_directory() == tmp_path  # the variable still points elsewhere


def test_schema_writes_into_the_working_directory_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in (ROOT / "knowledge" / "_schema").iterdir())
    assert main(["schema"]) == 0
    assert (tmp_path / "_schema" / "knowledge-file.schema.json").is_file()
    assert sorted(p.name for p in (ROOT / "knowledge" / "_schema").iterdir()) == before
    assert str(tmp_path / "_schema") in capsys.readouterr().out
