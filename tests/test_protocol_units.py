"""The protocol layer on its own: signatures, encryption, parsing, rendering."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from wechatpy.crypto import PrpCrypto

from bot.wechat.crypto import DecryptError, ForeignAppError, MessageCrypto
from bot.wechat.message import MalformedMessage, parse_message
from bot.wechat.reply import Article, NewsReply, render, truncate_utf8
from bot.wechat.signature import sign, signature_ok

SAMPLES = Path(__file__).parent / "samples"
VECTOR = json.loads((SAMPLES / "encryption_vector.json").read_text())
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())["samples"]


def test_signature_matches_the_official_worked_example():
    assert sign("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"


def test_signature_sorts_rather_than_fixing_an_order():
    # A token starting with a digit sorts before the timestamp.
    assert sign("0token", "1714037059", "486452656") == sign("1714037059", "0token", "486452656")
    assert signature_ok(sign("0token", "1714037059", "486452656"), "486452656", "0token", "1714037059")


def test_signature_check_refuses_a_changed_digit():
    good = sign("AAAAA", "1714037059", "486452656")
    assert not signature_ok(good[:-1] + ("0" if good[-1] != "0" else "1"), "AAAAA", "1714037059", "486452656")


def vector_crypto(*keys: str) -> MessageCrypto:
    return MessageCrypto(VECTOR["token"], VECTOR["appid"], keys or (VECTOR["encoding_aes_key"],))


def test_official_vector_decrypts_to_the_expected_plaintext():
    crypto = vector_crypto()
    q = VECTOR["query"]
    assert crypto.signature_ok(q["msg_signature"], q["timestamp"], q["nonce"], VECTOR["encrypt"])
    assert crypto.decrypt(VECTOR["encrypt"]) == (VECTOR["expected_plaintext"], 0)


def test_encryption_with_the_vectors_random_reproduces_it_byte_for_byte(monkeypatch):
    monkeypatch.setattr(PrpCrypto, "get_random_string", lambda self: VECTOR["derived"]["random_prefix"])
    crypto = vector_crypto()
    reply = crypto.encrypt_reply(VECTOR["expected_plaintext"], "n", timestamp="1")
    assert f"<![CDATA[{VECTOR['encrypt']}]]>" in reply


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 31, 32, 33, 100, 205, 1000])
def test_round_trip_with_every_padding_length(length):
    crypto = vector_crypto()
    text = "我" * (length // 3) + "a" * (length % 3)
    encrypt = _extract(crypto.encrypt_reply(text, "nonce"), "Encrypt")
    assert len(base64.b64decode(encrypt)) % 32 == 0
    assert crypto.decrypt(encrypt) == (text, 0)


def test_previous_key_still_opens_and_is_reported():
    old = VECTOR["encoding_aes_key"]
    new = base64.b64encode(os.urandom(32)).decode()[:43].replace("+", "a").replace("/", "b")
    encrypt = _extract(vector_crypto(old).encrypt_reply("<xml/>", "n"), "Encrypt")
    assert vector_crypto(new, old).decrypt(encrypt) == ("<xml/>", 1)


def test_message_for_another_app_id_is_refused():
    other = MessageCrypto(VECTOR["token"], "wxanotherapp0000", (VECTOR["encoding_aes_key"],))
    encrypt = _extract(other.encrypt_reply("<xml/>", "n"), "Encrypt")
    with pytest.raises(ForeignAppError):
        vector_crypto().decrypt(encrypt)


@pytest.mark.parametrize(
    "encrypt", ["not base64!", base64.b64encode(b"x" * 31).decode(), base64.b64encode(b"x" * 64).decode()]
)
def test_garbage_does_not_decrypt(encrypt):
    with pytest.raises(DecryptError):
        vector_crypto().decrypt(encrypt)


def _extract(xml: str, tag: str) -> str:
    return xml.split(f"<{tag}><![CDATA[")[1].split("]]>")[0]


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda s: s["file"])
def test_every_sample_parses_with_its_documented_dedup_key(sample):
    msg = parse_message((SAMPLES / sample["file"]).read_bytes())
    assert msg.dedup_key == sample["dedup"]["key"]
    assert msg.msg_type == sample["MsgType"]
    assert msg.event == (sample["Event"] or "")
    for name, value in sample["top_level_fields"].items():
        assert msg.get(name) == value


def test_location_reads_from_message_and_event():
    assert parse_message((SAMPLES / "messages/location.xml").read_bytes()).location == (23.134521, 113.358803)
    assert parse_message((SAMPLES / "messages/event_location.xml").read_bytes()).location == (
        23.137466,
        113.352425,
    )


def test_values_without_cdata_and_with_spaces_are_kept_as_sent():
    msg = parse_message(
        "<xml><ToUserName>gh_a</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content><![CDATA[  你好 ]]></Content><MsgId>9</MsgId></xml>"
    )
    assert msg.content == "  你好 "


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><ToUserName>a</ToUserName>",
        b"not xml at all",
        b'<!DOCTYPE xml [<!ENTITY e "x">]><xml><ToUserName>&e;</ToUserName></xml>',
        b"<root><ToUserName>a</ToUserName></root>",
        b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime></xml>",
        b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>x</CreateTime>"
        b"<MsgType>text</MsgType></xml>",
    ],
    ids=["truncated", "not-xml", "doctype", "wrong-root", "no-msgtype", "bad-createtime"],
)
def test_malformed_bodies_are_refused(body):
    with pytest.raises(MalformedMessage):
        parse_message(body)


def test_text_reply_swaps_addresses_and_splits_cdata_end():
    msg = parse_message((SAMPLES / "messages/text.xml").read_bytes())
    xml = render("a]]>b", msg, now=5)
    assert "<ToUserName><![CDATA[fromUser]]></ToUserName>" in xml
    assert "<FromUserName><![CDATA[toUser]]></FromUserName>" in xml
    reparsed = parse_message(xml.replace("<MsgType>", "<MsgId>1</MsgId><MsgType>"))
    assert reparsed.content == "a]]>b"


def test_news_reply_has_one_article():
    msg = parse_message((SAMPLES / "messages/text.xml").read_bytes())
    xml = render(NewsReply(Article("标题", "说明", "https://example.invalid/r/1")), msg)
    assert "<ArticleCount>1</ArticleCount>" in xml and "<Url><![CDATA[https://example.invalid/r/1]]></Url>" in xml


def test_long_text_is_cut_at_a_character_boundary_within_2048_bytes():
    cut = truncate_utf8("深" * 1000)
    assert len(cut.encode()) <= 2048 and cut.endswith("…")
    cut.encode().decode()  # still valid UTF-8


def test_no_reply_renders_nothing():
    msg = parse_message((SAMPLES / "messages/text.xml").read_bytes())
    assert render("", msg) == ""
