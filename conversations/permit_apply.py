"""申领 (PERMIT_APPLY): a resident applies for their residence permit online.

Needs: bound, real-name verified, no open application (else its number and status), a current
residence registration, and eligible as 办证资格 says (else its answer, naming what is missing).
The last two are checked again at 确认.

Questions, in order:
  photo_number   "请输入数码照片图像号"        10-30 letters and digits; says where to find it
  contact        "联系电话"                    1 本账号手机（masked） / 2 其他号码
  phone          "请输入联系电话"              cn_mobile; only for 其他号码
  registration   "申领以您当前的居住登记为准"   the current one, by number and district; 确认 keeps it
  where          "请发送位置，或回复区名"       where to look for acceptance points (collection.py)
  point          "请选择领证的受理点"           the three nearest, as shown
  review         确认 submits: the application number, the due date, the point, the receipt link
"""

from __future__ import annotations

from typing import Any, cast

from bot.services.applications import Applicant, Filing
from bot.services.errors import Told
from bot.text import mask_phone
from bot.wechat.reply import Article, NewsReply
from conversations.collection import chosen_point, point_steps
from conversations.eligibility import render
from conversations.flow import (
    Again,
    Answers,
    Asked,
    Audience,
    Choice,
    Context,
    Filled,
    Finished,
    Flow,
    Missing,
    Step,
    choose,
)
from conversations.keys import MenuKey
from conversations.parsers import Invalid, cn_mobile, photo_number
from conversations.requirements import NOT_BOUND, NOT_REALNAME, realname_verified
from models import Account, PermitApplication
from models.rules import SHENZHEN

OWN_PHONE, OTHER_PHONE = "account", "other"
NO_REGISTRATION = Missing(
    "申领居住证需要有效的居住登记，您目前没有：请先回复「居住登记」申报现在的住址。", via=MenuKey.RESIDENCE_REGISTER
)
REGISTRATION_CHANGED = "您的居住登记刚有变化，请按现在的登记重新确认。"


async def _verified(ctx: Context) -> tuple[Account, str]:
    """The account and the person it was verified as; checked at the start and at 确认, and here
    again, since records are a person's and never a mere claim's."""
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        raise Told(NOT_BOUND.message)
    if account.person is None:
        raise Told(NOT_REALNAME.message)
    return account, account.person


async def _person(ctx: Context) -> str | None:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    return account.person if account is not None else None


async def no_open_application(ctx: Context) -> Missing | None:
    person = await _person(ctx)
    existing = await ctx.services.applications.open_application(person) if person else None
    return None if existing is None else Missing(_already(existing))


async def registered(ctx: Context) -> Missing | None:
    person = await _person(ctx)
    if person is None:
        return NOT_REALNAME
    return None if await ctx.services.residence.current_registration(person) else NO_REGISTRATION


async def eligible(ctx: Context) -> Missing | None:
    """办证资格's own answer when not eligible: one reading of the rules, in one wording."""
    person = await _person(ctx)
    if person is None:
        return NOT_REALNAME
    assessment = await ctx.services.applications.assessment(person, ctx.today)
    return None if assessment.eligible else Missing("申领居住证需要先符合办证资格。\n\n" + render(assessment, ctx))


def _already(application: PermitApplication) -> str:
    changed = application.status_changed_at.astimezone(SHENZHEN).date().isoformat()
    return (
        f"您已有一份办理中的居住证申领：受理编号{application.number}，{application.status.label}（{changed}）。"
        "一人只能有一份办理中的申领。回复「进度」查看办理进度，回复「回执」查看受理回执。"
    )


async def _contact_choices(ctx: Context, filled: Filled) -> list[Choice]:
    account, _ = await _verified(ctx)
    masked = mask_phone(account.phone)
    return [
        Choice(
            f"本账号手机{masked}",
            ("本账号", "本账号手机", "账号手机", "这个"),
            value={"use": OWN_PHONE, "shown": masked},
        ),
        Choice("其他号码", ("其他", "其它号码", "换一个", "另一个"), value={"use": OTHER_PHONE}),
    ]


def _contact(text: str, asked: Asked) -> dict[str, Any]:
    """A choice, or the other number itself typed straight away (the question after is then skipped)."""
    try:
        return {"use": OTHER_PHONE, "phone": cn_mobile(text)}
    except Invalid:
        return cast(dict[str, Any], choose(asked.shown, text))


def _other_phone(filled: Filled) -> bool:
    contact = filled.get("apply.contact", {})
    return contact.get("use") == OTHER_PHONE and "phone" not in contact


def _show_contact(value: dict[str, Any]) -> str:
    if value["use"] == OWN_PHONE:
        return f"本账号手机{value['shown']}"
    return f"其他号码{mask_phone(value['phone'])}" if "phone" in value else "其他号码"


async def _registration_choices(ctx: Context, filled: Filled) -> list[Choice]:
    _, person = await _verified(ctx)
    current = await ctx.services.residence.current_registration(person)
    if current is None:
        raise Told(NO_REGISTRATION.message)
    # Number and district only: the choices are kept in the conversation as shown, unsealed; the
    # address is kept (sealed) once confirmed, and the review shows it.
    label = f"确认：登记编号{current.number}（{current.district or '深圳市'}）"
    return [Choice(label, ("确认", "是", "是的", "对", "没错"), value=current.number)]


async def _still_current(number: str, ctx: Context, filled: Filled) -> dict[str, str]:
    _, person = await _verified(ctx)
    current = await ctx.services.residence.current_registration(person)
    if current is None or current.number != number:
        raise Again(REGISTRATION_CHANGED)
    where = current.address if current.address.startswith(current.district) else current.district + current.address
    return {"number": current.number, "address": where}


async def _submit(ctx: Context, answers: Answers) -> Finished:
    account, person = await _verified(ctx)
    registration = await ctx.services.residence.current_registration(person)
    if registration is None or registration.number != answers["apply.registration"]["number"]:
        raise Told("您的居住登记已有变化，请「修改」居住登记一项，按现在的登记确认。")
    point = await chosen_point(answers["apply.point"])
    own = answers["apply.contact"]["use"] == OWN_PHONE
    accepted = await ctx.services.applications.apply(
        Applicant(person, account.name, account.id_number_masked or ""),
        Filing(
            account,
            point,
            photo_number=answers["apply.photo_number"],
            phone=account.phone if own else answers["apply.contact"].get("phone") or answers["apply.phone"],
            registration_number=registration.number,
        ),
        submission_id=ctx.submission_id,
        now=ctx.now,
    )
    application = accepted.application
    card = Article(
        title=f"居住证申领已受理：{application.number}",
        description=(
            f"预计{application.due_on.isoformat()}前制好。网上申领须本人领取：请带身份证到"
            f"{point.name}（{point.address}，{point.hours}）。点开查看受理回执，可下载PDF。"
            "回复「进度」查看办理进度。"
        ),
        url=ctx.services.receipts.url(accepted.receipt.id, ctx.now),
    )
    return Finished(NewsReply(card), reference=f"受理编号：{application.number}")


FLOW = Flow(
    key=MenuKey.PERMIT_APPLY,
    title="申领居住证",
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED}),
    requires=(realname_verified, no_open_application, registered, eligible),
    intro="申领居住证，共5个问题，随时可以回复「返回」或「取消」。",
    steps=(
        Step(
            "apply.photo_number",
            "请输入数码照片图像号，就是照相馆给的数码照片回执上的图像号（自助拍照机的回执、"
            "微信「数码照片回执」小程序里也有）：",
            "数码照片图像号",
            parse=photo_number,
            short="请输入数码照片图像号：",
        ),
        Step(
            "apply.contact",
            "办理进度有变化时联系哪个电话？（也可以直接输入另一个手机号码）",
            "联系电话",
            choices_from=_contact_choices,
            parse_in=_contact,
            show=_show_contact,
            sensitive=True,  # it may hold the number typed
        ),
        Step(
            "apply.phone",
            "请输入联系电话（11位手机号码）：",
            "其他联系电话",
            parse=cn_mobile,
            when=_other_phone,
            show=mask_phone,
            sensitive=True,
        ),
        Step(
            "apply.registration",
            "申领以您当前的居住登记为准（住址有变化的，请先回复「取消」，办理「居住登记」后再申领）：",
            "居住登记",
            choices_from=_registration_choices,
            check=_still_current,
            show=lambda v: f"{v['number']}，{v['address']}",
            sensitive=True,
        ),
        *point_steps("apply", whose="您的"),
    ),
    submit=_submit,
)
