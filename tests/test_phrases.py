"""Residents' own words for the services (conversations/phrases.py): the table read inside longer
messages, several fits offered, greetings and thanks answered, and a short reply, not the whole
menu, when nothing fits; through the full HTTP path, text and recognised voice alike."""

from __future__ import annotations

import pytest

from conversations.keys import MenuKey
from conversations.phrases import MAX_OFFERED, PHRASES, understand
from tests.people import verified_account

K = MenuKey
EVERY_SERVICE = tuple(MenuKey)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("我的居住证怎么续签", (K.ENDORSE,)),
        ("续期", (K.ENDORSE,)),
        ("居住证过期了怎么办", (K.ENDORSE,)),
        ("年审在哪里办", (K.ENDORSE, K.ACCEPTANCE_POINTS)),
        ("我想签注", (K.ENDORSE,)),
        ("单位签注怎么办", (K.UNIT_ENDORSE,)),  # not also 签注: it is part of the longer phrase
        ("我想办居住证", (K.ELIGIBILITY, K.PERMIT_APPLY)),
        ("申请居住证需要什么", (K.ELIGIBILITY, K.PERMIT_APPLY)),
        ("附近受理点", (K.ACCEPTANCE_POINTS,)),
        ("在哪办", (K.ACCEPTANCE_POINTS,)),
        ("我的申请到哪一步了", (K.PROGRESS,)),
        ("查进度", (K.PROGRESS,)),
        ("我搬家了", (K.RESIDENCE_REGISTER,)),
        ("怎么登陆", (K.ACCOUNT_LOGIN,)),
        ("我的密码忘了", (K.FORGOT_PASSWORD,)),
        ("忘记密码了怎么办", (K.FORGOT_PASSWORD,)),
        ("用户名忘了", (K.FORGOT_USERNAME,)),
        ("我手机号换了", (K.CHANGE_PHONE,)),
        ("想改手机号", (K.CHANGE_PHONE,)),
        ("名字写错了怎么改", (K.CORRECT_DETAILS,)),
        ("户籍地址写错了", (K.CORRECT_DETAILS,)),
        ("今天天气怎么样", ()),
    ],
)
def test_phrases_are_found_inside_longer_messages(text, keys):
    assert understand(text, EVERY_SERVICE).keys == keys


def test_the_services_offered_to_the_resident_come_first():
    assert understand("我想办居住证", (K.ELIGIBILITY,)).keys == (K.ELIGIBILITY,)
    # Named but not offered (a personal account asking for a unit's service): starting it says so.
    assert understand("单位签注", (K.ENDORSE,)).keys == (K.UNIT_ENDORSE,)


@pytest.mark.parametrize("text", ["你好", "您好，在吗", "hello"])
def test_a_greeting_gets_a_friendly_answer(text):
    found = understand(text, EVERY_SERVICE)
    assert found.keys == () and found.small_talk is not None and found.small_talk.startswith("您好")


def test_thanks_get_a_friendly_answer_and_a_service_named_with_them_wins():
    assert understand("谢谢你", EVERY_SERVICE).small_talk.startswith("不客气")
    assert understand("你好，我想续签", EVERY_SERVICE).keys == (K.ENDORSE,)


def test_no_phrase_is_a_global_command_or_names_two_services_by_accident():
    words = [phrase for phrases in PHRASES.values() for phrase in phrases]
    assert not set(words) & {"菜单", "帮助", "取消", "返回", "确认"}
    for key, phrases in PHRASES.items():
        for phrase in phrases:
            assert key in understand(phrase, EVERY_SERVICE).keys, phrase


# -- through the bot -----------------------------------------------------------------------------
async def test_a_message_naming_one_service_starts_it(resident):
    await verified_account(resident.openid, "440304199001011233")
    reply = await resident.send_text("我的居住证怎么续签")
    assert "签注" in reply and "没有理解" not in reply


async def test_a_message_naming_several_services_offers_them(resident):
    await verified_account(resident.openid, "440304199001011233")
    reply = await resident.send_text("我想办居住证")
    assert reply.startswith("您是想办理下面哪一项吗？")
    assert "1. 办证资格：" in reply and "2. 申领：" in reply
    assert len(reply.splitlines()) <= 2 + MAX_OFFERED
    assert (await resident.send_text("办证资格")).startswith("办证资格")


async def test_a_number_picks_from_the_services_just_offered(resident):
    await verified_account(resident.openid, "440304199001011233")
    offer = await resident.send_text("查进度，还有在哪办")
    assert "1. 进度：" in offer and "2. 受理点：" in offer
    assert "位置" in await resident.send_text("2")  # 受理点's question, not the menu's second entry (申领)


async def test_the_offer_holds_for_the_next_message_only(resident):
    await verified_account(resident.openid, "440304199001011233")
    await resident.send_text("查进度，还有在哪办")
    await resident.send_text("你好")
    assert "居住登记" in await resident.send_text("2")  # the menu's 2. 申领: it needs a registration first


async def test_a_recognised_voice_message_is_read_the_same_way(resident):
    reply = await resident.send_voice("附近的受理点在哪里")
    assert "受理点" in reply and "没有理解" not in reply


async def test_a_greeting_is_answered_in_two_lines_not_with_the_menu(resident):
    reply = await resident.send_text("你好")
    assert reply.startswith("您好！我是居住证助手") and "1. " not in reply


async def test_nothing_fitting_gets_two_lines_not_the_whole_menu(resident):
    reply = await resident.send_text("今天天气怎么样")
    assert reply.splitlines() == [
        "抱歉，没有理解您的意思。",
        "请直接说想办什么（如「签注」「受理点」），或回复「菜单」查看全部业务。",
    ]
