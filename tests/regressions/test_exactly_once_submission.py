"""A confirmed form creates one record, whatever WeChat and the processes do with the 确认:
delivered twice, after a crash between the database write and the state save, on two processes."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import RedisError

from bot.app import DISPATCHER
from models import ResidenceRegistration, Submission
from tests.harness import make_settings, on_a_second_process
from tests.people import verified_account
from tests.test_residence_flows import ID, declare_move_in


@pytest.fixture
def settings(tmp_path, db_url):
    """On SQLite and on PostgreSQL, where two processes' transactions really run side by side."""
    return make_settings(tmp_path, database={"url": db_url})


async def registration_numbers() -> list[str]:
    return [r.number async for r in ResidenceRegistration.all()]


async def test_two_confirms_at_once_create_one_registration_and_both_get_its_number(resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident)
    first, second = await asyncio.gather(resident.send_text("确认"), resident.send_text("确认"))
    [number] = await registration_numbers()
    assert number in first and number in second


async def test_a_confirm_after_a_crash_before_the_state_was_saved_finds_the_first_submission(bot, resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident)
    store = bot.app[DISPATCHER].store
    commit = store.commit

    async def crash_once(turn, *args, **kwargs):
        # As a process dying here leaves it: the record written, the state not, the lock lapsing.
        store.commit = commit
        await store.abort(turn)
        raise RedisError("connection lost")

    store.commit = crash_once
    assert "系统繁忙" in await resident.send_text("确认")  # the record was written, the state was not
    [number] = await registration_numbers()
    reply = await resident.send_text("确认")  # the conversation still stands at the review
    assert number in reply and "居住登记成功" in reply
    assert await registration_numbers() == [number]
    assert await Submission.all().count() == 1


async def test_two_processes_confirming_the_same_review_create_one_registration(bot, start_bot, settings, resident):
    await verified_account(resident.openid, ID)
    await declare_move_in(resident)
    other = await on_a_second_process(bot, start_bot, settings, resident)
    first, second = await asyncio.gather(resident.send_text("确认"), other.send_text("确认"))
    [number] = await registration_numbers()
    assert number in first and number in second
