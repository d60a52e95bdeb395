"""The custom menu: built from existing flows within WeChat's limits, and sent by `menu sync`."""

from __future__ import annotations

import asyncio

from conversations.keys import MenuKey
from conversations.registry import FLOWS
from handlers.menu import custom_menu
from tests.processes import bot_env, run_cli


def test_the_menu_offers_only_flows_that_exist():
    menu = custom_menu([MenuKey.ACCEPTANCE_POINTS, MenuKey.ACCOUNT_LOGIN])
    keys = [sub["key"] for button in menu["button"] for sub in button["sub_button"]]
    assert keys == ["ACCEPTANCE_POINTS", "ACCOUNT_LOGIN"]


def test_the_full_menu_keeps_within_wechats_limits():
    menu = custom_menu(MenuKey)
    assert 1 <= len(menu["button"]) <= 3
    for button in menu["button"]:
        assert len(button["name"].encode()) <= 16
        assert 1 <= len(button["sub_button"]) <= 5
        for sub in button["sub_button"]:
            assert len(sub["name"].encode()) <= 60 and MenuKey.from_event_key(sub["key"]) is not None


async def test_menu_sync_sends_the_menu_of_the_existing_flows(tmp_path, fake_wechat):
    env = bot_env(
        tmp_path,
        RB_WECHAT__APP_ID=fake_wechat.app_id,
        RB_WECHAT__APP_SECRET=fake_wechat.app_secret,
        RB_WECHAT__API_BASE_URL=fake_wechat.url,
    )
    result = await asyncio.to_thread(run_cli, env, "menu", "sync")
    assert result.returncode == 0, result.stderr
    assert fake_wechat.menus == [custom_menu(flow.key for flow in FLOWS)]


async def test_menu_sync_reports_a_refusal(tmp_path, fake_wechat):
    fake_wechat.fail_next("/cgi-bin/menu/create", 40018, "invalid button name size")
    env = bot_env(
        tmp_path,
        RB_WECHAT__APP_ID=fake_wechat.app_id,
        RB_WECHAT__APP_SECRET=fake_wechat.app_secret,
        RB_WECHAT__API_BASE_URL=fake_wechat.url,
    )
    result = await asyncio.to_thread(run_cli, env, "menu", "sync")
    assert result.returncode == 1 and "40018" in result.stderr


def test_the_unbinding_button_is_named_for_what_it_does():
    menu = custom_menu([MenuKey.ACCOUNT_LOGOUT])
    assert menu["button"][0]["sub_button"] == [{"type": "click", "name": "解除绑定", "key": "ACCOUNT_LOGOUT"}]
    assert MenuKey.from_keyword("解除绑定") is MenuKey.ACCOUNT_LOGOUT
