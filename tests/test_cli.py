"""The command line as other tools use it: `ask --json`, piped `chat`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.cli import main

from .conftest import FIXTURE_KB

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGELLOTS_KNOWLEDGE": str(FIXTURE_KB)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


def test_ask_json_contract(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["ask", "--knowledge", str(FIXTURE_KB), "--json", "får", "vi", "prata", "med", "leverantörer", "innan", "upphandling?"]) == 0
    record = json.loads(capsys.readouterr().out.strip())
    assert set(record) == {"question", "kind", "topic", "regulations", "agencies", "text", "choices"}
    assert record["kind"] == "answer" and record["topic"] == "market-dialogue"
    assert record["regulations"] == ["lou"] and record["agencies"] == ["upphandlingsmyndigheten"]
    assert "marknadsdialog" in record["text"]


def test_ask_reads_questions_from_stdin_each_in_a_new_conversation() -> None:
    out = run(["ask", "--json"], "starta medicintekniska frågorna\nja\nhur bakar man bullar\n")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["kind"] for r in records] == ["flow", "fallback", "fallback"]  # "ja" alone is no question in a new conversation
    assert records[0]["regulations"] == ["mdr"] and records[0]["choices"][:2] == ["Ja", "Nej"]
    assert records[2]["regulations"] == [] and records[2]["topic"] is None


def test_ask_lang_en() -> None:
    out = run(["ask", "--json", "--lang", "en", "GDPR"])
    record = json.loads(out.stdout)
    assert record["kind"] == "answer" and "Rules for personal data." in record["text"]


def test_chat_works_when_piped() -> None:
    out = run(["chat"], "1\nja\nprogramvara\n2 mkr\nquit\n")
    assert out.returncode == 0, out.stderr
    assert "[1] ▶ Är det en medicinteknisk produkt?" in out.stdout
    assert "Resultat – Är det en medicinteknisk produkt?" in out.stdout
    assert "Regel 11 gäller för programvaran." in out.stdout


def test_validate_shipped_layout_prints_summary() -> None:
    out = run(["validate", str(FIXTURE_KB)])
    assert out.returncode == 0 and out.stdout.startswith("knowledge OK: ")
