"""单位签注 (UNIT_ENDORSE) through the whole HTTP path: a unit endorses the permits in their window of
the people it applied for, and of its people it adds by name and ID number; each one checked at
确认, endorsed or refused with the reason; one summary with a receipt link for each endorsed. On
SQLite and on PostgreSQL, where a refusal inside the batch's one transaction must leave it usable."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.app import DISPATCHER
from bot.services.receipts import Receipts
from bot.text import masked_id
from models import (
    Account,
    ApplicationKind,
    ApplicationStatus,
    Endorsement,
    Permit,
    PermitApplication,
    Receipt,
    SocialInsuranceMonth,
)
from models.permit_cycle import add_years, window
from models.rules import Rules
from tests.applicants import eligible, id_number, insured, registered, today, unit_account
from tests.harness import make_settings
from tests.people import person, verified_account

LI, WANG, ZHAO, QIAN = id_number(61), id_number(62), id_number(63), id_number(64)
OTHER_UNIT = "另一家贸易有限公司"
NOT_MEMBER = "不是本单位的人员（近三个月没有本单位缴纳的社保记录，也没有在本校就读的学籍记录），没有添加。"


@pytest.fixture
def settings(tmp_path, db_url):
    return make_settings(tmp_path, database={"url": db_url})


def issued_with_days_left(days_left: int) -> date:
    """An issue date whose first period ends `days_left` days from today (in its window for 0-59)."""
    return add_years(today() + timedelta(days=days_left), -1)


async def holds_permit(number: str, name: str, *, days_left: int = 30, permit_no: str | None = None) -> Permit:
    return await Permit.create(
        permit_no=permit_no or f"4403002024{number[-5:]}", person=person(number), name=name,
        issued_on=issued_with_days_left(days_left), anchor_on=issued_with_days_left(days_left),
    )  # fmt: skip


async def applied_for(unit: Account, number: str, name: str) -> None:
    """The unit's 代办 for this person, done (its card collected) before the permit's window."""
    await PermitApplication.create(
        kind=ApplicationKind.UNIT, person=person(number), name=name, id_number_masked=masked_id(number),
        account=unit, unit_id=unit.unit_id, point_name="福田派出所居住证受理点", point_address="福田区",
        point_hours="9:00-18:00", status=ApplicationStatus.COLLECTED, status_changed_at=datetime.now(UTC),
        accepted_on=today() - timedelta(days=400), due_on=today() - timedelta(days=380), submission_id="earlier",
    )  # fmt: skip


async def listed_person(unit: Account, number: str, name: str, *, days_left: int = 30) -> Permit:
    """Someone the unit applied for, meeting the conditions, whose permit is in its window."""
    await eligible(number, name)
    await applied_for(unit, number, name)
    return await holds_permit(number, name, days_left=days_left)


async def add(resident, name: str, number: str) -> str:
    await resident.send_text(name)
    return await resident.send_text(number)


async def test_the_people_the_unit_applied_for_in_their_window_are_listed_with_their_deadlines(residents):
    unit = await unit_account("o_unit")
    await listed_person(unit, LI, "李四", days_left=40)
    await listed_person(unit, WANG, "王五", days_left=10)
    await listed_person(unit, ZHAO, "赵六", days_left=100)  # the window opens later
    other = await unit_account("o_other", unit_name=OTHER_UNIT, uscc="91440300MA5F000002")
    await listed_person(other, QIAN, "钱七")  # another unit's
    reply = await residents("o_unit").send_text("单位签注")
    closes = (today() + timedelta(days=10)).isoformat(), (today() + timedelta(days=40)).isoformat()
    assert f"1. 王五 {masked_id(WANG)} 截止{closes[0]}" in reply
    assert f"2. 李四 {masked_id(LI)} 截止{closes[1]}" in reply
    assert "赵六" not in reply and "钱七" not in reply and "3." not in reply
    assert "回复「全部」" in reply and "「添加」" in reply


async def test_all_are_endorsed_with_one_summary_and_a_receipt_link_each(residents, settings):
    unit = await unit_account("o_unit")
    await listed_person(unit, LI, "李四")
    await listed_person(unit, WANG, "王五")
    resident = residents("o_unit")
    await resident.send_text("单位签注")
    review = await resident.send_text("全部")
    assert "请核对「单位签注」的信息" in review and "李四" in review and "王五" in review
    reply = await resident.send_text("确认")
    endorsements = await Endorsement.all().order_by("id")
    assert len(endorsements) == 2 and all(e.unit_id == unit.unit_id and e.account_id == unit.id for e in endorsements)
    assert reply.startswith("单位签注已提交：签注2人。") and "未签注" not in reply
    reader = Receipts(settings.receipts, settings.server.public_base_url)
    opened = [reader.read(token, datetime.now(UTC)) for token in re.findall(r"/r/([A-Za-z0-9_-]+)", reply)]
    receipts = await Receipt.all().order_by("id")
    assert opened == [r.id for r in receipts] and [r.endorsement_id for r in receipts] == [e.id for e in endorsements]
    assert LI not in reply and WANG not in reply  # masked only


async def test_only_those_chosen_by_number_are_endorsed(resident):
    unit = await unit_account(resident.openid)
    for number, name, days_left in ((LI, "李四", 10), (WANG, "王五", 20), (ZHAO, "赵六", 30)):
        await listed_person(unit, number, name, days_left=days_left)
    await resident.send_text("单位签注")
    review = await resident.send_text("1,3")
    assert "李四" in review and "赵六" in review and "王五" not in review
    await resident.send_text("确认")
    endorsed = await Endorsement.all().values_list("permit__name", flat=True)
    assert sorted(endorsed) == ["李四", "赵六"]


async def test_a_number_outside_the_list_is_refused_and_the_list_shown_again(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await listed_person(unit, WANG, "王五")
    await resident.send_text("单位签注")
    reply = await resident.send_text("1 5")
    assert reply.startswith("名单里只有2人，没有第5人。") and "1. 李四" in reply and "请核对" not in reply
    assert "请核对" in await resident.send_text("2")
    assert await Endorsement.all().count() == 0


async def test_a_member_added_by_name_and_id_number_is_endorsed(resident):
    unit = await unit_account(resident.openid)
    await eligible(LI, "李四")  # insured by the unit, never applied for by it
    await holds_permit(LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    closes = (today() + timedelta(days=30)).isoformat()
    assert f"已添加人：李四 {masked_id(LI)}（截止{closes}）" in await add(resident, "李四", LI)
    review = await resident.send_text("完成")
    assert "1. 名单中选择：未选" in review and f"2. 人：李四 {masked_id(LI)}" in review
    assert "签注1人" in await resident.send_text("确认")
    [endorsement] = await Endorsement.all()
    assert endorsement.unit_id == unit.unit_id


async def test_listed_and_added_people_are_endorsed_together(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await eligible(WANG, "王五")
    await holds_permit(WANG, "王五")
    await resident.send_text("单位签注")
    await resident.send_text("1 添加")
    await add(resident, "王五", WANG)
    await resident.send_text("完成")
    assert "签注2人" in await resident.send_text("确认")
    assert await Endorsement.filter(unit_id=unit.unit_id).count() == 2


async def test_a_stranger_added_is_refused_alike_whatever_records_and_permit_they_have(resident):
    """What a unit is told of a stranger says nothing of the stranger's records or permit."""
    await unit_account(resident.openid)
    await eligible(ZHAO, "赵六", employer=OTHER_UNIT)
    await holds_permit(ZHAO, "赵六")
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    with_permit = await add(resident, "赵六", ZHAO)
    await resident.send_text("继续添加")
    without = await add(resident, "钱七", QIAN)
    assert f"赵六 {masked_id(ZHAO)}：{NOT_MEMBER}" in with_permit and f"钱七 {masked_id(QIAN)}：{NOT_MEMBER}" in without
    assert "居住证" not in with_permit and "截止" not in with_permit
    assert "还没有添加人" in await resident.send_text("完成")


async def test_with_people_chosen_from_the_list_a_refused_addition_does_not_hold_up_the_batch(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("1 添加")
    assert NOT_MEMBER in await add(resident, "钱七", QIAN)
    review = await resident.send_text("完成")
    assert "请核对" in review and "李四" in review and "钱七" not in review
    assert "签注1人" in await resident.send_text("确认")


async def test_changing_the_choice_at_the_review_to_add_someone_asks_for_them(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await eligible(WANG, "王五")
    await holds_permit(WANG, "王五")
    await resident.send_text("单位签注")
    await resident.send_text("1")
    await resident.send_text("修改 1")
    assert "请输入要签注人员的姓名" in await resident.send_text("1 添加")
    review = await add(resident, "王五", WANG)  # from the review, back to it once the person is added
    assert "请核对" in review and "李四" in review and "2. 人：王五" in review


async def test_a_name_not_on_record_is_refused(resident):
    await unit_account(resident.openid)
    await eligible(LI, "李四")
    await holds_permit(LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    assert "姓名与这个身份证号码登记的姓名不一致" in await add(resident, "李思", LI)


async def test_a_member_added_before_the_window_is_refused_with_its_dates(resident):
    await unit_account(resident.openid)
    await eligible(LI, "李四")
    held = await holds_permit(LI, "李四", days_left=100)
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    opens, closes = window(held.issued_on, 1, Rules())
    reply = await add(resident, "李四", LI)
    assert f"还没到签注期，本期签注期为{opens.isoformat()}至{closes.isoformat()}，没有添加" in reply


async def test_a_member_added_whose_permit_is_suspended_is_left_to_their_own_late_endorsement(resident):
    await unit_account(resident.openid)
    await eligible(LI, "李四")
    await holds_permit(LI, "李四", days_left=-20)
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    reply = await add(resident, "李四", LI)
    assert "已于" in reply and "请本人回复「签注」补办签注" in reply and "没有添加" in reply


async def test_a_member_added_not_meeting_the_conditions_is_refused_with_the_numbers(resident):
    await unit_account(resident.openid)
    await registered(LI, "李四", months=14)
    await insured(LI, months=5)
    await holds_permit(LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    reply = await add(resident, "李四", LI)
    assert "签注条件不符合" in reply and "累计缴纳5个月" in reply and "还差3个月" in reply


async def test_someone_already_in_the_list_is_chosen_by_number_not_added(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    reply = await add(resident, "李四", LI)
    assert "就在签注期内的名单里，请按序号选择" in reply and "还没有添加人" in await resident.send_text("完成")


async def test_a_personal_account_is_told_the_service_is_for_units(resident):
    await verified_account(resident.openid, LI, name="李四")
    await holds_permit(LI, "李四")
    reply = await resident.send_text("单位签注")
    assert "需要单位账号" in reply and "请选择" not in reply and "回复「全部」" not in reply
    assert "单位签注 —" not in await resident.send_text("菜单")


async def test_a_unit_is_offered_the_service_in_its_menu(resident):
    await unit_account(resident.openid)
    assert "单位签注" in await resident.send_text("菜单")


async def test_nobody_in_the_window_says_so_and_how_to_add_someone(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四", days_left=100)
    reply = await resident.send_text("单位签注")
    assert "现在没有在签注期内的，到签注期再回复「单位签注」即可" in reply and "请回复「添加」" in reply
    again = await resident.send_text("全部")
    assert again.startswith("名单里现在没有人员可选。") and "请回复「添加」" in again
    assert "请输入要签注人员的姓名" in await resident.send_text("添加")


async def test_a_confirm_delivered_twice_at_once_endorses_each_once(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await listed_person(unit, WANG, "王五")
    await resident.send_text("单位签注")
    await resident.send_text("全部")
    first, second = await asyncio.gather(resident.send_text("确认"), resident.send_text("确认"))
    receipts = await Receipt.all()
    assert await Endorsement.all().count() == 2 and len(receipts) == 2
    assert all(r.number in first for r in receipts) and receipts[0].number in second


async def test_a_confirm_retried_by_wechat_gets_the_same_summary(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("1")
    first = await resident.send_text("确认")
    assert await resident.send_xml(resident.last_xml) == first
    assert await Endorsement.all().count() == 1


async def test_a_confirm_again_after_a_crash_before_the_state_was_saved_gets_the_same_summary(bot, resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("1")
    store = bot.app[DISPATCHER].store
    peek = await store.begin("peek", resident.openid)
    await store.abort(peek.turn)
    first = await resident.send_text("确认")
    put = await store.begin("put", resident.openid)  # as if the state had not been saved
    await store.commit(put.turn, peek.turn.state, 3600, "")
    assert await resident.send_text("确认") == first
    assert await Endorsement.all().count() == 1 and await Receipt.all().count() == 1


async def test_someone_who_endorsed_themselves_meanwhile_is_refused_and_the_batch_goes_on(residents):
    unit_chat, li = residents("o_unit"), residents("o_li")
    unit = await unit_account(unit_chat.openid)
    await listed_person(unit, LI, "李四", days_left=10)
    await listed_person(unit, WANG, "王五", days_left=20)
    await unit_chat.send_text("单位签注")
    await unit_chat.send_text("全部")
    await verified_account(li.openid, LI, name="李四")  # 李四 endorses his own permit meanwhile
    for answer in ("签注", "1", "1", "确认"):
        await li.send_text(answer)
    reply = await unit_chat.send_text("确认")
    assert "签注1人，未签注1人" in reply and "王五" in reply.split("未签注：")[0]
    assert f"李四 {masked_id(LI)}：居住证4403002024{LI[-5:]}已于{today().isoformat()}签注，下次签注期为" in reply
    assert reply.count("/r/") == 1
    assert await Endorsement.filter(unit_id=unit.unit_id).count() == 1 and await Endorsement.all().count() == 2


async def test_a_listed_person_not_meeting_the_conditions_at_confirm_is_refused_with_the_numbers(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await listed_person(unit, WANG, "王五")
    await resident.send_text("单位签注")
    await resident.send_text("全部")
    await SocialInsuranceMonth.filter(person=person(WANG)).delete()
    reply = await resident.send_text("确认")
    assert "签注1人，未签注1人" in reply and f"王五 {masked_id(WANG)}：签注条件不符合" in reply
    assert await Endorsement.all().count() == 1


async def test_a_batch_with_nobody_left_to_endorse_goes_back_to_the_review(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("1")
    await SocialInsuranceMonth.filter(person=person(LI)).delete()
    reply = await resident.send_text("确认")
    assert "现在都不能签注" in reply and "签注条件不符合" in reply and "回复「确认」提交" in reply
    assert await Endorsement.all().count() == 0 and await Receipt.all().count() == 0


async def test_a_member_added_who_left_the_unit_before_confirm_is_refused(resident):
    unit = await unit_account(resident.openid)
    await listed_person(unit, WANG, "王五")
    await eligible(LI, "李四")
    await holds_permit(LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("1 添加")
    await add(resident, "李四", LI)
    await resident.send_text("完成")
    await SocialInsuranceMonth.filter(person=person(LI)).update(employer=OTHER_UNIT)
    reply = await resident.send_text("确认")
    assert f"李四 {masked_id(LI)}：不是本单位的人员" in reply and "签注1人，未签注1人" in reply


async def test_the_saved_conversation_never_holds_an_id_number_in_clear(bot, resident):
    await unit_account(resident.openid)
    await eligible(LI, "李四")
    await holds_permit(LI, "李四")
    await resident.send_text("单位签注")
    await resident.send_text("添加")
    await add(resident, "李四", LI)
    store = bot.app[DISPATCHER].store
    begin = await store.begin("peek", resident.openid)
    await store.abort(begin.turn)
    assert begin.turn.state["answers"]["unit_endorse.added"] and LI not in json.dumps(begin.turn.state)
