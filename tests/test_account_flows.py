"""Accounts through the whole HTTP path, as chat scripts: 注册, 登录, 退出, 实名认证."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import redis

from bot.admin import unit_form
from bot.app import DISPATCHER
from bot.config import AccountsConfig
from bot.services.accounts import Accounts
from bot.services.security import FieldCipher, verify_password
from bot.services.units import Units
from models import Account, Binding
from tests.fake_wechat_api import IMAGE_MEDIA_ID
from tests.harness import FIELD_KEY, Residents, make_settings, through_fakes

ID = "440304199001011233"
PHONE = "13800138000"
PASSWORD = "mima2024ab"


@pytest.fixture(params=["memory", "redis"])
def settings(request, tmp_path, fake_sms, fake_wechat):
    sections = through_fakes(fake_sms, fake_wechat)
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(redis_url).flushdb()
        sections.update(redis={"url": redis_url})
    return make_settings(tmp_path, **sections)


async def register(resident, fake_sms, *, id_number=ID, phone=PHONE, username="zhang_san") -> str:
    """Answer every registration question correctly; returns the review."""
    assert "请输入您的姓名" in await resident.send_text("注册")
    assert "身份证号码" in await resident.send_text("张三")
    assert "户籍地址" in await resident.send_text(id_number)
    assert "手机号码" in await resident.send_text("湖南省长沙市岳麓区麓山路1号")
    assert "短信验证码" in await resident.send_text(phone)
    assert "用户名" in await resident.send_text(fake_sms.last_code(phone))
    assert "设置密码" in await resident.send_text(username)
    assert "同意" in await resident.send_text(PASSWORD)
    return await resident.send_text("同意")


# -- 注册 -----------------------------------------------------------------------------------------


async def test_registration_creates_a_bound_account_with_the_id_number_protected(resident, fake_sms):
    review = await register(resident, fake_sms)
    assert "2. 身份证号码：4403**********1233" in review and ID not in review
    assert "密码：已设置（不显示）" in review
    assert "注册成功" in await resident.send_text("确认")
    account = await Account.get(username="zhang_san")
    assert account.id_number_enc and ID not in account.id_number_enc
    assert FieldCipher(FIELD_KEY).decrypt(account.id_number_enc) == ID
    assert await verify_password(account.password_hash, PASSWORD)
    assert (await Binding.get(account=account)).openid == resident.openid


async def test_the_conversation_state_never_holds_the_id_number_or_password(bot, resident, fake_sms):
    await register(resident, fake_sms)
    state = await bot.app[DISPATCHER].store.load_state(resident.openid)
    assert ID not in str(state) and PASSWORD not in str(state)


async def test_an_id_number_with_an_account_is_refused_with_what_to_do(residents, fake_sms):
    first = residents("o_first")
    await register(first, fake_sms)
    await first.send_text("确认")
    # Only a verified account holds its ID number; the refusal comes at 确认, after the SMS code.
    for answer in ("实名认证", "张三", ID):
        await first.send_text(answer)
    assert "实名认证已通过" in await first.send_image(IMAGE_MEDIA_ID)
    second = residents("o_second")
    await register(second, fake_sms, phone="13900139000", username="li_si")
    reply = await second.send_text("确认")
    assert "已经注册过账号" in reply and "「登录」" in reply and "受理点" in reply


@pytest.mark.parametrize(
    ("answers", "bad", "expected"),
    [
        ([], "张", "姓名"),
        (["张三"], "440304199001011234", "校验位"),
        (["张三", ID, "长沙市"], "1380013800", "11位"),
    ],
)
async def test_a_wrong_answer_gets_the_reason_and_the_question_again(resident, answers, bad, expected):
    question = await resident.send_text("注册")
    for answer in answers:
        question = await resident.send_text(answer)
    reply = await resident.send_text(bad)
    assert expected in reply
    assert reply.endswith(question.split("\n\n")[-1])


async def test_a_wrong_sms_code_says_how_many_tries_remain(resident, fake_sms):
    await resident.send_text("注册")
    for answer in ("张三", ID, "长沙市", PHONE):
        await resident.send_text(answer)
    wrong = "000000" if fake_sms.last_code(PHONE) != "000000" else "111111"
    reply = await resident.send_text(wrong)
    assert "还可以再试4次" in reply and "短信验证码" in reply


async def test_resend_sends_a_new_code(resident, fake_sms):
    await resident.send_text("注册")
    for answer in ("张三", ID, "长沙市", PHONE):
        await resident.send_text(answer)
    assert "已重新发送" in await resident.send_text("重发")
    assert len([m for m in fake_sms.messages if m["phone"] == PHONE]) == 2
    assert "用户名" in await resident.send_text(fake_sms.last_code(PHONE))


async def test_the_hourly_sms_limit_is_told_to_the_resident(start_bot, tmp_path, fake_sms, fake_wechat):
    settings = make_settings(
        tmp_path, sms={"provider": "http", "http": {"url": fake_sms.url}, "max_per_phone_per_hour": 2}
    )
    resident = Residents(await start_bot(settings), settings)("o_limit")
    await resident.send_text("注册")
    for answer in ("张三", ID, "长沙市", PHONE):
        await resident.send_text(answer)
    await resident.send_text("重发")
    reply = await resident.send_text("重发")
    assert "次数太多" in reply and "分钟后再试" in reply and "到时回复「注册」重新开始" in reply
    assert len(fake_sms.messages) == 2
    assert "没有正在办理" in await resident.send_text("取消")  # the form ended: no code question left open


async def test_an_sms_gateway_failure_is_told_and_nothing_is_created(resident, fake_sms):
    await resident.send_text("注册")
    for answer in ("张三", ID, "长沙市"):
        await resident.send_text(answer)
    fake_sms.fail_next(500)
    reply = await resident.send_text(PHONE)
    assert "短信发送失败" in reply and "手机号码" in reply
    assert await Account.all().count() == 0


async def test_a_taken_username_is_refused(residents, fake_sms):
    first = residents("o_u1")
    await register(first, fake_sms)
    await first.send_text("确认")
    second = residents("o_u2")
    await second.send_text("注册")
    for answer in ("李四", "11010519491231002X", "北京市", "13900139000"):
        await second.send_text(answer)
    await second.send_text(fake_sms.last_code("13900139000"))
    assert "已被使用" in await second.send_text("ZHANG_SAN")


@pytest.mark.parametrize(
    ("password", "reason"),
    [("abc123", "至少8位"), ("abcdefgh", "字母和数字"), ("zhang_san99", "用户名"), ("ab19900101", "身份证")],
)
async def test_weak_passwords_are_refused_with_the_rule(resident, fake_sms, password, reason):
    await resident.send_text("注册")
    for answer in ("张三", ID, "长沙市", PHONE):
        await resident.send_text(answer)
    await resident.send_text(fake_sms.last_code(PHONE))
    await resident.send_text("zhang_san")
    reply = await resident.send_text(password)
    assert reason in reply and "设置密码" in reply


async def test_changing_the_phone_from_the_review_asks_for_a_new_code(resident, fake_sms):
    await register(resident, fake_sms)
    await resident.send_text("修改 4")
    assert "短信验证码" in await resident.send_text("13900139000")
    review = await resident.send_text(fake_sms.last_code("13900139000"))
    assert "4. 手机号码：13900139000" in review


async def test_cancel_creates_nothing(resident, fake_sms):
    await register(resident, fake_sms)
    assert "已取消" in await resident.send_text("取消")
    assert await Account.all().count() == 0


async def test_a_registration_left_idle_times_out(bot, resident, fake_sms, settings):
    await register(resident, fake_sms)
    later = datetime.now(UTC) + timedelta(minutes=settings.state.idle_timeout_minutes + 1)
    bot.app[DISPATCHER].clock = lambda: later
    assert (await resident.send_text("确认")).endswith("回复「注册」重新开始。")
    assert await Account.all().count() == 0


# -- 登录 and 退出 -----------------------------------------------------------------------------------


async def registered(residents, fake_sms, openid="o_owner"):
    owner = residents(openid)
    await register(owner, fake_sms)
    await owner.send_text("确认")
    return owner


async def login(resident, password=PASSWORD, kind="个人", username="zhang_san") -> str:
    await resident.send_text("登录")
    await resident.send_text(kind)
    await resident.send_text(username)
    return await resident.send_text(password)


async def logout(resident) -> str:
    await resident.send_text("退出")
    return await resident.send_text("确认")


async def test_login_from_a_new_wechat_user_needs_the_sms_code(residents, fake_sms):
    await registered(residents, fake_sms)
    newcomer = residents("o_new_phone")
    reply = await login(newcomer)
    assert "短信验证" in reply
    assert "登录成功" in await newcomer.send_text(fake_sms.last_code(PHONE))


async def test_login_again_from_a_trusted_wechat_user_needs_no_code(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    await logout(owner)
    assert "登录成功" in await login(owner)


async def test_rebinding_ends_the_old_binding_and_tells_the_old_user(residents, fake_sms, fake_wechat):
    owner = await registered(residents, fake_sms)
    newcomer = residents("o_new_phone")
    await login(newcomer)
    await newcomer.send_text(fake_sms.last_code(PHONE))
    binding = await Binding.get(account__username="zhang_san")
    assert binding.openid == "o_new_phone"
    assert [openid for openid, _ in fake_wechat.sent_texts] == [owner.openid]
    assert "已在另一个微信上登录" in fake_wechat.sent_texts[0][1]
    assert "请先登录" in await owner.send_text("实名认证")


async def test_rebinding_still_happens_when_the_old_user_cannot_be_told(residents, fake_sms, fake_wechat):
    await registered(residents, fake_sms)
    fake_wechat.fail_next("/cgi-bin/message/custom/send", 45047)
    newcomer = residents("o_new_phone")
    await login(newcomer)
    assert "登录成功" in await newcomer.send_text(fake_sms.last_code(PHONE))


async def test_five_wrong_passwords_lock_the_account_until_a_time_then_it_opens(bot, residents, fake_sms):
    owner = await registered(residents, fake_sms)
    await logout(owner)
    reply = await login(owner, password="wrong0000x")
    assert "还可以再试4次" in reply
    for _ in range(3):
        reply = await owner.send_text("wrong0000x")
    reply = await owner.send_text("wrong0000x")
    assert "账号已锁定" in reply and "以后再试" in reply
    # The form ends there, saying what to do, rather than asking for the password again.
    assert "到时回复「登录」重新登录" in reply and "「忘记密码」" in reply
    assert "没有理解" in await owner.send_text(PASSWORD)  # no password question is open any more
    assert "账号已锁定" in await login(owner)  # even the right one, while locked
    later = datetime.now(UTC) + timedelta(minutes=16)
    bot.app[DISPATCHER].clock = lambda: later
    assert "登录成功" in await login(owner)


async def test_a_personal_account_chosen_as_unit_is_pointed_to_the_right_kind(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    await logout(owner)
    assert "这是个人账号" in await login(owner, kind="单位")


async def test_logout_unbinds(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    assert "确定要解除本微信与账号的绑定吗" in await owner.send_text("退出")
    assert "已退出登录" in await owner.send_text("确认")
    assert await Binding.all().count() == 0
    assert "请先登录" in await owner.send_text("退出")


async def test_a_unit_binds_with_an_sms_code_and_a_new_password_on_first_login(residents, fake_sms):
    account, initial = await Units(Accounts(AccountsConfig())).open_account(
        unit_form(name="深圳示例科技有限公司", uscc="91350100M000100Y43", username="unit_admin", phone="13700137000")
    )
    staff = residents("o_unit_staff")
    assert "短信验证" in await login(staff, password=initial, kind="单位", username="unit_admin")
    assert "设置新密码" in await staff.send_text(fake_sms.last_code("13700137000"))
    assert "已绑定单位账号" in await staff.send_text("Xinmima2024")
    account = await Account.get(id=account.id)
    assert not account.must_change_password and await verify_password(account.password_hash, "Xinmima2024")


# -- 实名认证 ----------------------------------------------------------------------------------------


async def test_realname_with_matching_details_and_a_photo_is_verified(residents, fake_sms, settings):
    owner = await registered(residents, fake_sms)
    assert "请输入您的姓名" in await owner.send_text("实名认证")
    await owner.send_text("张三")
    assert "身份证人像面照片" in await owner.send_text(ID)
    assert "实名认证已通过" in await owner.send_image(IMAGE_MEDIA_ID)
    account = await Account.get(username="zhang_san")
    assert account.realname_verified_at is not None and account.realname_method == "local"
    assert (settings.realname.photo_dir / account.realname_photo).read_bytes().startswith(b"\xff\xd8")
    assert "已经完成实名认证" in await owner.send_text("实名认证")


async def test_realname_refuses_details_that_do_not_match_the_account(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    await owner.send_text("实名认证")
    assert "不一致" in await owner.send_text("李四")
    await owner.send_text("张三")
    assert "不一致" in await owner.send_text("11010519491231002X")


async def test_an_expired_photo_is_asked_for_again(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    await owner.send_text("实名认证")
    await owner.send_text("张三")
    await owner.send_text(ID)
    reply = await owner.send_image("NO_SUCH_MEDIA")
    assert "照片已过期" in reply and "身份证人像面照片" in reply
    assert "实名认证已通过" in await owner.send_image(IMAGE_MEDIA_ID)


async def test_a_photo_fetch_survives_an_expired_access_token(residents, fake_sms, fake_wechat):
    owner = await registered(residents, fake_sms)
    await owner.send_text("实名认证")
    await owner.send_text("张三")
    await owner.send_text(ID)
    fake_wechat.expire_tokens()
    assert "实名认证已通过" in await owner.send_image(IMAGE_MEDIA_ID)


async def test_the_daily_quota_error_is_told_not_retried(residents, fake_sms, fake_wechat):
    owner = await registered(residents, fake_sms)
    await owner.send_text("实名认证")
    await owner.send_text("张三")
    await owner.send_text(ID)
    fake_wechat.fail_next("/cgi-bin/media/get", 45009)
    assert "暂时不可用" in await owner.send_image(IMAGE_MEDIA_ID)
    assert len(fake_wechat.calls_to("/cgi-bin/media/get")) == 1


async def test_realname_needs_a_bound_personal_account(resident):
    assert "请先登录" in await resident.send_text("实名认证")


async def test_realname_through_the_http_provider_can_be_refused(
    start_bot, tmp_path, fake_sms, fake_wechat, fake_realname
):
    settings = make_settings(
        tmp_path,
        **through_fakes(fake_sms, fake_wechat),
        realname={"provider": "http", "http": {"url": fake_realname.url}},
    )
    residents = Residents(await start_bot(settings), settings)
    owner = await registered(residents, fake_sms)
    fake_realname.answer(verified=False, reason="人像与证件不符")
    await owner.send_text("实名认证")
    await owner.send_text("张三")
    await owner.send_text(ID)
    assert "人像与证件不符" in await owner.send_image(IMAGE_MEDIA_ID)
    assert fake_realname.requests[0].json["id_number"] == ID
    assert (await Account.get(username="zhang_san")).realname_verified_at is None


# -- personal data never reaches the log -------------------------------------------------------------


async def test_no_id_number_password_code_or_token_is_ever_logged(residents, fake_sms, fake_wechat, caplog):
    caplog.set_level(logging.DEBUG)
    owner = await registered(residents, fake_sms)
    newcomer = residents("o_new_phone")
    await login(newcomer)
    await newcomer.send_text("000000")
    await newcomer.send_text(fake_sms.last_code(PHONE))
    await newcomer.send_text("实名认证")
    await newcomer.send_text("张三")
    await newcomer.send_text(ID)
    await newcomer.send_image(IMAGE_MEDIA_ID)
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert caplog.records  # the flows did log something
    secrets = [ID, PASSWORD, *fake_wechat.issued_tokens, *(m["params"]["code"] for m in fake_sms.messages)]
    for secret in secrets:
        assert secret not in logged
    assert owner.openid


async def test_a_flow_that_sent_the_resident_to_realname_first_carries_on_after_it(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    assert "需要先完成实名认证" in await owner.send_text("办证资格")
    await owner.send_text("实名认证")
    await owner.send_text("张三")
    await owner.send_text(ID)
    reply = await owner.send_image(IMAGE_MEDIA_ID)
    assert "实名认证已通过" in reply and "办证资格" in reply and "✗" in reply


# -- the menu fits who is asking ---------------------------------------------------------------
async def test_a_strangers_menu_offers_registration_login_and_acceptance_points(resident):
    menu = await resident.send_text("菜单")
    assert "注册" in menu and "登录" in menu and "受理点" in menu
    assert "退出" not in menu and "居住登记" not in menu


async def test_a_bound_residents_menu_has_unbinding_and_no_registration(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    menu = await owner.send_text("菜单")
    assert "解除绑定" in menu and "居住登记" in menu
    assert "注册" not in menu and "登录" not in menu


async def test_a_units_menu_offers_no_personal_services(residents, fake_sms):
    await Units(Accounts(AccountsConfig())).open_account(
        unit_form(name="深圳示例科技有限公司", uscc="91350100M000100Y43", username="unit_admin", phone="13700137000")
    )
    unit = residents("o_unit_menu")
    account = await Account.get(username="unit_admin")
    await Binding.create(account=account, openid=unit.openid)
    menu = await unit.send_text("菜单")
    assert "解除绑定" in menu and "受理点" in menu and "代办" in menu and "单位签注" in menu
    assert "居住登记" not in menu and "实名认证" not in menu and "注册" not in menu


async def test_the_greeting_offers_a_stranger_registration(resident):
    assert "注册" in await resident.subscribe()


async def test_registering_again_while_bound_says_so(residents, fake_sms):
    owner = await registered(residents, fake_sms)
    assert "无需再注册" in await owner.send_text("注册")


async def test_a_wrong_answer_to_the_agreement_gets_the_short_question_not_the_agreement_again(resident, fake_sms):
    await register(resident, fake_sms)
    await resident.send_text("修改 8")
    reply = await resident.send_text("看看")
    assert reply.endswith("请回复「同意」继续，回复「取消」放弃注册。") and "用户协议（摘要）" not in reply


async def test_a_flow_that_sent_a_stranger_to_login_first_carries_on_after_it(residents, fake_sms):
    await registered(residents, fake_sms)
    newcomer = residents("o_chain")
    assert "请先登录" in await newcomer.send_text("居住登记")
    await login(newcomer)
    reply = await newcomer.send_text(fake_sms.last_code(PHONE))
    assert "登录成功" in reply and "需要先完成实名认证" in reply


async def test_the_conversation_state_keeps_the_phone_and_hukou_address_encrypted(bot, resident, fake_sms):
    await register(resident, fake_sms)
    state = await bot.app[DISPATCHER].store.load_state(resident.openid)
    assert PHONE not in str(state) and "长沙市" not in str(state)
    assert "2. 身份证号码：4403**********1233" in await resident.send_text("查看")
    assert f"4. 手机号码：{PHONE}" in await resident.send_text("查看")


async def test_the_login_facts_are_kept_encrypted_in_the_conversation(residents, fake_sms, bot):
    await registered(residents, fake_sms)
    newcomer = residents("o_sealed")
    await login(newcomer)
    state = await bot.app[DISPATCHER].store.load_state(newcomer.openid)
    assert PHONE not in str(state) and "account_id" not in str(state)


async def test_changing_the_sms_item_at_the_review_sends_a_new_code_and_takes_it(resident, fake_sms):
    review = await register(resident, fake_sms)
    [line] = [line for line in review.splitlines() if "短信验证" in line]
    first = fake_sms.last_code(PHONE)
    sent_before = len(fake_sms.messages)
    asked = await resident.send_text(f"修改 {line.split('.')[0]}")
    assert "短信验证码" in asked and len(fake_sms.messages) == sent_before + 1
    second = fake_sms.last_code(PHONE)
    if second != first:  # the first was used up when it was taken
        assert "验证码不正确" in await resident.send_text(first)
    assert "请核对" in await resident.send_text(second)
