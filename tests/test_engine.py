"""What the engine carries, through the whole HTTP path: choices from the database, actions when a
question is asked, requirements at 确认, repeated groups, news replies, 返回 along the steps
asked, every kind of input, and forms interrupted by another flow."""

from __future__ import annotations

import pytest

from bot.app import DISPATCHER
from conversations import acceptance_points
from conversations.engine import STATE_VERSION
from models import AcceptancePoint
from tests.example_flows import batch, endorse_like, guarded, pick_point
from tests.harness import Residents

ZHANG = "440304199001011233"
WANG = "110101199003077774"


@pytest.fixture
def submissions() -> list[dict]:
    return []


@pytest.fixture
def asked() -> list[str]:
    return []


@pytest.fixture
def allowed() -> list[bool]:
    return [True]


@pytest.fixture
async def bot(start_bot, settings, submissions, asked, allowed):
    flows = (
        endorse_like(submissions),
        batch(submissions),
        pick_point(submissions, asked),
        guarded(submissions, allowed),
        acceptance_points.FLOW,
    )
    return await start_bot(settings, flows=flows)


async def saved_state(bot, openid: str) -> dict | None:
    store = bot.app[DISPATCHER].store
    begin = await store.begin(f"peek:{openid}", openid)
    await store.abort(begin.turn)
    return begin.turn.state


async def put_state(bot, openid: str, state: dict) -> None:
    store = bot.app[DISPATCHER].store
    begin = await store.begin(f"put:{openid}", openid)
    await store.commit(begin.turn, state, 3600, "")


# -- a. choices computed when asked, from the database ---------------------------------------
async def test_choices_come_from_the_database_when_the_question_is_asked(resident):
    names = [p.name async for p in AcceptancePoint.filter(district="福田区").order_by("name")]
    reply = await resident.send_text("回执")
    assert all(f"{i}. {name}" in reply for i, name in enumerate(names, 1))


async def test_the_answer_is_read_against_the_choices_shown_even_after_the_database_changed(resident):
    first = (await AcceptancePoint.filter(district="福田区").order_by("name").first()).name
    await resident.send_text("回执")
    await AcceptancePoint.filter(name=first).delete()
    await resident.send_text("1")
    review = await resident.send_text("13800138000")
    assert f"1. 受理点：{first}" in review


async def test_the_choices_shown_survive_a_restart(bot, start_bot, settings, submissions, asked, allowed, resident):
    first = (await AcceptancePoint.filter(district="福田区").order_by("name").first()).name
    await resident.send_text("回执")
    await AcceptancePoint.create(
        name="0号受理点", district="福田区", address="某路", lat=22.5, lng=114.0, hours="", phone=""
    )
    restarted = await start_bot(settings, flows=(pick_point(submissions, asked),), store=bot.app[DISPATCHER].store)
    again = Residents(restarted, settings)(resident.openid)
    await again.send_text("1")
    assert f"1. 受理点：{first}" in await again.send_text("13800138000")


# -- b. an action when a question is asked ---------------------------------------------------
async def test_the_action_runs_when_its_question_is_asked_not_on_a_wrong_answer_or_on_return(resident, asked):
    await resident.send_text("回执")
    assert asked == []
    await resident.send_text("1")
    assert asked == ["phone"]
    await resident.send_text("123")  # wrong: the question again, the action not repeated
    await resident.send_text("13800138000")
    await resident.send_text("返回")  # back to the answered question: nothing sent again
    assert asked == ["phone"]


# -- c. requirements checked again at 确认 ------------------------------------------------------
async def test_a_requirement_no_longer_met_at_confirm_is_told_and_nothing_is_submitted(resident, submissions, allowed):
    await resident.send_text("提醒")
    await resident.send_text("换证")
    allowed[0] = False
    reply = await resident.send_text("确认")
    assert "条件已经不满足" in reply and submissions == []
    allowed[0] = True
    assert "已提交" in await resident.send_text("确认")
    assert submissions == [{"guarded.what": "换证"}]


# -- d. a repeated group -----------------------------------------------------------------------
async def add(resident, name: str, id_number: str) -> str:
    await resident.send_text(name)
    return await resident.send_text(id_number)


async def start_batch(resident) -> str:
    await resident.send_text("代办")
    return await resident.send_text("13800138000")


async def test_items_are_collected_one_at_a_time_and_the_review_lists_them(resident, submissions):
    assert "请输入姓名" in await start_batch(resident)
    reply = await add(resident, "张三", ZHANG)
    assert "已添加人：张三 4403**********1233" in reply and "继续添加" in reply
    assert "请输入姓名" in await resident.send_text("继续添加")
    await add(resident, "王五", WANG)
    review = await resident.send_text("完成")
    assert "2. 人：张三 4403**********1233" in review and "3. 人：王五 1101**********7774" in review
    await resident.send_text("确认")
    assert [p["batch.name"] for p in submissions[0]["batch.people"]] == ["张三", "王五"]


async def test_a_refused_item_is_named_with_the_reason_and_the_batch_goes_on(resident):
    await start_batch(resident)
    await add(resident, "张三", ZHANG)
    await resident.send_text("继续添加")
    reply = await add(resident, "李四", WANG)
    assert "李四不是本单位的人员" in reply and "已添加1人" in reply and "继续添加" in reply
    assert "1. 联系电话" in await resident.send_text("完成")


async def test_change_and_delete_work_on_one_item(resident, submissions):
    await start_batch(resident)
    await add(resident, "张三", ZHANG)
    await resident.send_text("继续添加")
    await add(resident, "王五", WANG)
    await resident.send_text("完成")
    assert "当前答案：王五" in await resident.send_text("修改 3")
    await resident.send_text("王小五")
    review = await resident.send_text(WANG)
    assert "3. 人：王小五" in review
    review = await resident.send_text("删除 2")
    assert "已删除" in review and "张三" not in review and "2. 人：王小五" in review
    assert "不能删除" in await resident.send_text("删除 1")
    await resident.send_text("确认")
    assert [p["batch.name"] for p in submissions[0]["batch.people"]] == ["王小五"]


async def test_the_group_stops_at_its_maximum(resident):
    await start_batch(resident)
    for name, number in (("张三", ZHANG), ("王五", WANG), ("赵六", "440304198505051234")):
        await add(resident, name, number)
        await resident.send_text("继续添加") if name != "赵六" else None
    reply = await resident.send_text("继续添加")
    assert "一次最多3人" in reply


async def test_back_from_a_new_item_returns_to_the_list(resident):
    await start_batch(resident)
    await add(resident, "张三", ZHANG)
    await resident.send_text("继续添加")
    reply = await resident.send_text("返回")
    assert "已添加1人" in reply and "张三" in reply


async def test_a_conversation_of_the_old_shape_restarts_politely(bot, resident):
    await resident.send_text("签注")
    state = await saved_state(bot, resident.openid)
    await put_state(bot, resident.openid, {**state, "v": STATE_VERSION - 1})
    reply = await resident.send_text("1")
    assert "从头开始" in reply and "居住地址有变化吗" in reply


# -- f. news cards -------------------------------------------------------------------------------
async def test_a_reply_can_be_a_news_card(resident):
    await resident.send_text("回执")
    await resident.send_text("1")
    await resident.send_text("13800138000")
    reply = await resident.send_text("确认")
    assert reply.startswith("预约成功") and "https://bot.example.gov.cn/r/abc" in reply


# -- g. 返回 follows the steps asked ---------------------------------------------------------------
async def test_back_skips_the_conditional_question_that_was_skipped_on_the_way_in(resident):
    await resident.send_text("签注")
    await resident.send_text("1")  # 没有变化: the new address is not asked
    await resident.send_text("13800138000")
    reply = await resident.send_text("返回")
    assert "请输入手机号码" in reply
    reply = await resident.send_text("返回")
    assert "居住地址有变化吗" in reply and "新的居住地址" not in reply


# -- h. every kind of input, one way in ----------------------------------------------------------
async def test_a_location_at_a_question_that_takes_one_is_its_answer(resident):
    await resident.send_text("受理点")
    assert "最近的" in await resident.send_location(22.5431, 114.0579, "福田区")


async def test_a_location_outside_a_form_looks_up_acceptance_points(resident):
    assert "最近的" in await resident.send_location(22.5431, 114.0579, "福田区")


async def test_a_location_in_a_form_that_does_not_take_one_keeps_the_form(resident):
    await resident.send_text("签注")
    await resident.send_text("1")
    reply = await resident.send_location(22.5431, 114.0579, "福田区")
    assert "您正在办理「签注」，已填写1项" in reply and "最近的" not in reply
    assert "请输入手机号码" in await resident.send_text("继续")


async def test_a_location_reported_by_wechat_in_a_form_is_silently_ignored(resident):
    await resident.send_text("签注")
    xml = (
        f"<xml><ToUserName><![CDATA[gh_1234567890ab]]></ToUserName><FromUserName><![CDATA[{resident.openid}]]>"
        "</FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[LOCATION]]></Event><Latitude>22.5431</Latitude><Longitude>114.0579</Longitude>"
        "<Precision>30.0</Precision></xml>"
    )
    assert await resident.send_xml(xml) == ""
    assert "请输入手机号码" in await resident.send_text("1")


async def test_a_recognised_voice_message_answers_like_text(resident):
    await resident.send_text("签注")
    assert "请输入手机号码" in await resident.send_voice("没有变化")


# -- 6. what people actually type --------------------------------------------------------------
async def test_another_flows_keyword_in_a_form_offers_to_go_on_or_leave(resident):
    await resident.send_text("签注")
    await resident.send_text("1")
    reply = await resident.send_text("受理点")
    assert "您正在办理「签注」，已填写1项" in reply and "继续" in reply and "离开" in reply
    assert "请发送您的位置" in await resident.send_text("离开")


async def test_a_menu_click_in_a_form_offers_the_same(resident):
    await resident.send_text("签注")
    await resident.send_text("1")
    assert "您正在办理「签注」" in await resident.click("ACCEPTANCE_POINTS")
    assert "请输入手机号码" in await resident.send_text("继续")


async def test_an_answer_after_the_offer_goes_on_with_the_form(resident):
    await resident.send_text("签注")
    await resident.send_text("1")
    await resident.send_text("受理点")
    assert "请输入搬入日期" in await resident.send_text("13800138000")


async def test_quit_inside_a_form_leaves_the_form(resident, submissions):
    await resident.send_text("签注")
    await resident.send_text("1")
    assert "已取消" in await resident.send_text("退出")
    assert submissions == []


@pytest.mark.parametrize("word", ["是", "是的", "对", "好", "好的", "可以", "提交"])
async def test_the_review_takes_everyday_confirmations(resident, submissions, word):
    await resident.send_text("签注")
    for answer in ("1", "13800138000", "2025-03-01"):
        await resident.send_text(answer)
    assert "受理编号" in await resident.send_text(word)
    assert len(submissions) == 1


async def test_a_wrong_answer_at_the_review_gets_a_short_reply_and_view_shows_it_again(resident):
    await resident.send_text("签注")
    for answer in ("1", "13800138000", "2025-03-01"):
        await resident.send_text(answer)
    reply = await resident.send_text("嗯嗯")
    assert "查看" in reply and "1. 地址变化" not in reply
    assert "1. 地址变化：没有变化" in await resident.send_text("查看")


async def test_dates_accept_today(resident, submissions):
    await resident.send_text("签注")
    for answer in ("1", "13800138000"):
        await resident.send_text(answer)
    assert "3. 搬入日期：" in await resident.send_text("今天")


async def test_a_flow_not_yet_in_the_chat_points_to_the_acceptance_points(resident):
    reply = await resident.send_text("申领")
    assert "还不能在微信里办理" in reply and "受理点" in reply
