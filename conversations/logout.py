"""退出 (ACCOUNT_LOGOUT): unbind this WeChat user from its account. No questions."""

from __future__ import annotations

from conversations.flow import Answers, Context, Finished, Flow
from conversations.keys import MenuKey
from conversations.requirements import bound


async def _unbind(ctx: Context, answers: Answers) -> Finished:
    account = await ctx.services.accounts.unbind(ctx.openid)
    name = account.username if account else ""
    return Finished(f"已退出登录，账号{name}与本微信已解除绑定。需要时回复「登录」重新绑定。")


FLOW = Flow(key=MenuKey.ACCOUNT_LOGOUT, title="退出登录", review=False, steps=(), requires=(bound,), submit=_unbind)
