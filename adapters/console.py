"""Console chat: the engine in a terminal (or a pipe), with numbered choices."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path
from typing import Any, TextIO

from adapters.channel import Channel
from bot.conversation.replies import Response
from bot.understanding.pipeline import Incoming

QUIT = frozenset({"quit", "exit", "avsluta", ":q"})


def _wrap(paragraph: str, width: int) -> str:
    """Wrap prose, but never inside a URL: a link broken over two lines stops being a link."""
    indent = "  " if paragraph.startswith(("• ", "- ")) else ""
    return textwrap.fill(paragraph, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def render(response: Response, width: int = 88, saved: dict[str, Path] | None = None) -> str:
    """Plain text: titles, facts, wrapped paragraphs (URLs never broken), each source once on its own
    line, documents with where they were saved, and choices numbered 1..n in the order the engine
    offered them — the numbers the user may type."""
    out: list[str] = []
    number = 0
    shown: set[str] = set()
    for reply in response.replies:
        if reply.title:
            out.append(f"== {reply.title} ==")
        for fact in reply.facts:
            out.append(_wrap(f"{fact.label}: {fact.value}", width))
        for paragraph in reply.text.split("\n") if reply.text else []:
            out.append(_wrap(paragraph, width) if paragraph else "")
        for cite in reply.citations:
            if cite.url not in shown and cite.url not in reply.text:
                shown.add(cite.url)
                out.append(f"  ↗ {cite.title}: {cite.url}")
        for document in reply.documents:
            where = (saved or {}).get(document.name)
            out.append(f"  📄 {where if where is not None else document.name}")
        for option in reply.options:
            number += 1
            out.append(f"  [{number}] {option.label}")
        out.append("")
    return "\n".join(out)


def save_documents(response: Response, directory: Path) -> dict[str, Path]:
    """Write each document of the response (the checklist) into `directory`; name → the path written."""
    saved: dict[str, Path] = {}
    for document in response.documents:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / document.name
        path.write_bytes(document.content)
        saved[document.name] = path
    return saved


class Console(Channel):
    """One conversation in a terminal or a pipe: a line in, the rendered replies out."""

    name = "console"

    def __init__(self, *args: Any, documents: Path | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Where "Spara checklista" writes its files: $REGELLOTS_DOCUMENTS, else the working directory.
        self.documents = documents or Path(os.environ.get("REGELLOTS_DOCUMENTS") or ".")

    async def run(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, conversation: str = "console") -> None:
        interactive = stdin.isatty()

        async def show(response: Response) -> None:
            saved = save_documents(response, self.documents) if response.documents else {}
            stdout.write(render(response, saved=saved) + "\n")
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
