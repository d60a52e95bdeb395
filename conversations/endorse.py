"""签注 (ENDORSE): a resident endorses their residence permit, or makes a late endorsement (补办签注)
while its use is suspended.

Needs: bound, real-name verified, a permit on record for the person the account was verified as;
one of them in its window or suspended (else each permit's state: when its window opens and
closes, or that it was cancelled and 申领 makes a new one); and the Art. 24 conditions met on the
records (else each condition's numbers and what is missing). All checked again at 确认.

Questions, in order:
  permit   "请选择办理签注的居住证"        those that can be endorsed today, each with its state;
                                            then the conditions' numbers are shown
  moved    "居住地址有变化吗？"             1 没有变化 / 2 有变化; a change ends the form and points to 居住登记
  review   确认 endorses at once (Art. 25): the new validity (next window and deadline) and the receipt link
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.services.errors import Told
from bot.wechat.reply import Article, NewsReply
from conversations.flow import (
    Again,
    Answers,
    Audience,
    Choice,
    Context,
    Ended,
    Filled,
    Finished,
    Flow,
    Missing,
    Noted,
    Step,
)
from conversations.keys import MenuKey
from conversations.requirements import NOT_BOUND, NOT_REALNAME, realname_verified
from models import Account, EndorsementKind, Permit
from models.endorsement_conditions import EndorsementCheck
from models.permit_cycle import PermitStatus

NO_PERMIT = Missing("您名下没有居住证记录，无需签注。还没有居住证的，请回复「办证资格」查询能否申领。")
UNCHANGED, CHANGED = "没有变化", "有变化"
MOVED = "居住地址有变化的，要先办理居住登记：请回复「居住登记」申报现在的住址，登记后再回复「签注」。本次签注没有提交。"


async def _verified(ctx: Context) -> tuple[Account, str]:
    """The account and the person it was verified as: permits are reached only through that person."""
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        raise Told(NOT_BOUND.message)
    if account.person is None:
        raise Told(NOT_REALNAME.message)
    return account, account.person


async def _permits(ctx: Context) -> list[tuple[Permit, PermitStatus]]:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None or account.person is None:
        return []
    endorsements = ctx.services.endorsements
    return await endorsements.standing(await endorsements.permits_of(account.person), ctx.today)


def _endorsable(status: PermitStatus) -> bool:
    return status.state in ("window", "suspended")


def describe(permit: Permit, status: PermitStatus) -> str:
    """The permit and its state, in plain words."""
    head = f"居住证{permit.permit_no}"
    opens, closes = status.window_opens.isoformat(), status.window_closes.isoformat()
    if status.state == "active":
        return f"{head}：有效。本期签注期为{opens}至{closes}，还没到签注期，请到时再回复「签注」。"
    if status.state == "window":
        return f"{head}：正在签注期内（{opens}至{closes}），请在{closes}前（含当天）签注。"
    if status.state == "suspended":
        last_day = (status.cancelled_from - timedelta(days=1)).isoformat()
        return (
            f"{head}：未按期签注，已于{status.suspended_from.isoformat()}暂停使用。"
            f"{last_day}前（含当天）可以补办签注，补办后签注周期从补办当天重新计算。"
        )
    return (
        f"{head}：已于{status.cancelled_from.isoformat()}注销（暂停使用满两年），不能签注。"
        "请回复「申领」重新申领居住证。"
    )


def _conditions(check: EndorsementCheck) -> str:
    first, last = check.year
    lines = [f"签注条件（{first.isoformat()}至{last.isoformat()}）："]
    for m in check.measures:
        missing = f"，{m.missing}" if m.missing else ""
        lines.append(f"{'✓' if m.met else '✗'} {m.name}：{m.measured}（需{m.needed}）{missing}")
    return "\n".join(lines)


async def holds_permit(ctx: Context) -> Missing | None:
    return None if await _permits(ctx) else NO_PERMIT


async def endorsable_today(ctx: Context) -> Missing | None:
    permits = await _permits(ctx)
    if any(_endorsable(status) for _, status in permits):
        return None
    return Missing("\n".join(describe(p, s) for p, s in permits))


async def conditions_met(ctx: Context) -> Missing | None:
    """Art. 24 on the person's records: refused at once with the reason (Art. 25)."""
    _, person = await _verified(ctx)
    check = await ctx.services.endorsements.check(person, ctx.today)
    if check.met:
        return None
    permits = "\n".join(describe(p, s) for p, s in await _permits(ctx) if _endorsable(s))
    return Missing(
        f"{permits}\n\n{_conditions(check)}\n\n暂不符合签注条件。缴费或登记记录补齐后再回复「签注」；"
        "记录有误请到受理点核对（回复「受理点」查询地址）。"
    )


async def _permit_choices(ctx: Context, filled: Filled) -> list[Choice]:
    return [
        Choice(
            f"{p.permit_no}（{'签注期内' if s.state == 'window' else '已暂停使用，可补办签注'}）",
            value={"id": p.id, "no": p.permit_no},
        )
        for p, s in await _permits(ctx)
        if _endorsable(s)
    ]


async def _chosen(value: dict[str, Any], ctx: Context, filled: Filled) -> Noted:
    """The permit again, as the person's and endorsable now; then what the records show."""
    _, person = await _verified(ctx)
    permit = await ctx.services.endorsements.permit_of(person, value["id"])
    if permit is None:
        raise Again("没有找到这张居住证，请重新选择。")
    status = await ctx.services.endorsements.status(permit, ctx.today)
    if not _endorsable(status):
        raise Ended(describe(permit, status))
    check = await ctx.services.endorsements.check(person, ctx.today)
    return Noted(value, f"{describe(permit, status)}\n{_conditions(check)}\n")


async def _moved(value: str, ctx: Context, filled: Filled) -> str:
    if value == CHANGED:
        raise Ended(MOVED)
    return value


async def _submit(ctx: Context, answers: Answers) -> Finished:
    account, person = await _verified(ctx)
    permit = await ctx.services.endorsements.permit_of(person, answers["endorse.permit"]["id"])
    if permit is None:
        raise Told("没有找到这张居住证，请回复「取消」后重新办理签注。")
    endorsed = await ctx.services.endorsements.endorse(
        permit, account, name=account.name, id_number_masked=account.id_number_masked or "", now=ctx.now
    )
    after, endorsement = endorsed.after, endorsed.endorsement
    day = endorsement.endorsed_on.isoformat()
    validity = (
        f"下次签注期：{after.window_opens.isoformat()}至{after.window_closes.isoformat()}，"
        f"请在{after.window_closes.isoformat()}前（含当天）签注。"
    )
    if endorsement.kind is EndorsementKind.LATE:
        title = f"补办签注成功：居住证{permit.permit_no}"
        said = f"已于{day}补办签注，居住证恢复使用。签注周期从今天重新计算，{validity}"
    else:
        title = f"签注成功：居住证{permit.permit_no}"
        said = f"已于{day}签注。{validity}"
    card = Article(
        title=title,
        description=(
            f"{said}回执编号{endorsed.receipt.number}，点开查看签注回执，可下载PDF。回复「进度」查看居住证状态。"
        ),
        url=ctx.services.receipts.url(endorsed.receipt.id, ctx.now),
    )
    return Finished(NewsReply(card), reference=f"回执编号：{endorsed.receipt.number}")


FLOW = Flow(
    key=MenuKey.ENDORSE,
    title="居住证签注",
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED}),
    requires=(realname_verified, holds_permit, endorsable_today, conditions_met),
    intro="办理居住证签注，共2个问题，随时可以回复「返回」或「取消」。",
    steps=(
        Step(
            "endorse.permit",
            "请选择办理签注的居住证：",
            "居住证",
            choices_from=_permit_choices,
            check=_chosen,
            show=lambda v: v["no"],
        ),
        Step(
            "endorse.moved",
            "自上次居住登记以来，您的居住地址有变化吗？",
            "居住地址",
            choices=(
                Choice(UNCHANGED, ("没有", "没变", "无变化", "不变", "否")),
                Choice(CHANGED, ("有", "变了", "搬家了", "换了", "是")),
            ),
            check=_moved,
        ),
    ),
    submit=_submit,
)
