"""One contract for every state store, run against memory and a real redis-server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.state import LockTimeout, Quota, Seen, StateStore
from bot.state.memory import MemoryStore


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    options = {"dedup_ttl_s": 60, "lock_timeout_s": 0.5}
    if request.param == "memory":
        yield MemoryStore(**options)
        return
    from bot.state.redis import RedisStore

    redis_url = request.getfixturevalue("redis_url")
    store = RedisStore(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:", **options)
    yield store
    await store.close()


async def test_first_delivery_is_new_with_no_state(store):
    begin = await store.begin("msg:1", "o1")
    assert begin.kind == "new" and begin.turn.state is None
    await store.commit(begin.turn, {"step": "a"}, 60, "<xml>r1</xml>")


async def test_committed_state_is_loaded_by_the_next_turn(store):
    first = await store.begin("msg:1", "o1")
    await store.commit(first.turn, {"step": "a", "answers": {"x": "是"}}, 60, "r1")
    second = await store.begin("msg:2", "o1")
    assert second.turn.state == {"step": "a", "answers": {"x": "是"}}
    await store.commit(second.turn, None, 60, "r2")
    assert await store.load_state("o1") is None


async def test_a_repeated_delivery_gets_the_kept_reply(store):
    first = await store.begin("msg:1", "o1")
    await store.commit(first.turn, {"n": 1}, 60, "<xml>reply</xml>")
    again = await store.begin("msg:1", "o1")
    assert again.kind == "duplicate" and again.reply == "<xml>reply</xml>"


async def test_an_empty_reply_is_kept_as_empty(store):
    first = await store.begin("evt:o1:1:unsubscribe", "o1")
    await store.commit(first.turn, None, 60, "")
    again = await store.begin("evt:o1:1:unsubscribe", "o1")
    assert again.kind == "duplicate" and again.reply == ""


async def test_a_delivery_seen_while_running_is_pending_and_can_wait_for_the_reply(store):
    first = await store.begin("msg:1", "o1")
    assert (await store.begin("msg:1", "o1")).kind == "pending"
    waiter = asyncio.create_task(store.wait_reply("msg:1", 2))
    await asyncio.sleep(0.05)
    await store.commit(first.turn, None, 60, "late reply")
    assert await waiter == "late reply"


async def test_wait_reply_gives_up_after_its_timeout(store):
    await store.begin("msg:1", "o1")
    assert await store.wait_reply("msg:1", 0.1) is None


async def test_abort_lets_a_retry_run_again_and_keeps_the_old_state(store):
    first = await store.begin("msg:1", "o1")
    await store.commit(first.turn, {"n": 1}, 60, "r")
    second = await store.begin("msg:2", "o1")
    await store.abort(second.turn)
    retry = await store.begin("msg:2", "o1")
    assert retry.kind == "new" and retry.turn.state == {"n": 1}


async def test_one_users_turns_never_overlap(store):
    inside, overlaps = 0, 0

    async def turn(i: int) -> None:
        nonlocal inside, overlaps
        begin = await store.begin(f"msg:{i}", "o1")
        inside += 1
        overlaps += inside > 1
        await asyncio.sleep(0.005)
        n = (begin.turn.state or {"n": 0})["n"]
        inside -= 1
        await store.commit(begin.turn, {"n": n + 1}, 60, "r")

    await asyncio.gather(*(turn(i) for i in range(20)))
    assert overlaps == 0
    assert await store.load_state("o1") == {"n": 20}


async def test_different_users_do_not_wait_for_each_other(store):
    a = await store.begin("msg:1", "o1")
    b = await asyncio.wait_for(store.begin("msg:2", "o2"), 0.3)
    assert b.kind == "new"
    await store.commit(a.turn, None, 60, "")
    await store.commit(b.turn, None, 60, "")


async def test_lock_wait_times_out_and_releases_the_claim(store):
    held = await store.begin("msg:1", "o1")
    with pytest.raises(LockTimeout):
        await store.begin("msg:2", "o1")
    await store.commit(held.turn, None, 60, "")
    assert (await store.begin("msg:2", "o1")).kind == "new"


async def test_state_expires_after_its_ttl(store):
    first = await store.begin("msg:1", "o1")
    await store.commit(first.turn, {"n": 1}, 0.1, "")  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    assert await store.load_state("o1") is None


async def test_values_with_only_new_and_ttl(store):
    assert await store.set("k", "v1", 60, only_new=True)
    assert not await store.set("k", "v2", 60, only_new=True)
    assert await store.get("k") == "v1"
    await store.set("short", "x", 0.1)
    await asyncio.sleep(0.2)
    assert await store.get("short") is None
    await store.delete("k")
    assert await store.get("k") is None


async def test_chinese_state_round_trips(store):
    first = await store.begin("msg:1", "o1")
    await store.commit(first.turn, {"answers": {"points.where": {"district": "南山区"}}}, 60, "好")
    assert (await store.load_state("o1"))["answers"]["points.where"]["district"] == "南山区"
    assert await store.ping()


async def test_counters_count_within_their_window(store):
    assert [await store.incr("sent:13800138000", 60) for _ in range(3)] == [1, 2, 3]
    await store.incr("brief", 0.1)
    await asyncio.sleep(0.2)
    assert await store.incr("brief", 0.1) == 1


async def test_begins_cancelled_while_waiting_for_the_store_leave_no_user_locked(store):
    # Many users' claims in flight together (on Redis, one pipeline), a fifth of their callers gone.
    tasks = [asyncio.create_task(store.begin(f"msg:{i}", f"o{i}")) for i in range(50)]
    await asyncio.sleep(0)
    for task in tasks[::5]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled():
            await store.commit(task.result().turn, {"n": 1}, 60, "r")
    retries = await asyncio.gather(*(store.begin(f"msg:{i}", f"o{i}") for i in range(50)))
    assert [r.kind for r in retries] == ["new" if t.cancelled() else "duplicate" for t in tasks]
    for retry in retries:
        if retry.turn is not None:
            await store.commit(retry.turn, None, 60, "r")
    nexts = await asyncio.gather(*(store.begin(f"msg:{i}:next", f"o{i}") for i in range(50)))
    assert all(n.kind == "new" for n in nexts)


async def test_a_seen_query_with_another_body_is_replayed_and_claims_nothing(store):
    query = f"callback:1700000000:{uuid.uuid4().hex}:sig"
    first = await store.begin("msg:o1:1", "o1", Seen(query, "body-a", 60))
    assert first.kind == "new"
    await store.commit(first.turn, None, 60, "<xml>first</xml>")
    retry = await store.begin("msg:o1:1", "o1", Seen(query, "body-a", 60))
    assert (retry.kind, retry.reply) == ("duplicate", "<xml>first</xml>")
    forged = await store.begin("msg:o2:2", "o2", Seen(query, "body-b", 60))
    assert forged.kind == "replayed"
    # Nothing of the forged delivery was claimed: the same message under a fresh query is new.
    assert (await store.begin("msg:o2:2", "o2", Seen(query + "x", "body-b", 60))).kind == "new"


async def test_deliveries_over_the_quota_are_limited_claimed_and_take_no_lock(store):
    quota = Quota("rate:o1", 2, 60)
    held = await store.begin("msg:o1:1", "o1", quota=quota)  # o1's lock stays held meanwhile
    second = asyncio.create_task(store.begin("msg:o1:2", "o1", quota=quota))
    over = [await asyncio.wait_for(store.begin(f"msg:o1:{i}", "o1", quota=quota), 0.3) for i in (3, 4)]
    assert [(b.kind, b.count, b.turn) for b in over] == [("limited", 3, None), ("limited", 4, None)]
    assert (await store.begin("msg:o1:3", "o1", quota=quota)).kind == "pending"  # claimed, not counted again
    await store.keep_reply("msg:o1:3", "<xml>slow down</xml>")
    retry = await store.begin("msg:o1:3", "o1", quota=quota)
    assert (retry.kind, retry.reply) == ("duplicate", "<xml>slow down</xml>")
    await store.commit(held.turn, {"n": 1}, 60, "r1")
    await store.commit((await second).turn, {"n": 2}, 60, "r2")
    assert await store.load_state("o1") == {"n": 2}  # the limited ones left the state alone


async def test_a_quota_counts_each_user_apart_and_opens_again_after_its_window(store):
    quota = Quota("rate:o1", 1, 0.2)
    first = await store.begin("msg:o1:1", "o1", quota=quota)
    await store.commit(first.turn, None, 60, "r")
    assert (await store.begin("msg:o1:2", "o1", quota=quota)).kind == "limited"
    other = await store.begin("msg:o2:1", "o2", quota=Quota("rate:o2", 1, 0.2))
    assert other.kind == "new"
    await store.commit(other.turn, None, 60, "r")
    await asyncio.sleep(0.3)
    assert (await store.begin("msg:o1:3", "o1", quota=quota)).kind == "new"


async def test_a_limited_delivery_wakes_a_retry_waiting_for_it(store):
    await store.begin("msg:o1:1", "o1", quota=Quota("rate:o1", 0, 60))
    waiter = asyncio.create_task(store.wait_reply("msg:o1:1", 2))
    await asyncio.sleep(0.05)
    await store.keep_reply("msg:o1:1", "")
    assert await waiter == ""
