"""`regellots chat --jsonl`: a stable JSON-lines conversation interface for other programs and for testing
from outside. One JSON object per input line, one per turn out (see docs/jsonl.md). Stable from now on:
fields may be added, never renamed or removed."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TextIO

from adapters.channel import Channel
from bot.conversation.replies import Option, Response
from bot.understanding.pipeline import Incoming

#: Turns that mean the message was not understood well enough to answer it.
NOT_UNDERSTOOD = frozenset({"fallback", "clarify", "error"})
MAX_LINE = 64 * 1024


def turn_record(conversation: str, response: Response) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "kind": response.kind,
        "lang": response.lang,
        "topic": response.topic,
        "flow": response.flow,
        "regulations": list(response.regulations),
        "agencies": list(response.agencies),
        "text": response.plain_text(),
        "options": [{"label": o.label, "value": o.value} for o in response.options],
        "documents": documents_record(response),
        "understood": response.kind not in NOT_UNDERSTOOD and not response.unanswered,
        "target": response.target,
        "urgent": response.urgent,
    }


def documents_record(response: Response) -> list[dict[str, str]]:
    """The documents a turn gave (the checklist): name, media type and the text itself."""
    return [{"name": d.name, "media_type": d.media_type, "content": d.content.decode("utf-8")} for d in response.documents]


def _error(message: str, conversation: Any = None) -> dict[str, Any]:
    return {"conversation": conversation if isinstance(conversation, str) else None, "error": message}


class JsonLines(Channel):
    name = "jsonl"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._offered: dict[str, list[Option]] = {}  # the options each conversation was last shown

    def incoming(self, request: dict[str, Any]) -> Incoming:
        """The request as the engine's Incoming; a choice may be an offered option's value, its label or its
        number (1 = the first option of the last turn)."""
        conversation, locale = request["conversation"], request.get("locale")
        if "choice" in request:
            choice = str(request["choice"]).strip()
            offered = self._offered.get(conversation, [])
            if choice.isdecimal() and choice.isascii() and 1 <= int(choice) <= len(offered):
                return Incoming(choice=offered[int(choice) - 1].value, locale=locale)
            for option in offered:
                if choice in (option.value, option.label):
                    return Incoming(choice=option.value, locale=locale)
            return Incoming(choice=choice, locale=locale)
        return Incoming(text=str(request.get("text") or ""), locale=locale)

    async def handle_line(self, line: str) -> dict[str, Any]:
        if len(line) > MAX_LINE:
            return _error(f"line longer than {MAX_LINE} characters")
        try:
            request = json.loads(line)
        except ValueError:
            return _error("not a JSON object")
        if not isinstance(request, dict):
            return _error("not a JSON object")
        conversation = request.get("conversation")
        if not isinstance(conversation, str) or not conversation:
            return _error('"conversation" must be a non-empty string')
        if ("text" in request) == ("choice" in request):
            return _error('give exactly one of "text" and "choice"', conversation)
        if request.get("locale") is not None and not isinstance(request["locale"], str):
            return _error('"locale" must be a string', conversation)

        out: dict[str, Any] = {}

        async def deliver(response: Response) -> None:
            self._offered[conversation] = response.options
            out.update(turn_record(conversation, response))

        response = await self.turn(conversation, self.incoming(request), deliver)
        return out or turn_record(conversation, response)

    async def run(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
        await self.start()
        try:
            while True:
                line = await asyncio.to_thread(stdin.readline)
                if not line:
                    break
                if not line.strip():
                    continue
                stdout.write(json.dumps(await self.handle_line(line), ensure_ascii=False) + "\n")
                stdout.flush()
        finally:
            await self.stop()
