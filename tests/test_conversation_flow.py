"""The flow engine through the whole HTTP path, as chat scripts (STYLE.md, Tests)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import DISPATCHER
from conversations import acceptance_points
from tests.example_flows import endorse_like
from tests.harness import Residents
from tests.screen import lines_on_screen


@pytest.fixture
def submissions() -> list[dict]:
    return []


@pytest.fixture
async def bot(start_bot, settings, submissions):
    return await start_bot(settings, flows=(endorse_like(submissions), acceptance_points.FLOW))


async def test_happy_path_reaches_review_and_submits_once(resident, submissions):
    assert "居住地址有变化吗" in await resident.send_text("签注")
    assert "请输入手机号码" in await resident.send_text("1")
    assert "请输入搬入日期" in await resident.send_text("138 0013 8000")
    review = await resident.send_text("2025年3月1日")
    assert "1. 地址变化：没有变化" in review
    assert "2. 手机号码：13800138000" in review
    assert "3. 搬入日期：2025-03-01" in review
    assert "受理编号：QZ0001" in await resident.send_text("确认")
    assert submissions == [
        {"endorse.moved": "没有变化", "endorse.phone": "13800138000", "endorse.moved_on": "2025-03-01"}
    ]


async def test_choice_accepts_its_text_as_well_as_its_number(resident):
    await resident.send_text("签注")
    assert "请输入新的居住地址" in await resident.send_text("有变化")


async def test_wrong_answer_gets_the_reason_and_the_same_question(resident):
    await resident.send_text("签注")
    await resident.send_text("1")
    reply = await resident.send_text("12345")
    assert "手机" in reply and "请输入手机号码" in reply
    assert "请输入搬入日期" in await resident.send_text("13800138000")


async def test_a_date_in_the_future_is_refused_against_todays_date(resident):
    await resident.send_text("签注")
    await resident.send_text("1")
    await resident.send_text("13800138000")
    reply = await resident.send_text("2999-01-01")
    assert "请输入搬入日期" in reply and "1. 地址变化" not in reply


async def test_invalid_choice_lists_the_options(resident):
    await resident.send_text("签注")
    reply = await resident.send_text("也许")
    assert "没有这个选项" in reply and "居住地址有变化吗" in reply


async def test_back_returns_to_the_previous_question_with_the_answer_kept(resident):
    await resident.send_text("签注")
    await resident.send_text("1")
    reply = await resident.send_text("返回")
    assert "居住地址有变化吗" in reply and "当前答案：没有变化" in reply


async def test_back_at_the_first_question_says_so(resident):
    await resident.send_text("签注")
    assert "已经是第一个问题" in await resident.send_text("返回")


async def test_cancel_leaves_the_flow_and_saves_nothing(resident, submissions):
    await resident.send_text("签注")
    await resident.send_text("1")
    assert "已取消" in await resident.send_text("取消")
    assert "没有理解" in await resident.send_text("13800138000")
    assert submissions == []


async def test_menu_inside_a_flow_keeps_it_and_lists_only_existing_flows(resident):
    await resident.send_text("签注")
    menu = await resident.send_text("菜单")
    assert "签注" in menu and "受理点" in menu and "注册" not in menu
    assert "您正在办理「签注」" in menu
    assert "请输入手机号码" in await resident.send_text("1")


async def test_change_from_review_reasks_that_answer_and_returns_to_review(resident, submissions):
    await _to_review(resident)
    assert "当前答案：13800138000" in await resident.send_text("修改 2")
    review = await resident.send_text("13900139000")
    assert "2. 手机号码：13900139000" in review and "确认" in review
    await resident.send_text("确认")
    assert submissions[0]["endorse.phone"] == "13900139000"


async def test_change_that_enables_a_condition_asks_the_new_question_before_review(resident):
    await _to_review(resident)
    await resident.send_text("修改 1")
    assert "请输入新的居住地址" in await resident.send_text("2")
    review = await resident.send_text("南山区科技园1栋101")
    assert "2. 新地址：南山区科技园1栋101" in review


async def test_answer_of_a_condition_turned_false_is_dropped(resident, submissions):
    await resident.send_text("签注")
    await resident.send_text("2")
    await resident.send_text("南山区科技园1栋101")
    await resident.send_text("13800138000")
    assert "新地址" in await resident.send_text("2025-03-01")
    await resident.send_text("修改 1")
    review = await resident.send_text("1")
    assert "新地址" not in review
    await resident.send_text("确认")
    assert "endorse.new_address" not in submissions[0]


async def test_change_with_a_number_out_of_range_keeps_the_review(resident):
    await _to_review(resident)
    reply = await resident.send_text("修改 9")
    assert "没有第9项" in reply and "3. 搬入日期" in reply


async def test_repeated_confirm_after_submit_gives_the_reference_not_a_second_submission(resident, submissions):
    await _to_review(resident)
    await resident.send_text("确认")
    reply = await resident.send_text("确认")
    assert "已经提交过" in reply and "QZ0001" in reply
    assert len(submissions) == 1


async def test_an_idle_flow_times_out_with_one_notice_and_the_answer_that_woke_it_is_not_refused(
    bot, resident, settings
):
    await resident.send_text("签注")
    later = datetime.now(UTC) + timedelta(minutes=settings.state.idle_timeout_minutes + 1)
    bot.app[DISPATCHER].clock = lambda: later
    reply = await resident.send_text("1")
    assert reply.startswith("超过30分钟没有回复，「") and reply.endswith("回复「签注」重新开始。")
    assert "没有理解" not in reply and "\n" not in reply


async def test_a_keyword_after_a_timeout_starts_its_flow_after_the_notice(bot, resident, settings):
    await resident.send_text("签注")
    later = datetime.now(UTC) + timedelta(minutes=settings.state.idle_timeout_minutes + 1)
    bot.app[DISPATCHER].clock = lambda: later
    reply = await resident.send_text("签注")
    notice, _, rest = reply.partition("\n\n")
    assert notice.startswith("超过30分钟没有回复") and rest


async def test_a_flow_changed_by_a_redeploy_restarts_politely(start_bot, settings, submissions, bot):
    first = Residents(bot, settings)("o_redeploy")
    await first.send_text("签注")
    await first.send_text("2")
    # Same store, new flow definition: what a deploy that renamed a step looks like.
    store = bot.app[DISPATCHER].store
    changed = await start_bot(settings, flows=(endorse_like(submissions, version_tag="_v2"),), store=store)
    reply = await Residents(changed, settings)("o_redeploy").send_text("南山区科技园1栋101")
    assert "从头开始" in reply and "居住地址有变化吗" in reply


async def test_acceptance_points_for_a_full_address_say_which_district_they_took(resident):
    await resident.send_text("受理点")
    reply = await resident.send_text("深圳市福田区福华路3号")
    assert "按「福田区」查询：" in reply and "离福田区中心最近的3个受理点" in reply


async def test_acceptance_points_answer_with_three_short_entries_each_with_a_map_link(resident):
    await resident.send_text("受理点")
    reply = await resident.send_text("福田区")
    entries = [line for line in reply.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
    assert [e[:2] for e in entries] == ["1.", "2.", "3."]
    assert entries[0] == "1. 福田派出所（约610米）"
    links = re.findall(r'<a href="(https://uri\.amap\.com/marker\?[^"]+)">地图</a>', reply)
    assert len(links) == 3 and "position=114.0" in links[0]
    assert lines_on_screen(reply) <= 20


async def test_acceptance_points_for_an_address_naming_two_districts_ask_which(resident):
    await resident.send_text("受理点")
    reply = await resident.send_text("南山区或者福田区")
    assert "您的回复里有「南山区」和「福田区」，是哪一个区" in reply and "请发送您的位置" in reply
    reply = await resident.send_text("福田")
    assert "离福田区中心最近的3个受理点" in reply and "按「福田区」查询" not in reply


async def test_menu_number_starts_that_flow(resident):
    assert "居住地址有变化吗" in await resident.send_text("1")


async def _to_review(resident) -> None:
    await resident.send_text("签注")
    await resident.send_text("1")
    await resident.send_text("13800138000")
    await resident.send_text("2025-03-01")
