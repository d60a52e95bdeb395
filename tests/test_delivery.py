"""WeChat's retries and concurrent deliveries: each push handled once, one user at a time."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.app import DISPATCHER
from bot.wechat.signature import sign
from conversations import acceptance_points
from tests.example_flows import many_questions, slow
from tests.harness import TOKEN, Residents, make_settings


def text_push(openid: str, content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_1234567890ab]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def signed() -> dict[str, str]:
    ts = str(int(time.time()))
    return {"timestamp": ts, "nonce": "77", "signature": sign(TOKEN, ts, "77")}


async def test_a_retried_message_gets_the_same_reply_and_runs_once(resident):
    await resident.send_text("受理点")
    first = await resident.send_text("福田")
    assert "离福田区中心最近" in first
    # WeChat's retry: the same XML (same MsgId) again. Run twice, it would not be understood.
    again = await resident.send_xml(resident.last_xml)
    assert again == first


async def test_a_retried_event_gets_the_same_reply(resident):
    first = await resident.click("ACCEPTANCE_POINTS")
    click = resident.last_xml
    await resident.send_text("南山")  # the flow ends; handled again, the click would restart it
    assert await resident.send_xml(click) == first
    assert "没有理解" in await resident.send_text("南山")  # so the retry changed no state


@pytest.fixture
def gate():
    return asyncio.Event()


@pytest.fixture
def slow_calls() -> list[str]:
    return []


@pytest.fixture
async def slow_bot(start_bot, settings, gate, slow_calls):
    return await start_bot(settings, flows=(slow(gate.wait, slow_calls), acceptance_points.FLOW))


async def test_a_retry_arriving_while_the_first_runs_waits_for_its_reply(slow_bot, settings, gate, slow_calls):
    resident = Residents(slow_bot, settings)("o_slow")
    await resident.send_text("进度")
    push = text_push("o_slow", "补办", 900001)
    first = asyncio.create_task(slow_bot.post("/wechat", params=signed(), data=push))
    while not slow_calls:
        await asyncio.sleep(0.01)
    retry = asyncio.create_task(slow_bot.post("/wechat", params=signed(), data=push))
    await asyncio.sleep(0.05)
    gate.set()
    bodies = [await (await r).text() for r in (first, retry)]
    assert bodies[0] == bodies[1] and "慢慢办好了：补办" in bodies[0]
    assert slow_calls == ["o_slow"]


async def test_different_users_are_handled_in_parallel(slow_bot, settings, gate, slow_calls):
    users = [Residents(slow_bot, settings)(f"o_par_{i}") for i in range(5)]
    for user in users:
        await user.send_text("进度")
    answers = [asyncio.create_task(user.send_text("办")) for user in users]
    # Every user's turn is inside the slow submit at the same time; serialised, this never happens.
    async with asyncio.timeout(3):
        while len(slow_calls) < 5:
            await asyncio.sleep(0.01)
    gate.set()
    assert all("慢慢办好了" in reply for reply in await asyncio.gather(*answers))


async def test_twenty_concurrent_messages_of_one_user_keep_every_answer(start_bot, settings):
    submissions: list[dict] = []
    client = await start_bot(settings, flows=(many_questions(20, submissions),))
    resident = Residents(client, settings)("o_burst")
    await resident.send_text("申领")
    answers = [f"答案{i}" for i in range(20)]
    replies = await asyncio.gather(*(resident.send_text(a) for a in answers))
    assert sum("请核对" in r for r in replies) == 1  # exactly one of them completed the questions
    state = await client.app[DISPATCHER].store.load_state("o_burst")
    assert state["step"] == "review"
    assert sorted(state["answers"].values()) == sorted(answers)


async def test_handling_past_the_budget_answers_at_once_and_sends_the_reply_later(
    start_bot, tmp_path, gate, slow_calls, fake_wechat
):
    settings = make_settings(
        tmp_path,
        server={"reply_budget_s": 0.2},
        wechat={
            "app_id": fake_wechat.app_id,
            "app_secret": fake_wechat.app_secret,
            "api_base_url": fake_wechat.url,
        },
    )
    client = await start_bot(settings, flows=(slow(gate.wait, slow_calls),))
    resident = Residents(client, settings)("o_late")
    await resident.send_text("进度")
    started = time.monotonic()
    assert await resident.send_text("证明") == ""  # 'success': WeChat shows nothing, does not retry
    assert time.monotonic() - started < 1
    gate.set()
    async with asyncio.timeout(3):
        while not fake_wechat.sent_texts:
            await asyncio.sleep(0.01)
    assert fake_wechat.sent_texts == [("o_late", "慢慢办好了：证明")]
