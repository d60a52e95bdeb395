"""One application a confirmed form, and one open application a person, on SQLite and on PostgreSQL
(where two submits' transactions really run side by side): a 确认 delivered twice, a resident and
their unit confirming at once, and the unique violation of a lost race leaving the submit usable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from bot.config import ApplicationsConfig, ReceiptsConfig
from bot.services.applications import Applicant, Applications, Filing
from bot.services.errors import Told
from bot.services.receipts import Receipts
from bot.services.residence import Residence
from models import AcceptancePoint, PermitApplication, Receipt, Submission
from models.rules import Rules
from tests.applicants import eligible, id_number, unit_account
from tests.harness import make_settings
from tests.people import person, verified_account

ZHANG = id_number(31)


@pytest.fixture
def settings(tmp_path, db_url):
    return make_settings(tmp_path, database={"url": db_url})


async def up_to_review(resident) -> None:
    await resident.send_text("申领")
    for answer in ("4403A12B34C56D", "1", "1", "南山", "1"):
        await resident.send_text(answer)


async def test_two_confirms_at_once_make_one_application_and_both_get_its_number(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    await up_to_review(resident)
    first, second = await asyncio.gather(resident.send_text("确认"), resident.send_text("确认"))
    [application] = await PermitApplication.all()
    assert application.number in first and application.number in second
    assert await Receipt.all().count() == 1


async def test_a_resident_and_their_unit_confirming_at_once_make_one_application(residents):
    resident, unit = residents("o_zhang"), residents("o_unit")
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    await up_to_review(resident)
    await unit_account(unit.openid)
    await unit.send_text("代办")
    for answer in ("张三", ZHANG, "完成", "福田", "1"):
        await unit.send_text(answer)
    own, by_unit = await asyncio.gather(resident.send_text("确认"), unit.send_text("确认"))
    [application] = await PermitApplication.all()
    [told] = [reply for reply in (own, by_unit) if "/r/" not in reply]
    assert f"受理编号{application.number}" in told
    assert await Receipt.all().count() == 1
    assert await Submission.all().count() == 1  # the refused submit recorded nothing


async def test_the_race_lost_on_the_unique_index_is_told_and_leaves_the_transaction_usable(bot, monkeypatch):
    account = await verified_account("o_zhang", ZHANG)
    point = await AcceptancePoint.first()
    assert point is not None
    applications = Applications(
        Rules(), Receipts(ReceiptsConfig(), "http://127.0.0.1:8080"), Residence(Rules()), ApplicationsConfig()
    )
    applicant = Applicant(person(ZHANG), "张三", account.id_number_masked or "")
    first = await applications.apply(applicant, Filing(account, point), submission_id="s1", now=datetime.now(UTC))

    looks = [None]  # the first look finds nothing, as a submit that looked before the other committed
    look = applications.open_application

    async def late_look(person: str) -> PermitApplication | None:
        return looks.pop() if looks else await look(person)

    monkeypatch.setattr(applications, "open_application", late_look)
    async with in_transaction():
        with pytest.raises(Told) as refused:
            await applications.apply(applicant, Filing(account, point), submission_id="s2", now=datetime.now(UTC))
        await Submission.create(id="after-the-race", flow="PERMIT_APPLY", openid="o_zhang")  # still usable
    assert f"受理编号{first.application.number}" in refused.value.message
    assert await PermitApplication.all().count() == 1 and await Submission.filter(id="after-the-race").exists()
