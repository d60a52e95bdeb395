"""回执 (RECEIPTS) through the whole HTTP path: this account's receipts only, newest first, each
with the link that opens it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.services.receipts import Receipts
from models import Receipt
from tests.applicants import eligible, id_number, unit_account
from tests.people import verified_account

ZHANG = id_number(21)


async def apply(resident, number: str, name: str) -> str:
    await verified_account(resident.openid, number, name=name)
    await eligible(number, name)
    await resident.send_text("申领")
    for answer in ("4403A12B34C56D", "1", "1", "南山", "1"):
        await resident.send_text(answer)
    return await resident.send_text("确认")


def tokens(reply: str) -> list[str]:
    return re.findall(r"/r/([A-Za-z0-9_-]+)", reply)


async def test_receipts_need_a_bound_account(resident):
    assert "请先登录" in await resident.send_text("回执")


async def test_an_account_without_receipts_is_told_how_to_get_one(resident):
    await verified_account(resident.openid, ZHANG)
    assert "还没有受理回执" in await resident.send_text("回执")


async def test_one_receipt_comes_as_a_card_that_opens_it(resident, settings):
    await apply(resident, ZHANG, "张三")
    reply = await resident.send_text("回执")
    receipt = await Receipt.get()
    assert reply.startswith(f"受理回执：{receipt.number}") and "居住证申领" in reply
    reader = Receipts(settings.receipts, settings.server.public_base_url)
    assert [reader.read(t, datetime.now(UTC)) for t in tokens(reply)] == [receipt.id]


async def test_a_unit_sees_its_receipts_newest_first_and_nobody_elses(residents, settings):
    resident, unit, other_unit = residents("o_zhang"), residents("o_unit"), residents("o_other_unit")
    await apply(resident, ZHANG, "张三")
    await unit_account(unit.openid)
    await unit_account(other_unit.openid, unit_name="另一家贸易有限公司", uscc="91440300MA5F000002")
    for n, name in ((22, "李四"), (23, "王五")):
        await eligible(id_number(n), name)
    await unit.send_text("代办")
    for answer in ("李四", id_number(22), "继续添加", "王五", id_number(23), "完成", "福田", "1", "确认"):
        await unit.send_text(answer)
    reply = await unit.send_text("回执")
    mine = await Receipt.filter(account__binding__openid=unit.openid).order_by("-id")
    assert "共2份" in reply and reply.index("王五") < reply.index("李四") and "张三" not in reply
    reader = Receipts(settings.receipts, settings.server.public_base_url)
    assert [reader.read(t, datetime.now(UTC)) for t in tokens(reply)] == [r.id for r in mine]
    assert "本单位账号还没有受理回执" in await other_unit.send_text("回执")
    assert "李四" not in await resident.send_text("回执")


async def test_more_receipts_than_a_reply_holds_are_listed_newest_first_and_the_rest_counted(resident):
    account = await verified_account(resident.openid, ZHANG)
    facts = {"name": "张三"}
    for n in range(1, 41):
        await Receipt.create(number=f"JZ{n:017d}", business="居住证申领", account=account, facts=facts)
    reply = await resident.send_text("回执")
    shown = re.findall(r"JZ(\d{17})", reply)
    assert len(reply.encode()) <= 2048 and shown == [f"{n:017d}" for n in range(40, 40 - len(shown), -1)]
    assert f"另有{40 - len(shown)}份较早的回执没有列出" in reply and len(tokens(reply)) == len(shown)
