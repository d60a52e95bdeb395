"""Production cannot run on development settings (issue 8, point 2).

Development settings (local real-name checks, log SMS, SMS codes in the log, the shipped keys, the
WeChat stand-in's secret) start only for a bot on loopback; anywhere else the config must say
`app.environment: production` and bring its own keys, and production refuses every development
setting wherever it serves. Each refusal is a line naming the setting to change.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import DEV_APP_SECRET, ConfigError, load_settings
from tests.harness import FIELD_KEY, make_settings
from tests.processes import REPO, bot_env
from tests.services import free_port

CONFIG = REPO / "config.yaml"

# What a production deployment brings: its own providers and keys.
PRODUCTION = {
    "RB_APP__ENVIRONMENT": "production",
    "RB_REALNAME__PROVIDER": "http",
    "RB_REALNAME__HTTP__URL": "https://realname.example.gov.cn/verify",
    "RB_SMS__PROVIDER": "http",
    "RB_SMS__HTTP__URL": "https://sms.example.gov.cn/send",
    "RB_SECURITY__FIELD_KEY": FIELD_KEY,
    "RB_RECEIPTS__SIGNING_KEY": "a-production-receipt-key-of-32-characters-at-least",
    "RB_WECHAT__APP_SECRET": "0123456789abcdef0123456789abcdef",
    "RB_WECHAT__TOKEN": "productionToken2026",
    "RB_WECHAT__ENCODING_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "RB_SERVER__HOST": "0.0.0.0",
    "RB_SERVER__PUBLIC_BASE_URL": "https://bot.example.gov.cn",
}

ENVIRONMENT = (
    'config: app.environment: "development" logs SMS codes and allows the shipped keys, so it runs only on '
    'loopback, not on server.host "0.0.0.0", server.public_base_url "{url}"; use "production" and your own keys'
)
REALNAME = 'config: realname.provider: "local" is for development; use "http" in production'
SMS = 'config: sms.provider: "log" is for development; use "http" in production'
FIELD = (
    "config: security.field_key: the shipped development key is for development; "
    "set your own (RB_SECURITY__FIELD_KEY) in production"
)
SIGNING = (
    "config: receipts.signing_key: the shipped development key is for development; "
    "set your own (RB_RECEIPTS__SIGNING_KEY) in production"
)
SECRET = (
    "config: wechat.app_secret: the development WeChat stand-in's secret is for development; "
    "use the account's AppSecret (RB_WECHAT__APP_SECRET) in production"
)
TOKEN = (
    "config: wechat.token: the shipped development token is for development; "
    "set the console's Token (RB_WECHAT__TOKEN) in production"
)
AES = (
    "config: wechat.encoding_aes_key: the shipped development key is for development; "
    "set the console's EncodingAESKey (RB_WECHAT__ENCODING_AES_KEY) in production"
)
SKEW = (
    "config: wechat.max_clock_skew_s: 0 turns the timestamp check off, so a captured callback "
    "could be replayed at any time; use a window such as 300 in production"
)


def serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`residence-bot serve`, which must stop at once; one that starts is killed after 15 s."""
    env = {**env, "RB_SERVER__PORT": str(free_port())}
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", "serve"], env=env, cwd=REPO, capture_output=True, text=True, timeout=15
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve started instead of refusing the settings")


# -- through `residence-bot serve` ---------------------------------------------------------------


def test_serve_on_a_public_address_with_the_shipped_development_settings_is_refused(tmp_path):
    result = serve(bot_env(tmp_path, RB_SERVER__HOST="0.0.0.0"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        ENVIRONMENT.format(url="http://127.0.0.1:8080"),
        REALNAME,
        SMS,
        FIELD,
        SIGNING,
    ]


def test_serve_in_production_names_every_development_setting_even_on_loopback(tmp_path):
    env = bot_env(
        tmp_path,
        RB_APP__ENVIRONMENT="production",
        RB_WECHAT__APP_SECRET=DEV_APP_SECRET,
        RB_WECHAT__MAX_CLOCK_SKEW_S="0",
    )
    result = serve(env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [REALNAME, SMS, FIELD, SIGNING, SECRET, SKEW]


# -- through load_settings -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_rb_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("RB_")]:
        monkeypatch.delenv(name)


def given(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_production_with_its_own_keys_starts(monkeypatch):
    given(monkeypatch, **PRODUCTION)
    settings = load_settings(CONFIG)
    assert settings.app.environment == "production" and settings.wechat.max_clock_skew_s == 300


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("RB_REALNAME__PROVIDER", "local", REALNAME),
        ("RB_SMS__PROVIDER", "log", SMS),
        ("RB_SECURITY__FIELD_KEY", "ZGV2ZWxvcG1lbnQta2V5LS1ub3QtZm9yLXByb2QhISE=", FIELD),
        ("RB_RECEIPTS__SIGNING_KEY", "development-receipt-signing-key--not-for-production", SIGNING),
        ("RB_RECEIPTS__PREVIOUS_SIGNING_KEY", "development-receipt-signing-key--not-for-production", SIGNING),
        ("RB_WECHAT__TOKEN", "devtoken123", TOKEN),
        ("RB_WECHAT__ENCODING_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", AES),
        ("RB_WECHAT__APP_SECRET", DEV_APP_SECRET, SECRET),
        ("RB_WECHAT__MAX_CLOCK_SKEW_S", "0", SKEW),
    ],
    ids=[
        "realname",
        "sms",
        "field_key",
        "signing_key",
        "previous_signing_key",
        "token",
        "aes_key",
        "app_secret",
        "clock_skew",
    ],
)
@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_production_refuses_each_development_setting_wherever_it_serves(monkeypatch, variable, value, line, host):
    given(monkeypatch, **{**PRODUCTION, "RB_SERVER__HOST": host, variable: value})
    with pytest.raises(ConfigError) as refused:
        load_settings(CONFIG)
    assert str(refused.value).splitlines() == [line]


def test_development_off_loopback_must_say_production_even_with_its_own_keys(monkeypatch):
    given(monkeypatch, **{**PRODUCTION, "RB_APP__ENVIRONMENT": "development"})
    with pytest.raises(ConfigError) as refused:
        load_settings(CONFIG)
    assert str(refused.value).splitlines() == [ENVIRONMENT.format(url="https://bot.example.gov.cn")]


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "https://bot.example.gov.cn"),  # its links would carry development receipts out
        ("bot.example.gov.cn", "http://127.0.0.1:8080"),
        ("::", "http://[::1]:8080"),
    ],
)
def test_development_needs_both_the_address_and_the_links_on_loopback(monkeypatch, host, url):
    given(monkeypatch, RB_SERVER__HOST=host, RB_SERVER__PUBLIC_BASE_URL=url)
    with pytest.raises(ConfigError) as refused:
        load_settings(CONFIG)
    first = str(refused.value).splitlines()[0]
    assert first.startswith('config: app.environment: "development"') and f'"{host}"' in first


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:8080"), ("localhost", "http://localhost:8080"), ("::1", "http://[::1]:8080")],
)
def test_development_on_loopback_starts(monkeypatch, host, url):
    given(monkeypatch, RB_SERVER__HOST=host, RB_SERVER__PUBLIC_BASE_URL=url)
    assert load_settings(CONFIG).app.environment == "development"


def test_make_run_starts_with_the_stand_ins_secret(monkeypatch):
    # The Makefile's `run`: the shipped config, the stand-in's API and secret, on 127.0.0.1.
    given(monkeypatch, RB_WECHAT__API_BASE_URL="http://127.0.0.1:8081", RB_WECHAT__APP_SECRET=DEV_APP_SECRET)
    settings = load_settings(CONFIG)
    assert settings.server.host == "127.0.0.1" and settings.wechat.app_secret == DEV_APP_SECRET


def test_settings_built_in_code_are_checked_too(tmp_path):
    assert make_settings(tmp_path).app.environment == "development"  # the tests' own settings
    with pytest.raises(ConfigError) as refused:
        make_settings(tmp_path, app={"environment": "production"})
    assert SKEW in str(refused.value).splitlines()  # the harness turns the clock check off
