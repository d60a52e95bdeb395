"""A replayed query (a signed query seen before with another body) that came while the same user
had a message in flight in the process was handled as a new delivery by the Redis store: the
claiming step said "replayed", and the store went on to wait for the user's lock and took it."""

from __future__ import annotations

import asyncio
import uuid

from bot.state import Seen
from bot.state.redis import RedisStore


async def test_a_replay_is_refused_while_the_user_has_a_message_in_flight(redis_url):
    store = RedisStore(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:", dedup_ttl_s=60, lock_timeout_s=1)
    query = "callback:1700000000:nonce:signature"
    try:
        genuine = await store.begin("msg:o2:1", "o2", Seen(query, "body-a", 60))
        await store.commit(genuine.turn, None, 60, "<xml>genuine</xml>")
        in_flight = await store.begin("msg:o1:2", "o1")
        forged = asyncio.create_task(store.begin("msg:o1:3", "o1", Seen(query, "body-b", 60)))
        await asyncio.sleep(0.05)
        await store.commit(in_flight.turn, None, 60, "<xml>in flight</xml>")
        assert (await forged).kind == "replayed"
        assert (await store.begin("msg:o1:3", "o1")).kind == "new"  # nothing of it was claimed
    finally:
        await store.close()
