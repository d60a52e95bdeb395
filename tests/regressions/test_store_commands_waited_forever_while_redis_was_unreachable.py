"""With Redis unreachable, the store's batched commands never answered: the connect failed outside
the batch's error handling, so its callers waited forever (a delivery until the reply budget, then
还在处理中; a commit or a push sender's count with no budget, for ever)."""

from __future__ import annotations

import asyncio

import pytest
import redis

from bot.state.redis import RedisStore
from tests.services import free_port


async def test_each_command_fails_at_once_while_redis_is_unreachable():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", dedup_ttl_s=60, lock_timeout_s=1)
    try:
        for command in (store.get("k"), store.incr("k", 1), store.begin("msg:1", "o1")):
            with pytest.raises(redis.exceptions.ConnectionError):
                await asyncio.wait_for(command, 2)
    finally:
        await store.close()
