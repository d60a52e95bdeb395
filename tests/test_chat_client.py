"""The chat client against a stand-in receiver that checks requests the way WeChat's own code does."""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path

import pytest
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from bot.dev.chat import ChatClient, ChatError, as_read, cdata, parse_line, run_chat

TOKEN = "chatToken42"
AES_KEY = "Zyxwvutsrqponmlkjihgfedcba9876543210ABCDEFG"
APP_ID = "wx5f3c2e1d0a9b8c7d"
ORIGINAL_ID = "gh_5a6b7c8d9e0f"
OPENID = "oRESIDENT0000000000000000001"


def reply_xml(msg: dict, msg_type: str, body: str) -> str:
    return (
        f"<xml><ToUserName>{cdata(msg['FromUserName'])}</ToUserName>"
        f"<FromUserName>{cdata(msg['ToUserName'])}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{body}</xml>"
    )


def answer(msg: dict) -> str | None:
    """What the stand-in bot says back: enough to see each field arrived."""
    match msg["MsgType"]:
        case "text" if msg["Content"] == "news":
            item = (
                f"<item><Title>{cdata('签注指南')}</Title><Description>{cdata('三步完成')}</Description>"
                f"<PicUrl>{cdata('')}</PicUrl><Url>{cdata('https://bot.example.gov.cn/g')}</Url></item>"
            )
            return reply_xml(msg, "news", f"<ArticleCount>1</ArticleCount><Articles>{item}</Articles>")
        case "text":
            text = f"回声：{msg['Content']}"
        case "location":
            text = f"位置 {msg['Location_X']},{msg['Location_Y']} {msg['Label'] or ''}".rstrip()
        case "image":
            text = f"图片 {msg['MediaId']}"
        case "voice":
            text = f"语音 {msg['Recognition']}"
        case "event" if msg["Event"] == "unsubscribe":
            return None
        case "event":
            text = f"事件 {msg['Event']} {msg.get('EventKey') or ''}".rstrip()
        case _:
            text = "?"
    return reply_xml(msg, "text", f"<Content>{cdata(text)}</Content>")


def make_app(received: list[dict], *, tamper_reply: bool = False) -> web.Application:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    async def callback(request: web.Request) -> web.Response:
        q = request.query
        try:
            check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
        except (KeyError, InvalidSignatureException):
            return web.Response(status=403, text="invalid signature")
        body = await request.text()
        encrypted = q.get("encrypt_type") == "aes"
        if encrypted:
            try:
                xml = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
            except (KeyError, InvalidSignatureException):
                return web.Response(status=403, text="invalid msg_signature")
        else:
            xml = body
        msg = xmltodict.parse(xml)["xml"]
        received.append({"query": dict(q), "body": body, "xml": xml, "msg": msg})
        reply = answer(msg)
        if reply is None:
            return web.Response(text="success")
        if encrypted:
            reply = crypto.encrypt_message(reply, q["nonce"])
            if tamper_reply:
                sig = xmltodict.parse(reply)["xml"]["MsgSignature"]
                reply = reply.replace(sig, "0" * 40)
        return web.Response(text=reply, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/wechat", callback)
    return app


@pytest.fixture
def received() -> list[dict]:
    return []


def client_for(http, *, safe: bool = False, token: str = TOKEN) -> ChatClient:
    return ChatClient(
        str(http.make_url("/wechat")),
        openid=OPENID,
        token=token,
        app_id=APP_ID,
        encoding_aes_key=AES_KEY,
        original_id=ORIGINAL_ID,
        safe=safe,
        session=http.session,
    )


async def test_plain_text_round_trip(aiohttp_client, received):
    http = await aiohttp_client(make_app(received))
    text = "你好 ]]> <b>&amp; 结尾]]"
    async with client_for(http) as chat:
        reply = await chat.send_text(text)

    assert reply == f"回声：{text}"
    assert chat.last_status == 200
    assert "回声" in chat.last_body
    [push] = received
    assert "encrypt_type" not in push["query"]
    assert push["query"]["openid"] == OPENID
    assert "]]]]><![CDATA[>" in push["body"]
    msg = push["msg"]
    assert msg["Content"] == text
    assert msg["ToUserName"] == ORIGINAL_ID
    assert msg["FromUserName"] == OPENID
    assert msg["MsgType"] == "text"
    assert abs(int(msg["CreateTime"]) - time.time()) < 5
    assert msg["MsgId"].isdigit() and 0 < int(msg["MsgId"]) < 2**63
    assert "<MsgId>" + msg["MsgId"] + "</MsgId>" in push["body"]


async def test_each_message_gets_a_fresh_msg_id(aiohttp_client, received):
    http = await aiohttp_client(make_app(received))
    async with client_for(http) as chat:
        await chat.send_text("一")
        await chat.send_text("一")
    assert received[0]["msg"]["MsgId"] != received[1]["msg"]["MsgId"]


async def test_safe_mode_round_trip(aiohttp_client, received):
    http = await aiohttp_client(make_app(received))
    async with client_for(http, safe=True) as chat:
        reply = await chat.send_text("申领居住证")
        location = await chat.send_location(22.543096, 114.057865, "福田区")

    assert reply == "回声：申领居住证"
    assert location == "位置 22.543096,114.057865 福田区"
    assert "<Encrypt>" in chat.last_body  # the raw answer was encrypted; the client decrypted it
    for push in received:
        assert push["query"]["encrypt_type"] == "aes"
        assert set(xmltodict.parse(push["body"])["xml"]) == {"ToUserName", "Encrypt"}
        assert xmltodict.parse(push["body"])["xml"]["ToUserName"] == ORIGINAL_ID
    assert "<Location_X>22.543096</Location_X><Location_Y>114.057865</Location_Y>" in received[1]["xml"]
    assert "<Scale>15</Scale>" in received[1]["xml"]


async def test_safe_mode_rejects_reply_with_wrong_msg_signature(aiohttp_client, received):
    http = await aiohttp_client(make_app(received, tamper_reply=True))
    async with client_for(http, safe=True) as chat:
        with pytest.raises(ChatError, match="MsgSignature"):
            await chat.send_text("你好")


@pytest.mark.parametrize("safe", [False, True])
async def test_events_carry_no_msg_id(aiohttp_client, received, safe):
    http = await aiohttp_client(make_app(received))
    async with client_for(http, safe=safe) as chat:
        assert await chat.click("ENDORSE") == "事件 CLICK ENDORSE"
        assert await chat.subscribe("ELIGIBILITY") == "事件 subscribe qrscene_ELIGIBILITY"
        assert await chat.subscribe() == "事件 subscribe"
        assert await chat.unsubscribe() == ""

    click, scan_subscribe, subscribe, unsubscribe = (p["msg"] for p in received)
    for msg in (click, scan_subscribe, subscribe, unsubscribe):
        assert msg["MsgType"] == "event"
        assert "MsgId" not in msg
    assert (click["Event"], click["EventKey"]) == ("CLICK", "ENDORSE")
    assert scan_subscribe["Event"] == "subscribe"
    assert scan_subscribe["EventKey"] == "qrscene_ELIGIBILITY"
    assert scan_subscribe["Ticket"]
    assert subscribe["Event"] == "subscribe" and "EventKey" not in subscribe
    assert unsubscribe["Event"] == "unsubscribe"
    # Distinct CreateTimes, so a bot's openid+CreateTime+Event dedup never mistakes them for retries.
    assert len({int(p["msg"]["CreateTime"]) for p in received}) == 4


async def test_image_voice_and_news(aiohttp_client, received):
    http = await aiohttp_client(make_app(received))
    async with client_for(http) as chat:
        assert await chat.send_image("MEDIA123") == "图片 MEDIA123"
        assert (await chat.send_image()).startswith("图片 ")
        assert await chat.send_voice("办理签注") == "语音 办理签注"
        assert await chat.send_text("news") == "签注指南\n三步完成\nhttps://bot.example.gov.cn/g"

    image, random_image, voice, _ = (p["msg"] for p in received)
    assert image["PicUrl"] and image["MsgId"]
    assert random_image["MediaId"] and random_image["MediaId"] != "MEDIA123"
    assert (voice["Format"], voice["Recognition"]) == ("amr", "办理签注")
    assert voice["MediaId"] and voice["MsgId"]


async def test_http_error_raises_with_status_and_body(aiohttp_client, received):
    http = await aiohttp_client(make_app(received))
    async with client_for(http, token="wrongToken1") as chat:
        with pytest.raises(ChatError, match="HTTP 403: invalid signature"):
            await chat.send_text("你好")
    assert chat.last_status == 403
    assert chat.last_body == "invalid signature"
    assert received == []


async def test_script_replay_prints_transcript(aiohttp_server, received, tmp_path: Path):
    server = await aiohttp_server(make_app(received))
    script = tmp_path / "talk.txt"
    script.write_text(
        "# 一段对话\n\n你好\n/click ENDORSE\n   \n/location 22.5,114.05 福田区\n/unsubscribe\n/quit\n不会发送\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    code = await run_chat(
        url=str(server.make_url("/wechat")),
        openid=OPENID,
        token=TOKEN,
        app_id=APP_ID,
        encoding_aes_key=AES_KEY,
        original_id=ORIGINAL_ID,
        safe=True,
        script=script,
        out=out,
    )
    assert code == 0
    assert out.getvalue() == (
        "> 你好\n回声：你好\n\n"
        "> /click ENDORSE\n事件 CLICK ENDORSE\n\n"
        "> /location 22.5,114.05 福田区\n位置 22.500000,114.050000 福田区\n\n"
        "> /unsubscribe\n（无回复）\n\n"
        "> /quit\n"
    )
    assert len(received) == 4


async def test_script_replay_fails_on_403(aiohttp_server, received, tmp_path: Path):
    server = await aiohttp_server(make_app(received))
    script = tmp_path / "talk.txt"
    script.write_text("你好\n/click ENDORSE\n", encoding="utf-8")
    out = io.StringIO()
    code = await run_chat(
        url=str(server.make_url("/wechat")),
        openid=OPENID,
        token="wrongToken1",
        app_id=APP_ID,
        encoding_aes_key=AES_KEY,
        original_id=ORIGINAL_ID,
        safe=False,
        script=script,
        out=out,
    )
    assert code != 0
    assert out.getvalue() == (
        "> 你好\n✗ HTTP 403: invalid signature\n\n> /click ENDORSE\n✗ HTTP 403: invalid signature\n\n"
    )


async def test_unreachable_bot_is_one_line_not_a_traceback(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "talk.txt"
    script.write_text("你好\n", encoding="utf-8")
    out = io.StringIO()
    code = await run_chat(
        url=f"http://127.0.0.1:{port}/wechat",
        openid=OPENID,
        token=TOKEN,
        app_id=APP_ID,
        encoding_aes_key=AES_KEY,
        original_id=ORIGINAL_ID,
        safe=False,
        script=script,
        out=out,
    )
    lines = out.getvalue().splitlines()
    assert code != 0
    assert lines[0] == "> 你好"
    assert lines[1].startswith("✗ 无法连接 ")
    assert "Traceback" not in out.getvalue()


async def test_piped_input_with_help_and_bad_command(aiohttp_server, received):
    server = await aiohttp_server(make_app(received))
    out = io.StringIO()
    code = await run_chat(
        url=str(server.make_url("/wechat")),
        openid=OPENID,
        token=TOKEN,
        app_id=APP_ID,
        encoding_aes_key=AES_KEY,
        original_id=ORIGINAL_ID,
        safe=False,
        script=None,
        out=out,
        inp=io.StringIO("/help\n/nope\n/location abc\n/voice 签注\n"),
    )
    text = out.getvalue()
    assert code == 0  # interactive sessions do not fail as a whole
    assert "/location 纬度,经度" in text
    assert "✗ 未知命令 /nope" in text
    assert "✗ 用法：/location" in text
    assert "> /voice 签注\n语音 签注\n" in text
    assert [p["msg"]["MsgType"] for p in received] == ["voice"]


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("/location 22.54,114.05", (22.54, 114.05, "")),
        ("/location 22.54，114.05 福田 口岸", (22.54, 114.05, "福田 口岸")),
        ("/location 22.54, 114.05 福田区，口岸", (22.54, 114.05, "福田区，口岸")),
        ("/location -33.9,-70.6", (-33.9, -70.6, "")),
    ],
)
async def test_location_syntax(line, args):
    sent = []
    chat = ChatClient("http://unused", openid=OPENID, token=TOKEN)

    async def capture(lat, lng, label=""):
        sent.append((lat, lng, label))
        return ""

    chat.send_location = capture
    command = parse_line(line, chat)
    await command.send()
    assert sent == [args]


def test_the_chat_shows_a_link_as_its_label_with_the_address():
    reply = '1. 福田派出所（约610米）\n电话0755-80000001 <a href="https://uri.amap.com/marker?position=114.05,22.54">地图</a>'
    assert as_read(reply).endswith("电话0755-80000001 地图（https://uri.amap.com/marker?position=114.05,22.54）")
