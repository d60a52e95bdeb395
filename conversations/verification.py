"""SMS-code questions, shared by the flows that ask for one (注册, 登录)."""

from __future__ import annotations

from conversations.flow import Context
from conversations.parsers import Invalid, sms_code

RESEND = "重发"


def code_or_resend(text: str) -> str:
    return RESEND if text.strip() == RESEND else sms_code(text)


async def send_code(ctx: Context, phone: str, purpose: str) -> None:
    await ctx.services.sms.send(phone, purpose)


async def check_code(ctx: Context, phone: str, purpose: str, code: str) -> bool:
    """True for the right code; 「重发」 sends a new one and asks again."""
    if code == RESEND:
        await send_code(ctx, phone, purpose)
        raise Invalid("已重新发送验证码，请查看短信。")
    await ctx.services.sms.verify(phone, purpose, code)
    return True
