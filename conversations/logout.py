"""退出 (ACCOUNT_LOGOUT, the menu's 「解除绑定」): unbind this WeChat user from its account.

Questions, in order:
  confirm   "确定要解除绑定吗？"   1 确认解除 / 2 不解除
Then the binding ends (or stays, and the resident is told so).
"""

from __future__ import annotations

from conversations.flow import Answers, Audience, Choice, Context, Finished, Flow, Step
from conversations.keys import CONFIRM_WORDS, MenuKey
from conversations.requirements import bound

UNBIND = "确认解除"
KEEP = "不解除"


async def _unbind(ctx: Context, answers: Answers) -> Finished:
    if answers["logout.confirm"] == KEEP:
        return Finished("好的，账号仍与本微信绑定。回复「菜单」查看可办理的业务。")
    account = await ctx.services.accounts.unbind(ctx.openid)
    name = account.username if account else ""
    return Finished(f"已退出登录，账号{name}与本微信已解除绑定。需要时回复「登录」重新绑定。")


FLOW = Flow(
    key=MenuKey.ACCOUNT_LOGOUT,
    title="解除绑定",
    review=False,
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED, Audience.UNIT}),
    steps=(
        Step(
            "logout.confirm",
            "确定要解除本微信与账号的绑定吗？解除后，办理业务需要重新「登录」。",
            "解除绑定",
            choices=(
                Choice(UNBIND, tuple(sorted(CONFIRM_WORDS | {"解除"}))),
                Choice(KEEP, ("不", "否", "不用", "不用了", "不要", "保留")),
            ),
        ),
    ),
    requires=(bound,),
    submit=_unbind,
)
