"""In-process state: the embedded default. Correct for exactly one process."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict

from bot.state.base import Begin, LockTimeout, Quota, Seen, State, StateStore, Turn, dump_state, load_state


class MemoryStore(StateStore):
    name = "memory"
    shared = False

    def __init__(self, **kwargs: float) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._values: dict[str, tuple[str, float | None]] = {}
        self._pending: dict[str, asyncio.Future[str]] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._lock_users: defaultdict[str, int] = defaultdict(int)

    # -- expiry ------------------------------------------------------------------------
    def _read(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._values[key]
            return None
        return value

    def _write(self, key: str, value: str, ttl_s: float | None) -> None:
        self._values[key] = (value, None if ttl_s is None else time.monotonic() + ttl_s)
        if len(self._values) % 1024 == 0:
            self._sweep()

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._values.items() if exp is not None and exp <= now]:
            del self._values[key]

    # -- one delivery --------------------------------------------------------------------
    async def begin(self, dedup_key: str, openid: str, seen: Seen | None = None, quota: Quota | None = None) -> Begin:
        if seen is not None:
            before = self._read(seen.key)
            if before is not None and before != seen.digest:
                return Begin("replayed")
            if before is None:
                self._write(seen.key, seen.digest, seen.ttl_s)
        done = self._read("dedup:" + dedup_key)
        if done is not None:
            return Begin("duplicate", reply=done)
        if dedup_key in self._pending:
            return Begin("pending")
        self._pending[dedup_key] = asyncio.get_running_loop().create_future()
        if quota is not None and (count := self._count("kv:" + quota.key, quota.window_s)) > quota.limit:
            return Begin("limited", count=count)
        lock = self._locks[openid]
        self._lock_users[openid] += 1
        try:
            await asyncio.wait_for(lock.acquire(), self.lock_timeout_s)
        except BaseException as exc:  # our timeout, or the caller's cancellation: forget the claim
            self._drop_lock_user(openid)
            self._pending.pop(dedup_key).cancel()
            if isinstance(exc, TimeoutError):
                raise LockTimeout(openid) from None
            raise
        state = load_state(self._read("state:" + openid))
        return Begin("new", turn=Turn(dedup_key, openid, secrets.token_hex(8), state))

    async def commit(self, turn: Turn, state: State | None, state_ttl_s: int, reply: str) -> None:
        if state is None:
            self._values.pop("state:" + turn.openid, None)
        else:
            self._write("state:" + turn.openid, dump_state(state), state_ttl_s)
        self._keep(turn.dedup_key, reply)
        self._unlock(turn.openid)

    async def abort(self, turn: Turn) -> None:
        future = self._pending.pop(turn.dedup_key, None)
        if future is not None:
            future.cancel()
        self._unlock(turn.openid)

    def _unlock(self, openid: str) -> None:
        self._locks[openid].release()
        self._drop_lock_user(openid)

    def _drop_lock_user(self, openid: str) -> None:
        self._lock_users[openid] -= 1
        if self._lock_users[openid] == 0:  # nobody holds or waits: forget the lock
            del self._lock_users[openid]
            del self._locks[openid]

    async def keep_reply(self, dedup_key: str, reply: str) -> None:
        self._keep(dedup_key, reply)

    def _keep(self, dedup_key: str, reply: str) -> None:
        self._write("dedup:" + dedup_key, reply, self.dedup_ttl_s)
        future = self._pending.pop(dedup_key, None)
        if future is not None and not future.done():
            future.set_result(reply)

    async def wait_reply(self, dedup_key: str, timeout_s: float) -> str | None:
        done = self._read("dedup:" + dedup_key)
        if done is not None:
            return done
        future = self._pending.get(dedup_key)
        if future is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            return None

    # -- state outside a turn ----------------------------------------------------------
    async def load_state(self, openid: str) -> State | None:
        return load_state(self._read("state:" + openid))

    async def delete_state(self, openid: str) -> None:
        self._values.pop("state:" + openid, None)

    # -- small shared values -----------------------------------------------------------
    async def get(self, key: str) -> str | None:
        return self._read("kv:" + key)

    async def set(self, key: str, value: str, ttl_s: float | None = None, *, only_new: bool = False) -> bool:
        if only_new and self._read("kv:" + key) is not None:
            return False
        self._write("kv:" + key, value, ttl_s)
        return True

    async def incr(self, key: str, ttl_s: float) -> int:
        return self._count("kv:" + key, ttl_s)

    def _count(self, key: str, ttl_s: float) -> int:
        item = self._read(key)
        if item is None:
            self._write(key, "1", ttl_s)
            return 1
        count = int(item) + 1
        self._values[key] = (str(count), self._values[key][1])
        return count

    async def delete(self, key: str) -> None:
        self._values.pop("kv:" + key, None)

    async def ping(self) -> bool:
        return True
