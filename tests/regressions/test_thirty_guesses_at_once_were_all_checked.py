"""Thirty WeChat users guessing one account's password at once all had their guess checked, so the
five-try lockout did not hold; a username with no account was answered differently from a wrong
password; and password hashes ran in asyncio's default executor, where a flood of them held up
whatever else used it (a resident's ID-card photo being saved). Issue 8, point 4.

On SQLite and on PostgreSQL: the count of tries is the database's (bot/services/logins.py).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

import bot.services.security
from bot.app import DISPATCHER
from bot.config import AccountsConfig
from bot.services.accounts import Accounts
from bot.services.security import BUSY, HASH_MAX_WAITING, HASH_WORKERS, FieldCipher, hash_password
from models import Account
from models.account import is_locked
from tests.fake_wechat_api import IMAGE_MEDIA_ID
from tests.harness import FIELD_KEY, make_settings, through_fakes
from tests.people import verified_account

ID = "440304199001011233"
USERNAME = "u01011233"  # tests.people's name for ID's account
PASSWORD = "mima2024ab"


class CountingHasher:
    """argon2 as the pool runs it, counting verifications and how many run at once; `gate` holds
    every verification until it is set."""

    def __init__(self, real: PasswordHasher) -> None:
        self._real = real
        self._lock = threading.Lock()
        self.verified = 0
        self.running = 0
        self.most_at_once = 0
        self.gate = threading.Event()
        self.gate.set()

    def hash(self, password: str) -> str:
        return self._real.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.verified += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.gate.wait(10)
            return self._real.verify(password_hash, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def settings(tmp_path, db_url, fake_sms, fake_wechat):
    return make_settings(
        tmp_path,
        database={"url": db_url},
        **through_fakes(fake_sms, fake_wechat),
    )


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(PasswordHasher())
    monkeypatch.setattr(bot.services.security, "_hasher", counting)
    return counting


async def at_password(resident, username: str = USERNAME) -> None:
    await resident.send_text("登录")
    await resident.send_text("个人")
    assert "请输入密码" in await resident.send_text(username)


async def test_thirty_guesses_at_once_get_at_most_five_checks_and_all_are_refused(residents, hasher):
    await verified_account("o_owner", ID)
    guessers = [residents(f"o_guesser_{i}") for i in range(30)]
    await asyncio.gather(*(at_password(g) for g in guessers))
    before = hasher.verified
    replies = await asyncio.gather(*(g.send_text(f"guess{i:04d}x") for i, g in enumerate(guessers)))
    assert hasher.verified - before <= 5
    assert all("用户名或密码不对" in r or "账号已锁定" in r for r in replies), [
        r for r in replies if "账号已锁定" not in r
    ]
    assert not any("短信验证" in r or "登录成功" in r for r in replies)
    account = await Account.get(username=USERNAME)
    assert is_locked(account.locked_until, datetime.now(UTC))
    owner = residents("o_owner_again")
    await at_password(owner)
    checked = hasher.verified
    assert "账号已锁定" in await owner.send_text(PASSWORD)  # the right one too, unchecked, while locked
    assert hasher.verified == checked


async def test_guesses_at_once_after_a_lock_ran_out_get_five_checks_again(bot, residents, hasher):
    await verified_account("o_owner", ID)
    guessers = [residents(f"o_guesser_{i}") for i in range(12)]
    await asyncio.gather(*(at_password(g) for g in guessers))
    first = await asyncio.gather(*(g.send_text("guess0000x") for g in guessers[:6]))
    # A guesser told of the lock has left the form: it logs in again to guess on.
    await asyncio.gather(*(at_password(g) for g, r in zip(guessers, first, strict=False) if "账号已锁定" in r))
    later = datetime.now(UTC) + timedelta(minutes=16)
    bot.app[DISPATCHER].clock = lambda: later
    before = hasher.verified
    replies = await asyncio.gather(*(g.send_text("guess0001x") for g in guessers))
    assert hasher.verified - before == 5
    assert sum("账号已锁定" in r for r in replies) >= 7
    locked_until = (await Account.get(username=USERNAME)).locked_until
    assert locked_until is not None and locked_until > later


async def test_a_username_with_no_account_gets_what_a_wrong_password_gets_at_the_same_cost(bot, residents, hasher):
    await verified_account("o_owner", ID)
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    bot.app[DISPATCHER].clock = lambda: start
    answers = {}
    for username in (USERNAME, "no_such_user"):
        resident = residents(f"o_trying_{username}")
        await at_password(resident, username)
        before = hasher.verified
        replies = [await resident.send_text(f"guess{i:04d}x") for i in range(5)]
        bot.app[DISPATCHER].clock = lambda: start + timedelta(minutes=1)  # past the tries-a-minute limit
        await at_password(resident, username)  # the lock ended the form, alike for both names
        replies.append(await resident.send_text("guess0005x"))
        bot.app[DISPATCHER].clock = lambda: start
        answers[username] = (replies, hasher.verified - before)
    assert answers[USERNAME] == answers["no_such_user"]
    replies, checks = answers[USERNAME]
    assert checks == 5
    assert "还可以再试4次" in replies[0] and "账号已锁定" in replies[4] and "账号已锁定" in replies[5]


async def test_one_wechat_user_gets_five_password_checks_a_minute(bot, residents, hasher):
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    bot.app[DISPATCHER].clock = lambda: start
    resident = residents("o_many_names")
    await at_password(resident, "name_00")
    replies = [await resident.send_text("guess0000x")]
    for i in range(1, 6):  # a name each time, so no lock comes first
        await resident.send_text("返回")
        assert "请输入密码" in await resident.send_text(f"name_{i:02d}")
        replies.append(await resident.send_text("guess0000x"))
    assert all("用户名或密码不对" in r for r in replies[:5])
    assert "太频繁" in replies[5] and "请在1分钟后再试" in replies[5]
    assert hasher.verified == 5
    bot.app[DISPATCHER].clock = lambda: start + timedelta(minutes=1)
    assert "用户名或密码不对" in await resident.send_text("guess0000x")


async def test_a_flood_of_logins_does_not_hold_up_another_residents_photo(bot, residents, hasher, fake_wechat):
    # A resident at the photo question of 实名认证: saving the photo uses asyncio's default executor.
    account = await Accounts(AccountsConfig()).register_personal(
        openid="o_photo",
        name="张三",
        id_number=FieldCipher(FIELD_KEY).protect_id(ID),
        hukou_address="湖南省长沙市岳麓区麓山路1号",
        phone="13800138000",
        username="zhang_san",
        password_hash=await hash_password(PASSWORD),
    )
    photographed = residents("o_photo")
    await photographed.send_text("实名认证")
    await photographed.send_text("张三")
    assert "照片" in await photographed.send_text(ID)
    flooders = [residents(f"o_flood_{i}") for i in range(30)]
    await asyncio.gather(*(at_password(f, f"nobody_{i:02d}") for i, f in enumerate(flooders)))
    hasher.gate.clear()
    try:
        flood = [asyncio.ensure_future(f.send_text("guess0000x")) for f in flooders]
        for _ in range(500):  # until the pool is full and waiting
            if hasher.running >= HASH_WORKERS:
                break
            await asyncio.sleep(0.01)
        assert hasher.running == HASH_WORKERS
        reply = await asyncio.wait_for(photographed.send_image(IMAGE_MEDIA_ID), 3)
        assert "实名认证已通过" in reply
        assert not any(f.done() and "不对" in f.result() for f in flood)  # the flood is still held
    finally:
        hasher.gate.set()
    replies = await asyncio.gather(*flood)
    await bot.app[DISPATCHER].drain()  # replies past the reply budget follow as messages
    late = dict(fake_wechat.sent_texts)
    answers = [reply or late[f.openid] for reply, f in zip(replies, flooders, strict=True)]
    assert hasher.most_at_once <= HASH_WORKERS
    assert sum(BUSY in a for a in answers) == 30 - HASH_WORKERS - HASH_MAX_WAITING
    assert sum("用户名或密码不对" in a for a in answers) == HASH_WORKERS + HASH_MAX_WAITING
    assert (await Account.get(id=account.id)).realname_verified
