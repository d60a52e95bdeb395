"""The SMS-code question, one for every flow that asks for one (注册, 登录, 忘记密码, 换手机号).

The code is sent when the question is asked (and again on 「重发」), never from inside another
question's check; a changed phone number voids the answer, so the question is asked, and a new
code sent, again.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.services.sms import SmsLimitReached
from conversations.flow import Again, Context, Ended, Filled, OnAsk, Step
from conversations.keys import MenuKey
from conversations.parsers import sms_code

RESEND = "重发"


def ended_by(limit: SmsLimitReached, restart: MenuKey) -> Ended:
    """An hourly limit reached: no code for an hour or so, so asking for one meanwhile would be a dead
    end; the form ends saying when, and which keyword starts it again."""
    return Ended(f"{limit.message}这次办理先结束，到时回复「{restart.keyword}」重新开始。")


def code_step(
    name: str,
    question: str,
    *,
    purpose: str,
    phone: Callable[[Filled], str],
    when: Callable[[Filled], bool] | None = None,
    depends_on: tuple[str, ...] = (),
    send: OnAsk | None = None,
    restart: MenuKey,
) -> Step:
    """`phone`: what the code is kept and checked under, the number it is sent to; or, with `send`
    doing the sending, what stands for it (a recovery code's ID number, SmsCodes.send_for).
    `restart`: the flow to start again once an hourly limit that ended this one has passed."""

    async def send_to_phone(ctx: Context, filled: Filled) -> None:
        # The WeChat user asking is counted too: one user cannot have codes sent to number after number.
        try:
            await ctx.services.sms.send(phone(filled), purpose, openid=ctx.openid, now=ctx.now)
        except SmsLimitReached as exc:
            raise ended_by(exc, restart) from None

    def parse(text: str) -> str:
        if text.strip() == RESEND:
            raise Again("已重新发送验证码，请查看短信。")
        return sms_code(text)

    async def verify(code: str, ctx: Context, filled: Filled) -> bool:
        await ctx.services.sms.verify(phone(filled), purpose, code)
        return True

    return Step(
        name,
        question,
        "短信验证",
        parse=parse,
        check=verify,
        on_ask=send or send_to_phone,
        when=when,
        depends_on=depends_on,
        show=lambda v: "已验证",
        short="请输入短信验证码（6位数字）；没有收到请回复「重发」：",
    )
