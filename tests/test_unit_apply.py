"""代办 (UNIT_APPLY) through the whole HTTP path: a unit applies only for its own people, each checked
when added and again at 确认; one application and receipt each, and a summary with their links."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot.app import DISPATCHER
from bot.services.receipts import Receipts
from models import ApplicationKind, PermitApplication, Receipt, SocialInsuranceMonth
from tests.applicants import (
    EMPLOYER,
    eligible,
    id_number,
    insured,
    registered,
    student,
    unit_account,
)
from tests.harness import Residents, make_settings
from tests.people import person, verified_account

LI, WANG, ZHAO = id_number(11), id_number(12), id_number(13)
OTHER_UNIT = "另一家贸易有限公司"


async def add(resident, name: str, number: str) -> str:
    await resident.send_text(name)
    return await resident.send_text(number)


async def start(resident) -> None:
    await unit_account(resident.openid)
    await resident.send_text("代办")


async def finish(resident) -> str:
    """From the 继续添加/完成 question to the review: 完成, a district, the first point."""
    await resident.send_text("完成")
    await resident.send_text("福田")
    return await resident.send_text("1")


async def test_a_unit_applies_for_its_people_and_gets_each_ones_receipt_link(resident, settings):
    await eligible(LI, "李四")
    await eligible(WANG, "王五")
    await start(resident)
    assert "已添加人：李四 4403**********" in await add(resident, "李四", LI)
    await resident.send_text("继续添加")
    await add(resident, "王五", WANG)
    review = await finish(resident)
    assert "1. 人：李四" in review and "2. 人：王五" in review and "4. 领证受理点：福田派出所居住证受理点" in review
    reply = await resident.send_text("确认")
    applications = await PermitApplication.all().order_by("id")
    assert [a.name for a in applications] == ["李四", "王五"]
    assert all(a.kind is ApplicationKind.UNIT and a.unit_id is not None for a in applications)
    assert "代办已提交：受理2人。" in reply and "本人带身份证到福田派出所居住证受理点领取" in reply
    reader = Receipts(settings.receipts, settings.server.public_base_url)
    opened = [reader.read(token, datetime.now(UTC)) for token in re.findall(r"/r/([A-Za-z0-9_-]+)", reply)]
    receipts = await Receipt.all().order_by("id")
    assert opened == [r.id for r in receipts] and [r.application_id for r in receipts] == [a.id for a in applications]
    assert LI not in reply and WANG not in reply  # masked only


async def test_a_stranger_is_refused_by_name_and_the_batch_goes_on(resident):
    await eligible(LI, "李四")
    await eligible(ZHAO, "赵六", employer=OTHER_UNIT)  # eligible, but paid by another employer
    await start(resident)
    await add(resident, "李四", LI)
    await resident.send_text("继续添加")
    reply = await add(resident, "赵六", ZHAO)
    assert "赵六 4403**********" in reply and "不是本单位的人员" in reply and "已添加1人" in reply
    review = await finish(resident)
    assert "李四" in review and "赵六" not in review


async def test_a_stranger_is_refused_alike_whatever_records_they_have(resident):
    """What a unit is told about a stranger says nothing of the stranger's records."""
    await eligible(ZHAO, "赵六", employer=OTHER_UNIT)
    await start(resident)
    with_records = await add(resident, "赵六", ZHAO)
    await resident.send_text("继续添加")
    without = await add(resident, "钱七", id_number(14))
    reason = "不是本单位的人员（近三个月没有本单位缴纳的社保记录，也没有在本校就读的学籍记录），没有添加。"
    assert reason in with_records and reason in without


async def test_social_insurance_paid_only_before_the_last_three_months_does_not_make_a_member(resident):
    await registered(LI, "李四")
    await insured(LI, months=12, last_ago=3)  # up to three months before this one
    await start(resident)
    assert "不是本单位的人员" in await add(resident, "李四", LI)


async def test_a_student_of_the_school_of_the_units_name_is_its_own(resident):
    await student(LI, "李四", school=EMPLOYER)
    await start(resident)
    assert "已添加人：李四" in await add(resident, "李四", LI)


async def test_a_name_that_is_not_the_one_on_record_is_refused(resident):
    await eligible(LI, "李四")
    await start(resident)
    assert "姓名与这个身份证号码登记的姓名不一致" in await add(resident, "李思", LI)


async def test_a_member_not_eligible_is_refused_with_the_reason(resident):
    await registered(LI, "李四", months=5)
    await insured(LI, months=5)
    await start(resident)
    reply = await add(resident, "李四", LI)
    assert "暂不符合办证资格" in reply and "连续居住登记要求满12个月" in reply and "最早" in reply


async def test_a_member_with_an_open_application_is_refused_with_its_number(resident):
    await eligible(LI, "李四")
    await start(resident)
    await add(resident, "李四", LI)
    await finish(resident)
    await resident.send_text("确认")
    number = (await PermitApplication.get()).number
    await resident.send_text("代办")
    reply = await add(resident, "李四", LI)
    assert f"受理编号{number}" in reply and "不能重复申领" in reply


async def test_a_person_added_twice_is_refused_the_second_time(resident):
    await eligible(LI, "李四")
    await start(resident)
    await add(resident, "李四", LI)
    await resident.send_text("继续添加")
    reply = await add(resident, "李四", LI)
    assert "已经在名单里了" in reply and "已添加1人" in reply


async def test_a_wrong_id_number_is_asked_again(resident):
    await start(resident)
    await resident.send_text("李四")
    assert "校验位不对" in await resident.send_text(LI[:17] + ("0" if LI[17] != "0" else "1"))


async def test_a_batch_stops_at_its_configured_maximum(start_bot, tmp_path):
    settings = make_settings(tmp_path, applications={"max_batch_size": 2})
    resident = Residents(await start_bot(settings), settings)("o_unit")
    for number, name in ((LI, "李四"), (WANG, "王五")):
        await eligible(number, name)
    await start(resident)
    await add(resident, "李四", LI)
    await resident.send_text("继续添加")
    await add(resident, "王五", WANG)
    assert "一次最多2人" in await resident.send_text("继续添加")


@pytest.mark.long_replies("the summary of a 20-person batch links every receipt it can in one reply")
async def test_a_summary_too_long_for_one_reply_links_what_fits_and_numbers_the_rest(start_bot, tmp_path):
    # A test script types far faster than staff can: no per-user limit here.
    settings = make_settings(tmp_path, limits={"messages_per_user_per_minute": 0})
    resident = Residents(await start_bot(settings), settings)("o_unit")
    people = [(id_number(40 + n), f"员工{'一二三四五六七八九十'[n % 10]}{'甲乙'[n // 10]}") for n in range(20)]
    await start(resident)
    for i, (number, name) in enumerate(people):
        await eligible(number, name)
        if i:
            await resident.send_text("继续添加")
        await add(resident, name, number)
    await finish(resident)
    reply = await resident.send_text("确认")
    linked = len(re.findall(r"/r/", reply))
    assert len(reply.encode()) <= 2048 and "受理20人" in reply and 0 < linked < 20
    assert f"另有{20 - linked}人已受理" in reply and "回复「回执」" in reply
    assert await PermitApplication.all().count() == 20


async def test_a_person_who_applied_themselves_before_confirm_is_reported_and_the_others_go_through(residents):
    unit, li = residents("o_unit"), residents("o_li")
    await eligible(LI, "李四")
    await eligible(WANG, "王五")
    await start(unit)
    await add(unit, "李四", LI)
    await unit.send_text("继续添加")
    await add(unit, "王五", WANG)
    await finish(unit)
    await verified_account(li.openid, LI, name="李四")  # 李四 applies himself meanwhile
    await li.send_text("申领")
    for answer in ("4403A12B34C56D", "1", "1", "南山", "1"):
        await li.send_text(answer)
    await li.send_text("确认")
    own = await PermitApplication.get(person=person(LI))
    reply = await unit.send_text("确认")
    assert "受理1人，未受理1人" in reply and "王五" in reply.split("未受理：")[0]
    assert f"李四 4403**********{LI[-4:]}：已有一份办理中的居住证申领，受理编号{own.number}" in reply
    assert reply.count("/r/") == 1
    assert await PermitApplication.filter(kind=ApplicationKind.UNIT).count() == 1


async def test_a_batch_with_nobody_left_to_apply_for_goes_back_to_the_review(resident):
    await eligible(LI, "李四")
    await start(resident)
    await add(resident, "李四", LI)
    await finish(resident)
    await SocialInsuranceMonth.filter(person=person(LI)).delete()  # left the unit meanwhile
    reply = await resident.send_text("确认")
    assert "现在都不能申领" in reply and "不是本单位的人员" in reply and "回复「确认」提交" in reply
    assert await PermitApplication.all().count() == 0 and await Receipt.all().count() == 0


async def test_a_unit_cannot_apply_for_another_units_people(residents):
    ours, theirs = residents("o_ours"), residents("o_theirs")
    await eligible(LI, "李四")  # paid by EMPLOYER
    await unit_account(theirs.openid, unit_name=OTHER_UNIT, uscc="91440300MA5F000002")
    await theirs.send_text("代办")
    assert "不是本单位的人员" in await add(theirs, "李四", LI)
    await start(ours)
    assert "已添加人：李四" in await add(ours, "李四", LI)


async def test_a_personal_account_cannot_apply_for_others(resident):
    await verified_account(resident.openid, LI, name="李四")
    reply = await resident.send_text("代办")
    assert "需要单位账号" in reply and "请输入" not in reply
    assert "代办 —" not in await resident.send_text("菜单")


async def test_the_saved_conversation_never_holds_an_id_number_in_clear(bot, resident):
    await eligible(LI, "李四")
    await start(resident)
    await add(resident, "李四", LI)
    store = bot.app[DISPATCHER].store
    begin = await store.begin("peek", resident.openid)
    await store.abort(begin.turn)
    assert begin.turn.state["answers"]["unit_apply.people"] and LI not in json.dumps(begin.turn.state)


async def test_the_person_sees_the_units_application_in_their_progress(residents):
    unit, li = residents("o_unit"), residents("o_li")
    await eligible(LI, "李四")
    await start(unit)
    await add(unit, "李四", LI)
    await finish(unit)
    await unit.send_text("确认")
    await verified_account(li.openid, LI, name="李四")
    number = (await PermitApplication.get()).number
    assert f"{number}｜已受理" in await li.send_text("进度")
