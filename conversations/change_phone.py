"""换手机号 (CHANGE_PHONE): the phone number of a bound, real-name-verified personal account, changed
once the resident passed real-name verification again and the new number took a code.

Questions, in order:
  photo      "请拍摄身份证人像面照片发送给我"   checked at once with the account's name and ID number
  new_phone  "请输入新的手机号码"               a mainland mobile number, not the one on record
  sms_code   "验证码已发送到新的手机号码"        「重发」 sends a new one; a changed number, a new code
  review     确认 records the number
Then this WeChat user stays trusted, and the others that proved only the old number need a code
to the new one at their next 登录 (Accounts.change_phone).

Whoever cannot do it here is told what to bring to an acceptance point: a stranger (a changed
phone gets no first-login code, so a resident who lost both password and number cannot log in), a
unit, an account whose verification another account holds. An account not yet verified is sent
to 实名认证 first, and comes back here after it.
"""

from __future__ import annotations

from bot.text import mask_phone
from conversations.flow import Answers, Audience, Context, Ended, Filled, Finished, Flow, Missing, Step
from conversations.keys import MenuKey
from conversations.parsers import Invalid, cn_mobile
from conversations.realname import keep_photo, photo_step
from conversations.requirements import CLAIM_LOST
from conversations.verification import code_step
from models import Account, AccountKind

PURPOSE = "change_phone"
AT_A_POINT = "本人带身份证原件到受理点办理（回复「受理点」查询地址）。"
STRANGER = Missing(
    "换手机号要在绑定了账号的微信上办理：请先回复「登录」。\n"
    "密码忘了请回复「忘记密码」（验证码发到旧手机号）。旧手机号已经不用了、又登录不了，请" + AT_A_POINT
)
UNIT = Missing("单位账号换手机号，请经办人带身份证原件和单位营业执照到受理点办理（回复「受理点」查询地址）。")
NOT_VERIFIED = Missing(
    "换手机号要先核验是您本人：请回复「实名认证」，通过后接着换手机号；也可以" + AT_A_POINT,
    via=MenuKey.REALNAME,
)


async def _verified_personal(ctx: Context) -> Missing | None:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        return STRANGER
    if account.kind is AccountKind.UNIT:
        return UNIT
    if account.realname_verified:
        return None
    return CLAIM_LOST if await ctx.services.accounts.claim_lost(account) else NOT_VERIFIED


async def _account(ctx: Context) -> Account:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:  # unbound meanwhile (a login from another WeChat user)
        raise Ended(STRANGER.message)
    return account


async def _verify_photo(media_id: str, ctx: Context, answers: Answers) -> dict[str, str]:
    """The photo kept and checked at once, with the account's name and ID number: a code is sent
    to the new number only for the person the account was verified as."""
    photo = await keep_photo(media_id, ctx, answers)
    account = await _account(ctx)
    id_number = ctx.services.security.decrypt(account.id_number_enc or "")
    result = await ctx.services.realname.verify(account.name, id_number, photo["path"])
    if not result.verified:
        raise Ended(f"身份核验未通过：{result.reason}\n请回复「换手机号」重新办理，或" + AT_A_POINT)
    return photo


async def _new_number(phone: str, ctx: Context, answers: Answers) -> str:
    if phone == (await _account(ctx)).phone:
        raise Invalid("这就是账号现在登记的手机号码，请输入新的号码。")
    return phone


async def _change(ctx: Context, filled: Filled) -> Finished:
    account = await _account(ctx)
    phone = filled["change_phone.new_phone"]
    await ctx.services.accounts.change_phone(account.id, phone, openid=ctx.openid)
    return Finished(
        f"手机号码已改为{mask_phone(phone)}，以后的短信验证码都发到这个号码。",
        reference=f"新手机号码：{mask_phone(phone)}",
    )


FLOW = Flow(
    key=MenuKey.CHANGE_PHONE,
    title="换手机号",
    offered_to=frozenset({Audience.VERIFIED}),
    requires=(_verified_personal,),
    intro="换手机号要先用身份证照片核验是您本人，再给新号码发验证码。",
    steps=(
        photo_step("change_phone.photo", _verify_photo, label="身份核验", done="已通过"),
        Step(
            "change_phone.new_phone",
            "核验通过。请输入新的手机号码，我们会发送短信验证码：",
            "新手机号码",
            parse=cn_mobile,
            check=_new_number,
            sensitive=True,
        ),
        code_step(
            "change_phone.sms_code",
            "验证码已发送到新的手机号码，请输入6位验证码；没有收到请回复「重发」：",
            purpose=PURPOSE,
            restart=MenuKey.CHANGE_PHONE,
            phone=lambda filled: filled["change_phone.new_phone"],
            depends_on=("change_phone.new_phone",),
        ),
    ),
    submit=_change,
)
