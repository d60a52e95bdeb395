"""What a flow may need before it starts; each says what is missing and which keyword gets it."""

from __future__ import annotations

from conversations.flow import Context
from models import AccountKind

NOT_BOUND = "请先登录：回复「登录」绑定您的账号；还没有账号请回复「注册」。"
NOT_PERSONAL = "这项业务需要个人账号。您现在绑定的是单位账号，请回复「退出」后用个人账号「登录」。"
NOT_UNIT = "这项业务需要单位账号。单位账号由受理点开通，开通后回复「登录」选择「单位」绑定。"
NOT_REALNAME = "这项业务需要先完成实名认证：请回复「实名认证」。"


async def bound(ctx: Context) -> str | None:
    return None if await ctx.services.accounts.bound_account(ctx.openid) else NOT_BOUND


async def bound_personal(ctx: Context) -> str | None:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        return NOT_BOUND
    return None if account.kind is AccountKind.PERSONAL else NOT_PERSONAL


async def bound_unit(ctx: Context) -> str | None:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        return NOT_BOUND
    return None if account.kind is AccountKind.UNIT else NOT_UNIT


async def realname_verified(ctx: Context) -> str | None:
    missing = await bound_personal(ctx)
    if missing:
        return missing
    account = await ctx.services.accounts.bound_account(ctx.openid)
    return None if account and account.realname_verified else NOT_REALNAME
