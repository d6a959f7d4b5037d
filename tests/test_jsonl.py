"""`regellots chat --jsonl`: the stable JSON-lines interface, driven as another program would drive it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIELDS = {"conversation", "kind", "lang", "topic", "flow", "regulations", "agencies", "text", "options", "understood", "urgent"}


class JsonlProcess:
    """`regellots chat --jsonl` as a child process: one line in, one line out."""

    def __init__(self) -> None:
        env = {**os.environ, "REGELLOTS_WATCH": "0"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--jsonl"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )

    def send(self, request: dict[str, Any] | str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((request if isinstance(request, str) else json.dumps(request, ensure_ascii=False)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read() if self.proc.stderr else "no output"
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=60)


def test_a_whole_flow_to_its_conclusion() -> None:
    p = JsonlProcess()
    try:
        turn = p.send({"conversation": "c1", "text": "är vår app en medicinteknisk produkt?"})
        assert FIELDS <= set(turn) and turn["kind"] == "flow" and turn["flow"] == "mdr-check" and turn["understood"]
        kinds = [turn["kind"]]
        for step in range(30):  # bounded: the longest flow has far fewer questions
            assert turn["options"], turn
            # Answer by label on even steps and by value on odd ones: both are part of the interface.
            first = turn["options"][0]
            turn = p.send({"conversation": "c1", "choice": first["label"] if step % 2 == 0 else first["value"]})
            kinds.append(turn["kind"])
            if turn["kind"] == "conclusion":
                break
        assert turn["kind"] == "conclusion", kinds
        assert turn["flow"] == "mdr-check" and turn["regulations"] and turn["lang"] == "sv"
        # Another conversation in the same process is its own: it starts idle and answers in English.
        other = p.send({"conversation": "c2", "text": "may we talk to suppliers before a procurement?", "locale": "en-GB"})
        assert other["conversation"] == "c2" and other["lang"] == "en" and other["kind"] == "answer" and other["topic"]
        why = p.send({"conversation": "c1", "text": "varför"})
        assert why["kind"] == "command" and why["flow"] == "mdr-check" and why["urgent"] is None
        # Urgency first is visible to programs too.
        urgent = p.send({"conversation": "c3", "text": "min pappa har ramlat och blöder från huvudet"})
        assert urgent["urgent"] == "emergency" and urgent["kind"] == "urgent" and urgent["text"].index("112") < 80
    finally:
        assert p.close() == 0


def test_bad_lines_get_an_error_line_and_the_stream_goes_on() -> None:
    p = JsonlProcess()
    try:
        assert p.send("not json") == {"conversation": None, "error": "not a JSON object"}
        assert "error" in p.send({"text": "hej"})
        assert "error" in p.send({"conversation": "x", "text": "hej", "choice": "1"})
        assert p.send({"conversation": "x", "text": "vad kostar en pizza i Rom"})["understood"] is False
        assert p.send({"conversation": "x", "text": "hej"})["kind"] == "greeting"
    finally:
        assert p.close() == 0
