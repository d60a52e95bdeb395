"""Build the store redis.url selects, and keep the in-memory one to a single process."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from bot.config import ConfigError, Settings
from bot.state.base import StateStore

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> StateStore:
    dedup_ttl_s, lock_timeout_s = settings.state.dedup_ttl_s, settings.state.lock_timeout_s
    if settings.state_backend == "redis":
        from bot.state.redis import RedisStore

        log.info("state: redis (shared by every process)")
        return RedisStore(settings.redis.url, dedup_ttl_s=dedup_ttl_s, lock_timeout_s=lock_timeout_s)
    from bot.state.memory import MemoryStore

    log.warning("state: in-memory (embedded default, one process only); set redis.url to run several processes")
    return MemoryStore(dedup_ttl_s=dedup_ttl_s, lock_timeout_s=lock_timeout_s)


class SingleProcessGuard:
    """An exclusive lock file: a second process with in-memory state on this machine is refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "?"
            handle.close()
            raise ConfigError(
                f"config: redis.url: is empty, and memory state is for one process: process {other} already "
                "uses it; stop it, or set redis.url to share state in Redis"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
