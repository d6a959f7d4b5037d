"""Conversation state and where it is kept: records, the store interface, memory, SQLite and Redis stores.

SQLite is for one bot process: its conversation lock is in-process only. Run
several processes against Redis, whose lock holds across processes.
"""

from bot.state.base import DEFAULT_TTL, MAX_EVENTS, ConversationLocks, StateStore, StoreUnavailable, ttl_from_env
from bot.state.factory import open_store
from bot.state.memory import MemoryStore
from bot.state.records import ConversationState, FlowState, event_json
from bot.state.sqlite import SQLiteStore, StateFileError, default_state_path

__all__ = [
    "DEFAULT_TTL",
    "MAX_EVENTS",
    "ConversationLocks",
    "ConversationState",
    "FlowState",
    "MemoryStore",
    "SQLiteStore",
    "StateFileError",
    "StateStore",
    "StoreUnavailable",
    "default_state_path",
    "event_json",
    "open_store",
    "ttl_from_env",
]
