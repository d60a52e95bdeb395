"""Endorsement reminders (SPEC §6): the daily scan writes each reminder once, to the permit's
verified holder only; the sender keeps quiet hours, the 提醒 opt-out and the channel; the 提醒
flow; an endorsement moves the permit on to its next reminders and is pushed itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from bot.config import RemindersConfig, TemplatesConfig
from bot.dev.wechat_standin import SUBSCRIBE_PATH, TEMPLATE_PATH
from bot.services.push_sender import quiet_until
from bot.services.reminders import Reminders
from bot.state.memory import MemoryStore
from models import Account, AccountKind, Binding, Endorsement, Permit, Push, PushState, WeChatUser
from models.records import add_years
from models.rules import SHENZHEN, Rules
from tests.people import person, verified_account
from tests.test_endorse_flow import endorsable_resident, issued_for_window_open, up_to_review
from tests.test_push_sender import make_sender

ZHANG = "440304199001011233"
LI = "440304199202023344"
OPENID = "o_reminded_1"
REMINDER_TEMPLATE = "TPL_endorsement_reminder_1"
ISSUED = date(2025, 3, 10)  # its first period ends 2026-03-10: the window opens 2026-01-10
OPENS = date(2026, 1, 10)
CONFIG = RemindersConfig(quiet_hours="")


def shenzhen(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHENZHEN)


async def permit_of(number: str, *, issued_on: date = ISSUED, permit_no: str = "440300202500001") -> Permit:
    return await Permit.create(
        permit_no=permit_no, person=person(number), name="张三", issued_on=issued_on, anchor_on=issued_on
    )


async def scan(day: date, config: RemindersConfig = CONFIG, **kwargs):
    reminders = Reminders(Rules(), config)
    return await reminders.scan(day, due_at=kwargs.pop("due_at", reminders.due_at(day)), **kwargs)


# -- the scan -----------------------------------------------------------------------------------
async def test_the_scan_writes_the_days_reminder_for_the_permits_verified_holder(db):
    account = await verified_account(OPENID, ZHANG)
    permit = await permit_of(ZHANG)
    [found] = await scan(OPENS)
    assert (found.permit_no, found.reminder.kind, found.existing) == ("440300202500001", "opens", False)
    [row] = await Push.all()
    assert row.key == f"remind:{permit.id}:2026-03-10:opens"
    assert (row.account_id, row.kind, row.template, row.state) == (
        account.id, "endorsement_reminder", "endorsement_reminder", PushState.PENDING,
    )  # fmt: skip
    assert row.data == {
        "character_string1": "440300202500001",
        "thing2": "签注期已开始，请按时签注",
        "date3": "2026-03-10",
        "thing4": "回复「签注」在线办理",
    }
    assert row.due_at == shenzhen(OPENS, 9)  # reminders.send_hour, Shenzhen time


async def test_a_second_scan_of_the_day_writes_nothing_new(db):
    await reminder_written()
    [again] = await scan(OPENS)
    assert again.existing and await Push.all().count() == 1


async def test_two_scans_at_once_write_each_reminder_once(db):
    for i, number in enumerate((ZHANG, LI)):
        await verified_account(f"o_reminded_{i}", number)
        await permit_of(number, permit_no=f"44030020250000{i}")
    await asyncio.gather(scan(OPENS), scan(OPENS), scan(OPENS))
    assert sorted(await Push.all().values_list("key", flat=True)) == sorted(
        f"remind:{p.id}:2026-03-10:opens" for p in await Permit.all()
    )


async def test_each_kind_of_reminder_is_found_on_its_day(db):
    await verified_account(OPENID, ZHANG)
    await permit_of(ZHANG)
    days = {
        OPENS: "opens",
        date(2026, 2, 8): "due30",
        date(2026, 3, 3): "due7",
        date(2026, 3, 9): "due1",
        date(2026, 3, 11): "suspended",
        date(2028, 1, 11): "cancel60",
    }
    for day, kind in days.items():
        assert [f.reminder.kind for f in await scan(day)] == [kind], day
    assert await scan(date(2026, 3, 10)) == [] and await scan(date(2026, 5, 1)) == []
    assert await Push.all().count() == len(days)


async def test_a_permit_whose_holder_has_no_verified_account_is_not_reminded(db):
    # An account that only typed the holder's ID number at 注册 is not the holder.
    accounts = await Account.create(
        kind=AccountKind.PERSONAL, username="claimant", password_hash="-", phone="13800138000", name="张三",
        id_number_hash=person(ZHANG),
    )  # fmt: skip
    await Binding.create(account=accounts, openid=OPENID)
    await permit_of(ZHANG)
    assert await scan(OPENS) == [] and await Push.all().count() == 0


async def test_a_dry_run_finds_the_reminders_and_writes_nothing(db):
    await verified_account(OPENID, ZHANG)
    await permit_of(ZHANG)
    [found] = await scan(OPENS, dry_run=True)
    assert found.reminder.kind == "opens" and await Push.all().count() == 0


async def test_the_scan_follows_the_configured_days_and_convention(db):
    await verified_account(OPENID, ZHANG)
    await permit_of(ZHANG)
    assert [f.reminder.kind for f in await scan(date(2026, 2, 24), RemindersConfig(days_before_deadline=[14]))] == [
        "due14"
    ]
    day_before = Reminders(replace(Rules(), endorsement_convention="day_before"), CONFIG)
    [found] = await day_before.scan(date(2026, 1, 9), due_at=datetime.now(UTC))
    assert found.reminder.kind == "opens" and found.reminder.last_day == date(2026, 3, 9)


async def test_an_endorsed_permit_is_reminded_of_its_next_period_not_of_the_closed_one(db):
    await verified_account(OPENID, ZHANG)
    permit = await permit_of(ZHANG)
    await Endorsement.create(permit=permit, deadline=date(2026, 3, 10), endorsed_on=OPENS, kind="regular",
                             source="bot")  # fmt: skip
    await Permit.filter(id=permit.id).update(deadline_on=date(2027, 3, 10))  # as Endorsements.endorse keeps it
    assert await scan(date(2026, 3, 3)) == []
    [found] = await scan(date(2027, 1, 10))
    assert found.reminder.kind == "opens" and found.reminder.status.deadline == date(2027, 3, 10)


# -- sending ------------------------------------------------------------------------------------
async def reminder_written() -> Account:
    """The holder's account, and the window-opening reminder of their permit in the outbox."""
    account = await verified_account(OPENID, ZHANG)
    await permit_of(ZHANG)
    await scan(OPENS)
    return account


def reminder_sender(session, fake_wechat, store, **config):
    templates = TemplatesConfig(endorsement_reminder=REMINDER_TEMPLATE)
    return make_sender(session, fake_wechat, store, templates=templates, reminders=RemindersConfig(**config))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def memory_store() -> MemoryStore:
    return MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)


async def test_a_reminder_goes_out_as_a_template_message_with_its_client_msg_id(db, session, fake_wechat, memory_store):
    await reminder_written()
    sender = reminder_sender(session, fake_wechat, memory_store, quiet_hours="")
    assert await sender.send_due(shenzhen(OPENS, 9)) == 1
    [sent] = fake_wechat.sent_templates
    row = await Push.get()
    assert sent["touser"] == OPENID and sent["template_id"] == REMINDER_TEMPLATE
    assert sent["client_msg_id"] == f"rb-push-{row.id}"
    assert sent["data"]["thing2"] == {"value": "签注期已开始，请按时签注"}
    assert row.state is PushState.SENT


async def test_a_reminder_due_in_quiet_hours_waits_for_their_end_and_is_sent_then(
    db, session, fake_wechat, memory_store
):
    await verified_account(OPENID, ZHANG)
    await permit_of(ZHANG)
    await scan(OPENS, due_at=shenzhen(OPENS, 22))
    sender = reminder_sender(session, fake_wechat, memory_store, quiet_hours="21:00-08:00")
    assert await sender.send_due(shenzhen(OPENS, 22, 30)) == 0
    row = await Push.get()
    assert (row.state, row.due_at, row.attempts, row.claimed_until) == (
        PushState.PENDING, shenzhen(OPENS + timedelta(days=1), 8), 0, None,
    )  # fmt: skip
    assert await sender.send_due(shenzhen(OPENS + timedelta(days=1), 7, 59)) == 0
    assert await sender.send_due(shenzhen(OPENS + timedelta(days=1), 8)) == 1
    assert len(fake_wechat.sent_templates) == 1


@pytest.mark.parametrize(
    ("quiet", "at", "until"),
    [
        ("21:00-08:00", (22, 0), (1, 8)),  # after the start: the next morning
        ("21:00-08:00", (3, 0), (0, 8)),  # after midnight: this morning
        ("21:00-08:00", (8, 0), None),  # the end is outside
        ("21:00-08:00", (20, 59), None),
        ("12:00-14:00", (13, 0), (0, 14)),  # within a day
        ("", (23, 0), None),
    ],
)
def test_quiet_hours_end_when_they_say(quiet, at, until):
    now = shenzhen(OPENS, *at)
    expected = None if until is None else shenzhen(OPENS + timedelta(days=until[0]), until[1])
    assert quiet_until(now, quiet) == expected


async def test_a_resident_who_turned_reminders_off_is_not_sent_them(db, session, fake_wechat, memory_store):
    account = await reminder_written()
    await Account.filter(id=account.id).update(reminders_enabled=False)
    assert await reminder_sender(session, fake_wechat, memory_store, quiet_hours="").send_due() == 0
    row = await Push.get()
    assert row.state is PushState.SKIPPED and "提醒" in row.last_error
    assert fake_wechat.sent_templates == []


async def test_the_subscribe_channel_sends_a_subscribe_notification(db, session, fake_wechat, memory_store):
    await reminder_written()
    fake_wechat.subscribe(OPENID, REMINDER_TEMPLATE)
    sender = reminder_sender(session, fake_wechat, memory_store, quiet_hours="", channel="subscribe")
    assert await sender.send_due() == 1
    [call] = fake_wechat.calls_to(SUBSCRIBE_PATH)
    assert call.json["touser"] == OPENID and call.json["template_id"] == REMINDER_TEMPLATE
    assert call.json["data"]["date3"] == {"value": "2026-03-10"} and "client_msg_id" not in call.json
    assert fake_wechat.calls_to(TEMPLATE_PATH) == []
    assert (await Push.get()).state is PushState.SENT


async def test_a_subscribe_notification_the_user_did_not_accept_is_skipped(db, session, fake_wechat, memory_store):
    await reminder_written()
    fake_wechat.subscribe("o_someone_else", REMINDER_TEMPLATE)  # OPENID accepted nothing: 43101
    sender = reminder_sender(session, fake_wechat, memory_store, quiet_hours="", channel="subscribe")
    assert await sender.send_due() == 0
    row = await Push.get()
    assert row.state is PushState.SKIPPED and "43101" in row.last_error
    assert fake_wechat.sent_subscribes == []


async def test_a_subscribe_notification_to_someone_who_unfollowed_marks_them(db, session, fake_wechat, memory_store):
    await reminder_written()
    fake_wechat.unfollow(OPENID)
    sender = reminder_sender(session, fake_wechat, memory_store, quiet_hours="", channel="subscribe")
    assert await sender.send_due() == 0
    assert (await Push.get()).state is PushState.SKIPPED
    assert (await WeChatUser.get(openid=OPENID)).subscribed is False


async def test_a_transient_error_on_a_subscribe_notification_is_retried(db, session, fake_wechat, memory_store):
    await reminder_written()
    fake_wechat.fail_next(SUBSCRIBE_PATH, -1, times=3)  # the client's own retries, then the outbox's
    sender = reminder_sender(session, fake_wechat, memory_store, quiet_hours="", channel="subscribe")
    now = datetime.now(UTC)
    assert await sender.send_due(now) == 0
    row = await Push.get()
    assert (row.state, row.attempts) == (PushState.PENDING, 1)
    assert await sender.send_due(now + timedelta(minutes=1)) == 1
    assert len(fake_wechat.sent_subscribes) == 1


# -- 提醒 --------------------------------------------------------------------------------------
async def test_提醒_turns_reminders_off_and_on_and_says_which(resident):
    account = await verified_account(resident.openid, ZHANG)
    off = await resident.send_text("提醒")
    assert off.startswith("已关闭签注提醒") and "再次回复「提醒」即可重新开启" in off
    assert (await Account.get(id=account.id)).reminders_enabled is False
    on = await resident.send_text("提醒")
    assert on.startswith("已开启签注提醒：签注期开始时、截止前30天、7天、1天") and "再次回复「提醒」可关闭" in on
    assert (await Account.get(id=account.id)).reminders_enabled is True


async def test_提醒_needs_a_bound_personal_account(resident):
    reply = await resident.send_text("提醒")
    assert "登录" in reply and not reply.startswith("已")


# -- an endorsement -----------------------------------------------------------------------------
async def test_an_endorsement_moves_the_permits_deadline_on_and_is_pushed_to_the_holder(resident, settings):
    issued = issued_for_window_open()
    held = await endorsable_resident(resident, issued_on=issued)
    await up_to_review(resident)
    assert (await resident.send_text("确认")).startswith("签注成功")
    [endorsement] = await Endorsement.all()
    assert (await Permit.get(id=held.id)).deadline_on == add_years(issued, 2)
    [push] = await Push.filter(key=f"endorsed:{endorsement.id}")
    assert push.template == "application_status" and push.data["phrase2"] == "已签注"
    assert push.data["character_string1"].startswith("QZ") and "/r/" in push.url
    assert push.data["thing4"].startswith("下次签注期") and len(push.data["thing4"]) <= 20
