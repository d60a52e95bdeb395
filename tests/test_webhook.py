"""The callback endpoint (SPEC §3): verification, modes, and every bad-input case leaving no trace."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.app import DISPATCHER
from bot.wechat.crypto import MessageCrypto
from bot.wechat.message import parse_xml
from bot.wechat.signature import sign
from models import WeChatUser
from tests.harness import AES_KEY, APP_ID, TOKEN, Residents, make_settings

SAMPLES = Path(__file__).parent / "samples"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())["samples"]
VECTOR = json.loads((SAMPLES / "encryption_vector.json").read_text())


def signed(token: str = TOKEN, timestamp: str | None = None, nonce: str = "4242") -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {"timestamp": timestamp, "nonce": nonce, "signature": sign(token, timestamp, nonce)}


def sample(name: str) -> bytes:
    return (SAMPLES / "messages" / name).read_bytes()


# -- GET verification -------------------------------------------------------------------------


async def test_url_verification_echoes_echostr(bot):
    response = await bot.get("/wechat", params={**signed(), "echostr": "5736243209785431234"})
    assert response.status == 200 and await response.text() == "5736243209785431234"


@pytest.mark.parametrize("change", ["signature", "missing"])
async def test_url_verification_refuses_a_bad_or_missing_signature(bot, change):
    params = {**signed(), "echostr": "123"}
    if change == "signature":
        params["signature"] = "0" * 40
    else:
        del params["signature"]
    response = await bot.get("/wechat", params=params)
    assert response.status == 403 and "123" not in await response.text()


# -- the samples, through HTTP ---------------------------------------------------------------


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda s: s["file"])
async def test_every_documented_push_is_answered_without_error(bot, entry):
    response = await bot.post("/wechat", params=signed(), data=(SAMPLES / entry["file"]).read_bytes())
    assert response.status == 200
    body = await response.text()
    if body != "success":
        reply = parse_xml(body)
        assert reply["ToUserName"] == entry["top_level_fields"]["FromUserName"]
        assert reply["MsgType"] == "text" and reply["Content"]


async def test_unsupported_message_kinds_get_a_polite_text(bot):
    response = await bot.post("/wechat", params=signed(), data=sample("video.xml"))
    assert "只能处理文字、位置和图片" in parse_xml(await response.text())["Content"]


async def test_voice_with_recognition_is_handled_as_its_text(resident):
    assert "请发送您的位置" in await resident.send_voice("受理点")
    assert "离南山区中心最近" in await resident.send_voice("南山")


async def test_voice_without_recognition_asks_for_text(bot):
    body = sample("voice.xml").replace("<Recognition><![CDATA[腾讯微信团队]]></Recognition>".encode(), b"")
    response = await bot.post("/wechat", params=signed(), data=body)
    assert "没能识别这条语音" in parse_xml(await response.text())["Content"]


# -- bad input leaves no trace ---------------------------------------------------------------


async def test_bad_signature_is_403_and_records_nothing(bot):
    params = {**signed(), "signature": "f" * 40}
    response = await bot.post("/wechat", params=params, data=sample("event_subscribe.xml"))
    assert response.status == 403
    assert await WeChatUser.filter(openid="FromUser").count() == 0
    # No dedup key was claimed: the genuine delivery is processed, not taken for a retry.
    genuine = await bot.post("/wechat", params=signed(), data=sample("event_subscribe.xml"))
    assert "欢迎关注" in parse_xml(await genuine.text())["Content"]
    assert await WeChatUser.filter(openid="FromUser", subscribed=True).count() == 1


@pytest.mark.parametrize("drop", ["signature", "timestamp", "nonce"])
async def test_missing_parameters_are_400(bot, drop):
    params = signed()
    del params[drop]
    response = await bot.post("/wechat", params=params, data=sample("text.xml"))
    assert response.status == 400


@pytest.mark.parametrize(
    "body",
    [b"<xml><ToUserName>", b'{"json": true}', b'<!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>'],
    ids=["truncated", "json", "doctype"],
)
async def test_malformed_bodies_are_400_and_change_no_state(bot, body):
    response = await bot.post("/wechat", params=signed(), data=body)
    assert response.status == 400
    assert bot.app[DISPATCHER].store._values == {}


async def test_body_over_64_kib_is_413(bot):
    body = sample("text.xml").replace(b"this is a test", b"x" * (64 * 1024))
    response = await bot.post("/wechat", params=signed(), data=body)
    assert response.status == 413


async def test_stale_timestamp_is_refused_when_the_window_is_on(start_bot, tmp_path):
    client = await start_bot(make_settings(tmp_path, wechat={"max_clock_skew_s": 300}))
    response = await client.post(
        "/wechat", params=signed(timestamp=str(int(time.time()) - 301)), data=sample("text.xml")
    )
    assert response.status == 403
    fresh = await client.post("/wechat", params=signed(), data=sample("text.xml"))
    assert fresh.status == 200


# -- safe and compatible modes ---------------------------------------------------------------


@pytest.fixture
async def safe_bot(start_bot, tmp_path):
    return await start_bot(make_settings(tmp_path, wechat={"mode": "safe"}))


async def test_safe_mode_round_trip_is_encrypted_both_ways(safe_bot):
    resident = Residents(safe_bot, make_settings(Path()))("o_safe", safe=True)
    assert "请发送您的位置" in await resident.send_text("受理点")
    assert "<Encrypt>" in resident.last_body and "<Content>" not in resident.last_body


async def test_safe_mode_refuses_plaintext_pushes(safe_bot):
    response = await safe_bot.post("/wechat", params=signed(), data=sample("text.xml"))
    assert response.status == 403


async def test_safe_mode_refuses_a_bad_msg_signature(safe_bot):
    crypto = MessageCrypto(TOKEN, APP_ID, (AES_KEY,))
    envelope = crypto.encrypt_reply(sample("text.xml").decode(), "1")
    encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    body = f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    params = {**signed(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    assert (await safe_bot.post("/wechat", params=params, data=body)).status == 403
    params["msg_signature"] = sign(TOKEN, params["timestamp"], params["nonce"], encrypt)
    assert (await safe_bot.post("/wechat", params=params, data=body)).status == 200


async def test_safe_mode_refuses_a_message_for_another_app(safe_bot):
    other = MessageCrypto(TOKEN, "wx0ther0app000000", (AES_KEY,))
    encrypt = other.encrypt_reply(sample("text.xml").decode(), "1").split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    body = f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    params = {**signed(), "encrypt_type": "aes"}
    params["msg_signature"] = sign(TOKEN, params["timestamp"], params["nonce"], encrypt)
    assert (await safe_bot.post("/wechat", params=params, data=body)).status == 403


async def test_official_compat_mode_vector_is_decrypted_and_answered_encrypted(start_bot, tmp_path):
    settings = make_settings(
        tmp_path,
        wechat={
            "mode": "compat",
            "token": VECTOR["token"],
            "app_id": VECTOR["appid"],
            "encoding_aes_key": VECTOR["encoding_aes_key"],
            "max_clock_skew_s": 0,
        },
    )
    client = await start_bot(settings)
    response = await client.post("/wechat", params=VECTOR["query"], data=VECTOR["body"].encode())
    assert response.status == 200
    envelope = parse_xml(await response.text())
    crypto = MessageCrypto(VECTOR["token"], VECTOR["appid"], (VECTOR["encoding_aes_key"],))
    assert (
        sign(VECTOR["token"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]) == envelope["MsgSignature"]
    )
    reply = parse_xml(crypto.decrypt(envelope["Encrypt"])[0])
    assert reply["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs" and reply["FromUserName"] == "gh_10f6c3c3ac5a"
    assert reply["Content"]


# -- events ------------------------------------------------------------------------------------


async def test_subscribe_greets_with_the_menu(resident):
    reply = await resident.subscribe()
    assert "欢迎关注" in reply and "受理点" in reply


async def test_subscribe_with_a_flow_scene_starts_that_flow(resident):
    reply = await resident.subscribe("ACCEPTANCE_POINTS")
    assert "欢迎关注" in reply and "请发送您的位置" in reply


async def test_unsubscribe_is_recorded(resident):
    await resident.subscribe()
    assert await resident.unsubscribe() == ""
    user = await WeChatUser.get(openid=resident.openid)
    assert user.subscribed is False and user.unsubscribed_at is not None


async def test_click_starts_the_flow_named_by_its_event_key(resident):
    assert "请发送您的位置" in await resident.click("ACCEPTANCE_POINTS")


async def test_click_on_an_unknown_key_shows_the_menu(resident):
    assert "请回复关键词或序号" in await resident.click("NO_SUCH_KEY")


async def test_image_outside_a_photo_question_gets_a_polite_note(resident):
    assert "现在不需要图片" in await resident.send_image()


async def test_health_and_readiness(bot):
    assert (await bot.get("/healthz")).status == 200
    ready = await bot.get("/readyz")
    assert ready.status == 200 and (await ready.json())["checks"] == {"database": True, "state": True}


async def test_metrics_count_messages_replies_flows_and_latency(resident, bot):
    await resident.send_text("受理点")
    await resident.send_text("福田")
    text = await (await bot.get("/metrics")).text()
    assert 'rb_messages_total{type="text"} 2.0' in text
    assert 'rb_flow_starts_total{flow="ACCEPTANCE_POINTS"} 1.0' in text
    assert 'rb_flow_completions_total{flow="ACCEPTANCE_POINTS"} 1.0' in text
    assert 'rb_replies_total{kind="text"} 2.0' in text
    assert "rb_handling_seconds_count 2.0" in text


def push(openid: str, msg_type: str, extra: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_1234567890ab]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{extra}</xml>"
    )


async def test_metrics_count_unknown_message_types_and_events_as_other(resident, bot):
    # Anybody who can sign a push chooses these strings: they must not make new time series.
    await resident.send_xml(push(resident.openid, "forged_type_1", "<MsgId>90001</MsgId>"))
    await resident.send_xml(push(resident.openid, "event", "<Event><![CDATA[FORGED_EVENT_2]]></Event>"))
    await resident.send_xml(push(resident.openid, "event", "<Event><![CDATA[subscribe]]></Event>"))
    await resident.send_xml(push(resident.openid, "shortvideo", "<MediaId>M</MediaId><MsgId>90002</MsgId>"))
    text = await (await bot.get("/metrics")).text()
    assert "forged" not in text.lower()
    assert 'rb_messages_total{type="other"} 2.0' in text
    assert 'rb_messages_total{type="subscribe"} 1.0' in text
    assert 'rb_messages_total{type="shortvideo"} 1.0' in text


def location_event(openid: str, lat: float, lng: float) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_1234567890ab]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[LOCATION]]></Event><Latitude>{lat}</Latitude><Longitude>{lng}</Longitude>"
        "<Precision>65.0</Precision></xml>"
    )


async def test_location_event_answers_the_acceptance_point_question(resident):
    await resident.send_text("受理点")
    reply = await resident.send_xml(location_event(resident.openid, 22.5431, 114.0579))
    assert "离您的位置最近的3个受理点" in reply


async def test_location_event_outside_a_flow_gets_no_reply(resident):
    # WeChat reports locations unasked whenever the resident opens the chat.
    assert await resident.send_xml(location_event(resident.openid, 22.5431, 114.0579)) == ""


async def test_location_message_outside_a_flow_looks_up_acceptance_points(resident):
    assert "离您的位置最近的3个受理点" in await resident.send_location(22.5431, 114.0579, "市民中心")
