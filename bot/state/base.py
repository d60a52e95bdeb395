"""The state store contract.

A webhook delivery is one *turn*: `begin` claims the delivery's dedup key and takes the user's
lock before reading their state; `commit` saves the new state, keeps the reply under the dedup
key for WeChat's retries and releases the lock; `abort` undoes the claim so that a retry runs
again. Each step is one round trip on Redis.

A delivery may come with a `Quota`, its sender's messages counted in a window (shared by every
process): `begin` counts it after the claim, so a retry is not counted twice, and before the lock,
so a flood never queues on it. A delivery over the quota is "limited": claimed, with no lock and
no state; `keep_reply` keeps its reply for WeChat's retries.
"""

from __future__ import annotations

import abc
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

State = dict[str, Any]

log = logging.getLogger(__name__)


class LockTimeout(Exception):
    """The user's previous message is still being handled after lock_timeout_s."""


@dataclass(frozen=True, slots=True)
class Turn:
    """The right to handle one delivery: the user's lock is held until commit/abort."""

    dedup_key: str
    openid: str
    token: str
    state: State | None


@dataclass(frozen=True, slots=True)
class Seen:
    """A signed callback query (timestamp, nonce, signature) and its body's hash, remembered for
    `ttl_s`: the same query with the same body again is a retry, with another body a replay."""

    key: str
    digest: str
    ttl_s: int


@dataclass(frozen=True, slots=True)
class Quota:
    """At most `limit` deliveries counted under `key` in a window of `window_s` seconds, opened by
    the first one counted (a fixed window: the count expires with it)."""

    key: str
    limit: int
    window_s: float


@dataclass(frozen=True, slots=True)
class Begin:
    kind: Literal["new", "duplicate", "pending", "replayed", "limited"]
    turn: Turn | None = None  # for "new"
    reply: str | None = None  # for "duplicate": the reply given to the first delivery
    count: int = 0  # for "limited": the quota's count with this delivery (limit + 1 for the first over it)


class StateStore(abc.ABC):
    name: str
    shared: bool  # True when several processes may use it

    def __init__(self, *, dedup_ttl_s: int, lock_timeout_s: float, lock_ttl_s: float = 60.0) -> None:
        self.dedup_ttl_s = dedup_ttl_s
        self.lock_timeout_s = lock_timeout_s
        self.lock_ttl_s = lock_ttl_s

    # -- one delivery --------------------------------------------------------------------
    @abc.abstractmethod
    async def begin(self, dedup_key: str, openid: str, seen: Seen | None = None, quota: Quota | None = None) -> Begin:
        """Claim the delivery; if new, wait for the user's lock and load their state. With `seen`,
        first remember the signed query (in the same step as the claim: one round trip), or
        answer "replayed" when it was seen before with another body; nothing is claimed then.
        With `quota`, count a newly claimed delivery (in the same step) and answer "limited" when
        the count is over the limit: the claim stands, waiting for `keep_reply`.

        Raises LockTimeout (after releasing the claim) when the lock is not free in time.
        """

    @abc.abstractmethod
    async def commit(self, turn: Turn, state: State | None, state_ttl_s: int, reply: str) -> None:
        """Save (or with None, delete) the state, keep the reply, release the lock."""

    @abc.abstractmethod
    async def abort(self, turn: Turn) -> None:
        """Forget the claim and release the lock, leaving the state as it was."""

    @abc.abstractmethod
    async def keep_reply(self, dedup_key: str, reply: str) -> None:
        """Answer a "limited" delivery's claim: keep the reply for its retries and its waiters."""

    @abc.abstractmethod
    async def wait_reply(self, dedup_key: str, timeout_s: float) -> str | None:
        """The reply of a delivery being handled elsewhere, or None if not done in time."""

    # -- state outside a turn (pushes, admin tools) ----------------------------------------
    @abc.abstractmethod
    async def load_state(self, openid: str) -> State | None: ...

    @abc.abstractmethod
    async def delete_state(self, openid: str) -> None: ...

    # -- small shared values (tokens, limits) ----------------------------------------------
    @abc.abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: str, ttl_s: float | None = None, *, only_new: bool = False) -> bool:
        """Store a value; with only_new, only if the key is absent. True if stored."""

    @abc.abstractmethod
    async def incr(self, key: str, ttl_s: float) -> int:
        """Add one and return the count; the count expires ttl_s after its first increment."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> bool: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


# Built once: json.dumps builds a new encoder on every call that passes options.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump_state(state: State) -> str:
    return _ENCODER.encode(state)


def load_state(raw: str | bytes | None) -> State | None:
    """The saved state, or None when there is none, or when what is saved is not a state (not
    JSON, or not an object: a bad write, another program's key): that is logged and read as none,
    so that the resident starts again instead of every message of theirs failing."""
    if raw is None:
        return None
    try:
        state = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError: JSONDecodeError, or bytes that are not UTF-8
        state = None
    if isinstance(state, dict):
        return state
    log.warning("a saved conversation state is not a JSON object; read as no state")
    return None
