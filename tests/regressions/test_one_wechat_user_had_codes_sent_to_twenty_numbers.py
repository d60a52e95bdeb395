"""One WeChat user could have the bot send codes to twenty numbers in a fifth of a second (注册's
phone question, 「返回」 from the code, another number, …); and registration codes asked for
someone else's number used up that number's hour, its owner's login codes included. Issue 8, point 3.
"""

from __future__ import annotations

import pytest

from tests.harness import make_settings, through_fakes
from tests.people import verified_account

ID = "440304199001011233"
PHONE = "13800138000"  # tests.people's phone for the account
CODE_QUESTION = "请输入短信验证码（6位数字）"


@pytest.fixture
def settings(tmp_path, fake_sms, fake_wechat):
    return make_settings(
        tmp_path,
        **through_fakes(fake_sms, fake_wechat),
    )


async def at_phone(resident) -> None:
    await resident.send_text("注册")
    for answer in ("张三", ID):
        await resident.send_text(answer)
    assert "手机号码" in await resident.send_text("湖南省长沙市岳麓区麓山路1号")


async def test_one_wechat_user_gets_codes_sent_to_three_numbers_an_hour_not_twenty(resident, fake_sms):
    await at_phone(resident)
    replies = []
    for i in range(20):
        replies.append(await resident.send_text(f"1390000{i:04d}"))
        if CODE_QUESTION in replies[-1]:
            await resident.send_text("返回")  # back to the phone question, for the next number
    assert len(fake_sms.messages) == 3
    assert all(CODE_QUESTION in reply for reply in replies[:3])
    # The fourth number ends the form, saying when; the numbers after it start nothing.
    assert "太多手机号码" in replies[3] and "分钟后再试" in replies[3] and "到时回复「注册」重新开始" in replies[3]
    assert not any(CODE_QUESTION in reply for reply in replies[4:])


async def test_registration_codes_asked_for_someones_number_leave_them_their_login_codes(residents, fake_sms):
    await verified_account("o_owner", ID)
    stranger = residents("o_stranger")
    await at_phone(stranger)
    assert CODE_QUESTION in await stranger.send_text(PHONE)
    replies = [await stranger.send_text("重发") for _ in range(5)]
    assert "次数太多" in replies[-1] and "分钟后再试" in replies[-1]
    assert len(fake_sms.messages) == 5  # sms.max_per_phone_per_hour
    # The owner logs in from a new phone: the first login there needs a code to their number.
    owner = residents("o_owner_new_phone")
    await owner.send_text("登录")
    await owner.send_text("个人")
    await owner.send_text("u01011233")
    assert "短信验证" in await owner.send_text("mima2024ab")
    assert fake_sms.messages[-1]["phone"] == PHONE and fake_sms.messages[-1]["template"] == "login"
    assert "登录成功" in await owner.send_text(fake_sms.last_code(PHONE))
