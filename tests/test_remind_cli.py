"""`residence-bot remind --as-of YYYY-MM-DD [--dry-run]`, run as a real process: the day's scan
now, each reminder printed, and sent at once through the outbox to the fake WeChat."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest

from bot import db
from models import Permit, Push, PushState
from models.rules import SHENZHEN
from tests.fake_wechat_api import FakeWeChat
from tests.people import person, verified_account
from tests.processes import bot_env, run_cli

ZHANG = "440304199001011233"
OPENID = "o_reminded_1"
REMINDER_TEMPLATE = "TPL_endorsement_reminder_1"


def through(fake: FakeWeChat) -> dict[str, str]:
    return {
        "RB_WECHAT__APP_ID": fake.app_id,
        "RB_WECHAT__APP_SECRET": fake.app_secret,
        "RB_WECHAT__API_BASE_URL": fake.url,
        "RB_WECHAT__TEMPLATES__ENDORSEMENT_REMINDER": REMINDER_TEMPLATE,
    }


@pytest.fixture
async def env(tmp_path, fake_wechat) -> dict[str, str]:
    env = bot_env(tmp_path, **through(fake_wechat))
    assert run_cli(env, "initdb").returncode == 0
    async with db.Database(env["RB_DATABASE__URL"]):
        await verified_account(OPENID, ZHANG, username="zhangsan")
        issued = date(2025, 3, 10)
        await Permit.create(
            permit_no="440300202500001", person=person(ZHANG), name="张三", issued_on=issued, anchor_on=issued
        )
    return env


async def remind(env: dict[str, str], *args: str):
    # In a thread: the fake WeChat answers the process from this test's event loop.
    return await asyncio.to_thread(run_cli, env, "remind", *args)


async def pushes(env: dict[str, str]) -> list[Push]:
    async with db.Database(env["RB_DATABASE__URL"]):
        return await Push.all()


async def test_a_dry_run_prints_each_reminder_and_writes_and_sends_nothing(env, fake_wechat):
    result = await remind(env, "--as-of", "2026-01-10", "--dry-run")
    assert result.returncode == 0, result.stderr
    [line, summary] = result.stdout.splitlines()
    assert line.split("  ")[:4] == ["440300202500001", "张三（zhangsan）", "opens", "deadline 2026-03-10"]
    assert "签注期已开始" in line
    assert summary == "1 reminder(s) for 2026-01-10; dry run: nothing written or sent"
    assert await pushes(env) == [] and fake_wechat.sent_templates == []


async def test_a_run_writes_the_reminders_and_sends_them_at_once(env, fake_wechat):
    result = await remind(env, "--as-of", "2026-03-03")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1 reminder(s) for 2026-03-03, 1 new; pushes sent now: 1"
    [sent] = fake_wechat.sent_templates
    assert sent["touser"] == OPENID and sent["template_id"] == REMINDER_TEMPLATE
    assert sent["data"]["thing2"] == {"value": "距签注截止还有7天"} and sent["data"]["date3"] == {"value": "2026-03-10"}
    [row] = await pushes(env)
    assert row.state is PushState.SENT


async def test_running_it_again_for_the_day_sends_nothing_again(env, fake_wechat):
    await remind(env, "--as-of", "2026-03-03")
    result = await remind(env, "--as-of", "2026-03-03")
    assert "(written before: not again)" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 reminder(s) for 2026-03-03, 0 new; pushes sent now: 0"
    assert len(fake_wechat.sent_templates) == 1


async def test_a_day_without_reminders_says_so(env, fake_wechat):
    result = await remind(env, "--as-of", "2026-05-01")
    assert result.returncode == 0 and result.stdout == "0 reminder(s) for 2026-05-01, 0 new; pushes sent now: 0\n"


async def test_a_malformed_date_exits_2_saying_so(env):
    result = await remind(env, "--as-of", "2026-13-01")
    assert result.returncode == 2 and "not a date (YYYY-MM-DD): '2026-13-01'" in result.stderr


async def test_quiet_hours_hold_what_it_writes_until_they_end(env, fake_wechat):
    now = datetime.now(SHENZHEN)
    quiet = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"  # now is inside
    result = await asyncio.to_thread(
        run_cli, {**env, "RB_REMINDERS__QUIET_HOURS": quiet}, "remind", "--as-of", "2026-03-03"
    )
    assert result.stdout.splitlines()[-1] == "1 reminder(s) for 2026-03-03, 1 new; pushes sent now: 0"
    [row] = await pushes(env)
    assert row.state is PushState.PENDING and fake_wechat.sent_templates == []


async def test_without_as_of_it_scans_today_in_shenzhen(env):
    result = await remind(env, "--dry-run")
    today = datetime.now(SHENZHEN).date().isoformat()
    assert result.returncode == 0 and result.stdout.endswith(f"for {today}; dry run: nothing written or sent\n")
