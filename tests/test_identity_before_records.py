"""Identity before records (issue 8), tried as an attacker would: whoever knows a resident's ID
number may register an account with it, but sees and does nothing with that resident's records,
and blocks nobody: the number belongs to the first account verified with it.

Chats go through the whole HTTP path; the race and the migration are tried on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aerich import Command
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError

from bot.config import AccountsConfig
from bot.db import APP, migrations_dir, tortoise_config
from bot.services.accounts import Accounts
from models import Account, AccountKind, Binding, Permit, ResidenceRegistration, Source
from tests.fake_wechat_api import IMAGE_MEDIA_ID
from tests.harness import make_settings, through_fakes
from tests.people import person, verified_account

VICTIM_ID = "440304199001011233"
VICTIM_PHONE = "13800138000"
ATTACKER_PHONE = "13900139000"
PASSWORD = "mima2024ab"
CLAIM_LOST = "已由另一个账号完成实名认证"


@pytest.fixture
def settings(tmp_path, fake_sms, fake_wechat):
    return make_settings(
        tmp_path,
        **through_fakes(fake_sms, fake_wechat),
    )


async def register(resident, fake_sms, *, name: str, phone: str, username: str, id_number: str = VICTIM_ID) -> str:
    """Every registration question answered; returns the reply to 确认."""
    await resident.send_text("注册")
    await resident.send_text(name)
    assert "户籍地址" in await resident.send_text(id_number)  # the ID number question tells nothing
    await resident.send_text("湖南省长沙市岳麓区麓山路1号")
    assert "短信验证码" in await resident.send_text(phone)
    await resident.send_text(fake_sms.last_code(phone))
    await resident.send_text(username)
    await resident.send_text(PASSWORD)
    assert "请核对" in await resident.send_text("同意")
    return await resident.send_text("确认")


async def verify(resident, name: str, id_number: str = VICTIM_ID) -> str:
    await resident.send_text("实名认证")
    await resident.send_text(name)
    await resident.send_text(id_number)
    return await resident.send_image(IMAGE_MEDIA_ID)


async def imported_records() -> None:
    """What other departments know of the victim: a registration and a permit."""
    await ResidenceRegistration.create(
        number="IMVICTIM0001", person=person(VICTIM_ID), name="张三", address="南山区科苑路15号1栋1201",
        move_in_on=date(2024, 3, 1), declared_on=date(2024, 3, 1), source=Source.IMPORT,
    )  # fmt: skip
    issued = date(2024, 6, 1)
    await Permit.create(
        permit_no="440300000009", person=person(VICTIM_ID), name="张三", issued_on=issued, anchor_on=issued
    )


# -- records only for a verified account --------------------------------------------------------


async def test_an_unverified_account_with_someone_elses_id_number_sees_none_of_their_records(residents, fake_sms):
    await imported_records()
    attacker = residents("o_attacker")
    assert "注册成功" in await register(attacker, fake_sms, name="王五", phone=ATTACKER_PHONE, username="wang_wu")
    for keyword in ("进度", "办证资格", "居住登记"):
        reply = await attacker.send_text(keyword)
        assert "需要先完成实名认证" in reply and "「实名认证」" in reply, keyword
        assert "IMVICTIM0001" not in reply and "440300000009" not in reply and "南山区" not in reply, keyword
    assert await ResidenceRegistration.filter(person=person(VICTIM_ID), move_out_on=None).count() == 1


# -- an unverified claim blocks nobody ----------------------------------------------------------


async def test_an_id_number_claimed_by_an_unverified_account_can_still_be_registered_by_its_owner(residents, fake_sms):
    attacker = residents("o_attacker")
    assert "注册成功" in await register(attacker, fake_sms, name="王五", phone=ATTACKER_PHONE, username="wang_wu")
    owner = residents("o_owner")
    assert "注册成功" in await register(owner, fake_sms, name="张三", phone=VICTIM_PHONE, username="zhang_san")
    assert await Account.filter(id_number_hash=person(VICTIM_ID)).count() == 2


async def test_the_owner_verified_first_holds_the_number_and_the_claimant_is_told(residents, fake_sms):
    await imported_records()
    attacker = residents("o_attacker")
    await register(attacker, fake_sms, name="王五", phone=ATTACKER_PHONE, username="wang_wu")
    owner = residents("o_owner")
    await register(owner, fake_sms, name="张三", phone=VICTIM_PHONE, username="zhang_san")
    assert "实名认证已通过" in await verify(owner, "张三")
    assert "IMVICTIM0001" in await owner.send_text("进度")

    reply = await attacker.send_text("实名认证")
    assert CLAIM_LOST in reply and "受理点" in reply
    for keyword in ("进度", "办证资格", "居住登记"):
        reply = await attacker.send_text(keyword)
        assert CLAIM_LOST in reply and "IMVICTIM0001" not in reply, keyword
    # Told, not sent round to 实名认证 again: nothing is left waiting to carry on.
    assert CLAIM_LOST in await attacker.send_text("实名认证")
    claimant = await Account.get(username="wang_wu")
    assert claimant.verified_id_hash is None and not claimant.realname_verified


async def test_a_claimant_halfway_through_realname_cannot_finish_once_the_owner_holds_the_number(residents, fake_sms):
    attacker = residents("o_attacker")
    await register(attacker, fake_sms, name="王五", phone=ATTACKER_PHONE, username="wang_wu")
    await attacker.send_text("实名认证")
    await attacker.send_text("王五")
    assert "身份证人像面照片" in await attacker.send_text(VICTIM_ID)
    owner = residents("o_owner")
    await register(owner, fake_sms, name="张三", phone=VICTIM_PHONE, username="zhang_san")
    assert "实名认证已通过" in await verify(owner, "张三")

    reply = await attacker.send_image(IMAGE_MEDIA_ID)
    assert CLAIM_LOST in reply and "实名认证已通过" not in reply
    assert (await Account.get(username="wang_wu")).realname_verified_at is None
    assert await Account.filter(verified_id_hash=person(VICTIM_ID)).count() == 1


# -- a held number is refused at 注册, after the SMS code ----------------------------------------


async def test_an_id_number_held_by_a_verified_account_is_refused_only_after_the_sms_code(residents, fake_sms):
    await verified_account("o_owner", VICTIM_ID, username="zhang_san")
    stranger = residents("o_stranger")
    # Each question before 确认 goes on as for any number: the answers reveal no account.
    reply = await register(stranger, fake_sms, name="王五", phone=ATTACKER_PHONE, username="wang_wu")
    assert "已经注册过账号并完成了实名认证" in reply and "「登录」" in reply and "受理点" in reply
    assert "回复「确认」提交" in reply  # still at the review: 修改 the number, 登录, or 取消
    assert [m["phone"] for m in fake_sms.messages] == [ATTACKER_PHONE]  # the code came first
    assert not await Account.filter(username="wang_wu").exists()
    assert not await Binding.filter(openid="o_stranger").exists()


async def test_the_refusal_reads_the_same_whoever_holds_the_number(residents, fake_sms):
    other_id = "11010519491231002X"
    await verified_account("o_owner_1", VICTIM_ID, username="zhang_san")
    await verified_account("o_owner_2", other_id, name="李四", username="li_si")
    await Binding.filter(openid="o_owner_2").delete()  # one holder bound to WeChat, one not
    first = await register(residents("o_s1"), fake_sms, name="王五", phone=ATTACKER_PHONE, username="wang_wu")
    second = await register(
        residents("o_s2"), fake_sms, name="王五", phone="13700137000", username="wang_liu", id_number=other_id
    )
    assert first.split("\n\n")[0] == second.split("\n\n")[0]


# -- one holder, however close the race ---------------------------------------------------------


async def test_two_verifications_racing_for_one_id_number_end_with_one_holder(db):
    accounts = Accounts(AccountsConfig())
    claimants = [
        await Account.create(
            kind=AccountKind.PERSONAL,
            username=f"claimant{i}",
            password_hash="x",
            phone="13800138000",
            name="张三",
            id_number_hash=person(VICTIM_ID),
        )
        for i in range(2)
    ]
    now = datetime.now(UTC)
    held = await asyncio.gather(
        *(accounts.record_realname(a.id, method="http", photo=f"{a.id}.jpg", now=now) for a in claimants)
    )
    assert sorted(held) == [False, True]
    holder, loser = (claimants[0], claimants[1]) if held[0] else (claimants[1], claimants[0])
    assert await Account.filter(verified_id_hash=person(VICTIM_ID)).values_list("id", flat=True) == [holder.id]
    loser = await Account.get(id=loser.id)
    assert not loser.realname_verified and await accounts.claim_lost(loser)
    # And it stays lost: verifying it again is refused.
    assert await accounts.record_realname(loser.id, method="http", photo="again.jpg", now=now) is False


# -- the migration ------------------------------------------------------------------------------


async def _upgrade(url: str, location: Path) -> list[str]:
    with TortoiseContext() as ctx:
        try:
            await ctx.init(config=tortoise_config(url))
            command = Command(tortoise_config(url), app=APP, location=str(location))
            await command.init()
            return await command.upgrade(run_in_transaction=True)
        finally:
            await ctx.close_connections()


async def _sql(url: str, query: str) -> list[dict]:
    with TortoiseContext() as ctx:
        try:
            await ctx.init(config=tortoise_config(url))
            return await ctx.db().execute_query_dict(query)
        finally:
            await ctx.close_connections()


def _account_row(username: str, id_hash: str, verified: bool) -> str:
    verified_at = "'2026-01-05 10:00:00+00:00'" if verified else "NULL"
    return (
        'INSERT INTO "account" ("kind", "username", "password_hash", "must_change_password", "phone", "name",'
        ' "id_number_hash", "failed_logins", "realname_verified_at", "created_at")'
        f" VALUES ('personal', '{username}', 'x', FALSE, '13800138000', '张三', '{id_hash}', 0, {verified_at},"
        " '2026-01-01 10:00:00+00:00')"
    )


async def test_the_migration_keeps_verified_accounts_as_holders_and_makes_the_rest_claims(db_url, tmp_path):
    root = tmp_path / "migrations"
    shutil.copytree(migrations_dir(db_url).parent, root)
    location = root / migrations_dir(db_url).name
    ours = sorted((location / "models").glob("4_*.py"))
    for path in ours:
        path.rename(tmp_path / path.name)
    await _upgrade(db_url, location)  # the schema before: one account per ID number
    await _sql(db_url, _account_row("verified", "hash-a", verified=True))
    await _sql(db_url, _account_row("unverified", "hash-b", verified=False))

    for path in ours:
        (tmp_path / path.name).rename(location / "models" / path.name)
    assert [name.split("_")[0] for name in await _upgrade(db_url, location)] == ["4"]
    rows = await _sql(db_url, 'SELECT "username", "id_number_hash", "verified_id_hash" FROM "account" ORDER BY "id"')
    assert [(r["username"], r["id_number_hash"], r["verified_id_hash"]) for r in rows] == [
        ("verified", "hash-a", "hash-a"),
        ("unverified", "hash-b", None),
    ]
    await _sql(db_url, _account_row("second_claim", "hash-b", verified=False))  # a claim is no longer unique
    with pytest.raises(IntegrityError):
        await _sql(db_url, 'UPDATE "account" SET "verified_id_hash" = \'hash-a\' WHERE "username" = \'second_claim\'')
