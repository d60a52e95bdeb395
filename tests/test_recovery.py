"""Recovery in the chat, as chat scripts through the whole HTTP path: 忘记用户名, 忘记密码 (the same
words whoever holds an ID number), 换手机号 (the ID-card photo again, a code to the new number) and
修改资料 (before real-name verification only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import DISPATCHER
from bot.config import AccountsConfig
from bot.services.accounts import Accounts
from bot.services.security import FieldCipher, hash_password, verify_password
from models import Account, TrustedWeChatUser
from tests.applicants import id_number
from tests.fake_wechat_api import IMAGE_MEDIA_ID
from tests.harness import FIELD_KEY, Residents, make_settings, through_fakes
from tests.people import verified_account

ID = "440304199001011233"
NO_ACCOUNTS_ID = "11010519491231002X"
PHONE = "13800138000"  # tests/people.py's
NEW_PHONE = "13900139000"
PASSWORD = "mima2024ab"
NEW_PASSWORD = "xinmima2025"


@pytest.fixture
def settings(tmp_path, fake_sms, fake_wechat):
    return make_settings(tmp_path, **through_fakes(fake_sms, fake_wechat))


@pytest.fixture
async def owner(residents):
    """A verified resident, bound to their own WeChat user, with the username zhang_san."""
    resident = residents("o_owner")
    await verified_account(resident.openid, ID, username="zhang_san")
    return resident


async def unverified(openid: str, id_number: str = ID) -> Account:
    return await Accounts(AccountsConfig()).register_personal(
        openid=openid,
        name="张三",
        id_number=FieldCipher(FIELD_KEY).protect_id(id_number),
        hukou_address="湖南省长沙市岳麓区麓山路1号",
        phone=PHONE,
        username="zhang_san",
        password_hash=await hash_password(PASSWORD),
    )


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def login(resident, password: str, username: str = "zhang_san") -> str:
    await resident.send_text("登录")
    await resident.send_text("个人")
    await resident.send_text(username)
    return await resident.send_text(password)


# -- 忘记用户名 -------------------------------------------------------------------------------------


async def test_a_forgotten_username_is_told_once_the_accounts_phone_took_the_code(owner, residents, fake_sms):
    asker = residents("o_forgot")
    assert "身份证号码" in await asker.send_text("忘记用户名")
    asked = await asker.send_text(ID)
    assert "如果这个身份证号码注册过个人账号，验证码已发送到账号登记的手机" in asked and PHONE[-4:] not in asked
    reply = await asker.send_text(fake_sms.last_code(PHONE))
    assert "您的用户名是：zhang_san" in reply and "「登录」" in reply


async def test_a_wrong_code_gets_the_tries_left_and_the_question_again(owner, residents, fake_sms):
    asker = residents("o_forgot")
    await asker.send_text("忘记用户名")
    await asker.send_text(ID)
    reply = await asker.send_text(wrong(fake_sms.last_code(PHONE)))
    assert "验证码不正确，还可以再试4次" in reply and reply.endswith("没有收到请回复「重发」：")
    assert "zhang_san" in await asker.send_text(fake_sms.last_code(PHONE))


async def test_a_wrong_id_number_gets_the_reason_and_the_question_again(residents):
    asker = residents("o_forgot")
    await asker.send_text("忘记用户名")
    reply = await asker.send_text("440304199001011234")
    assert "校验位" in reply and reply.endswith("请输入注册账号时填写的18位身份证号码：")


# -- no enumeration -----------------------------------------------------------------------------


async def recovery_attempt(resident, id_number: str, fake_sms) -> list[str]:
    """Everything a stranger who knows only an ID number can get from 忘记密码: every reply."""
    replies = [await resident.send_text("忘记密码"), await resident.send_text(id_number)]
    for _ in range(5):  # wrong codes until the code is void
        replies.append(await resident.send_text("000000"))
    replies.append(await resident.send_text("重发"))
    replies.append(await resident.send_text("123456"))
    replies.append(await resident.send_text(NEW_PASSWORD))  # no password question is open
    return replies


async def test_an_id_number_with_an_account_and_one_without_get_the_same_replies(owner, residents, fake_sms):
    fake_sms.messages.clear()
    with_account = await recovery_attempt(residents("o_knows_id"), ID, fake_sms)
    without = await recovery_attempt(residents("o_made_up_id"), NO_ACCOUNTS_ID, fake_sms)
    if "000000" in {m["params"]["code"] for m in fake_sms.messages}:
        pytest.skip("a sent code happened to be 000000")
    assert with_account == without
    assert "验证码输错次数太多" in with_account[6] and "已重新发送验证码" in with_account[7]
    # Only the account's own phone got anything: the codes went nowhere else.
    assert {m["phone"] for m in fake_sms.messages} == {PHONE} and len(fake_sms.messages) == 2


async def test_knowing_an_id_number_gives_neither_username_nor_password_without_the_code(owner, residents, fake_sms):
    attacker = residents("o_attacker")
    replies = await recovery_attempt(attacker, ID, fake_sms)
    assert not any("zhang_san" in reply or "密码已重设" in reply for reply in replies)
    account = await Account.get(username="zhang_san")
    assert await verify_password(account.password_hash, PASSWORD)
    # 返回 to the ID number and on again: another code question, still no way past it.
    await attacker.send_text("忘记用户名")
    await attacker.send_text(ID)
    assert "验证码" in await attacker.send_text("zhang_san")


async def test_the_hourly_limit_ends_the_recovery_saying_when_alike_for_any_id_number(
    start_bot, tmp_path, fake_sms, fake_wechat
):
    sections = through_fakes(fake_sms, fake_wechat)
    sections["sms"]["max_per_phone_per_hour"] = 2
    settings = make_settings(tmp_path, **sections)
    residents = Residents(await start_bot(settings), settings)
    await verified_account("o_owner", ID, username="zhang_san")
    endings = []
    for openid, number in (("o_a", ID), ("o_b", NO_ACCOUNTS_ID)):
        resident = residents(openid)
        await resident.send_text("忘记密码")
        await resident.send_text(number)
        await resident.send_text("重发")
        endings.append(await resident.send_text("重发"))
        assert "没有理解" in await resident.send_text(NEW_PASSWORD)  # the form ended there
    assert endings[0] == endings[1]
    assert "这个身份证号码获取验证码的次数太多了" in endings[0] and "分钟后再试" in endings[0]
    assert endings[0].endswith("到时回复「忘记密码」重新开始。")
    assert len(fake_sms.messages) == 2


async def test_trying_number_after_number_is_stopped_alike_whichever_has_an_account(owner, residents):
    """A stranger going through ID numbers to find those with accounts: the fourth in an hour is
    refused, in the same words, whether or not it (or any before it) has an account."""
    endings = []
    for openid, last in (("o_a", ID), ("o_b", NO_ACCOUNTS_ID)):
        resident = residents(openid)
        for n in range(3):
            await resident.send_text("忘记用户名")
            await resident.send_text(id_number(n))
            await resident.send_text("取消")
        await resident.send_text("忘记用户名")
        endings.append(await resident.send_text(last))
    assert endings[0] == endings[1] and "太多身份证号码" in endings[0]


async def test_a_failed_send_reads_like_a_sent_code(owner, residents, fake_sms):
    fake_sms.fail_next(500)
    failed = residents("o_a")
    await failed.send_text("忘记用户名")
    made_up = residents("o_b")
    await made_up.send_text("忘记用户名")
    assert await failed.send_text(ID) == await made_up.send_text(NO_ACCOUNTS_ID)
    assert "已重新发送验证码" in await failed.send_text("重发")
    assert "zhang_san" in await failed.send_text(fake_sms.last_code(PHONE))


async def test_a_later_claim_to_the_id_number_does_not_take_the_recovery_to_its_phone(residents, fake_sms):
    await unverified("o_first")
    await Accounts(AccountsConfig()).register_personal(
        openid="o_later",
        name="张三",
        id_number=FieldCipher(FIELD_KEY).protect_id(ID),
        hukou_address="广东省深圳市",
        phone=NEW_PHONE,
        username="li_si",
        password_hash=await hash_password(PASSWORD),
    )
    fake_sms.messages.clear()
    asker = residents("o_forgot")
    await asker.send_text("忘记用户名")
    await asker.send_text(ID)
    assert [m["phone"] for m in fake_sms.messages] == [PHONE]
    assert "zhang_san" in await asker.send_text(fake_sms.last_code(PHONE))


async def test_back_to_the_id_number_and_another_one_voids_the_first_code(owner, residents, fake_sms):
    asker = residents("o_forgot")
    await asker.send_text("忘记用户名")
    await asker.send_text(ID)
    first = fake_sms.last_code(PHONE)
    assert "身份证号码" in await asker.send_text("返回")
    await asker.send_text(NO_ACCOUNTS_ID)
    reply = await asker.send_text(first)
    assert "验证码不正确" in reply and "zhang_san" not in reply


async def test_the_conversation_state_holds_neither_the_id_number_nor_the_phone(bot, owner, residents, fake_sms):
    asker = residents("o_forgot")
    await asker.send_text("忘记密码")
    await asker.send_text(ID)
    state = await bot.app[DISPATCHER].store.load_state(asker.openid)
    assert ID not in str(state) and PHONE not in str(state)


# -- 忘记密码 -----------------------------------------------------------------------------------------


async def reset(resident, fake_sms, password: str = NEW_PASSWORD) -> str:
    await resident.send_text("忘记密码")
    await resident.send_text(ID)
    assert "设置新密码" in await resident.send_text(fake_sms.last_code(PHONE))
    return await resident.send_text(password)


async def test_a_reset_password_logs_in_and_the_old_one_does_not(owner, residents, fake_sms):
    asker = residents("o_forgot")
    reply = await reset(asker, fake_sms)
    assert "密码已重设" in reply and "用户名：zhang_san" in reply
    assert "用户名或密码不对" in await login(asker, PASSWORD)
    await asker.send_text("取消")
    # No second code: the one that allowed the reset proved the phone on this WeChat user.
    assert "登录成功" in await login(asker, NEW_PASSWORD)


async def test_a_reset_ends_a_lockout(owner, residents, fake_sms):
    guesser = residents("o_guesser")
    await login(guesser, "wrong0000x")
    for _ in range(4):
        reply = await guesser.send_text("wrong0000x")
    assert "账号已锁定" in reply and "「忘记密码」" in reply
    asker = residents("o_forgot")
    await reset(asker, fake_sms)
    assert "登录成功" in await login(asker, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("password", "reason"), [("abc123", "至少8位"), ("zhang_san99", "用户名"), ("ab19900101", "身份证")]
)
async def test_a_weak_new_password_is_refused_with_the_rule_of_registration(
    owner, residents, fake_sms, password, reason
):
    reply = await reset(residents("o_forgot"), fake_sms, password)
    assert reason in reply and "设置新密码" in reply


async def test_the_bound_wechat_user_is_told_of_a_reset_from_elsewhere(owner, residents, fake_sms, fake_wechat):
    await reset(residents("o_forgot"), fake_sms)
    assert [openid for openid, _ in fake_wechat.sent_texts] == [owner.openid]
    assert "密码刚刚用短信验证码重设了" in fake_wechat.sent_texts[0][1]


async def test_a_bound_resident_resets_their_own_password_in_the_same_way(owner, fake_sms, fake_wechat):
    assert "密码已重设" in await reset(owner, fake_sms)
    assert not fake_wechat.sent_texts  # nobody else to tell
    assert await verify_password((await Account.get(username="zhang_san")).password_hash, NEW_PASSWORD)


async def test_login_names_the_recovery_keyword_at_a_wrong_password(owner, residents):
    assert "忘记了密码请回复「忘记密码」" in await login(residents("o_forgot"), "wrong0000x")


async def test_residents_own_words_start_the_recovery(residents):
    asker = residents("o_words")
    assert "身份证号码" in await asker.send_text("我的密码忘了怎么办")
    await asker.send_text("取消")
    assert "身份证号码" in await asker.send_text("用户名忘了")


async def test_changed_phone_asked_at_the_code_question_offers_to_leave_the_form(owner, residents):
    asker = residents("o_forgot")
    await asker.send_text("忘记密码")
    await asker.send_text(ID)
    reply = await asker.send_text("换手机号")
    assert "重设密码" in reply and "换手机号" in reply
    reply = await asker.send_text("离开")
    assert "受理点" in reply and "身份证原件" in reply


# -- 换手机号 -----------------------------------------------------------------------------------------


async def change_phone(owner, fake_sms) -> str:
    assert "身份证人像面照片" in await owner.send_text("换手机号")
    assert "新的手机号码" in await owner.send_image(IMAGE_MEDIA_ID)
    assert "验证码已发送到新的手机号码" in await owner.send_text(NEW_PHONE)
    return await owner.send_text(fake_sms.last_code(NEW_PHONE))


async def test_a_verified_account_changes_its_phone_with_the_photo_and_a_code_to_the_new_number(owner, fake_sms):
    fake_sms.messages.clear()
    review = await change_phone(owner, fake_sms)
    assert "新手机号码：13900139000" in review and "确认" in review
    assert [m["phone"] for m in fake_sms.messages] == [NEW_PHONE]
    assert "手机号码已改为139****9000" in await owner.send_text("确认")
    assert (await Account.get(username="zhang_san")).phone == NEW_PHONE


async def test_after_a_phone_change_a_new_wechat_user_gets_the_code_on_the_new_number(owner, residents, fake_sms):
    other = residents("o_trusted_before")
    account = await Account.get(username="zhang_san")
    await TrustedWeChatUser.create(account=account, openid=other.openid)
    await change_phone(owner, fake_sms)
    await owner.send_text("确认")
    fake_sms.messages.clear()
    assert "短信验证" in await login(other, PASSWORD)  # it proved only the old number
    assert [m["phone"] for m in fake_sms.messages] == [NEW_PHONE]


async def test_the_phone_change_asks_for_the_photo_until_it_comes(owner):
    await owner.send_text("换手机号")
    reply = await owner.send_text(NEW_PHONE)
    assert "身份证人像面照片" in reply
    assert (await Account.get(username="zhang_san")).phone == PHONE


async def test_the_current_number_is_not_a_new_one(owner):
    await owner.send_text("换手机号")
    await owner.send_image(IMAGE_MEDIA_ID)
    assert "这就是账号现在登记的手机号码" in await owner.send_text(PHONE)


async def test_a_refused_photo_ends_the_phone_change_with_the_acceptance_point(
    start_bot, tmp_path, fake_sms, fake_wechat, fake_realname
):
    settings = make_settings(
        tmp_path,
        **through_fakes(fake_sms, fake_wechat),
        realname={"provider": "http", "http": {"url": fake_realname.url}},
    )
    owner = Residents(await start_bot(settings), settings)("o_owner")
    await verified_account(owner.openid, ID, username="zhang_san")
    fake_realname.answer(verified=False, reason="人像与证件不符")
    await owner.send_text("换手机号")
    reply = await owner.send_image(IMAGE_MEDIA_ID)
    assert "人像与证件不符" in reply and "身份证原件" in reply and "受理点" in reply
    assert fake_realname.requests[0].json["id_number"] == ID
    assert not fake_sms.messages


async def test_a_stranger_is_told_to_log_in_or_what_to_bring_to_an_acceptance_point(residents):
    reply = await residents("o_stranger").send_text("换手机号")
    assert "「登录」" in reply and "「忘记密码」" in reply and "身份证原件" in reply and "受理点" in reply


async def test_an_unverified_account_is_sent_to_realname_first_and_comes_back(residents, fake_sms):
    resident = residents("o_unverified")
    await unverified(resident.openid)
    assert "「实名认证」" in await resident.send_text("换手机号")
    await resident.send_text("实名认证")
    await resident.send_text("张三")
    await resident.send_text(ID)
    reply = await resident.send_image(IMAGE_MEDIA_ID)
    assert "实名认证已通过" in reply and "身份证人像面照片" in reply


# -- 修改资料 -----------------------------------------------------------------------------------------


async def test_an_unverified_account_corrects_its_name_and_hukou_address(residents):
    resident = residents("o_typo")
    await unverified(resident.openid)
    assert "要改正哪一项" in await resident.send_text("修改资料")
    assert "正确的姓名" in await resident.send_text("两项都改")
    assert "正确的户籍地址" in await resident.send_text("张珊")
    review = await resident.send_text("湖南省长沙市岳麓区麓山路2号")
    assert "姓名：张珊" in review and "户籍地址：湖南省长沙市岳麓区麓山路2号" in review
    assert "已改正" in await resident.send_text("确认")
    account = await Account.get(username="zhang_san")
    assert (account.name, account.hukou_address) == ("张珊", "湖南省长沙市岳麓区麓山路2号")
    # The corrected name is the one real-name verification now checks against.
    await resident.send_text("实名认证")
    assert "身份证号码" in await resident.send_text("张珊")


async def test_changing_the_choice_at_the_review_drops_the_answer_it_no_longer_needs(residents):
    resident = residents("o_typo")
    await unverified(resident.openid)
    await resident.send_text("修改资料")
    await resident.send_text("两项都改")
    await resident.send_text("张珊")
    await resident.send_text("湖南省长沙市岳麓区麓山路2号")
    await resident.send_text("修改 1")
    review = await resident.send_text("姓名")
    assert "姓名：张珊" in review and "户籍地址" not in review
    await resident.send_text("确认")
    account = await Account.get(username="zhang_san")
    assert (account.name, account.hukou_address) == ("张珊", "湖南省长沙市岳麓区麓山路1号")


async def test_a_verified_account_cannot_change_its_name_in_the_chat(owner):
    reply = await owner.send_text("名字写错了")
    assert "已经完成实名认证" in reply and "受理点" in reply and "身份证原件" in reply
    assert (await Account.get(username="zhang_san")).name == "张三"


async def test_an_account_verified_before_the_review_is_confirmed_keeps_its_name(residents):
    resident = residents("o_typo")
    account = await unverified(resident.openid)
    await resident.send_text("修改资料")
    await resident.send_text("姓名")
    await resident.send_text("张珊")
    assert await Accounts(AccountsConfig()).record_realname(
        account.id, method="local", photo="t.jpg", now=datetime.now(UTC)
    )
    assert "已经完成实名认证" in await resident.send_text("确认")
    assert (await Account.get(id=account.id)).name == "张三"


async def test_a_recovery_left_idle_times_out(bot, owner, residents, fake_sms, settings):
    asker = residents("o_forgot")
    await asker.send_text("忘记密码")
    await asker.send_text(ID)
    later = datetime.now(UTC) + timedelta(minutes=settings.state.idle_timeout_minutes + 1)
    bot.app[DISPATCHER].clock = lambda: later
    assert (await asker.send_text(fake_sms.last_code(PHONE))).endswith("回复「忘记密码」重新开始。")
