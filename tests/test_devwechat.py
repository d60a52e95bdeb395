"""The development stand-in for WeChat's API: what development needs beyond the bot's calls, and its limits."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.config import DEV_APP_SECRET
from bot.dev.chat import SAMPLE_PHOTO, ChatError, DevWeChatClient, render_sent, run_chat
from bot.dev.wechat_standin import MESSAGES_PATH, UPLOAD_PATH
from bot.state.memory import MemoryStore
from bot.wechat.api import WeChatAPI
from tests.fake_wechat_api import FakeWeChat
from tests.harness import AES_KEY, APP_ID, FIELD_KEY, ORIGINAL_ID, TOKEN
from tests.processes import REPO, bot_env, run_cli

OPENID = "oRESIDENT0000000000000000001"
OTHER = "oRESIDENT0000000000000000002"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(session: aiohttp.ClientSession, fake_wechat: FakeWeChat) -> WeChatAPI:
    """The bot's own client, so what the stand-in holds is read the way the bot reads it."""
    store = MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)
    return WeChatAPI(
        session,
        base_url=fake_wechat.url,
        app_id=fake_wechat.app_id,
        app_secret=fake_wechat.app_secret,
        cache=store,
        retry_delay_s=0,
    )


def chat_side(fake: FakeWeChat, openid: str = OPENID) -> DevWeChatClient:
    return DevWeChatClient(fake.url, openid=openid, app_id=fake.app_id, app_secret=fake.app_secret)


# -- media/upload ----------------------------------------------------------------------------
async def test_an_uploaded_image_is_what_media_get_returns(api, fake_wechat):
    photo = SAMPLE_PHOTO.read_bytes()
    async with chat_side(fake_wechat) as chat:
        media_id = await chat.upload_image(photo, "id.jpg")
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", media_id)
    assert await api.get_media(media_id) == (photo, "image/jpeg")


async def test_the_upload_answers_as_wechat_does(session, fake_wechat, api):
    await api.send_text(OPENID, "你好")  # a token for this test to upload with
    form = aiohttp.FormData()
    form.add_field("media", SAMPLE_PHOTO.read_bytes(), filename="id.jpg", content_type="image/jpeg")
    params = {"access_token": fake_wechat.issued_tokens[0], "type": "image"}
    async with session.post(fake_wechat.url + UPLOAD_PATH, params=params, data=form) as response:
        answer = await response.json()
    assert sorted(answer) == ["created_at", "media_id", "type"]
    assert answer["type"] == "image" and isinstance(answer["created_at"], int)
    assert fake_wechat.calls_to(UPLOAD_PATH)[0].query == {"type": "image"}


_MEDIA = {
    "photo": lambda: SAMPLE_PHOTO.read_bytes(),
    "pdf": lambda: b"%PDF-1.7 not an image",
    "11 MB": lambda: b"\xff\xd8\xff" + bytes(11 * 1024 * 1024),
}


@pytest.mark.parametrize(
    ("token", "media_type", "media", "errcode"),
    [
        (None, "image", "photo", 41001),
        ("stale", "image", "photo", 40001),
        ("valid", "video", "photo", 40004),
        ("valid", "image", "pdf", 40005),
        ("valid", "image", "11 MB", 40009),
        ("valid", "image", None, 41005),
    ],
)
async def test_an_upload_wechat_would_refuse_is_refused(session, fake_wechat, api, token, media_type, media, errcode):
    await api.send_text(OPENID, "你好")  # a valid token to upload with
    params = {"type": media_type}
    if token:
        params["access_token"] = fake_wechat.issued_tokens[0] if token == "valid" else token
    form = aiohttp.FormData(default_to_multipart=True)
    if media is None:
        form.add_field("file", "the form field must be called media")
    else:
        form.add_field("media", _MEDIA[media](), filename="id.jpg", content_type="image/jpeg")
    async with session.post(fake_wechat.url + UPLOAD_PATH, params=params, data=form) as response:
        assert (await response.json())["errcode"] == errcode
    assert len(fake_wechat.media) == 1  # only the image the fixture put there


async def test_an_upload_from_the_chat_with_the_wrong_secret_says_so(fake_wechat):
    chat = DevWeChatClient(fake_wechat.url, openid=OPENID, app_id=fake_wechat.app_id, app_secret=DEV_APP_SECRET)
    async with chat:
        with pytest.raises(ChatError, match="40125 invalid appsecret"):
            await chat.upload_image(SAMPLE_PHOTO.read_bytes(), "id.jpg")


def test_the_sample_photo_is_a_small_jpeg_marked_as_a_sample():
    photo = SAMPLE_PHOTO.read_bytes()
    assert photo.startswith(b"\xff\xd8\xff") and photo.endswith(b"\xff\xd9")
    assert len(photo) < 8 * 1024
    assert b"SAMPLE" in photo and b"not a real ID card" in photo


# -- /dev/messages ---------------------------------------------------------------------------
async def test_dev_messages_returns_what_was_sent_to_that_openid_after_an_index(session, api, fake_wechat):
    await api.send_text(OPENID, "第一条")
    await api.send_text(OTHER, "给别人的")
    await api.send_template(OPENID, "TPL_RECEIPT", {"thing1": "居住登记"})
    url = fake_wechat.url + MESSAGES_PATH
    async with session.get(url, params={"openid": OPENID, "after": "0"}) as response:
        everything = (await response.json())["messages"]
    assert [(m["index"], m["kind"]) for m in everything] == [(1, "custom"), (3, "template")]
    assert everything[0]["payload"] == {"touser": OPENID, "msgtype": "text", "text": {"content": "第一条"}}
    async with session.get(url, params={"openid": OPENID, "after": "1"}) as response:
        assert [m["index"] for m in (await response.json())["messages"]] == [3]
    async with session.get(url, params={"openid": OPENID, "after": "-1"}) as response:
        assert response.status == 400
    assert fake_wechat.calls_to(MESSAGES_PATH) == []  # not WeChat's API: not among the recorded calls


async def test_the_chat_shows_each_message_once_as_the_resident_reads_it(api, fake_wechat):
    async with chat_side(fake_wechat) as chat:
        await api.send_text(OPENID, "您的账号已在另一个微信上登录")
        assert [render_sent(m) for m in await chat.new_messages()] == ["（客服消息）您的账号已在另一个微信上登录"]
        assert await chat.new_messages() == []
        await api.send_template(OPENID, "TPL_RECEIPT", {"thing1": "居住登记", "time2": "2025-03-01"})
        (template,) = await chat.new_messages()
        assert render_sent(template) == "（模板消息）thing1：居住登记\ntime2：2025-03-01"


async def test_the_chat_starts_over_with_a_restarted_stand_in(api, fake_wechat):
    async with chat_side(fake_wechat) as chat:
        await api.send_text(OPENID, "一")
        await api.send_text(OPENID, "二")
        assert len(await chat.new_messages()) == 2
        fake_wechat.sent.clear()  # as after a restart: nothing sent yet, and a new instance
        fake_wechat.instance = "restarted"
        await api.send_text(OPENID, "重启之后")
        assert [render_sent(m) for m in await chat.new_messages()] == ["（客服消息）重启之后"]


async def test_image_without_the_stand_in_is_one_line_and_the_chat_goes_on(bot, tmp_path):
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        script = tmp_path / "talk.txt"
        script.write_text("/image\n菜单\n", encoding="utf-8")
        out = io.StringIO()
        code = await run_chat(
            url=str(bot.make_url("/wechat")),
            openid=OPENID,
            token=TOKEN,
            app_id=APP_ID,
            encoding_aes_key=AES_KEY,
            original_id=ORIGINAL_ID,
            safe=False,
            script=script,
            wechat_api=f"http://127.0.0.1:{port}",
            out=out,
        )
    lines = out.getvalue().splitlines()
    assert code == 1  # a script with a failed line fails
    assert lines[:3] == [
        "> /image",
        f"✗ 无法连接微信接口替身 http://127.0.0.1:{port}（`make run` 会启动它，或用 --wechat-api 指定）；图片未发送",
        "",
    ]
    assert lines[3] == "> 菜单" and "居住证助手" in lines[4]


# -- the command -----------------------------------------------------------------------------
def test_dev_wechat_refuses_to_start_in_production(tmp_path):
    env = bot_env(
        tmp_path,
        RB_APP__ENVIRONMENT="production",
        RB_SECURITY__FIELD_KEY=FIELD_KEY,
        RB_RECEIPTS__SIGNING_KEY="a-production-receipt-key-of-32-characters-at-least",
        RB_REALNAME__PROVIDER="http",
        RB_REALNAME__HTTP__URL="https://realname.example.gov.cn/verify",
        RB_SMS__PROVIDER="http",
        RB_SMS__HTTP__URL="https://sms.example.gov.cn/send",
    )  # settings production accepts: the refusal is dev-wechat's own
    result = run_cli(env, "dev-wechat", "--port", "1")  # a port it could not even bind: it must stop before
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "dev-wechat: refused: app.environment is production, where the bot talks to WeChat's own servers"
    ]


def test_make_run_gives_serve_the_stand_ins_secret():
    assert f"DEV_WECHAT_SECRET := {DEV_APP_SECRET}\n" in (REPO / "Makefile").read_text()
