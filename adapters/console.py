"""Console chat: the engine in a terminal (or a pipe), with numbered choices."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from typing import TextIO

from bot.conversation.engine import Engine
from bot.conversation.replies import Response
from bot.understanding.pipeline import Incoming


def render(response: Response, width: int = 88) -> str:
    """Plain text: titles, wrapped paragraphs, citations, and choices numbered 1..n."""
    out: list[str] = []
    number = 0
    for reply in response.replies:
        if reply.title:
            out.append(f"== {reply.title} ==")
        for paragraph in reply.text.split("\n"):
            out.append(textwrap.fill(paragraph, width, subsequent_indent="  " if paragraph.startswith(("• ", "- ")) else "") if paragraph else "")
        for cite in reply.citations:
            out.append(f"  ↗ {cite.title}: {cite.url}")
        for option in reply.options:
            number += 1
            out.append(f"  [{number}] {option.label}")
        out.append("")
    return "\n".join(out)


async def run(engine: Engine, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, conversation: str = "console") -> None:
    interactive = stdin.isatty()
    first = await engine.handle(conversation, Incoming(choice="cmd:menu"))
    stdout.write(render(first) + "\n")
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.rstrip("\n")
        if text.strip().lower() in ("quit", "exit", "avsluta", ":q"):
            break
        if not interactive:
            stdout.write(f"> {text}\n")
        response = await engine.handle(conversation, Incoming(text=text))
        stdout.write(render(response) + "\n")
        stdout.flush()
