"""The one entry point every adapter calls: `await engine.handle(conversation_id, incoming)`.

The engine owns the knowledge (swapped whole on reload) and the state store;
it runs the pure `Dialogue` under a per-conversation lock so two messages of
one conversation never interleave, redacts personal data before anything is
stored, and records what it could not answer.
"""

from __future__ import annotations

import gc
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from bot import metrics
from bot.conversation.dialogue import Dialogue
from bot.conversation.messages import t
from bot.conversation.replies import Reply, Response
from bot.knowledge import Knowledge
from bot.knowledge.loading import load_knowledge
from bot.knowledge.parameters import activate
from bot.knowledge.yamlfile import Problem
from bot.settings import load_settings
from bot.state import ConversationState, MemoryStore, StateStore
from bot.state.records import SEEN_IDS
from bot.understanding.language import from_locale, guess_language
from bot.understanding.pipeline import Incoming, prepare
from bot.understanding.privacy import pseudonym

log = logging.getLogger("regellotsen.engine")


class Engine:
    def __init__(
        self, knowledge: Knowledge, store: StateStore | None = None, *, channel: str = "console", today: Callable[[], date] = date.today
    ) -> None:
        self._knowledge = knowledge
        #: The date written on documents (the checklist); tests pass a fixed one.
        self.today = today
        self.store: StateStore = store if store is not None else MemoryStore()
        self.channel = channel
        # Salt for hashing user ids in records; random per process unless configured.
        self._salt = load_settings().secret("salt") or secrets.token_hex(16)
        metrics.knowledge_loaded(knowledge.version)
        self._settled = False

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
            metrics.reload(False)
            return False, problems
        if knowledge.version != self._knowledge.version:
            log.info("knowledge reloaded: %s (version %s)", knowledge.summary(), knowledge.version)
        if self._settled:
            gc.unfreeze()  # the previous knowledge must become collectable again
        self._knowledge = knowledge
        if self._settled:
            self.settle()
        metrics.reload(True, knowledge.version)
        return True, problems

    def settle(self) -> None:
        """Take the loaded knowledge (and everything else alive now) out of the cyclic collector's view.

        It is large and lives as long as the process; otherwise each full collection walks all of it, a
        pause of 70–160 ms on whatever message happens to trigger it. Servers and the chat call this once
        after loading (and `reload` again after a swap); tests that build many engines do not."""
        gc.collect()
        gc.freeze()
        self._settled = True

    async def ready(self) -> bool:
        try:
            return await self.store.ready()
        except Exception:  # noqa: BLE001 — readiness must answer, not raise
            metrics.store_error("ready")
            return False

    async def handle(
        self,
        conversation_id: str,
        incoming: Incoming,
        *,
        user: str | None = None,
        deliver: Callable[[Response], Awaitable[None]] | None = None,
        message_id: str | None = None,
    ) -> Response:
        """One turn: prepare the message, step the dialogue under the conversation's lock, save.

        `deliver`, when given, sends the replies while the lock is still held, so the next turn of
        the same conversation cannot overtake them (channels pass their sender here).
        `message_id`, the channel's id of the message (Telegram update_id, Teams activity id): a
        message already applied to this conversation is not applied again; its response has kind
        "duplicate", no replies, and nothing is delivered or saved."""
        original = incoming
        prepared = prepare(incoming)
        incoming = prepared.incoming
        delivery_failed: BaseException | None = None
        try:
            async with self.store.lock(conversation_id):
                state = ConversationState.from_json(await self.store.load(conversation_id))
                if message_id is not None and message_id in state.seen:
                    log.info("a message already applied to this conversation came again: ignored")
                    return Response([], "duplicate", state.lang)
                if state.carry is not None and original.text is not None:
                    prepared = prepare(original, state.carry)  # the last message may have begun a number this one ends
                    incoming = prepared.incoming
                response = self._respond(state, incoming)
                state.carry = prepared.carry
                if message_id is not None:
                    state.seen = [*state.seen, message_id][-SEEN_IDS:]
                state.updated = time.time()
                await self.store.save(conversation_id, state.to_json())
                if prepared.personal_data:
                    response.replies.insert(1 if response.urgent else 0, Reply(t("privacy_warning", response.lang)))
                if deliver is not None:
                    try:
                        await deliver(response)
                    except Exception as exc:  # noqa: BLE001 — the channel's failure, raised to it below
                        delivery_failed = exc
        except Exception as exc:  # noqa: BLE001 — storage trouble must not crash a conversation
            log.error("conversation store unavailable: %s", type(exc).__name__)
            metrics.store_error("turn")
            return await self._unavailable(incoming, deliver)
        if delivery_failed is not None:
            raise delivery_failed
        if (response.kind in ("fallback", "clarify") or response.unanswered) and incoming.text:
            await self._record_unanswered(response, incoming.text, user)
        return response

    async def _unavailable(self, incoming: Incoming, deliver: Callable[[Response], Awaitable[None]] | None) -> Response:
        lang = guess_language(incoming.text or "") or from_locale(incoming.locale) or "sv"
        response = Response([Reply(t("unavailable", lang))], "error", lang)
        if deliver is not None:
            await deliver(response)
        return response

    def _respond(self, state: ConversationState, incoming: Incoming) -> Response:
        try:
            activate(self._knowledge.parameter_table)  # texts and rules read this knowledge's dated parameters
            return Dialogue(self._knowledge, self.today()).respond(state, incoming)
        except Exception:  # noqa: BLE001 — a bug must cost one reply, not the conversation
            log.exception("engine error (message text not logged)")
            return Response([Reply(t("fallback", state.lang))], "fallback", state.lang)

    async def _record_unanswered(self, response: Response, text: str, user: str | None) -> None:
        event = {
            "type": response.kind if response.kind in ("fallback", "clarify") else "not-understood",
            "text": text[:500],  # already cleaned and redacted by the pipeline
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
            metrics.store_error("record")


def load_engine(directory: Path | None = None, store: StateStore | None = None, channel: str = "console") -> Engine:
    """Load the knowledge or exit with its problems (for the CLI and adapters)."""
    knowledge, problems = load_knowledge(directory)
    if knowledge is None:
        lines = "\n".join(str(p) for p in problems if p.severity == "error")
        raise SystemExit(f"the knowledge base has errors; fix them and try again:\n{lines}")
    engine = Engine(knowledge, store, channel=channel)
    engine.settle()
    return engine

