"""A saved conversation state that was not a state failed every message of its resident, until it
expired a day later: JSON that did not parse raised in the store's begin (HTTP 500, and WeChat
told the resident 该公众号暂时无法提供服务), JSON that was not an object failed the engine (系统繁忙),
and in Redis bytes that were not UTF-8 failed the whole batch they were read in. Found by the
property tests (tests/test_properties_state.py); such a state now reads as none, and is logged.
"""

from __future__ import annotations

import pytest
import redis

from bot.dispatch import BUSY
from bot.state.memory import MemoryStore
from tests.harness import Residents, make_settings

GARBAGE = [
    b"{",
    b"[1, 2]",
    b'"text"',
    b"\xff\xfe",
    b"[" * 100_000,
    b'{"v": 2, "flow": "ENDORSE", "step": 7, "answers": []}',
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: repr(g[:12]))
async def test_a_resident_whose_saved_state_is_garbage_is_answered(start_bot, tmp_path, garbage):
    settings = make_settings(tmp_path)
    store = MemoryStore(dedup_ttl_s=60, lock_timeout_s=5)
    resident = Residents(await start_bot(settings, store=store), settings)("o_garbage")
    store._values["state:o_garbage"] = (garbage.decode("utf-8", "replace"), None)  # as a bad write would leave it
    assert await resident.send_text("菜单") not in ("", BUSY)


@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: repr(g[:12]))
async def test_a_resident_whose_state_in_redis_is_garbage_is_answered(start_bot, tmp_path, redis_url, garbage):
    redis.Redis.from_url(redis_url).flushdb()
    settings = make_settings(tmp_path, redis={"url": redis_url})
    resident = Residents(await start_bot(settings), settings)("o_garbage")
    redis.Redis.from_url(redis_url).set("rb:state:o_garbage", garbage)
    assert await resident.send_text("菜单") not in ("", BUSY)
