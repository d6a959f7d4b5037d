"""In-process state: for tests, `ask` and the console; bounded by expiry and a size cap."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from bot.state import base
from bot.state.base import DEFAULT_TTL, ConversationLocks


class MemoryStore(ConversationLocks):
    """In-process store with expiry and a size cap, so memory stays bounded."""

    def __init__(self, ttl: float = DEFAULT_TTL, max_conversations: int = 100_000) -> None:
        super().__init__()
        self.ttl, self.max = ttl, max_conversations
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._events: list[dict[str, Any]] = []

    async def load(self, conversation_id: str) -> str | None:
        item = self._data.get(conversation_id)
        if item is None or item[0] < time.time() - self.ttl:
            self._data.pop(conversation_id, None)
            return None
        return item[1]

    async def save(self, conversation_id: str, state: str) -> None:
        now = time.time()
        self._data[conversation_id] = (now, state)
        self._data.move_to_end(conversation_id)
        # Oldest first (saves move to the end): drop what has expired, then what exceeds the cap.
        while self._data:
            _, (updated, _) = next(iter(self._data.items()))
            if updated >= now - self.ttl and len(self._data) <= self.max:
                break
            self._data.popitem(last=False)

    async def ready(self) -> bool:
        return True

    async def record(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        del self._events[: max(0, len(self._events) - base.MAX_EVENTS)]
        cutoff = base.event_cutoff()
        while self._events and self._events[0].get("time", 0) < cutoff:
            del self._events[0]

    async def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        since = max(since, base.event_cutoff())
        return [e for e in self._events if e.get("time", 0) >= since]

    async def close(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._data)
