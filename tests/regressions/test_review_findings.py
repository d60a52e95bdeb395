"""Regressions for defects found in review (each test names the scenario it guards)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.admin import unit_form
from bot.app import DISPATCHER
from bot.config import AccountsConfig
from bot.services.accounts import Accounts
from bot.services.units import UnitError, Units
from bot.state.memory import MemoryStore
from conversations.flow import SHENZHEN
from conversations.parsers import Invalid, username
from models import Account, ResidenceRegistration
from tests.people import person, verified_account

ID = "440304199001011233"


async def test_a_unit_username_differing_only_in_case_from_a_resident_is_refused(resident):
    await verified_account(resident.openid, ID, username="alice1")
    with pytest.raises(UnitError, match="already taken"):
        await Units(Accounts(AccountsConfig())).open_account(
            unit_form(name="示例单位", uscc="91350100M000100Y43", username="ALICE1", phone="13700137000")
        )


@pytest.mark.parametrize("word", ["menu", "HELP"])
def test_command_words_cannot_be_usernames(word):
    with pytest.raises(Invalid):
        username(word)


async def test_re_declaring_the_same_home_late_keeps_registration_continuous(resident):
    await verified_account(resident.openid, ID)
    today = datetime.now(SHENZHEN).date()
    since = today - timedelta(days=200)
    await ResidenceRegistration.create(
        number="IMREVIEW1", person=person(ID), name="张三", address="南山区科苑路15号1栋1201",
        move_in_on=since, declared_on=since,
    )  # fmt: skip
    await resident.send_text("居住登记")
    for answer in ("1", "南山", "粤海街道科苑路15号1栋1201", "无", "租赁住房", since.isoformat(), "无", "务工就业"):
        await resident.send_text(answer)
    await resident.send_text("13900139000")
    assert f"连续计算，自{since.isoformat()}起" in await resident.send_text("确认")
    old = await ResidenceRegistration.get(number="IMREVIEW1")
    assert old.move_out_on == today


async def test_wrong_passwords_sent_at_once_from_many_wechat_users_all_count(residents):
    await verified_account("o_owner", ID, username="target1")
    guessers = [residents(f"o_guess_{i}") for i in range(5)]
    for guesser in guessers:
        await guesser.send_text("登录")
        await guesser.send_text("个人")
        await guesser.send_text("target1")
    await asyncio.gather(*(g.send_text("wrongpass1") for g in guessers))
    account = await Account.get(username="target1")
    assert account.locked_until is not None


async def test_no_timeout_notice_long_after_a_completed_flow(bot, resident):
    # What a submitted flow leaves behind, so that a repeated 确认 gets its reference.
    store = bot.app[DISPATCHER].store
    turn = (await store.begin("msg:setup", resident.openid)).turn
    now = datetime.now(UTC).timestamp()
    done = {"v": 1, "flow": "ACCOUNT_REGISTER", "done": "用户名：zhang_san", "updated_at": now}
    await store.commit(turn, done, 86400, "")
    later = datetime.now(UTC) + timedelta(hours=2)
    bot.app[DISPATCHER].clock = lambda: later
    reply = await resident.send_text("受理点")
    assert "没有回复" not in reply and "请发送您的位置" in reply


async def test_a_begin_cancelled_while_waiting_for_the_lock_leaves_no_claim():
    store = MemoryStore(dedup_ttl_s=60, lock_timeout_s=10)
    held = await store.begin("msg:1", "o1")
    waiting = asyncio.create_task(store.begin("msg:2", "o1"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await store.commit(held.turn, None, 60, "")
    assert (await store.begin("msg:2", "o1")).kind == "new"  # not "pending" forever
