"""Fault: PostgreSQL stopped and started again while residents confirm their 签注.

While it is down /readyz fails and a 确认 is answered 系统繁忙 (try again later) with nothing of it
written; the conversation, in Redis, stays at its review; once the database is back the same app
endorses each permit once on the next 确认.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
import redis

from bot.app import DISPATCHER
from models import Endorsement, Receipt
from tests.applicants import id_number
from tests.harness import make_settings
from tests.services import PostgresServer
from tests.test_endorse_flow import endorsable_resident, up_to_review

RESIDENTS = 3
# A session waiting for a row lock that has written to the endorsement table in its transaction.
WRITTEN_AND_WAITING = """
SELECT count(*) FROM pg_locks waiting JOIN pg_locks wrote ON wrote.pid = waiting.pid
WHERE NOT waiting.granted AND wrote.relation = 'endorsement'::regclass AND wrote.mode = 'RowExclusiveLock'
"""


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    """A server of this test's own: stopping the session's would fail every test after it."""
    server = PostgresServer()
    try:
        server.start()
        server.create_database("residence")
        yield server
    finally:
        server.stop()
        server.remove()


@pytest.fixture
def settings(tmp_path, postgres, redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    return make_settings(tmp_path, database={"url": postgres.url("residence")}, redis={"url": redis_url})


async def test_a_database_outage_at_confirm_writes_nothing_then_endorses_once_when_it_is_back(bot, residents, postgres):
    people = [residents(f"o_pg_fault_{i}") for i in range(RESIDENTS)]
    for i, resident in enumerate(people):
        await endorsable_resident(resident, id_number(31 + i), permit_no=f"44030020240000{i + 1}")
        assert "确认" in await up_to_review(resident)

    postgres.stop()
    ready = await bot.get("/readyz")
    assert ready.status == 503 and (await ready.json())["checks"] == {"database": False, "state": True}
    for reply in await asyncio.gather(*(r.send_text("确认") for r in people)):
        assert "系统繁忙" in reply and "请稍后再发" in reply
    store = bot.app[DISPATCHER].store
    for resident in people:
        assert (await store.load_state(resident.openid))["step"] == "review"  # the form is kept, in Redis

    postgres.start()
    assert (await bot.get("/readyz")).status == 200
    assert await Endorsement.all().count() == 0  # nothing of the failed 确认 was written
    for reply in await asyncio.gather(*(r.send_text("确认") for r in people)):
        assert reply.startswith("签注成功")
    assert "您已经提交过了" in await people[0].send_text("确认")
    assert await Endorsement.all().count() == RESIDENTS
    assert await Receipt.filter(endorsement_id__isnull=False).count() == RESIDENTS


async def test_a_confirm_cut_off_inside_its_transaction_leaves_nothing_and_endorses_once_later(
    bot, resident, postgres, settings
):
    permit = await endorsable_resident(resident, id_number(41))
    await up_to_review(resident)
    # Another session holds the permit's row, so the 确认's transaction stops at its UPDATE of the
    # permit, after it wrote the endorsement: the database goes down right there.
    holder = await asyncpg.connect(settings.database.url.replace("postgres://", "postgresql://"))
    try:
        await holder.transaction().start()
        await holder.execute("SELECT 1 FROM permit WHERE id = $1 FOR UPDATE", permit.id)
        confirm = asyncio.create_task(resident.send_text("确认"))
        while not await holder.fetchval(WRITTEN_AND_WAITING):
            await asyncio.sleep(0.02)
        postgres.stop()
        assert "系统繁忙" in await confirm
    finally:
        holder.terminate()

    postgres.start()
    assert await Endorsement.all().count() == 0  # the endorsement it had written went with the transaction
    assert (await bot.app[DISPATCHER].store.load_state(resident.openid))["step"] == "review"
    assert (await resident.send_text("确认")).startswith("签注成功")
    assert await Endorsement.all().count() == 1 and await Receipt.all().count() == 1
