"""签注 (ENDORSE) through the whole HTTP path: the permit and its state, the Art. 24 conditions, the
address question, the endorsement at once with its new validity and receipt, 补办签注 while
suspended, and nobody endorsing someone else's permit."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta

from bot.config import AccountsConfig
from bot.services.accounts import Accounts
from bot.services.receipts import Receipts
from bot.services.security import FieldCipher, hash_password
from models import Endorsement, EndorsementKind, Permit, Receipt, Source
from models.permit_cycle import add_years, window
from models.rules import Rules
from tests.applicants import eligible, id_number, insured, registered, today
from tests.harness import FIELD_KEY
from tests.people import person, verified_account

ZHANG = id_number(21)
LI = id_number(22)


async def permit(number: str, issued_on: date, *, permit_no: str = "440300202400001") -> Permit:
    return await Permit.create(
        permit_no=permit_no, person=person(number), name="张三", issued_on=issued_on, anchor_on=issued_on
    )


def issued_for_window_open(days_left: int = 30) -> date:
    """An issue date whose first period ends `days_left` days from today (so its window is open)."""
    return add_years(today() + timedelta(days=days_left), -1)


async def endorsable_resident(
    resident, number: str = ZHANG, *, issued_on: date | None = None, permit_no: str = "440300202400001"
) -> Permit:
    await verified_account(resident.openid, number)
    await eligible(number, "张三")
    return await permit(number, issued_on or issued_for_window_open(), permit_no=permit_no)


async def up_to_review(resident) -> str:
    await resident.send_text("签注")
    await resident.send_text("1")
    return await resident.send_text("1")


def receipt_token(reply: str) -> str:
    match = re.search(r"/r/([A-Za-z0-9_-]+)", reply)
    assert match, reply
    return match.group(1)


async def test_in_the_window_the_permit_is_endorsed_at_once_with_its_next_window_and_a_receipt(resident, settings):
    issued = issued_for_window_open()
    await endorsable_resident(resident, issued_on=issued)
    first = await resident.send_text("签注")
    deadline = add_years(issued, 1)
    assert "请选择办理签注的居住证" in first and "1. 440300202400001（签注期内）" in first
    conditions = await resident.send_text("1")
    assert f"正在签注期内（{(deadline - timedelta(days=59)).isoformat()}至{deadline.isoformat()}）" in conditions
    assert "✓ 居住登记：近12个月累计12个月（需满8个月）" in conditions and "✓ 社保" in conditions
    assert "居住地址有变化吗" in conditions
    review = await resident.send_text("1")
    assert "1. 居住证：440300202400001" in review and "2. 居住地址：没有变化" in review
    reply = await resident.send_text("确认")
    opens, closes = window(issued, 2, Rules())
    assert reply.startswith("签注成功：居住证440300202400001") and f"已于{today().isoformat()}签注" in reply
    assert f"下次签注期：{opens.isoformat()}至{closes.isoformat()}" in reply
    [endorsement] = await Endorsement.all()
    assert (endorsement.kind, endorsement.deadline, endorsement.endorsed_on) == (
        EndorsementKind.REGULAR, deadline, today(),
    )  # fmt: skip
    assert endorsement.source is Source.BOT and endorsement.unit_id is None
    held = await Permit.get(id=endorsement.permit_id)
    assert (held.anchor_on, held.last_endorsed_on) == (issued, today())
    receipt = await Receipt.get(endorsement=endorsement)
    assert receipt.business == "居住证签注" and receipt.number in reply
    assert receipt.facts["id_number_masked"] == "4403**********" + ZHANG[-4:]
    assert (receipt.facts["window_opens"], receipt.facts["window_closes"]) == (opens.isoformat(), closes.isoformat())
    reader = Receipts(settings.receipts, settings.server.public_base_url)
    assert reader.read(receipt_token(reply), datetime.now(UTC)) == receipt.id


async def test_once_endorsed_the_next_ask_says_when_the_next_window_opens(resident):
    issued = issued_for_window_open()
    await endorsable_resident(resident, issued_on=issued)
    await up_to_review(resident)
    await resident.send_text("确认")
    opens, closes = window(issued, 2, Rules())
    reply = await resident.send_text("签注")
    assert f"本期签注期为{opens.isoformat()}至{closes.isoformat()}，还没到签注期" in reply
    assert "请选择" not in reply


async def test_before_the_window_the_reply_says_when_it_opens_and_closes_and_asks_nothing(resident):
    issued = today() - timedelta(days=100)
    await endorsable_resident(resident, issued_on=issued)
    opens, closes = window(issued, 1, Rules())
    reply = await resident.send_text("签注")
    assert f"本期签注期为{opens.isoformat()}至{closes.isoformat()}" in reply and "请到时再回复「签注」" in reply
    assert "请选择" not in reply and await resident.send_text("1") != reply


async def test_a_suspended_permit_gets_a_late_endorsement_and_its_cycle_restarts_today(resident):
    issued = issued_for_window_open(days_left=-30)  # the deadline was 30 days ago
    await endorsable_resident(resident, issued_on=issued)
    first = await resident.send_text("签注")
    assert "1. 440300202400001（已暂停使用，可补办签注）" in first
    conditions = await resident.send_text("1")
    suspended_from = add_years(issued, 1) + timedelta(days=1)
    assert f"已于{suspended_from.isoformat()}暂停使用" in conditions and "可以补办签注" in conditions
    await resident.send_text("1")
    reply = await resident.send_text("确认")
    opens, closes = window(today(), 1, Rules())
    assert reply.startswith("补办签注成功") and "居住证恢复使用" in reply and "签注周期从今天重新计算" in reply
    assert f"下次签注期：{opens.isoformat()}至{closes.isoformat()}" in reply
    [endorsement] = await Endorsement.all()
    assert (endorsement.kind, endorsement.deadline) == (EndorsementKind.LATE, add_years(issued, 1))
    assert (await Permit.get()).anchor_on == today()
    assert (await Receipt.get()).business == "补办签注"


async def test_a_cancelled_permit_says_so_and_points_to_a_new_application(resident):
    issued = add_years(today(), -4)
    await endorsable_resident(resident, issued_on=issued)
    reply = await resident.send_text("签注")
    cancelled = add_years(add_years(issued, 1) + timedelta(days=1), 2)
    assert f"已于{cancelled.isoformat()}注销" in reply and "不能签注" in reply and "「申领」" in reply
    assert await Endorsement.all().count() == 0


async def test_conditions_not_met_are_shown_with_their_numbers_and_what_is_missing(resident):
    await verified_account(resident.openid, ZHANG)
    await registered(ZHANG, "张三", months=14)
    await insured(ZHANG, months=5)
    await permit(ZHANG, issued_for_window_open())
    reply = await resident.send_text("签注")
    assert "✓ 居住登记：近12个月累计12个月（需满8个月）" in reply
    assert "✗ 社保" in reply and "累计缴纳5个月（需满8个月），还差3个月" in reply
    assert "暂不符合签注条件" in reply and "请选择" not in reply


async def test_a_changed_address_points_to_residence_registration_and_ends_the_form(resident):
    await endorsable_resident(resident)
    await resident.send_text("签注")
    await resident.send_text("1")
    reply = await resident.send_text("有变化")
    assert "要先办理居住登记" in reply and "「居住登记」" in reply and "没有提交" in reply
    assert "确认" not in reply and "居住地址有变化吗" not in reply
    assert "居住地址有变化吗" not in await resident.send_text("1")  # the form is gone
    assert await Endorsement.all().count() == 0
    assert "请选择办理签注的居住证" in await resident.send_text("签注")


async def test_back_from_the_address_question_asks_for_the_permit_again(resident):
    await endorsable_resident(resident)
    await resident.send_text("签注")
    await resident.send_text("1")
    assert "请选择办理签注的居住证" in await resident.send_text("返回")


async def test_two_confirms_at_once_endorse_once_and_both_get_the_receipt_number(resident):
    await endorsable_resident(resident)
    await up_to_review(resident)
    first, second = await asyncio.gather(resident.send_text("确认"), resident.send_text("确认"))
    [receipt] = await Receipt.all()
    assert receipt.number in first and receipt.number in second
    assert await Endorsement.all().count() == 1


async def test_a_period_endorsed_elsewhere_after_the_review_is_not_endorsed_again(resident):
    held = await endorsable_resident(resident)
    await up_to_review(resident)
    # Meanwhile the period is endorsed another way (the resident's unit, another process).
    await Endorsement.create(
        permit=held, deadline=add_years(held.anchor_on, 1), endorsed_on=today(), kind=EndorsementKind.REGULAR,
        source=Source.BOT,
    )  # fmt: skip
    reply = await resident.send_text("确认")
    assert "还没到签注期" in reply and "签注成功" not in reply
    assert await Endorsement.all().count() == 1 and await Receipt.all().count() == 0


async def test_several_permits_are_offered_to_choose_from(resident):
    await endorsable_resident(resident)
    await permit(ZHANG, issued_for_window_open(days_left=-10), permit_no="440300202400002")
    reply = await resident.send_text("签注")
    assert "1. 440300202400001（签注期内）" in reply and "2. 440300202400002（已暂停使用，可补办签注）" in reply
    await resident.send_text("2")
    await resident.send_text("1")
    await resident.send_text("确认")
    [endorsement] = await Endorsement.all()
    assert (await Permit.get(id=endorsement.permit_id)).permit_no == "440300202400002"
    assert endorsement.kind is EndorsementKind.LATE


async def test_a_resident_without_a_permit_is_told_how_to_get_one(resident):
    await verified_account(resident.openid, ZHANG)
    assert "您名下没有居住证记录" in await resident.send_text("签注")


async def test_an_unverified_claim_to_someone_elses_id_number_reaches_no_permit(residents):
    owner, claimant = residents("o_owner"), residents("o_claimant")
    # The claimant registered with the owner's ID number first and never passed real-name verification.
    await Accounts(AccountsConfig()).register_personal(
        openid=claimant.openid, name="张三", id_number=FieldCipher(FIELD_KEY).protect_id(ZHANG),
        hukou_address="湖南省长沙市岳麓区麓山路1号", phone="13900139000", username="claimant1",
        password_hash=await hash_password("mima2024ab"),
    )  # fmt: skip
    await endorsable_resident(owner)
    reply = await claimant.send_text("签注")
    assert "实名认证" in reply and "440300202400001" not in reply
    assert await Endorsement.all().count() == 0


async def test_a_verified_resident_is_offered_only_their_own_permits(residents):
    owner, other = residents("o_owner"), residents("o_other")
    await endorsable_resident(owner)
    await endorsable_resident(other, LI, permit_no="440300202400009")
    reply = await other.send_text("签注")
    assert "440300202400009" in reply and "440300202400001" not in reply
    await other.send_text("1")
    await other.send_text("1")
    await other.send_text("确认")
    [endorsement] = await Endorsement.all()
    assert (await Permit.get(id=endorsement.permit_id)).person == person(LI)
