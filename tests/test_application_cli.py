"""`residence-bot application set-status NUMBER STATUS [--note TEXT]`, run as a real process: the change,
who is told, and the push sent at once through the outbox to the fake WeChat."""

from __future__ import annotations

import asyncio

import pytest

from bot import db
from models import ApplicationStatus, PermitApplication, Push, PushState
from models.application import application_number
from tests.fake_wechat_api import FakeWeChat
from tests.lifecycle import NOW, advance, application_for, unit_account
from tests.people import verified_account
from tests.processes import bot_env, run_cli

ID = "440304199001011233"
OPENID = "o_resident_1"
TEMPLATE_ID = "TPL_application_status_0001"
S = ApplicationStatus


def through(fake: FakeWeChat) -> dict[str, str]:
    return {
        "RB_WECHAT__APP_ID": fake.app_id,
        "RB_WECHAT__APP_SECRET": fake.app_secret,
        "RB_WECHAT__API_BASE_URL": fake.url,
        "RB_WECHAT__TEMPLATES__APPLICATION_STATUS": TEMPLATE_ID,
    }


@pytest.fixture
def env(tmp_path, fake_wechat) -> dict[str, str]:
    env = bot_env(tmp_path, **through(fake_wechat))
    assert run_cli(env, "initdb").returncode == 0
    return env


async def in_database(env: dict[str, str], make):
    async with db.Database(env["RB_DATABASE__URL"]):
        return await make()


async def personal_application() -> PermitApplication:
    return await application_for(await verified_account(OPENID, ID), ID)


async def set_status(env: dict[str, str], *args: str):
    # In a thread: the fake WeChat answers the process from this test's event loop.
    return await asyncio.to_thread(run_cli, env, "application", "set-status", *args)


async def test_a_change_is_printed_with_who_is_told_and_sent_at_once(env, fake_wechat):
    application = await in_database(env, personal_application)
    result = await set_status(env, application.number, "verifying")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{application.number}: submitted (已受理) → verifying (部门核查中) at ")
    assert f"told: account u{ID[-8:]} (bound to WeChat)" in lines
    assert lines[-1] == "pushes sent now: 1"
    [sent] = fake_wechat.sent_templates
    assert sent["touser"] == OPENID and sent["data"]["character_string1"] == {"value": application.number}
    push = await in_database(env, lambda: Push.get(key=f"status:{application.id}:verifying"))
    assert push.state is PushState.SENT and push.openid == OPENID


async def test_a_status_may_be_given_by_its_chinese_label(env):
    application = await in_database(env, personal_application)
    result = await set_status(env, application.number, "部门核查中")
    assert result.returncode == 0, result.stderr
    assert (await in_database(env, lambda: PermitApplication.get(id=application.id))).status is S.VERIFYING


async def test_a_rejection_needs_note_and_then_tells_the_reason(env, fake_wechat):
    application = await in_database(env, personal_application)
    await in_database(env, lambda: advance(application.number, S.VERIFYING, S.REVIEW))
    refused = await set_status(env, application.number, "rejected")
    assert refused.returncode == 1 and "note: a rejection needs the reason" in refused.stderr
    result = await set_status(env, application.number, "rejected", "--note", "居住登记信息与实际不符")
    assert result.returncode == 0, result.stderr
    assert "note: 居住登记信息与实际不符" in result.stdout.splitlines()
    assert fake_wechat.sent_templates[-1]["data"]["thing4"] == {"value": "居住登记信息与实际不符"}


async def test_an_illegal_transition_exits_1_naming_the_allowed_ones(env, fake_wechat):
    application = await in_database(env, personal_application)
    result = await set_status(env, application.number, "approved")
    assert result.returncode == 1
    # The last line; the state store's start-up notice may come before it.
    assert result.stderr.strip().splitlines()[-1] == (
        f"application set-status: {application.number} is submitted (已受理); it may go on to verifying"
    )
    assert result.stdout == "" and fake_wechat.sent_templates == []


async def test_after_collection_nothing_may_follow(env):
    application = await in_database(env, personal_application)
    await in_database(
        env, lambda: advance(application.number, S.VERIFYING, S.REVIEW, S.APPROVED, S.PRODUCING, S.READY, S.COLLECTED)
    )
    result = await set_status(env, application.number, "ready")
    assert result.returncode == 1 and "it may go on to nothing: collected is final" in result.stderr


async def test_an_unknown_number_exits_1(env):
    await in_database(env, personal_application)
    result = await set_status(env, application_number(NOW.date(), 99_999_999), "verifying")
    assert result.returncode == 1 and "no such application" in result.stderr


async def test_a_mistyped_number_exits_1_saying_so(env):
    application = await in_database(env, personal_application)
    typo = application.number[:-2] + application.number[-1] + application.number[-2]
    result = await set_status(env, typo, "verifying")
    assert result.returncode == 1 and "check it for a typo" in result.stderr


async def test_an_unknown_status_exits_2_listing_the_statuses(env):
    application = await in_database(env, personal_application)
    result = await set_status(env, application.number, "done")
    assert result.returncode == 2
    assert "unknown status 'done'" in result.stderr and "verifying, review, approved" in result.stderr


async def test_the_same_change_again_tells_nobody_again(env, fake_wechat):
    application = await in_database(env, personal_application)
    assert (await set_status(env, application.number, "verifying")).returncode == 0
    again = await set_status(env, application.number, "verifying")
    assert again.returncode == 0 and "already" in again.stdout and "nobody told again" in again.stdout
    assert len(fake_wechat.sent_templates) == 1
    assert await in_database(env, lambda: Push.all().count()) == 1


async def test_a_units_application_names_the_unit_and_the_persons_own_account(env, fake_wechat):
    async def make() -> PermitApplication:
        staff, unit = await unit_account("o_unit_staff")
        await verified_account(OPENID, ID)
        return await application_for(staff, ID, unit=unit)

    application = await in_database(env, make)
    result = await set_status(env, application.number, "verifying")
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("told:")] == [
        "told: account unit000001 (bound to WeChat)",
        f"told: account u{ID[-8:]} (bound to WeChat)",
    ]
    assert sorted(m["touser"] for m in fake_wechat.sent_templates) == sorted(["o_unit_staff", OPENID])


async def test_no_full_id_number_in_what_the_command_prints(env):
    application = await in_database(env, personal_application)
    result = await set_status(env, application.number, "verifying")
    assert result.returncode == 0 and ID not in result.stdout + result.stderr
