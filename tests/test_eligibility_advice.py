"""办证资格 for a resident who holds a permit (issue 11, point 2): what they need instead of a new
application, by the permit's state; a cancelled permit leads on to the Art. 19 verdict."""

from __future__ import annotations

from datetime import timedelta

from models.permit_cycle import window
from models.records import add_years
from models.rules import Rules
from tests.applicants import eligible, today
from tests.people import verified_account
from tests.test_endorse_flow import ZHANG, issued_for_window_open, permit


async def holder(resident, issued_on):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    return await permit(ZHANG, issued_on)


async def test_in_the_window_it_points_to_endorsement_with_the_last_day(resident):
    issued = issued_for_window_open(days_left=20)
    await holder(resident, issued)
    reply = await resident.send_text("办证资格")
    closes = add_years(issued, 1)
    assert reply.startswith("您已持有居住证440300202400001，现在正是签注期")
    assert f"请在{closes.isoformat()}前（含当天）签注" in reply and "回复「签注」办理" in reply
    assert "结论" not in reply  # no verdict on a new application it does not need


async def test_before_the_window_it_says_the_permit_is_in_use_and_when_to_endorse(resident):
    issued = today() - timedelta(days=100)
    await holder(resident, issued)
    reply = await resident.send_text("办证资格")
    opens, closes = window(issued, 1, Rules())
    assert reply.startswith("您已持有居住证440300202400001，正常使用中，不需要重新申领。")
    assert f"下次签注期：{opens.isoformat()}至{closes.isoformat()}" in reply


async def test_while_suspended_it_points_to_a_late_endorsement_with_the_last_day(resident):
    issued = today() - timedelta(days=500)  # its first period ended about four months ago
    await holder(resident, issued)
    reply = await resident.send_text("办证资格")
    suspended_from = add_years(issued, 1) + timedelta(days=1)
    last_day = add_years(suspended_from, 2) - timedelta(days=1)
    assert f"已于{suspended_from.isoformat()}暂停使用" in reply
    assert f"{last_day.isoformat()}前（含当天）可以补办签注" in reply and "不需要重新申领" in reply


async def test_a_cancelled_permit_leads_on_to_a_new_application_and_the_verdict(resident):
    await holder(resident, today() - timedelta(days=365 * 4))
    reply = await resident.send_text("办证资格")
    assert "已于" in reply and "注销，要重新申领" in reply
    assert "结论：您符合申领居住证的条件" in reply


async def test_without_a_permit_the_verdict_is_as_before(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    reply = await resident.send_text("办证资格")
    assert reply.startswith("办证资格（截至") and "结论：您符合申领居住证的条件" in reply
