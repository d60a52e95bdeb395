"""A turn that failed because Redis was down kept the user's in-process lock: after Redis came
back, every later message of that user waited lock_timeout_s and was answered busy."""

from __future__ import annotations

import pytest
import redis

from bot.state.redis import RedisStore
from tests.services import RedisServer


async def test_turns_fail_while_redis_is_down_and_run_again_once_it_is_back(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    store = RedisStore(server.url, dedup_ttl_s=60, lock_timeout_s=1)
    try:
        first = await store.begin("msg:1", "o1")
        await store.commit(first.turn, {"n": 1}, 60, "r1")
        server.stop()
        with pytest.raises(redis.exceptions.ConnectionError):
            await store.begin("msg:2", "o1")
        server.start()  # no persistence: a new, empty Redis on the same port
        again = await store.begin("msg:2", "o1")
        assert again.kind == "new" and again.turn.state is None
        await store.commit(again.turn, {"n": 2}, 60, "r2")
        assert await store.load_state("o1") == {"n": 2}
    finally:
        await store.close()
        server.stop()
