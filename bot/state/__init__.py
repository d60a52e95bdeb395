"""Shared state: conversation state, delivery dedup, per-user locks, small shared values.

One interface (`StateStore`), two implementations: in-process memory (embedded, one process)
and Redis (several processes). `open_store` picks the one config.yaml names.
"""

from bot.state.base import Begin, LockTimeout, Quota, Seen, StateStore, Turn
from bot.state.factory import open_store

__all__ = ["Begin", "LockTimeout", "Quota", "Seen", "StateStore", "Turn", "open_store"]
