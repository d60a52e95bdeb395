"""Unit accounts (单位账号), opened by an operator: through the admin API and the CLI."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot import db
from bot.admin import unit_form
from bot.config import AccountsConfig
from bot.services.accounts import Accounts
from bot.services.security import verify_password
from bot.services.units import UnitError, Units, new_password
from models.account import Account, AccountKind, Unit
from tests.harness import make_settings
from tests.processes import bot_env, run_cli

ADMIN_TOKEN = "a-test-admin-token-123"
USCC = "91350100M000100Y43"
OTHER_USCC = "91440300MA5F000007"
BAD_USCC = "91350100M000100Y44"  # check character changed
UNIT = {"name": "深圳市示例科技有限公司", "uscc": USCC, "username": "shili_admin", "phone": "13800138000"}


@pytest.fixture
async def admin(start_bot, tmp_path):
    return await start_bot(make_settings(tmp_path, admin={"token": ADMIN_TOKEN}))


def bearer(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_operator_opens_a_unit_account_with_a_one_time_password(admin):
    response = await admin.post("/admin/api/units", json={**UNIT, "contact_name": "王小明"}, headers=bearer())
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["unit"] == {"id": body["unit"]["id"], "name": UNIT["name"], "uscc": USCC}
    assert body["username"] == "shili_admin"
    account = await Account.get(username="shili_admin").prefetch_related("unit")
    assert account.kind == AccountKind.UNIT and account.must_change_password
    assert account.unit.uscc == USCC and account.name == "王小明" and account.phone == "13800138000"
    assert body["initial_password"] not in account.password_hash
    assert await verify_password(account.password_hash, body["initial_password"])


async def test_a_second_account_joins_the_unit_with_the_same_uscc(admin):
    first = await admin.post("/admin/api/units", json=UNIT, headers=bearer())
    second = await admin.post(
        "/admin/api/units", json={**UNIT, "name": "示例科技", "username": "shili_hr"}, headers=bearer()
    )
    assert first.status == second.status == 201
    assert (await second.json())["unit"] == (await first.json())["unit"]
    assert await Unit.all().count() == 1
    assert await Account.filter(unit__uscc=USCC).count() == 2


@pytest.mark.parametrize(
    ("headers", "admin_token"),
    [
        pytest.param({}, ADMIN_TOKEN, id="no token"),
        pytest.param(bearer("a-wrong-admin-token-12"), ADMIN_TOKEN, id="wrong token"),
        pytest.param({"Authorization": f"Basic {ADMIN_TOKEN}"}, ADMIN_TOKEN, id="not bearer"),
        pytest.param(bearer(""), "", id="admin API off"),
    ],
)
async def test_without_the_admin_token_nothing_is_created(start_bot, tmp_path, headers, admin_token):
    client = await start_bot(make_settings(tmp_path, admin={"token": admin_token}))
    response = await client.post("/admin/api/units", json=UNIT, headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await Unit.all().count() == 0 and await Account.all().count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({**UNIT, "uscc": BAD_USCC}, "uscc", id="bad uscc"),
        pytest.param({**UNIT, "phone": "0755-12345678"}, "phone", id="landline"),
        pytest.param({**UNIT, "username": "a b"}, "username", id="bad username"),
        pytest.param({**UNIT, "name": "  "}, "name", id="empty name"),
        pytest.param({k: v for k, v in UNIT.items() if k != "phone"}, "phone", id="missing field"),
        pytest.param({**UNIT, "phone": 13800138000}, "phone", id="not a string"),
        pytest.param({**UNIT, "contact": "王小明"}, "contact", id="unknown field"),
    ],
)
async def test_invalid_input_is_refused_naming_the_field(admin, body, field):
    response = await admin.post("/admin/api/units", json=body, headers=bearer())
    assert response.status == 400
    assert (await response.json())["error"].startswith(f"{field}:")
    assert await Unit.all().count() == 0 and await Account.all().count() == 0


async def test_malformed_json_is_refused(admin):
    response = await admin.post("/admin/api/units", data=b'{"name": ', headers=bearer())
    assert response.status == 400 and (await response.json())["error"].startswith("body:")


async def test_a_username_in_use_is_refused(admin):
    assert (await admin.post("/admin/api/units", json=UNIT, headers=bearer())).status == 201
    again = await admin.post("/admin/api/units", json={**UNIT, "uscc": OTHER_USCC}, headers=bearer())
    assert again.status == 400 and (await again.json())["error"].startswith("username:")
    assert await Unit.all().count() == 1 and await Account.all().count() == 1


def test_initial_passwords_are_12_letters_and_digits_with_both():
    for _ in range(200):
        password = new_password()
        assert re.fullmatch(r"[A-Za-z0-9]{12}", password)
        assert re.search(r"[0-9]", password) and re.search(r"[A-Za-z]", password)


async def test_cli_unit_create_prints_the_password_once(tmp_path):
    env = bot_env(tmp_path)
    assert run_cli(env, "initdb").returncode == 0
    result = run_cli(
        env, "unit", "create", "--name", UNIT["name"], "--uscc", USCC, "--username", "shili_admin",
        "--phone", "13800138000", "--contact", "王小明",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    password = re.search(r"^initial password: (\S+)$", result.stdout, re.MULTILINE)[1]
    assert (result.stdout + result.stderr).count(password) == 1
    assert "will not be shown again" in result.stdout and "first login requires changing it" in result.stdout
    async with db.Database(env["RB_DATABASE__URL"]):
        account = await Account.get(username="shili_admin")
        assert account.must_change_password and await verify_password(account.password_hash, password)


def test_cli_unit_create_refuses_a_bad_uscc_in_one_line(tmp_path):
    env = bot_env(tmp_path)
    assert run_cli(env, "initdb").returncode == 0
    result = run_cli(
        env, "unit", "create", "--name", UNIT["name"], "--uscc", BAD_USCC, "--username", "shili_admin",
        "--phone", "13800138000", "--config", "config.yaml",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "uscc:" in result.stderr
    assert "initial password" not in result.stdout


async def test_concurrent_openings_share_one_unit_and_a_username_goes_to_one(db_url):
    await db.initdb(db_url)
    async with db.Database(db_url):
        fields = {"name": UNIT["name"], "uscc": USCC, "phone": UNIT["phone"]}
        units = Units(Accounts(AccountsConfig()))
        results = await asyncio.gather(
            units.open_account(unit_form(**fields, username="shili_admin")),
            units.open_account(unit_form(**fields, username="shili_hr")),
            units.open_account(unit_form(**fields, username="shili_hr")),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, UnitError)]
        assert len(refused) == 1 and refused[0].message.startswith("username:")
        assert await Unit.all().count() == 1
        assert sorted(await Account.all().values_list("username", flat=True)) == ["shili_admin", "shili_hr"]
