"""What a flow may need before it starts (and again at 确认); each says what is missing and which
flow gets it, so that the engine can carry on with the asked-for flow once that one is done."""

from __future__ import annotations

from conversations.flow import Audience, Context, Missing
from conversations.keys import MenuKey
from models import Account, AccountKind

NOT_BOUND = Missing("请先登录：回复「登录」绑定您的账号；还没有账号请回复「注册」。", via=MenuKey.ACCOUNT_LOGIN)
NOT_PERSONAL = Missing("这项业务需要个人账号。您现在绑定的是单位账号，请回复「退出」后用个人账号「登录」。")
NOT_UNIT = Missing("这项业务需要单位账号。单位账号由受理点开通，开通后回复「登录」选择「单位」绑定。")
NOT_REALNAME = Missing(
    "这项业务会用到您在各部门的登记记录，需要先完成实名认证：请回复「实名认证」。", via=MenuKey.REALNAME
)
# An unverified account whose ID number another account was verified with (models/account.py).
CLAIM_LOST = Missing(
    "本账号登记的身份证号码已由另一个账号完成实名认证，本账号不能再用这个号码认证或办理业务。"
    "如果这是您本人的身份证，请带身份证到受理点办理（回复「受理点」查询地址）；"
    "号码填错了，请回复「退出」后用本人的身份证号码重新「注册」。"
)
ALREADY_BOUND = Missing("本微信已经绑定了账号{username}，无需再注册。要用另一个账号，请先回复「退出」解除绑定。")


async def _account(ctx: Context) -> Account | None:
    return await ctx.services.accounts.bound_account(ctx.openid)


async def audience(ctx: Context) -> Audience:
    """Who is asking, for the menu."""
    account = await _account(ctx)
    if account is None:
        return Audience.STRANGER
    if account.kind is AccountKind.UNIT:
        return Audience.UNIT
    return Audience.VERIFIED if account.realname_verified else Audience.PERSONAL


async def not_bound(ctx: Context) -> Missing | None:
    account = await _account(ctx)
    if account is None:
        return None
    return Missing(ALREADY_BOUND.message.format(username=account.username))


async def bound(ctx: Context) -> Missing | None:
    return None if await _account(ctx) else NOT_BOUND


async def bound_personal(ctx: Context) -> Missing | None:
    account = await _account(ctx)
    if account is None:
        return NOT_BOUND
    return None if account.kind is AccountKind.PERSONAL else NOT_PERSONAL


async def bound_unit(ctx: Context) -> Missing | None:
    account = await _account(ctx)
    if account is None:
        return NOT_BOUND
    return None if account.kind is AccountKind.UNIT else NOT_UNIT


async def realname_verified(ctx: Context) -> Missing | None:
    """For every flow that shows or acts on a person's records: they are a person's, not an
    account's, so only an account verified as that person reaches them."""
    account = await _account(ctx)
    if account is None:
        return NOT_BOUND
    if account.kind is not AccountKind.PERSONAL:
        return NOT_PERSONAL
    if account.realname_verified:
        return None
    return CLAIM_LOST if await ctx.services.accounts.claim_lost(account) else NOT_REALNAME
