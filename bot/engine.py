"""The one entry point every adapter calls: `await engine.handle(conversation_id, incoming)`.

The engine owns the knowledge (swapped whole on reload) and the state store;
it runs the pure `Dialogue` under a per-conversation lock so two messages of
one conversation never interleave, redacts personal data before anything is
stored, and records what it could not answer.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

from bot.dialogue import MAX_CHARS, Dialogue, Incoming, clean
from bot.knowledge import Knowledge, load_knowledge
from bot.language import from_locale, guess_language
from bot.messages import t
from bot.privacy import pseudonym, redact
from bot.replies import Reply, Response
from bot.state import ConversationState, MemoryStore, StateStore
from bot.yamlfile import Problem

log = logging.getLogger("regellotsen.engine")


class Engine:
    def __init__(self, knowledge: Knowledge, store: StateStore | None = None, *, channel: str = "console") -> None:
        self._knowledge = knowledge
        self.store: StateStore = store if store is not None else MemoryStore()
        self.channel = channel
        # Salt for hashing user ids in records; random per process unless configured.
        self._salt = os.environ.get("REGELLOTS_SALT") or secrets.token_hex(16)

    @property
    def knowledge(self) -> Knowledge:
        return self._knowledge

    def reload(self, directory: Path | None = None) -> tuple[bool, list[Problem]]:
        """Load the knowledge again; swap it in only if it validates. Returns (swapped, problems)."""
        knowledge, problems = load_knowledge(directory or self._knowledge.directory)
        if knowledge is None:
            log.error("knowledge reload refused: %d problem(s); the previous knowledge keeps serving", len(problems))
            for problem in problems:
                log.error("%s", problem)
            return False, problems
        if knowledge.version != self._knowledge.version:
            log.info("knowledge reloaded: %s (version %s)", knowledge.summary(), knowledge.version)
        self._knowledge = knowledge
        return True, problems

    async def ready(self) -> bool:
        try:
            return await self.store.ready()
        except Exception:  # noqa: BLE001 — readiness must answer, not raise
            return False

    async def handle(self, conversation_id: str, incoming: Incoming, *, user: str | None = None) -> Response:
        if incoming.text and len(incoming.text) > MAX_CHARS + 1:
            # Cut before anything scans it; one extra character tells the dialogue to say it was cut.
            incoming = Incoming(text=incoming.text[: MAX_CHARS + 1], choice=incoming.choice, locale=incoming.locale)
        redaction = redact(incoming.text) if incoming.text else None
        if redaction is not None and redaction.personal_data:
            incoming = Incoming(text=redaction.text, choice=incoming.choice, locale=incoming.locale)
        try:
            async with self.store.lock(conversation_id):
                state = ConversationState.from_json(await self.store.load(conversation_id))
                response = self._respond(state, incoming)
                state.updated = time.time()
                await self.store.save(conversation_id, state.to_json())
        except Exception as exc:  # noqa: BLE001 — storage trouble must not crash a conversation
            log.error("conversation store unavailable: %s", type(exc).__name__)
            lang = guess_language(incoming.text or "") or from_locale(incoming.locale) or "sv"
            return Response([Reply(t("unavailable", lang))], "error", lang)
        if redaction is not None and redaction.personal_data:
            response.replies.insert(0, Reply(t("privacy_warning", response.lang)))
        if (response.kind in ("fallback", "clarify") or response.unanswered) and incoming.text:
            await self._record_unanswered(response, incoming.text, user)
        return response

    def _respond(self, state: ConversationState, incoming: Incoming) -> Response:
        try:
            return Dialogue(self._knowledge).respond(state, incoming)
        except Exception:  # noqa: BLE001 — a bug must cost one reply, not the conversation
            log.exception("engine error (message text not logged)")
            return Response([Reply(t("fallback", state.lang))], "fallback", state.lang)

    async def _record_unanswered(self, response: Response, text: str, user: str | None) -> None:
        event = {
            "type": response.kind if response.kind in ("fallback", "clarify") else "not-understood",
            "text": clean(text)[0][:500],
            "lang": response.lang,
            "channel": self.channel,
            "time": time.time(),
        }
        if user:
            event["user"] = pseudonym(user, self._salt)
        try:
            await self.store.record(event)
        except Exception as exc:  # noqa: BLE001 — losing a statistic must not lose the answer
            log.warning("could not record an unanswered question: %s", type(exc).__name__)


def load_engine(directory: Path | None = None, store: StateStore | None = None, channel: str = "console") -> Engine:
    """Load the knowledge or exit with its problems (for the CLI and adapters)."""
    knowledge, problems = load_knowledge(directory)
    if knowledge is None:
        lines = "\n".join(str(p) for p in problems if p.severity == "error")
        raise SystemExit(f"the knowledge base has errors; fix them and try again:\n{lines}")
    return Engine(knowledge, store, channel=channel)
