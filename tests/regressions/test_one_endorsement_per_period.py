"""One endorsement per permit and period, whatever WeChat and the processes do with the 确认:
delivered twice, on two processes, or two submits of their own racing for the same period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.services.endorsements import Endorsements
from bot.services.errors import Told
from bot.services.receipts import Receipts
from bot.services.residence import Residence
from models import Account, Endorsement, Receipt
from models.rules import Rules
from tests.harness import make_settings, on_a_second_process
from tests.test_endorse_flow import endorsable_resident, up_to_review


@pytest.fixture
def settings(tmp_path, db_url):
    """On SQLite and on PostgreSQL, where two processes' transactions really run side by side."""
    return make_settings(tmp_path, database={"url": db_url})


async def test_two_confirms_at_once_endorse_once_and_both_get_the_receipt(resident):
    await endorsable_resident(resident)
    await up_to_review(resident)
    first, second = await asyncio.gather(resident.send_text("确认"), resident.send_text("确认"))
    [receipt] = await Receipt.all()
    assert receipt.number in first and receipt.number in second
    assert await Endorsement.all().count() == 1


async def test_two_processes_confirming_the_same_review_endorse_once(bot, start_bot, settings, resident):
    await endorsable_resident(resident)
    await up_to_review(resident)
    other = await on_a_second_process(bot, start_bot, settings, resident)
    first, second = await asyncio.gather(resident.send_text("确认"), other.send_text("确认"))
    [receipt] = await Receipt.all()
    assert receipt.number in first and receipt.number in second
    assert await Endorsement.all().count() == 1


async def test_a_confirm_on_a_second_process_after_the_first_finished_gets_the_same_receipt(
    bot, start_bot, settings, resident
):
    # Found flaky: the second 确认 re-checked the requirements after the first had endorsed the
    # permit, found it no longer in its window, and was told so instead of the receipt.
    await endorsable_resident(resident)
    await up_to_review(resident)
    other = await on_a_second_process(bot, start_bot, settings, resident)
    first = await resident.send_text("确认")
    second = await other.send_text("确认")
    [receipt] = await Receipt.all()
    assert receipt.number in first and receipt.number in second
    assert await Endorsement.all().count() == 1


async def test_two_submits_of_their_own_for_the_same_period_endorse_once(settings, resident, bot):
    # Two submission ids (the resident's 签注 and a unit's 单位签注, say): the unique key decides.
    held = await endorsable_resident(resident)
    account = await Account.get()
    rules = Rules()
    endorsements = Endorsements(rules, Receipts(settings.receipts, settings.server.public_base_url), Residence(rules))
    now = datetime.now(UTC)
    outcomes = await asyncio.gather(
        *(endorsements.endorse(held, account, name="张三", id_number_masked="", now=now) for _ in range(2)),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Told)]
    assert len(refused) == 1 and ("已经签注过了" in refused[0].message or "还没到签注期" in refused[0].message)
    assert await Endorsement.all().count() == 1 and await Receipt.all().count() == 1
