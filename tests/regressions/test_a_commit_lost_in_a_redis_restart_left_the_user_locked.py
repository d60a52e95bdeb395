"""A turn whose commit failed because Redis went away left its claim and its Redis lock there: once a
Redis that keeps its data was back, the user's next message waited for the lock (lock_ttl_s, a
minute) and was answered 还在处理中, and WeChat's retry of the lost one found it pending."""

from __future__ import annotations

import pytest
import redis

from bot.state.redis import RedisStore
from tests.services import RedisServer


async def test_after_redis_is_back_the_user_goes_on_and_the_lost_message_runs_again(tmp_path):
    server = RedisServer(tmp_path / "redis", args=["--appendonly", "yes", "--appendfsync", "always"])
    server.start()
    store = RedisStore(server.url, dedup_ttl_s=60, lock_timeout_s=1)
    try:
        first = await store.begin("msg:1", "o1")
        await store.commit(first.turn, {"n": 1}, 60, "r1")
        lost = await store.begin("msg:2", "o1")
        server.stop()
        with pytest.raises(redis.exceptions.ConnectionError):
            await store.commit(lost.turn, {"n": 2}, 60, "r2")
        server.start()  # with its data: the claim of msg:2 and o1's lock are there again
        retry = await store.begin("msg:2", "o1")
        assert retry.kind == "new" and retry.turn.state == {"n": 1}
        await store.abort(retry.turn)
        following = await store.begin("msg:3", "o1")
        assert following.kind == "new" and following.turn.state == {"n": 1}
        await store.commit(following.turn, {"n": 3}, 60, "r3")
    finally:
        await store.close()
        server.stop()
