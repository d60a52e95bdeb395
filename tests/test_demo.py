"""The demo residents of `residence-bot demo-data` reach their verdicts through the bot."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.config import RemindersConfig
from bot.dev.demo import PASSWORD, RESIDENTS, load_demo
from bot.services.reminders import Reminders
from bot.services.security import FieldCipher
from conversations.flow import SHENZHEN
from conversations.parsers import resident_id
from models import Account
from models.rules import Rules
from tests.harness import FIELD_KEY, Residents, make_settings


@pytest.fixture
async def demo_bot(start_bot, tmp_path, fake_sms):
    settings = make_settings(tmp_path, sms={"provider": "http", "http": {"url": fake_sms.url}})
    client = await start_bot(settings)
    await load_demo(FIELD_KEY, datetime.now(SHENZHEN).date())
    return Residents(client, settings)


@pytest.mark.parametrize(
    ("username", "verdict"),
    [
        ("demo_a", "按居住登记＋社保"),
        ("demo_b", "按人才引进"),
        ("demo_c", "按全日制在校学生"),
    ],
)
async def test_eligible_demo_residents_are_told_so_by_their_route(demo_bot, fake_sms, username, verdict):
    reply = await _log_in_and_ask(demo_bot, fake_sms, username)
    assert verdict in reply and "符合申领居住证的条件" in reply


async def test_the_waiting_demo_resident_gets_an_earliest_date(demo_bot, fake_sms):
    reply = await _log_in_and_ask(demo_bot, fake_sms, "demo_wait")
    assert "暂不符合" in reply and "最早" in reply


@pytest.mark.parametrize(
    ("username", "state"),
    [
        ("demo_window", "正在签注期内"),
        ("demo_suspended", "暂停使用"),
        ("demo_cancelled", "注销"),
    ],
)
async def test_permit_holding_demo_residents_see_their_permits_state(demo_bot, fake_sms, username, state):
    resident = await _log_in(demo_bot, fake_sms, username)
    assert state in await resident.send_text("进度")


async def test_demo_data_can_be_loaded_again(demo_bot):
    made = await load_demo(FIELD_KEY, datetime.now(SHENZHEN).date())
    assert [r.username for r, _ in made][:2] == ["demo_a", "demo_b"]


async def test_every_demo_residents_id_number_passes_the_bots_own_check(db):
    today = datetime.now(SHENZHEN).date()
    await load_demo(FIELD_KEY, today)
    cipher = FieldCipher(FIELD_KEY)
    accounts = await Account.filter(username__in=[r.username for r in RESIDENTS])
    numbers = [cipher.decrypt(account.id_number_enc) for account in accounts]
    assert len(numbers) == len(RESIDENTS)
    assert [resident_id(number, today=today) for number in numbers] == numbers


async def _log_in(residents, fake_sms, username: str):
    resident = residents(f"o_{username}")
    await resident.send_text("登录")
    await resident.send_text("个人")
    await resident.send_text(username)
    await resident.send_text(PASSWORD)
    phone = fake_sms.messages[-1]["phone"]
    assert "登录成功" in await resident.send_text(fake_sms.last_code(phone))
    return resident


async def _log_in_and_ask(residents, fake_sms, username: str) -> str:
    return await (await _log_in(residents, fake_sms, username)).send_text("办证资格")


async def test_the_demo_permit_holders_get_the_reminders_the_readme_shows(db):
    today = datetime.now(SHENZHEN).date()
    await load_demo(FIELD_KEY, today)
    reminders = Reminders(Rules(), RemindersConfig())

    async def kinds_on(days: int) -> list[tuple[str, str]]:
        day = today + timedelta(days=days)
        found = await reminders.scan(day, due_at=reminders.due_at(day), dry_run=True)
        return [(f.holder.split("（")[1].rstrip("）"), f.reminder.kind) for f in found]

    assert await kinds_on(23) == [("demo_window", "due7")]
    assert await kinds_on(29) == [("demo_window", "due1")]
    assert await kinds_on(31) == [("demo_window", "suspended")]
