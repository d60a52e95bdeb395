"""Redis state (redis.asyncio): shared by every web and worker process.

Each turn step is one Lua script, so a delivery costs two round trips in the common case.
A per-process lock in front of the Redis lock keeps one user's deliveries in arrival order
inside a process and saves Redis from polling. The scripts and the store's other commands go to
Redis in pipelines, all those asked in the meantime in one (`_Batches`); only the readiness ping
is a command of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import hiredis
from redis.asyncio import Connection, Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError

from bot.config import sentinel_url
from bot.state.base import Begin, LockTimeout, Quota, Seen, State, StateStore, Turn, dump_state, load_state

_PENDING = "P"
_DONE = "R"  # prefix of a kept reply (a reply may be empty)

# KEYS: dedup, lock, state, seen, quota. ARGV: dedup_ttl_ms, token, lock_ttl_ms, steps ('c'
# claim, 'l' lock), the body's digest for the seen query ('' for none), seen_ttl_ms, the quota's
# limit ('' for none), its window_ms. The quota counts as _INCR does.
_BEGIN = """
if string.find(ARGV[4], 'c', 1, true) then
  if ARGV[5] ~= '' then
    local was = redis.call('GET', KEYS[4])
    if was and was ~= ARGV[5] then return {'replayed', false} end
    if not was then redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[6]) end
  end
  local prev = redis.call('GET', KEYS[1])
  if prev then return {'seen', prev} end
  redis.call('SET', KEYS[1], 'P', 'PX', ARGV[1])
  if ARGV[7] ~= '' then
    local n = redis.call('INCR', KEYS[5])
    if n == 1 then redis.call('PEXPIRE', KEYS[5], ARGV[8]) end
    if n > tonumber(ARGV[7]) then return {'limited', n} end
  end
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
_Queued = tuple[tuple[str | int, ...], "asyncio.Future[Any]"]


def _split_name(args: tuple[Any, ...]) -> tuple[Any, ...]:
    # As redis-py does: a command name may carry its subcommand ("SCRIPT LOAD").
    name = args[0]
    if isinstance(name, str) and " " in name:
        return (*name.split(), *args[1:])
    if isinstance(name, bytes) and b" " in name:
        return (*name.split(), *args[1:])
    return args


def connect(url: str) -> Redis:
    """A redis-py client for the URL: TCP, TLS or a Unix socket, or the master Sentinel names.

    Through Sentinel, each new connection asks the sentinels where the master is, and a connection
    still on a master that was demoted fails (ReadOnlyError becomes ConnectionError, redis-py's
    SentinelManagedConnection): the next one goes to the new master.

    A value that is not UTF-8 (none the bot writes is) reads with U+FFFD in place of its bad bytes:
    decoded strictly it failed its whole batch, and a user's garbled state every message of theirs.
    """
    sentinel = sentinel_url(url)
    if sentinel is None:
        return Redis.from_url(url, decode_responses=True, encoding_errors="replace")
    # A sentinel that does not answer within a second is passed over for the next one in the list.
    sentinels = Sentinel(sentinel.sentinels, sentinel_kwargs={"socket_timeout": 1.0, "socket_connect_timeout": 1.0})
    return sentinels.master_for(
        sentinel.master,
        db=sentinel.db,
        username=sentinel.username,
        password=sentinel.password,
        decode_responses=True,
        encoding_errors="replace",
    )


async def disconnect(redis: Redis) -> None:
    """Close a client of `connect`, and through Sentinel its connections to the sentinels."""
    await redis.aclose()
    if isinstance(redis.connection_pool, SentinelConnectionPool):
        for sentinel in redis.connection_pool.sentinel_manager.sentinels:
            await sentinel.aclose()


class _Batches:
    """The store's commands go to Redis in batches: everything asked while one batch is out goes
    in the next, in order, on one connection the store keeps for them.

    Sent one by one, each command checks a connection out of redis-py's pool, and the pool first
    probes it with a read that waits a loop iteration under the pool's lock: with two scripts per
    delivery that was more than half the process's time under load (bench/README.md). A batch is
    one write of the commands packed by hiredis's C `pack_command` (redis-py's asyncio client packs
    in Python, argument by argument), then one reply read per command, through the connection's
    public `send_packed_command` and `read_response`: a redis-py pipeline does the same with a
    command stack, a retry wrapper and response callbacks around it, which the store's commands
    (scripts, GET, SET, DEL) do not need, and which cost a tenth of a delivery's instructions. An
    error reply fails its own command; a broken connection fails the batch's commands and goes
    back to the pool closed, and the next batch takes one from the pool again (through Sentinel, a
    new connection to wherever the master is now). One batch at a time keeps the commands in the
    order they were asked (an abort never overtakes the claim it undoes).
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._connection: Connection | None = None
        self._queued: list[_Queued] = []
        self._sender: asyncio.Task[None] | None = None

    def script(self, source: str) -> Script:
        sha = hashlib.sha1(source.encode()).hexdigest()

        async def run(keys: list[str], args: list[str | int]) -> Any:
            try:
                return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
            except NoScriptError:  # a restarted or flushed Redis: EVAL caches the script again
                return await self.execute("EVAL", source, len(keys), *keys, *args)

        return run

    def execute(self, *args: str | int) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        reply = loop.create_future()
        self._queued.append((args, reply))
        if self._sender is None:  # it starts after this loop pass, with all the pass asked
            self._sender = loop.create_task(self._send_all())
        return reply

    async def _send_all(self) -> None:
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                await self._send(batch)
        finally:
            self._sender = None

    async def _send(self, batch: list[_Queued]) -> None:
        packed = b"".join([hiredis.pack_command(_split_name(args)) for args, _ in batch])
        results: list[Any] = []
        try:
            connection = self._connection = self._connection or await self._redis.connection_pool.get_connection()
        except asyncio.CancelledError:
            _hand_out(batch, [_closed()] * len(batch))
            raise
        except Exception as exc:  # Redis is down: the batch's commands fail with the connect
            _hand_out(batch, [exc] * len(batch))
            return
        try:
            await connection.send_packed_command(packed, check_health=False)
            for _ in batch:
                try:
                    results.append(await connection.read_response())
                except ResponseError as exc:  # this command's error reply; the connection is fine
                    results.append(exc)
        except asyncio.CancelledError:
            await self._drop(connection)  # replies may be left unread on it
            _hand_out(batch, [*results, *[_closed()] * (len(batch) - len(results))])
            raise
        except Exception as exc:  # the connection: the commands not answered fail with it
            await self._drop(connection)
            results += [exc] * (len(batch) - len(results))
        _hand_out(batch, results)

    async def _drop(self, connection: Connection) -> None:
        self._connection = None
        await connection.disconnect(nowait=True)
        await self._redis.connection_pool.release(connection)

    async def close(self) -> None:
        sender = self._sender
        if sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        batch, self._queued = self._queued, []
        _hand_out(batch, [_closed()] * len(batch))
        if self._connection is not None:
            await self._redis.connection_pool.release(self._connection)
            self._connection = None


def _hand_out(batch: list[_Queued], results: list[Any]) -> None:
    for (_, reply), result in zip(batch, results, strict=True):
        if reply.done():  # its caller stopped waiting
            continue
        if isinstance(result, Exception):
            reply.set_exception(result)
        else:
            reply.set_result(result)


def _closed() -> RedisConnectionError:
    return RedisConnectionError("the state store is closed")


class RedisStore(StateStore):
    name = "redis"
    shared = True

    def __init__(self, url: str, *, prefix: str = "rb:", **kwargs: float) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.redis = connect(url)
        self.prefix = prefix
        self._batches = _Batches(self.redis)
        self._begin = self._batches.script(_BEGIN)
        self._commit = self._batches.script(_COMMIT)
        self._abort = self._batches.script(_ABORT)
        self._incr = self._batches.script(_INCR)
        # A lock token need only be unique: a random prefix per store and a counter, no syscall each.
        self._tokens = map(f"{secrets.token_hex(8)}-{{:x}}".format, itertools.count())
        self._local: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._local_users: defaultdict[str, int] = defaultdict(int)
        # Turns whose commit or abort did not reach Redis, (dedup key, openid) → lock token: what they
        # left there is undone at this process's next begin (_settle).
        self._unsettled: dict[tuple[str, str], str] = {}

    def _keys(self, dedup_key: str, openid: str) -> list[str]:
        p = self.prefix
        return [f"{p}dedup:{dedup_key}", f"{p}lock:{openid}", f"{p}state:{openid}"]

    async def begin(self, dedup_key: str, openid: str, seen: Seen | None = None, quota: Quota | None = None) -> Begin:
        keys = self._keys(dedup_key, openid)
        # The seen query and the quota ride in the claiming script; without them the dedup key
        # stands in (unused). The quota counts among the small shared values, as incr does.
        script_keys = [
            *keys,
            self.prefix + seen.key if seen else keys[0],
            f"{self.prefix}kv:{quota.key}" if quota else keys[0],
        ]
        digest, seen_ttl_ms = (seen.digest, seen.ttl_s * 1000) if seen else ("", 0)
        limit, window_ms = (quota.limit, max(1, int(quota.window_s * 1000))) if quota else ("", 0)
        if self._unsettled:
            await self._settle()
        token = next(self._tokens)
        deadline = time.monotonic() + self.lock_timeout_s
        local = self._local[openid]
        self._local_users[openid] += 1
        holds_local = claimed = started = False

        async def run(steps: str) -> tuple[str, str | None]:
            status, value = await self._begin(
                script_keys,
                [
                    int(self.dedup_ttl_s * 1000),
                    token,
                    int(self.lock_ttl_s * 1000),
                    steps,
                    digest,
                    seen_ttl_ms,
                    limit,
                    window_ms,
                ],
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
                if status == "claimed":  # not a retry, nor a replay: wait for our turn
                    await asyncio.wait_for(local.acquire(), max(0.0, deadline - time.monotonic()))
                    holds_local = True
                    status, value = await run("l")
            if status == "replayed":
                claimed = False  # nothing was claimed, and the key may be a genuine delivery's
                return Begin("replayed")
            if status == "limited":
                claimed = False  # the claim stands until keep_reply answers it
                return Begin("limited", count=int(value or 0))
            if status == "seen":
                claimed = False  # someone else's claim: not ours to abort
                kept = value or _PENDING  # "seen" always carries the kept value: P, or R and the reply
                return Begin("pending") if kept == _PENDING else Begin("duplicate", reply=kept[len(_DONE) :])
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
                try:
                    if claimed:
                        await self._undo(dedup_key, openid, token)
                finally:  # even when Redis is gone: the user's next message must not wait on us
                    if holds_local:
                        local.release()
                    self._drop_local_user(openid)

    async def _undo(self, dedup_key: str, openid: str, token: str) -> None:
        try:
            await self._abort(self._keys(dedup_key, openid)[:2], [token])
        except RedisError:
            self._unsettled[dedup_key, openid] = token
            raise

    async def _settle(self) -> None:
        """Undo the claims and locks left by turns whose commit or abort did not reach Redis (it went
        away, and came back with its data): else the user's next message waits out the lock's
        lock_ttl_s, and WeChat's retry finds the claim pending. A commit that did reach Redis after
        all is left as it is: _ABORT deletes only a claim still pending and a lock still this turn's."""
        unsettled, self._unsettled = self._unsettled, {}
        undone = await asyncio.gather(
            *(self._abort(self._keys(*turn)[:2], [token]) for turn, token in unsettled.items()),
            return_exceptions=True,
        )
        for (turn, token), result in zip(unsettled.items(), undone, strict=True):
            if isinstance(result, Exception):
                self._unsettled.setdefault(turn, token)  # Redis is still away: at the next begin

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
        except RedisError:
            self._unsettled[turn.dedup_key, turn.openid] = turn.token
            raise
        finally:
            self._release_local(turn.openid)

    async def abort(self, turn: Turn) -> None:
        try:
            await self._undo(turn.dedup_key, turn.openid, turn.token)
        finally:
            self._release_local(turn.openid)

    async def keep_reply(self, dedup_key: str, reply: str) -> None:
        await self._batches.execute(
            "SET", f"{self.prefix}dedup:{dedup_key}", _DONE + reply, "PX", int(self.dedup_ttl_s * 1000)
        )

    async def wait_reply(self, dedup_key: str, timeout_s: float) -> str | None:
        key = f"{self.prefix}dedup:{dedup_key}"
        deadline = time.monotonic() + timeout_s
        while True:
            value = await self._batches.execute("GET", key)
            if value is None:
                return None
            if value != _PENDING:
                return value[len(_DONE) :]
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.025)

    # Batched too: the callback's replay memory sets a key for every push, and rate limits count.

    async def load_state(self, openid: str) -> State | None:
        return load_state(await self._batches.execute("GET", f"{self.prefix}state:{openid}"))

    async def delete_state(self, openid: str) -> None:
        await self._batches.execute("DEL", f"{self.prefix}state:{openid}")

    async def get(self, key: str) -> str | None:
        value: str | None = await self._batches.execute("GET", f"{self.prefix}kv:{key}")
        return value

    async def set(self, key: str, value: str, ttl_s: float | None = None, *, only_new: bool = False) -> bool:
        args: list[str | int] = ["SET", f"{self.prefix}kv:{key}", value]
        if ttl_s is not None:
            args += ["PX", max(1, int(ttl_s * 1000))]
        if only_new:
            args.append("NX")
        return bool(await self._batches.execute(*args))  # OK, or nil when only_new found the key

    async def incr(self, key: str, ttl_s: float) -> int:
        return int(await self._incr([f"{self.prefix}kv:{key}"], [max(1, int(ttl_s * 1000))]))

    async def delete(self, key: str) -> None:
        await self._batches.execute("DEL", f"{self.prefix}kv:{key}")

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._batches.close()
        await disconnect(self.redis)
