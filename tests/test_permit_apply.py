"""申领 (PERMIT_APPLY) through the whole HTTP path: who may apply, the questions, the application
with its number, receipt and link, one open application a person, and 进度 showing it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.services.receipts import Receipts
from models import (
    ApplicationStatus,
    ApplicationStatusChange,
    PermitApplication,
    Receipt,
    ResidenceRegistration,
    SocialInsuranceMonth,
)
from models.application import CARD_DUE_WORKING_DAYS, add_working_days, is_application_number
from tests.applicants import eligible, id_number, registered, today, unit_account
from tests.people import person, verified_account

ZHANG = id_number(1)
PHOTO = "4403A12B34C56D"
POINT = "南头派出所居住证受理点"


async def answer_up_to_review(resident, *, photo: str = PHOTO) -> str:
    await resident.send_text("申领")
    for answer in (photo, "1", "1", "南山"):
        await resident.send_text(answer)
    return await resident.send_text("1")


async def eligible_resident(resident, number: str = ZHANG, name: str = "张三"):
    account = await verified_account(resident.openid, number, name=name)
    await eligible(number, name)
    return account


def receipt_token(reply: str) -> str:
    match = re.search(r"/r/([A-Za-z0-9_-]+)", reply)
    assert match, reply
    return match.group(1)


async def test_an_eligible_resident_applies_and_gets_the_number_the_due_date_and_the_point(resident):
    account = await eligible_resident(resident)
    review = await answer_up_to_review(resident)
    assert "1. 数码照片图像号：4403A12B34C56D" in review and "2. 联系电话：本账号手机138****8000" in review
    assert "3. 居住登记：REG" in review and "科苑路15号" in review and f"5. 领证受理点：{POINT}" in review
    reply = await resident.send_text("确认")
    application = await PermitApplication.get(person=person(ZHANG))
    assert is_application_number(application.number) and application.number in reply
    due = add_working_days(today(), CARD_DUE_WORKING_DAYS)
    assert application.due_on == due and due.isoformat() in reply and POINT in reply and "本人领取" in reply
    assert application.status is ApplicationStatus.SUBMITTED and application.open_for == person(ZHANG)
    assert (application.photo_number, application.phone, application.account_id) == (PHOTO, "13800138000", account.id)
    [change] = await ApplicationStatusChange.filter(application=application)
    assert change.status is ApplicationStatus.SUBMITTED
    receipt = await Receipt.get(application=application)
    assert receipt.account_id == account.id and receipt.facts["id_number_masked"] == "4403**********" + ZHANG[-4:]


async def test_the_receipt_link_opens_the_applications_receipt(resident, settings):
    await eligible_resident(resident)
    await answer_up_to_review(resident)
    reply = await resident.send_text("确认")
    assert reply.startswith("居住证申领已受理") and reply.split("\n")[-1].startswith(settings.server.public_base_url)
    receipt = await Receipt.get()
    reader = Receipts(settings.receipts, settings.server.public_base_url)
    assert reader.read(receipt_token(reply), datetime.now(UTC)) == receipt.id


async def test_a_photo_number_of_the_wrong_shape_says_where_to_find_it_and_asks_again(resident):
    await eligible_resident(resident)
    await resident.send_text("申领")
    reply = await resident.send_text("12345")
    assert "10到30位字母和数字" in reply and "数码照片回执" in reply and "请输入数码照片图像号" in reply
    assert "联系哪个电话" in await resident.send_text("4403-a12b 34c56d")
    review = await answer_up_to_review_from_contact(resident)
    assert "1. 数码照片图像号：4403A12B34C56D" in review


async def answer_up_to_review_from_contact(resident) -> str:
    for answer in ("1", "1", "南山"):
        await resident.send_text(answer)
    return await resident.send_text("1")


async def test_another_contact_phone_is_asked_and_kept(resident):
    await eligible_resident(resident)
    await resident.send_text("申领")
    await resident.send_text(PHOTO)
    assert "请输入联系电话" in await resident.send_text("其他号码")
    await resident.send_text("13912345678")
    await resident.send_text("1")
    await resident.send_text("南山")
    review = await resident.send_text("1")
    assert "3. 其他联系电话：139****5678" in review
    await resident.send_text("确认")
    assert (await PermitApplication.get()).phone == "13912345678"


async def test_points_are_offered_nearest_a_location_the_resident_sends(resident):
    await eligible_resident(resident)
    await resident.send_text("申领")
    for answer in (PHOTO, "1", "1"):
        await resident.send_text(answer)
    reply = await resident.send_location(22.5376, 114.0556, "福田")
    assert "1. 福田派出所居住证受理点" in reply and "请选择领证的受理点" in reply
    assert "福田派出所居住证受理点" in await resident.send_text("1")


async def test_a_resident_not_eligible_is_told_what_is_missing_as_the_eligibility_query_says(resident):
    await verified_account(resident.openid, ZHANG)
    await registered(ZHANG, "张三", months=5)
    reply = await resident.send_text("申领")
    assert "需要先符合办证资格" in reply and "✗" in reply and "结论：暂不符合" in reply
    assert "数码照片图像号" not in reply


async def test_a_resident_without_a_registration_is_sent_to_register_first(resident):
    await verified_account(resident.openid, ZHANG)
    assert "请先回复「居住登记」" in await resident.send_text("申领")


async def test_applying_needs_a_bound_verified_personal_account(resident):
    assert "请先登录" in await resident.send_text("申领")


async def test_a_second_application_is_told_the_first_ones_number_and_status(resident):
    await eligible_resident(resident)
    await answer_up_to_review(resident)
    await resident.send_text("确认")
    first = await PermitApplication.get()
    reply = await resident.send_text("申领")
    assert f"受理编号{first.number}" in reply and "已受理" in reply and "一人只能有一份" in reply
    assert await PermitApplication.all().count() == 1


async def test_an_application_closed_leaves_the_way_open_for_a_new_one(resident):
    await eligible_resident(resident)
    await answer_up_to_review(resident)
    await resident.send_text("确认")
    await PermitApplication.all().update(status=ApplicationStatus.REJECTED, open_for=None)
    assert "数码照片图像号" in await resident.send_text("申领")


async def test_eligibility_lost_before_confirming_is_refused_at_confirm(resident):
    await eligible_resident(resident)
    await answer_up_to_review(resident)
    await SocialInsuranceMonth.filter(person=person(ZHANG)).delete()
    reply = await resident.send_text("确认")
    assert "需要先符合办证资格" in reply and "结论：暂不符合" in reply
    assert await PermitApplication.all().count() == 0


async def test_a_registration_changed_before_confirming_is_refused_at_confirm(resident):
    await eligible_resident(resident)
    await answer_up_to_review(resident)
    # Moved house since: the registration confirmed has ended, a new one is the current one.
    await ResidenceRegistration.filter(person=person(ZHANG)).update(move_out_on=today())
    await ResidenceRegistration.create(
        number="REGNEW0001", person=person(ZHANG), name="张三", address="福田区福华路3号2栋501",
        move_in_on=today(), declared_on=today(),
    )  # fmt: skip
    reply = await resident.send_text("确认")
    assert "居住登记已有变化" in reply and "回复「确认」提交" in reply  # still at the review
    assert await PermitApplication.all().count() == 0


async def test_a_repeated_confirm_is_told_it_was_submitted_with_the_number(resident):
    await eligible_resident(resident)
    await answer_up_to_review(resident)
    await resident.send_text("确认")
    number = (await PermitApplication.get()).number
    reply = await resident.send_text("确认")
    assert "已经提交过了" in reply and number in reply
    assert await PermitApplication.all().count() == 1


async def test_progress_shows_the_application_with_its_status_and_the_date_of_the_last_change(resident):
    await eligible_resident(resident)
    await answer_up_to_review(resident)
    await resident.send_text("确认")
    application = await PermitApplication.get()
    reply = await resident.send_text("进度")
    assert f"{application.number}｜已受理（{today().isoformat()}）" in reply and POINT in reply


async def test_a_unit_account_is_not_offered_nor_let_into_the_personal_application(resident):
    await unit_account(resident.openid)
    assert "个人账号" in await resident.send_text("申领")
    menu = await resident.send_text("菜单")
    assert "代办" in menu and "回执" in menu and "申领 —" not in menu
