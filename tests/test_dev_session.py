"""A development session as `make run` and `make chat` give it, all real processes: the stand-in for
WeChat's API, `serve` pointed at it, and `residence-bot chat`; from registration to real-name
authentication with a photo, and the notice to a WeChat user whose account was logged in elsewhere."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import DEV_APP_SECRET
from bot.dev.chat import SAMPLE_PHOTO
from tests.processes import REPO, ServeProcess, bot_env, run_cli
from tests.services import free_port

CONFIG = str(REPO / "config.yaml")
FIRST = "o_first_phone"
SECOND = "o_second_phone"
ID = "440304199001011233"
PHONE = "13800138000"
PASSWORD = "mima2024ab"


@pytest.fixture
def dev_wechat(tmp_path: Path) -> Iterator[str]:
    """`residence-bot dev-wechat` on a free port; its base URL."""
    port = free_port()
    log = tmp_path / "dev-wechat.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "dev-wechat", "--port", str(port)],
            env=bot_env(tmp_path, RB_CONFIG=CONFIG), cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dev-wechat did not start:\n" + log.read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        assert "development stand-in for WeChat's servers" in log.read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


@pytest.fixture
def server(tmp_path: Path, dev_wechat: str) -> Iterator[ServeProcess]:
    # Its own working directory, as under `make run`: the in-memory guard file lives in ./var.
    server = ServeProcess(
        tmp_path,
        cwd=tmp_path,
        RB_CONFIG=CONFIG,
        RB_WECHAT__API_BASE_URL=dev_wechat,
        RB_WECHAT__APP_SECRET=DEV_APP_SECRET,
        RB_REALNAME__PHOTO_DIR=str(tmp_path / "photos"),
    )
    server.initdb()
    server.start()
    yield server
    server.kill()


def sms_code(server: ServeProcess, purpose: str) -> str:
    """The last code the `log` SMS provider wrote to serve's log, as a developer reads it there."""
    pattern = rf"SMS code for purpose {purpose} sent to \S+: (\d{{6}}) \(development only\)"
    codes = re.findall(pattern, server.log.read_text())
    assert codes, f"no {purpose} code in the log:\n{server.log.read_text()}"
    return codes[-1]


def chat(server: ServeProcess, dev_wechat: str, tmp_path: Path, openid: str, lines: str) -> str:
    """`residence-bot chat --script` as that resident; its transcript."""
    script = tmp_path / f"{openid}.txt"
    script.write_text(lines, encoding="utf-8")
    result = run_cli(
        server.env, "chat", "--url", server.url, "--openid", openid, "--wechat-api", dev_wechat,
        "--script", str(script), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def test_register_then_pass_realname_with_a_photo_then_hear_of_a_login_elsewhere(server, dev_wechat, tmp_path):
    async with server.resident(FIRST) as first:
        for answer in ("注册", "张三", ID, "湖南省长沙市岳麓区麓山路1号"):
            await first.send_text(answer)
        assert "短信验证码" in await first.send_text(PHONE)
        assert "用户名" in await first.send_text(sms_code(server, "register"))
        for answer in ("zhang_san", PASSWORD, "同意"):
            await first.send_text(answer)
        assert "注册成功" in await first.send_text("确认")

    transcript = chat(server, dev_wechat, tmp_path, FIRST, f"实名认证\n张三\n{ID}\n/image\n")
    assert "> /image\n实名认证已通过" in transcript
    # The photo the bot keeps is the one the chat uploaded, fetched from the stand-in with media/get.
    assert [p.read_bytes() for p in (tmp_path / "photos").rglob("*.jpg")] == [SAMPLE_PHOTO.read_bytes()]

    async with server.resident(SECOND) as second:
        for answer in ("登录", "个人", "zhang_san"):
            await second.send_text(answer)
        assert "短信验证" in await second.send_text(PASSWORD)
        assert "登录成功" in await second.send_text(sms_code(server, "login"))

    transcript = chat(server, dev_wechat, tmp_path, FIRST, "菜单\n")
    assert transcript.startswith("（客服消息）您的居住证助手账号已在另一个微信上登录，本微信已解除绑定。")
