"""回执 (RECEIPTS): this account's acceptance receipts, newest first, each with its link. No questions.

One receipt comes as a news card (WeChat answers a message with one article at most); several as
a list of the newest SHOWN, each linked, and a line on the rest.
"""

from __future__ import annotations

from bot.wechat.reply import Article, NewsReply
from conversations.flow import Answers, Audience, Context, Finished, Flow
from conversations.keys import MenuKey
from conversations.requirements import NOT_BOUND, bound
from models import AccountKind, Receipt
from models.rules import SHENZHEN

# Listed in one reply: two phone lines each, so that the list fits one screen (and well inside
# WeChat's 2048 bytes for a text).
SHOWN = 6
NONE_YET = "您还没有受理回执。申领居住证（回复「申领」）受理后，回执会列在这里。"
UNIT_NONE_YET = "本单位账号还没有受理回执。回复「代办」为本单位人员申领居住证。"


def _accepted_on(receipt: Receipt) -> str:
    return receipt.created_at.astimezone(SHENZHEN).date().isoformat()


async def _list(ctx: Context, answers: Answers) -> Finished:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:  # the requirement said so; unbound in between
        return Finished(NOT_BOUND.message)
    receipts = await ctx.services.receipts.of_account(account.id)
    if not receipts:
        return Finished(UNIT_NONE_YET if account.kind is AccountKind.UNIT else NONE_YET)
    if len(receipts) == 1:
        [receipt] = receipts
        return Finished(
            NewsReply(
                Article(
                    title=f"受理回执：{receipt.number}",
                    description=f"{receipt.business}，{_accepted_on(receipt)}受理，{receipt.facts['name']}。"
                    "点开查看回执和办理状态，可下载PDF。",
                    url=ctx.services.receipts.url(receipt.id, ctx.now),
                )
            )
        )
    return Finished(_listed(receipts, ctx))


def _listed(receipts: list[Receipt], ctx: Context) -> str:
    lines = [f"您的受理回执共{len(receipts)}份，最近的在前（点「查看」打开，可下载PDF）："]
    for i, r in enumerate(receipts[:SHOWN], 1):
        link = f'<a href="{ctx.services.receipts.url(r.id, ctx.now)}">查看</a>'
        lines.append(f"{i}. {r.number} {link}\n{r.facts['name']}，{r.business}，{_accepted_on(r)}")
    if len(receipts) > SHOWN:
        lines.append(f"另有{len(receipts) - SHOWN}份较早的回执没有列出，可凭受理编号到受理点查询。")
    return "\n".join(lines)


FLOW = Flow(
    key=MenuKey.RECEIPTS,
    title="受理回执",
    review=False,
    steps=(),
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED, Audience.UNIT}),
    requires=(bound,),
    submit=_list,
)
