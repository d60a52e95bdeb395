"""居住登记, 办证资格 and 进度 through the whole HTTP path."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from conversations.flow import SHENZHEN
from models import Permit, ResidenceRegistration, SocialInsuranceMonth, TalentRecord
from models.eligibility import add_months
from models.records import month_index
from tests.people import person, verified_account

ID = "440304199001011233"


def today() -> date:
    return datetime.now(SHENZHEN).date()


async def declare_move_in(
    resident,
    move_in_on: str = "2025-03-01",
    *,
    district: str = "南山",
    address: str = "粤海街道科苑路15号1栋1201",
    housing_type: str = "租赁住房",
) -> str:
    await resident.send_text("居住登记")
    for answer in ("1", district, address, "无", housing_type, move_in_on, "无", "务工就业"):
        await resident.send_text(answer)
    return await resident.send_text("13900139000")


async def test_residence_registration_needs_real_name(resident):
    assert "请先登录" in await resident.send_text("居住登记")


async def test_move_in_is_reviewed_and_gets_a_registration_number(resident):
    await verified_account(resident.openid, ID)
    review = await declare_move_in(resident)
    assert "2. 所在区：南山区" in review and "4. 房屋编码：未填写" in review and "6. 入住日期：2025-03-01" in review
    reply = await resident.send_text("确认")
    assert "居住登记成功" in reply and "登记编号：JZ" in reply
    registration = await ResidenceRegistration.get(person=person(ID))
    assert registration.declared_on == today() and registration.move_in_on == date(2025, 3, 1)
    assert registration.number in reply


async def test_a_move_in_date_answered_today_is_todays_date(resident):
    await verified_account(resident.openid, ID)
    review = await declare_move_in(resident, move_in_on="今天")
    assert f"6. 入住日期：{today().isoformat()}" in review
    assert "居住登记成功" in await resident.send_text("确认")
    assert (await ResidenceRegistration.get(person=person(ID))).move_in_on == today()


async def test_a_housing_type_in_everyday_words_is_kept_as_its_choice(resident):
    await verified_account(resident.openid, ID)
    review = await declare_move_in(resident, housing_type="租房")
    assert "5. 住房类型：租赁住房" in review


async def test_a_district_answered_with_a_full_address_keeps_its_district(resident):
    await verified_account(resident.openid, ID)
    review = await declare_move_in(resident, district="广东省深圳市南山区粤海街道科苑路15号")
    assert "2. 所在区：南山区" in review


async def test_a_future_move_in_date_is_refused(resident):
    await verified_account(resident.openid, ID)
    await resident.send_text("居住登记")
    for answer in ("1", "南山", "粤海街道科苑路15号1栋1201", "无", "租赁住房"):
        await resident.send_text(answer)
    tomorrow = today() + timedelta(days=1)
    reply = await resident.send_text(tomorrow.isoformat())
    assert "不能晚于" in reply and "入住日期" in reply


async def test_an_address_without_building_and_room_is_asked_again(resident):
    await verified_account(resident.openid, ID)
    await resident.send_text("居住登记")
    await resident.send_text("入住")
    await resident.send_text("福田区")
    assert "楼栋和房号" in await resident.send_text("福田区")


async def test_move_out_ends_the_current_registration(resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident)
    await resident.send_text("确认")
    await resident.send_text("居住登记")
    assert "搬离日期" in await resident.send_text("搬离")
    assert "1. 登记类型：搬离登记" in await resident.send_text(today().isoformat())
    assert "搬离登记已提交" in await resident.send_text("确认")
    assert (await ResidenceRegistration.get(person=person(ID))).move_out_on == today()


async def test_move_out_without_a_registration_ends_at_once_saying_what_to_do(resident):
    await verified_account(resident.openid, ID)
    await resident.send_text("居住登记")
    reply = await resident.send_text("搬离")
    assert reply.startswith("您目前没有有效的居住登记，不需要办理搬离。") and "选择「入住」申报" in reply
    assert "搬离日期" not in reply  # no date asked for a move-out that cannot be
    assert "没有理解" in await resident.send_text(today().isoformat())  # the form has ended


async def test_a_new_move_in_within_30_days_keeps_registration_continuous(resident):
    await verified_account(resident.openid, ID)
    since = today() - timedelta(days=200)
    await ResidenceRegistration.create(
        number="IMTEST1", person=person(ID), name="张三", address="罗湖区东门路1号", move_in_on=since,
        declared_on=since, move_out_on=today() - timedelta(days=20),
    )  # fmt: skip
    await declare_move_in(resident, move_in_on=(today() - timedelta(days=2)).isoformat())
    assert f"连续计算，自{since.isoformat()}起" in await resident.send_text("确认")


async def test_a_new_move_in_after_more_than_30_days_restarts_the_count(resident):
    await verified_account(resident.openid, ID)
    since = today() - timedelta(days=200)
    await ResidenceRegistration.create(
        number="IMTEST2", person=person(ID), name="张三", address="罗湖区东门路1号", move_in_on=since,
        declared_on=since, move_out_on=today() - timedelta(days=45),
    )  # fmt: skip
    await declare_move_in(resident, move_in_on=(today() - timedelta(days=2)).isoformat())
    assert "重新计算" in await resident.send_text("确认")


async def test_progress_lists_registrations_with_numbers_and_dates(resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident)
    confirm = await resident.send_text("确认")
    number = confirm.split("登记编号：")[1][:16]
    reply = await resident.send_text("进度")
    assert number in reply and "有效" in reply and "入住2025-03-01" in reply


async def test_progress_shows_a_permit_in_its_endorsement_window(resident):
    await verified_account(resident.openid, ID)
    issued = add_months(today(), -12) + timedelta(days=10)
    await Permit.create(permit_no="440300000001", person=person(ID), name="张三", issued_on=issued, anchor_on=issued)
    reply = await resident.send_text("进度")
    assert "居住证 440300000001" in reply and "正在签注期内" in reply
    assert f"请在{add_months(issued, 12).isoformat()}前办理签注" in reply


async def test_progress_needs_a_bound_account(resident):
    assert "请先登录" in await resident.send_text("进度")


async def _history(months_registered: int, months_insured: int, *, paying: bool = True) -> date:
    since = add_months(today(), -months_registered)
    await ResidenceRegistration.create(
        number=f"IM{months_registered}", person=person(ID), name="张三", address="南山区科苑路15号1栋1201",
        move_in_on=since, declared_on=since,
    )  # fmt: skip
    last = month_index(today().year, today().month) - (1 if paying else 3)
    for m in range(last - months_insured + 1, last + 1):
        await SocialInsuranceMonth.create(person=person(ID), month=m, employer="示例科技")
    return since


async def test_eligibility_lists_each_condition_with_ticks_and_says_eligible(resident):
    await verified_account(resident.openid, ID)
    await _history(14, 13)
    reply = await resident.send_text("办证资格")
    assert "✓ " in reply and "✗" not in reply
    assert "结论：您符合申领居住证的条件" in reply and "受理点" in reply


async def test_eligibility_not_yet_met_gives_the_earliest_date(resident):
    await verified_account(resident.openid, ID)
    since = await _history(5, 5)
    reply = await resident.send_text("办证资格")
    assert "✗" in reply and "结论：暂不符合" in reply
    assert f"最早{(add_months(since, 12) + timedelta(days=1)).isoformat()}符合条件" in reply


async def test_eligibility_by_talent_route(resident):
    await verified_account(resident.openid, ID)
    await _history(2, 0, paying=False)
    await TalentRecord.create(person=person(ID), name="张三", category="全日制本科", certified_on=date(2024, 6, 30))
    reply = await resident.send_text("办证资格")
    assert "人才引进" in reply and "符合申领居住证的条件" in reply


async def test_eligibility_with_no_records_says_what_to_do_first(resident):
    await verified_account(resident.openid, ID)
    reply = await resident.send_text("办证资格")
    assert "暂不符合" in reply and "「居住登记」" in reply


async def test_eligibility_needs_a_bound_account(resident):
    assert "请先登录" in await resident.send_text("办证资格")


async def test_eligibility_needs_real_name_verification(resident):
    account = await verified_account(resident.openid, ID)
    account.realname_verified_at = None
    await account.save()
    assert "「实名认证」" in await resident.send_text("办证资格")


async def test_a_district_read_out_of_an_address_is_said_before_the_next_question(resident):
    await verified_account(resident.openid, ID)
    await resident.send_text("居住登记")
    await resident.send_text("1")
    reply = await resident.send_text("深圳市福田区福华路3号")
    assert reply.startswith("已按「福田区」登记所在区。")


async def test_a_second_move_in_on_the_same_day_is_not_told_of_a_gap(resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident)
    await resident.send_text("确认")
    await declare_move_in(resident, district="福田", address="福田街道福华路3号2栋501")
    reply = await resident.send_text("确认")
    assert f"连续居住登记时间从今天{today().isoformat()}起计算" in reply and "超过" not in reply


async def test_the_move_in_reply_says_periods_count_from_the_declaration_not_the_move_in(resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident, move_in_on="2025-03-01")
    reply = await resident.send_text("确认")
    assert f"从今天{today().isoformat()}起计算（按申报日期算，不是入住日期2025-03-01）" in reply


async def test_the_move_in_review_says_an_open_registration_elsewhere_ends(resident):
    await verified_account(resident.openid, ID)
    review = await declare_move_in(resident)
    assert "其他地址还没搬离的居住登记会在今天结束" in review


async def test_after_a_move_in_eligibility_names_only_what_is_still_missing(resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident, move_in_on="今天")
    await resident.send_text("确认")
    reply = await resident.send_text("办证资格")
    next_step = reply.split("下一步：")[1]
    assert "居住登记」申报" not in next_step and "社保" in next_step


async def test_eligibility_while_insured_and_registered_names_the_date_and_keeping_both(resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident, move_in_on="今天")
    await resident.send_text("确认")
    now = month_index(today().year, today().month)
    for month in range(now - 3, now + 1):
        await SocialInsuranceMonth.create(person=person(ID), month=month)
    reply = await resident.send_text("办证资格")
    assert f"最早{add_months(today(), 12).isoformat()}" in reply or "最早" in reply
    assert "保持居住登记有效（搬家后30天内重新申报）；按月缴纳社保" in reply
    assert "第十九条" not in reply
