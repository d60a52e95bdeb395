"""进度 (PROGRESS): the resident's permit applications with their status and the date of its last
change, their permits with their endorsement status, and their residence registrations, with
numbers and dates. No questions. Records are a person's: only an account
through real-name verification sees them."""

from __future__ import annotations

from datetime import timedelta

from conversations.flow import Answers, Audience, Context, Finished, Flow
from conversations.keys import MenuKey
from conversations.requirements import NOT_REALNAME, realname_verified
from models import Permit, PermitApplication, ResidenceRegistration
from models.permit_cycle import PermitStatus
from models.rules import SHENZHEN, Rules

SHOWN = 6  # a reply has room for about this many registrations (WeChat cuts text at 2048 bytes)


async def _show(ctx: Context, answers: Answers) -> Finished:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    person = account.person if account is not None else None
    if person is None:  # the requirement said so; whatever happens, no records without verification
        return Finished(NOT_REALNAME.message)
    applications = await ctx.services.applications.of_person(person)
    permits = await Permit.filter(person=person).order_by("-issued_on")
    rows = await ctx.services.residence.registrations(person)
    rules = ctx.services.rules
    parts = [_applications(applications)] if applications else []
    parts += [_permit(p, status, rules) for p, status in await ctx.services.endorsements.standing(permits, ctx.today)]
    parts.append(_registrations(rows) if rows else "您还没有居住登记记录。回复「居住登记」申报居住登记。")
    if not permits and not applications:
        parts.append("回复「办证资格」查询能否申领居住证。")
    return Finished("\n\n".join(parts))


def _applications(applications: list[PermitApplication]) -> str:
    lines = ["居住证申领（最近的在前）："]
    for i, a in enumerate(applications[:SHOWN], 1):
        changed = a.status_changed_at.astimezone(SHENZHEN).date().isoformat()
        line = f"{i}. {a.number}｜{a.status.label}（{changed}）"
        if a.status_note:
            line += f"：{a.status_note}"
        if a.status.is_open:
            line += f"\n   {a.accepted_on.isoformat()}受理，预计{a.due_on.isoformat()}前制好，到{a.point_name}本人领取"
        lines.append(line)
    if len(applications) > SHOWN:
        lines.append(f"另有{len(applications) - SHOWN}份较早的申领，可到受理点查询。")
    return "\n".join(lines)


def _permit(permit: Permit, status: PermitStatus, rules: Rules) -> str:
    head = f"居住证 {permit.permit_no}（{permit.issued_on.isoformat()}签发）"
    if status.state == "active":
        return (
            f"{head}\n状态：有效。下次签注期：{status.window_opens.isoformat()}至{status.window_closes.isoformat()}。"
        )
    if status.state == "window":
        return f"{head}\n状态：正在签注期内，请在{status.window_closes.isoformat()}前办理签注，逾期居住证将暂停使用。"
    if status.state == "suspended":
        last_day = status.cancelled_from - timedelta(days=1)
        return (
            f"{head}\n状态：已于{status.suspended_from.isoformat()}暂停使用（未按期签注）。"
            f"{last_day.isoformat()}前（含当天）符合条件可补办签注，逾期将被注销。"
        )
    return (
        f"{head}\n状态：已于{status.cancelled_from.isoformat()}注销（暂停使用满{rules.cancellation_years}年）。"
        "需要重新申领，回复「办证资格」查询条件。"
    )


def _registrations(rows: list[ResidenceRegistration]) -> str:
    lines = ["居住登记（最近的在前）："]
    for i, r in enumerate(reversed(rows[-SHOWN:]), 1):
        status = f"已于{r.move_out_on.isoformat()}搬离" if r.move_out_on else "有效"
        where = f"{r.district}{r.address}" if r.district and not r.address.startswith(r.district) else r.address
        lines.append(
            f"{i}. {r.number}｜{status}\n   {where}\n   入住{r.move_in_on.isoformat()}，申报{r.declared_on.isoformat()}"
        )
    if len(rows) > SHOWN:
        lines.append(f"另有{len(rows) - SHOWN}条较早的登记，可到受理点查询。")
    return "\n".join(lines)


FLOW = Flow(
    key=MenuKey.PROGRESS,
    title="办理进度",
    review=False,
    steps=(),
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED}),
    requires=(realname_verified,),
    submit=_show,
)
