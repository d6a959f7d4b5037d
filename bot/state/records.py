"""What is kept of one conversation: its language, open flow, last answer and offered options."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FlowState:
    flow: str
    node: str
    facts: dict[str, Any] = field(default_factory=dict)
    # Each step: {"node": id, "answer": choice id or number, "facts": facts before the answer}.
    history: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    #: Situation id → the words of the first message that showed it: later questions they answer are pre-filled.
    given: dict[str, str] = field(default_factory=dict)
    #: True while the flow is offered ("Continue: …") rather than asked: typed text is then read as a new question.
    paused: bool = False


SEEN_IDS = 64  # message ids remembered per conversation; channels retry within seconds, replays come in bursts


@dataclass
class ConversationState:
    lang: str = "sv"
    lang_chosen: bool = False
    lang_guessed: bool = False
    started: bool = False
    flow: FlowState | None = None
    #: The options last offered, as [label, value], so "2" or a typed label can pick one.
    options: list[list[str]] = field(default_factory=list)
    #: What the last substantive answer was, for "why" and "sources".
    last: dict[str, Any] | None = None
    knowledge_version: str = ""
    updated: float = 0.0
    #: Channel message ids applied lately (Telegram update_id, Teams activity id): a replay is applied once.
    seen: list[str] = field(default_factory=list)
    #: privacy.redact's carry: the end of the last message may begin a number the next one finishes.
    carry: str | None = None
    #: What the last question typed showed (situation id → the words that showed it, never the message
    #: itself): a flow picked from the options of its reply is pre-filled as if the message had started it.
    described: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        # The fields as they stand (json reads the nested FlowState through `_fields`): the same JSON as
        # dataclasses.asdict gives, without its deep copy of every history step on every turn.
        return json.dumps(self, default=_fields, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> ConversationState:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            flow = data.pop("flow", None)
            state = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
            state.flow = FlowState(**flow) if flow else None
            return state
        except (ValueError, TypeError):
            return cls()  # unreadable state (e.g. an old format): start afresh rather than fail


def _fields(value: Any) -> dict[str, Any]:
    if isinstance(value, (ConversationState, FlowState)):
        return {name: getattr(value, name) for name in value.__dataclass_fields__}
    raise TypeError(f"{type(value).__name__} is not part of a conversation state")


def event_json(event: dict[str, Any]) -> str:
    """An event as JSON for a store. ASCII escapes, because the recorded text is the user's and may
    hold lone surrogates that no UTF-8 encoder (SQLite, Redis) accepts; json.loads restores them."""
    return json.dumps(event, separators=(",", ":"))
