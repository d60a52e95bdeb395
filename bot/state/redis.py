"""Redis state (redis.asyncio): shared by every web and worker process.

Each turn step is one Lua script, so a delivery costs two round trips in the common case.
A per-process lock in front of the Redis lock keeps one user's deliveries in arrival order
inside a process and saves Redis from polling. The scripts go over one pipelined connection
(`_Pipeline`); everything else uses redis-py's client.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.state.base import Begin, LockTimeout, State, StateStore, Turn, dump_state, load_state

_PENDING = "P"
_DONE = "R"  # prefix of a kept reply (a reply may be empty)

# KEYS: dedup, lock, state. ARGV: dedup_ttl_ms, token, lock_ttl_ms, steps ('c' claim, 'l' lock)
_BEGIN = """
if string.find(ARGV[4], 'c', 1, true) then
  local prev = redis.call('GET', KEYS[1])
  if prev then return {'seen', prev} end
  redis.call('SET', KEYS[1], 'P', 'PX', ARGV[1])
end
if not string.find(ARGV[4], 'l', 1, true) then return {'claimed', false} end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {'ok', redis.call('GET', KEYS[3])}
end
return {'locked', false}
"""

# KEYS: dedup, lock, state. ARGV: reply, dedup_ttl_ms, token, state ('' = delete), state_ttl_ms
_COMMIT = """
redis.call('SET', KEYS[1], 'R' .. ARGV[1], 'PX', ARGV[2])
if ARGV[4] == '' then redis.call('DEL', KEYS[3])
else redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5]) end
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""

# KEYS: dedup, lock. ARGV: token
_ABORT = """
if redis.call('GET', KEYS[1]) == 'P' then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""


# KEYS: counter. ARGV: ttl_ms. The expiry is set with the first increment only (a fixed window).
_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


Script = Callable[[list[str], list[str | int]], Awaitable[Any]]


@dataclass(eq=False)
class _Link:
    conn: AbstractConnection
    timeout: float | None  # the URL's socket_timeout, applied per command
    replies: deque[asyncio.Future[Any]] = field(default_factory=deque)
    reader: asyncio.Task[None] | None = None
    unsent: list[bytes] = field(default_factory=list)


class _Pipeline:
    """One connection for the turn scripts: the commands of one event-loop pass go out in one
    write, and one reader task hands the replies out in order.

    redis-py's pool checks a connection out for every command, and first probes it with a read
    that waits a loop iteration under the pool's lock; with two scripts per delivery that was more
    than half the process's time under load (bench/README.md). redis-py still opens the connection
    (AUTH, SELECT, TLS from the URL). A broken connection fails the commands in flight, as the
    pool's would; the next command connects again.
    """

    def __init__(self, redis: Redis) -> None:
        self._pool = redis.connection_pool
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()

    def script(self, source: str) -> Script:
        sha = hashlib.sha1(source.encode()).hexdigest()

        async def run(keys: list[str], args: list[str | int]) -> Any:
            try:
                return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
            except NoScriptError:  # a restarted or flushed Redis: EVAL caches the script again
                return await self.execute("EVAL", source, len(keys), *keys, *args)

        return run

    async def execute(self, *args: str | int) -> Any:
        link = self._link or await self._connect()
        loop = asyncio.get_running_loop()
        reply = loop.create_future()
        link.replies.append(reply)
        if not link.unsent:
            loop.call_soon(self._flush, link)
        link.unsent.append(hiredis.pack_command(args))  # in C: a fifth of redis-py's pack_command
        if link.timeout is None:
            return await reply
        try:
            async with asyncio.timeout(link.timeout):
                return await reply
        except TimeoutError:
            raise RedisTimeoutError(f"no reply from Redis within {link.timeout} s") from None

    @staticmethod
    def _flush(link: _Link) -> None:
        if link.conn.is_connected:
            link.conn._writer.writelines(link.unsent)  # type: ignore[union-attr]
        link.unsent.clear()

    async def _connect(self) -> _Link:
        async with self._connecting:
            if self._link is None:
                kwargs = dict(self._pool.connection_kwargs)
                timeout = kwargs.get("socket_timeout")
                # The reader waits for replies however long it is idle; commands time out one by one.
                kwargs.update(
                    socket_timeout=None, socket_connect_timeout=kwargs.get("socket_connect_timeout") or timeout
                )
                conn = self._pool.connection_class(**kwargs)
                await conn.connect()
                link = _Link(conn, timeout)
                link.reader = asyncio.create_task(self._read(link))
                self._link = link
            return self._link

    async def _read(self, link: _Link) -> None:
        try:
            while True:
                try:
                    result = await link.conn.read_response()
                except ResponseError as exc:
                    result = exc
                reply = link.replies.popleft()
                if reply.done():  # its caller stopped waiting
                    continue
                if isinstance(result, ResponseError):
                    reply.set_exception(result)
                else:
                    reply.set_result(result)
        except Exception as exc:
            await self._drop(link, RedisConnectionError(f"Redis connection lost: {exc}"))

    async def _drop(self, link: _Link, error: Exception) -> None:
        if self._link is link:
            self._link = None
        while link.replies:
            reply = link.replies.popleft()
            if not reply.done():
                reply.set_exception(error)
        await link.conn.disconnect(nowait=True)

    async def close(self) -> None:
        link = self._link
        if link is None:
            return
        if link.reader is not None:
            link.reader.cancel()
        await self._drop(link, RedisConnectionError("the state store is closed"))


class RedisStore(StateStore):
    name = "redis"
    shared = True

    def __init__(self, url: str, *, prefix: str = "rb:", **kwargs: float) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.redis = Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self._pipeline = _Pipeline(self.redis)
        self._begin = self._pipeline.script(_BEGIN)
        self._commit = self._pipeline.script(_COMMIT)
        self._abort = self._pipeline.script(_ABORT)
        self._incr = self.redis.register_script(_INCR)
        # A lock token need only be unique: a random prefix per store and a counter, no syscall each.
        self._tokens = map(f"{secrets.token_hex(8)}-{{:x}}".format, itertools.count())
        self._local: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._local_users: defaultdict[str, int] = defaultdict(int)

    def _keys(self, dedup_key: str, openid: str) -> list[str]:
        p = self.prefix
        return [f"{p}dedup:{dedup_key}", f"{p}lock:{openid}", f"{p}state:{openid}"]

    async def begin(self, dedup_key: str, openid: str) -> Begin:
        keys = self._keys(dedup_key, openid)
        token = next(self._tokens)
        deadline = time.monotonic() + self.lock_timeout_s
        local = self._local[openid]
        self._local_users[openid] += 1
        holds_local = claimed = started = False

        async def run(steps: str) -> tuple[str, str | None]:
            status, value = await self._begin(
                keys, [int(self.dedup_ttl_s * 1000), token, int(self.lock_ttl_s * 1000), steps]
            )
            return status, value

        try:
            # `claimed` is set before a claiming script is awaited: if the wait is cut short after
            # Redis ran it, the abort still releases it (aborting an unclaimed key changes nothing).
            if not local.locked():
                await local.acquire()  # free: returns at once
                holds_local = claimed = True
                status, value = await run("cl")
            else:  # an earlier message of this user runs here: claim now, so a retry sees it
                claimed = True
                status, value = await run("c")
                if status != "seen":
                    await asyncio.wait_for(local.acquire(), max(0.0, deadline - time.monotonic()))
                    holds_local = True
                    status, value = await run("l")
            if status == "seen":
                claimed = False  # someone else's claim: not ours to abort
                return Begin("pending") if value == _PENDING else Begin("duplicate", reply=value[1:])
            delay = 0.002
            while status == "locked":  # another process holds this user's lock
                if time.monotonic() + delay > deadline:
                    raise TimeoutError
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
                status, value = await run("l")
            started = True
            return Begin("new", turn=Turn(dedup_key, openid, token, load_state(value)))
        except TimeoutError:
            raise LockTimeout(openid) from None
        finally:
            if not started:
                if claimed:
                    await self._abort(keys[:2], [token])
                if holds_local:
                    local.release()
                self._drop_local_user(openid)

    def _release_local(self, openid: str) -> None:
        self._local[openid].release()
        self._drop_local_user(openid)

    def _drop_local_user(self, openid: str) -> None:
        self._local_users[openid] -= 1
        if self._local_users[openid] == 0:
            del self._local_users[openid]
            del self._local[openid]

    async def commit(self, turn: Turn, state: State | None, state_ttl_s: int, reply: str) -> None:
        try:
            await self._commit(
                self._keys(turn.dedup_key, turn.openid),
                [
                    reply,
                    int(self.dedup_ttl_s * 1000),
                    turn.token,
                    "" if state is None else dump_state(state),
                    int(state_ttl_s * 1000),
                ],
            )
        finally:
            self._release_local(turn.openid)

    async def abort(self, turn: Turn) -> None:
        try:
            await self._abort(self._keys(turn.dedup_key, turn.openid)[:2], [turn.token])
        finally:
            self._release_local(turn.openid)

    async def wait_reply(self, dedup_key: str, timeout_s: float) -> str | None:
        key = f"{self.prefix}dedup:{dedup_key}"
        deadline = time.monotonic() + timeout_s
        while True:
            value = await self.redis.get(key)
            if value is None:
                return None
            if value != _PENDING:
                return value[len(_DONE) :]
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.025)

    async def load_state(self, openid: str) -> State | None:
        return load_state(await self.redis.get(f"{self.prefix}state:{openid}"))

    async def delete_state(self, openid: str) -> None:
        await self.redis.delete(f"{self.prefix}state:{openid}")

    async def get(self, key: str) -> str | None:
        return await self.redis.get(f"{self.prefix}kv:{key}")

    async def set(self, key: str, value: str, ttl_s: float | None = None, *, only_new: bool = False) -> bool:
        px = None if ttl_s is None else max(1, int(ttl_s * 1000))
        return bool(await self.redis.set(f"{self.prefix}kv:{key}", value, px=px, nx=only_new))

    async def incr(self, key: str, ttl_s: float) -> int:
        count = int(await self._incr([f"{self.prefix}kv:{key}"], [max(1, int(ttl_s * 1000))]))
        return count

    async def delete(self, key: str) -> None:
        await self.redis.delete(f"{self.prefix}kv:{key}")

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._pipeline.close()
        await self.redis.aclose()
