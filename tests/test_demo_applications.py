"""The demo data lets a new user try 申领, 代办 and 单位签注 with `make chat`, and loads again after they did."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.dev.demo import PASSWORD, UNIT_USERNAME, demo_id_number, load_demo
from conversations.flow import SHENZHEN
from models import ApplicationKind, Endorsement, PermitApplication, Receipt
from tests.harness import FIELD_KEY, Residents, make_settings


@pytest.fixture
async def demo(start_bot, tmp_path, fake_sms) -> Residents:
    settings = make_settings(tmp_path, sms={"provider": "http", "http": {"url": fake_sms.url}})
    client = await start_bot(settings)
    await load_demo(FIELD_KEY, datetime.now(SHENZHEN).date())
    return Residents(client, settings)


async def log_in(demo: Residents, fake_sms, kind: str, username: str):
    resident = demo(f"o_{username}")
    for answer in ("登录", kind, username, PASSWORD):
        await resident.send_text(answer)
    assert "登录成功" in await resident.send_text(fake_sms.last_code(fake_sms.messages[-1]["phone"]))
    return resident


async def test_a_demo_resident_applies(demo, fake_sms):
    resident = await log_in(demo, fake_sms, "个人", "demo_a")
    await resident.send_text("申领")
    for answer in ("4403A12B34C56D", "1", "1", "南山", "1"):
        await resident.send_text(answer)
    assert "居住证申领已受理" in await resident.send_text("确认")


async def test_the_demo_unit_applies_for_a_demo_resident_it_employs(demo, fake_sms):
    unit = await log_in(demo, fake_sms, "单位", UNIT_USERNAME)
    await unit.send_text("代办")
    for answer in ("陈一", demo_id_number("19900101", 11)):  # demo_a
        await unit.send_text(answer)
    for answer in ("完成", "福田", "1"):
        await unit.send_text(answer)
    assert "代办已提交：受理1人" in await unit.send_text("确认")
    assert (await PermitApplication.get()).kind is ApplicationKind.UNIT


async def test_the_demo_unit_endorses_the_demo_permit_holder_it_employs(demo, fake_sms):
    unit = await log_in(demo, fake_sms, "单位", UNIT_USERNAME)
    await unit.send_text("单位签注")
    for answer in ("添加", "吴五", demo_id_number("19880505", 15)):  # demo_window
        await unit.send_text(answer)
    await unit.send_text("完成")
    assert "单位签注已提交：签注1人" in await unit.send_text("确认")
    assert (await Endorsement.get()).unit_id is not None


async def test_demo_data_loads_again_after_applications_and_starts_over(demo, fake_sms):
    await test_a_demo_resident_applies(demo, fake_sms)
    await load_demo(FIELD_KEY, datetime.now(SHENZHEN).date())
    assert await PermitApplication.all().count() == 0 and await Receipt.all().count() == 0
