"""忘记用户名 (FORGOT_USERNAME) and 忘记密码 (FORGOT_PASSWORD): a personal account recovered by the
ID number it was registered with and an SMS code to the account's phone.

Questions, in order:
  id_number  "请输入注册时填写的18位身份证号码"     checked (GB 11643); only its masked form is kept
  sms_code   "如果这个号码注册过账号，验证码已发送…"  「重发」 sends a new one
  password   "请设置新密码"                          忘记密码 only: 注册's rule, hashed with argon2
Then 忘记用户名 tells the username; 忘记密码 sets the password, ends any lockout, tells the username,
trusts this WeChat user (its code proved the phone: 登录 asks no second one), and tells the WeChat
user the account is bound to, if another, that its password was reset.

Nothing here tells whether an account has an ID number (docs/security.md):
- Every reply is the same, whoever holds the number: the code question comes either way and says
  "if"; with no account a code is kept all the same, which nothing typed matches
  (SmsCodes.send_for), so a wrong code, too many of them, an expired one, 「重发」 and the hourly
  limits (counted per ID number, not per phone) read alike. Only the holder of the phone gets
  further, and learns the username and may set the password of that one account.
- The phone number is not shown, not even its last digits: a tail shown for a number with an
  account and none (or a made-up one) for a number without would tell them apart, and the tail is
  part of the person's number, which a stranger who typed their ID number has no right to.
- A failed send is not told either (only a real phone can fail): 「重发」 tries again.
- What is left: the SMS provider's answer takes time only when there is a phone to send to, a
  fraction of a second within the seconds WeChat takes to deliver a reply.
Which account an ID number recovers: Accounts.recoverable. Unit accounts have no ID number: an
acceptance point resets them.
"""

from __future__ import annotations

from bot.services.security import hash_password
from bot.services.sms import SmsLimitReached
from bot.text import masked_id
from conversations.flow import Asked, Audience, Checked, Context, Filled, Finished, Flow, OnAsk, Step
from conversations.keys import MenuKey
from conversations.login import tell
from conversations.parsers import PASSWORD_RULE_WITH_ID, new_password, resident_id
from conversations.verification import code_step, ended_by
from models import Account

PURPOSE = "recover"
FACTS = "recover"
CODE_QUESTION = (
    "如果这个身份证号码注册过个人账号，验证码已发送到账号登记的手机（号码不显示），请输入6位验证码；"
    "没有收到请回复「重发」。\n手机号已经换了，请回复「换手机号」。"
)
RESET_ELSEWHERE = (
    "您的居住证助手账号密码刚刚用短信验证码重设了。如果不是您本人操作，请回复「忘记密码」重新设置，"
    "并带身份证原件到受理点处理。"
)
UNITS = "单位账号忘记了用户名或密码，请到开通账号的受理点办理。"


def _id_number(text: str, asked: Asked) -> str:
    return resident_id(text, today=asked.today)


async def _account_for(number: str, ctx: Context, filled: Filled) -> Checked:
    """The account the number recovers, if any, kept among the facts (never shown): the same
    answer and the same next question either way."""
    lookup = ctx.services.security.lookup_hash(number)
    account = await ctx.services.accounts.recoverable(lookup)
    facts = {"subject": f"id:{lookup}", "account": account.id if account else None}
    return Checked(masked_id(number), {FACTS: facts})


def _subject(filled: Filled) -> str:
    return str(filled.facts[FACTS]["subject"])


def _sender(key: MenuKey) -> OnAsk:
    async def send(ctx: Context, filled: Filled) -> None:
        account_id = filled.facts[FACTS]["account"]
        phone = (await ctx.services.accounts.account(account_id)).phone if account_id is not None else None
        try:
            await ctx.services.sms.send_for(_subject(filled), phone, PURPOSE, openid=ctx.openid, now=ctx.now)
        except SmsLimitReached as exc:  # the minute's budget for everyone keeps the form, as elsewhere
            raise ended_by(exc, key) from None

    return send


def _identified(key: MenuKey, name: str) -> tuple[Step, ...]:
    """The ID number, then the code to the phone of its account: the questions both flows begin with."""
    return (
        Step(
            f"{name}.id_number",
            "请输入注册账号时填写的18位身份证号码：",
            "身份证号码",
            parse_in=_id_number,
            check=_account_for,
        ),
        code_step(
            f"{name}.sms_code",
            CODE_QUESTION,
            purpose=PURPOSE,
            restart=key,
            phone=_subject,
            send=_sender(key),
            depends_on=(f"{name}.id_number",),
        ),
    )


async def _recovered(ctx: Context, filled: Filled) -> Account:
    return await ctx.services.accounts.account(filled.facts[FACTS]["account"])


async def _tell_username(ctx: Context, filled: Filled) -> Finished:
    account = await _recovered(ctx, filled)
    return Finished(f"您的用户名是：{account.username}\n回复「登录」登录；忘记了密码请回复「忘记密码」。")


async def _hash_new_password(password: str, ctx: Context, filled: Filled) -> str:
    account = await _recovered(ctx, filled)
    id_number = ctx.services.security.decrypt(account.id_number_enc) if account.id_number_enc else ""
    new_password(password, username=account.username, id_number=id_number)
    return await hash_password(password)


async def _reset(ctx: Context, filled: Filled) -> Finished:
    account = await _recovered(ctx, filled)
    password_hash = filled["forgot_password.password"]
    bound_to = await ctx.services.accounts.reset_password(account.id, password_hash, openid=ctx.openid)
    if bound_to is not None and bound_to != ctx.openid:
        await tell(ctx, bound_to, RESET_ELSEWHERE)
    return Finished(f"密码已重设，账号如被锁定也已解除。\n用户名：{account.username}\n请回复「登录」用新密码登录。")


USERNAME_FLOW = Flow(
    key=MenuKey.FORGOT_USERNAME,
    title="找回用户名",
    review=False,
    offered_to=frozenset({Audience.STRANGER}),
    intro=UNITS,
    steps=_identified(MenuKey.FORGOT_USERNAME, "forgot_username"),
    submit=_tell_username,
)

PASSWORD_FLOW = Flow(
    key=MenuKey.FORGOT_PASSWORD,
    title="重设密码",
    review=False,
    offered_to=frozenset({Audience.STRANGER}),
    intro=UNITS,
    steps=(
        *_identified(MenuKey.FORGOT_PASSWORD, "forgot_password"),
        Step(
            "forgot_password.password",
            f"请设置新密码（{PASSWORD_RULE_WITH_ID}）：",
            "新密码",
            parse=lambda text: text,
            check=_hash_new_password,
            show=lambda v: "已设置（不显示）",
        ),
    ),
    submit=_reset,
)
