"""Console chat: the engine in a terminal (or a pipe), with numbered choices."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from typing import TextIO

from adapters.channel import Channel
from bot.conversation.replies import Response
from bot.understanding.pipeline import Incoming

QUIT = frozenset({"quit", "exit", "avsluta", ":q"})


def _wrap(paragraph: str, width: int) -> str:
    """Wrap prose, but never inside a URL: a link broken over two lines stops being a link."""
    indent = "  " if paragraph.startswith(("• ", "- ")) else ""
    return textwrap.fill(paragraph, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def render(response: Response, width: int = 88) -> str:
    """Plain text: titles, wrapped paragraphs, citations, and choices numbered 1..n."""
    out: list[str] = []
    number = 0
    for reply in response.replies:
        if reply.title:
            out.append(f"== {reply.title} ==")
        for paragraph in reply.text.split("\n"):
            out.append(_wrap(paragraph, width) if paragraph else "")
        for cite in reply.citations:
            out.append(f"  ↗ {cite.title}: {cite.url}")
        for option in reply.options:
            number += 1
            out.append(f"  [{number}] {option.label}")
        out.append("")
    return "\n".join(out)


class Console(Channel):
    """One conversation in a terminal or a pipe: a line in, the rendered replies out."""

    name = "console"

    async def run(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, conversation: str = "console") -> None:
        interactive = stdin.isatty()

        async def show(response: Response) -> None:
            stdout.write(render(response) + "\n")
            stdout.flush()

        await self.start()
        try:
            await self.turn(conversation, Incoming(choice="cmd:menu"), show)
            while True:
                if interactive:
                    stdout.write("> ")
                    stdout.flush()
                line = await asyncio.to_thread(stdin.readline)
                if not line:
                    break
                text = line.rstrip("\n")
                if text.strip().lower() in QUIT:
                    break
                if not interactive:
                    stdout.write(f"> {text}\n")
                await self.turn(conversation, Incoming(text=text), show)
        finally:
            await self.stop()
