"""提醒 (REMINDERS): endorsement reminders off when they are on, on when off; the reply says which
they are now, and what that means. No questions."""

from __future__ import annotations

from conversations.flow import Answers, Audience, Context, Finished, Flow
from conversations.keys import MenuKey
from conversations.requirements import NOT_BOUND, bound_personal

TURNED_OFF = (
    "已关闭签注提醒：签注期开始、截止前和居住证暂停使用时，本公众号不再提醒您。"
    "签注期可随时回复「签注」查看。再次回复「提醒」即可重新开启。"
)


def turned_on(days_before: list[int]) -> str:
    before = "、".join(f"{days}天" for days in days_before)
    when = f"签注期开始时、截止前{before}，" if before else "签注期开始时、"
    return f"已开启签注提醒：{when}以及居住证暂停使用和注销前，本公众号会提醒您。再次回复「提醒」可关闭。"


async def _toggle(ctx: Context, answers: Answers) -> Finished:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:  # the requirement said so; unbound in between
        return Finished(NOT_BOUND.message)
    on = await ctx.services.reminders.toggle(account)
    return Finished(turned_on(ctx.services.reminders.days_before_deadline) if on else TURNED_OFF)


FLOW = Flow(
    key=MenuKey.REMINDERS,
    title="签注提醒",
    review=False,
    steps=(),
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED}),
    requires=(bound_personal,),
    submit=_toggle,
)
