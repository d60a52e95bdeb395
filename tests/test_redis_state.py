"""With Redis, the guarantees hold across processes: dedup, one user at a time, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.app import DISPATCHER
from bot.state.redis import RedisStore
from tests.example_flows import many_questions, slow
from tests.harness import Residents, make_settings
from tests.processes import ServeProcess


@pytest.fixture
def redis_settings(tmp_path, redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    return make_settings(tmp_path, redis={"url": redis_url})


async def test_a_retry_reaching_another_process_gets_the_first_processes_reply(start_bot, redis_settings):
    one = await start_bot(redis_settings)
    two = await start_bot(redis_settings)
    resident_one = Residents(one, redis_settings)("o_two_procs")
    await resident_one.send_text("受理点")
    first = await resident_one.send_text("罗湖")
    retry = Residents(two, redis_settings)("o_two_procs")
    assert await retry.send_xml(resident_one.last_xml) == first


async def test_a_retry_reaching_another_process_while_the_first_runs_waits_for_it(start_bot, redis_settings):
    gate, calls = asyncio.Event(), []
    flows = (slow(gate.wait, calls),)
    one = await start_bot(redis_settings, flows=flows)
    two = await start_bot(redis_settings, flows=flows)
    resident_one = Residents(one, redis_settings)("o_pending")
    await resident_one.send_text("进度")
    first = asyncio.create_task(resident_one.send_text("补办"))
    while not calls:
        await asyncio.sleep(0.01)
    retry = asyncio.create_task(Residents(two, redis_settings)("o_pending").send_xml(resident_one.last_xml))
    await asyncio.sleep(0.1)
    gate.set()
    assert await first == await retry == "慢慢办好了：补办"
    assert calls == ["o_pending"]


async def test_one_users_burst_split_over_two_processes_keeps_every_answer(start_bot, redis_settings):
    submissions: list[dict] = []
    flows = (many_questions(20, submissions),)
    apps = [await start_bot(redis_settings, flows=flows) for _ in range(2)]
    residents = [Residents(app, redis_settings)("o_split_burst") for app in apps]
    await residents[0].send_text("申领")
    answers = [f"答案{i}" for i in range(20)]
    await asyncio.gather(*(residents[i % 2].send_text(a) for i, a in enumerate(answers)))
    state = await apps[0].app[DISPATCHER].store.load_state("o_split_burst")
    assert state["step"] == "review"
    assert sorted(state["answers"].values()) == sorted(answers)


# -- a real `serve` process, killed mid-flow and started again ------------------------------------


@pytest.fixture
def serve(tmp_path: Path, redis_url: str) -> Iterator[ServeProcess]:
    redis.Redis.from_url(redis_url).flushdb()
    server = ServeProcess(tmp_path, RB_REDIS__URL=redis_url)
    server.initdb()
    yield server
    server.kill()


async def test_a_flow_survives_a_crash_of_the_web_process(serve):
    serve.start()
    async with serve.resident("o_crash") as resident:
        assert "请发送您的位置" in await resident.send_text("受理点")
    serve.kill()
    serve.start()
    async with serve.resident("o_crash") as resident:
        assert "离罗湖区中心最近" in await resident.send_text("罗湖")


async def test_readiness_fails_while_redis_is_unreachable(start_bot, tmp_path):
    from tests.services import free_port

    settings = make_settings(tmp_path, redis={"url": f"redis://127.0.0.1:{free_port()}/0"})
    client = await start_bot(settings)
    response = await client.get("/readyz")
    assert response.status == 503 and (await response.json())["checks"] == {"database": True, "state": False}


# -- the turn scripts when Redis forgets them or goes away ----------------------------------------


async def test_turn_scripts_run_again_after_redis_forgets_them(redis_url):
    store = RedisStore(redis_url, prefix="t_noscript:", dedup_ttl_s=60, lock_timeout_s=1)
    try:
        first = await store.begin("msg:1", "o1")
        await store.commit(first.turn, {"n": 1}, 60, "r1")
        redis.Redis.from_url(redis_url).script_flush()
        second = await store.begin("msg:2", "o1")
        assert second.kind == "new" and second.turn.state == {"n": 1}
        await store.commit(second.turn, {"n": 2}, 60, "r2")
        assert await store.load_state("o1") == {"n": 2}
    finally:
        await store.close()
