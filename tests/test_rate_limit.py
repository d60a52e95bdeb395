"""A user who floods the bot gets one polite notice, and nobody else notices (issue 12, point 4).

`limits.messages_per_user_per_minute` counts what one WeChat user sends, in the state store, so
every process counts together. The first message over it gets 您发送得太快了…, the rest of the
minute's get no reply ("success", which WeChat neither shows nor retries); none is handled. A
WeChat retry is the same message and is not counted again; events the user did not send are not
counted at all.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from bot.dispatch import SLOW_DOWN
from tests.harness import Residents, make_settings

LIMIT = 5
MENU = "菜单"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, limits={"messages_per_user_per_minute": LIMIT})


async def test_a_burst_from_one_user_gets_one_notice_and_then_no_reply(resident):
    replies = await asyncio.gather(*(resident.send_text(MENU) for _ in range(20)))
    assert replies.count(SLOW_DOWN) == 1
    assert replies.count("") == 20 - LIMIT - 1
    answered = [r for r in replies if r not in ("", SLOW_DOWN)]
    assert len(answered) == LIMIT and all("回复" in r for r in answered)


async def test_another_user_in_the_same_burst_is_answered_as_usual(residents):
    flooder, neighbour = residents("o_flooder"), residents("o_neighbour")
    flood = [flooder.send_text(MENU) for _ in range(30)]
    asked = [neighbour.send_text(MENU) for _ in range(3)]
    replies = await asyncio.gather(*flood, *asked)
    assert replies[:30].count(SLOW_DOWN) == 1
    assert all(r == replies[0] != "" for r in replies[30:])  # the menu, each time
    assert SLOW_DOWN not in replies[30:]


async def test_a_retry_of_the_same_message_is_not_counted_again(resident):
    first = await resident.send_text(MENU)
    retried = resident.last_xml
    for _ in range(2 * LIMIT):  # WeChat delivering the first message again
        assert await resident.send_xml(retried) == first
    for _ in range(LIMIT - 1):
        assert await resident.send_text(MENU) == first
    assert await resident.send_text(MENU) == SLOW_DOWN


async def test_a_retry_of_the_notice_gets_the_notice_again(resident):
    for _ in range(LIMIT):
        await resident.send_text(MENU)
    assert await resident.send_text(MENU) == SLOW_DOWN
    assert await resident.send_xml(resident.last_xml) == SLOW_DOWN
    assert await resident.send_text(MENU) == ""
    assert resident.last_body == "success"


async def test_past_the_limit_a_subscribe_is_still_greeted_and_a_click_is_counted(resident):
    for _ in range(LIMIT + 1):
        await resident.send_text(MENU)
    assert await resident.subscribe() not in ("", SLOW_DOWN)
    assert await resident.click("ACCEPTANCE_POINTS") == ""


async def test_limited_messages_are_counted_in_the_metrics(resident, bot):
    for _ in range(LIMIT + 3):
        await resident.send_text(MENU)
    text = await (await bot.get("/metrics")).text()
    assert 'rb_replies_total{kind="limited"} 3.0' in text
    assert f'rb_messages_total{{type="text"}} {LIMIT + 3}.0' in text


async def test_with_no_limit_configured_nothing_is_limited(start_bot, tmp_path):
    settings = make_settings(tmp_path, limits={"messages_per_user_per_minute": 0})
    resident = Residents(await start_bot(settings), settings)("o_unlimited")
    replies = await asyncio.gather(*(resident.send_text(MENU) for _ in range(3 * LIMIT)))
    assert "" not in replies and SLOW_DOWN not in replies


async def test_two_processes_on_one_redis_share_the_limit(start_bot, tmp_path, redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    settings = make_settings(tmp_path, redis={"url": redis_url}, limits={"messages_per_user_per_minute": LIMIT})
    one, two = [Residents(await start_bot(settings), settings)("o_two_doors") for _ in range(2)]
    replies = await asyncio.gather(*((one if i % 2 else two).send_text(MENU) for i in range(4 * LIMIT)))
    assert replies.count(SLOW_DOWN) == 1
    assert len([r for r in replies if r not in ("", SLOW_DOWN)]) == LIMIT
