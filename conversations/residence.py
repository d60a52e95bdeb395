"""居住登记 (RESIDENCE_REGISTER): declare moving in to, or out of, an address in Shenzhen.

Questions, in order:
  kind             "入住还是搬离？"               1 入住登记 / 2 搬离登记
  -- moving in --
  district         "所在区"                       a district by number or name, or an address naming one
  address          "详细地址"                     street, building and room
  house_code       "房屋编码"                     optional: 「无」 skips it
  housing_type     "住房类型"                     自有住房 / 租赁住房 / 单位宿舍 / 亲友住房 / 其他
  move_in_on       "入住日期"                     not in the future; 今天, 昨天 and 前天 too
  workplace        "服务处所"                     optional
  reason           "来深事由"
  emergency_phone  "紧急联系人电话"
  -- moving out --
  move_out_on      "搬离日期"                     not before the move-in nor in the future; 今天 etc. too
  review           确认 submits: a registration number, or the current registration ended
"""

from __future__ import annotations

import re
from datetime import date

from bot.services.errors import Told
from bot.services.residence import MoveIn
from conversations.flow import (
    Answers,
    Asked,
    Audience,
    Choice,
    Context,
    Ended,
    Filled,
    Finished,
    Flow,
    Noted,
    Step,
    under,
)
from conversations.keys import MenuKey
from conversations.parsers import Invalid, cn_mobile, district, flexible_date, non_empty
from conversations.requirements import NOT_REALNAME, realname_verified
from models import Account
from models.districts import find_district

MOVE_IN, MOVE_OUT = "入住登记", "搬离登记"


def _district(text: str) -> str | Noted:
    name = district(text)
    return name if find_district(text) else Noted(name, f"已按「{name}」登记所在区。")


SKIP = ("无", "没有", "跳过", "不知道")
# What people type when they have no workplace or school to name.
NO_WORKPLACE = (*SKIP, "不上班", "没上班", "没工作", "没有工作", "无业", "待业", "不上学", "退休", "无工作单位")
# Each choice with the everyday words residents type for it; the review shows the choice's own label.
HOUSING_TYPES = (
    Choice("自有住房", ("自有", "自己的房子", "自购房", "自购", "买的房", "买的房子")),
    Choice("租赁住房", ("租赁", "租房", "租的", "租的房子", "出租屋", "出租房", "租住", "合租", "公租房")),
    Choice("单位宿舍", ("宿舍", "员工宿舍", "公司宿舍", "工厂宿舍", "集体宿舍", "学校宿舍")),
    Choice("亲友住房", ("亲友家", "亲戚家", "朋友家", "父母家")),
    Choice("其他", ("其它",)),
)
REASONS = (
    Choice("务工就业", ("务工", "就业", "打工", "上班", "工作")),
    Choice("经商", ("做生意", "生意", "开店", "个体户")),
    Choice("就学", ("上学", "读书", "念书", "求学")),
    Choice("随迁家属", ("随迁", "家属随迁", "随迁子女")),
    Choice("投靠亲友", ("投靠", "投亲", "投亲靠友")),
    Choice("其他", ("其它",)),
)


def _moving_in(answers: Answers) -> bool:
    return answers.get("residence.kind") == MOVE_IN


def _moving_out(answers: Answers) -> bool:
    return answers.get("residence.kind") == MOVE_OUT


def _address(text: str) -> str:
    address = non_empty(text, max_len=100)
    if len(address) < 6 or not re.search(r"[0-9一二三四五六七八九十]", address):
        raise Invalid("请写到楼栋和房号，如：粤海街道科技园社区科苑路15号1栋1201。")
    return address


def _workplace(text: str) -> str:
    return "" if text.strip() in NO_WORKPLACE else non_empty(text, max_len=100)


def _house_code(text: str) -> str:
    code = text.strip().upper()
    if code in SKIP:
        return ""
    if not re.fullmatch(r"[0-9A-Z]{8,30}", code):
        raise Invalid("房屋编码由8到30位数字或字母组成（门牌上二维码旁的编号）；不知道请回复「无」。")
    return code


def _move_in_on(text: str, asked: Asked) -> str:
    return flexible_date(text, today=asked.today, not_before=date(1950, 1, 1), not_after=asked.today)


def _move_out_on(text: str, asked: Asked) -> str:
    return flexible_date(text, today=asked.today, not_after=asked.today)


NOTHING_TO_MOVE_OUT_OF = "您目前没有有效的居住登记，不需要办理搬离。搬到新住处后，回复「居住登记」选择「入住」申报。"


async def _something_to_move_out_of(kind: str, ctx: Context, answers: Answers) -> str:
    """A move-out with no registration to end ends the form here, before any date is asked."""
    if kind == MOVE_OUT and await ctx.services.residence.current_registration(_person(await _account(ctx))) is None:
        raise Ended(NOTHING_TO_MOVE_OUT_OF)
    return kind


async def _after_move_in(move_out_on: str, ctx: Context, answers: Answers) -> str:
    current = await ctx.services.residence.current_registration(_person(await _account(ctx)))
    if current is None:  # ended meanwhile (an import, another device)
        raise Ended(NOTHING_TO_MOVE_OUT_OF)
    if date.fromisoformat(move_out_on) < current.move_in_on:
        raise Invalid(f"搬离日期不能早于入住日期{current.move_in_on.isoformat()}，请重新输入。")
    return move_out_on


async def _account(ctx: Context) -> Account:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        raise Invalid("本微信已不再绑定账号，请回复「登录」后再办理。")
    return account


def _person(account: Account) -> str:
    """Whose registrations these are: the person the account was verified as (checked at the start
    and at 确认); never a number the account only claims."""
    if account.person is None:
        raise Told(NOT_REALNAME.message)
    return account.person


async def _submit(ctx: Context, answers: Answers) -> Finished:
    account = await _account(ctx)
    if _moving_out(answers):
        moved_out_on = date.fromisoformat(answers["residence.move_out_on"])
        ended = await ctx.services.residence.move_out(_person(account), moved_out_on)
        return Finished(
            f"搬离登记已提交：{ended.number}（{ended.address}），搬离日期{moved_out_on.isoformat()}。\n"
            f"搬到新住处后，请在{ctx.services.rules.registration_gap_days}天内重新申报居住登记，"
            "居住时间才能连续计算。",
            reference=f"登记编号：{ended.number}",
        )
    outcome = await ctx.services.residence.move_in(
        account,
        MoveIn(
            district=answers["residence.district"],
            address=answers["residence.address"],
            house_code=answers["residence.house_code"],
            housing_type=answers["residence.housing_type"],
            move_in_on=date.fromisoformat(answers["residence.move_in_on"]),
            workplace=answers["residence.workplace"],
            reason=answers["residence.reason"],
            emergency_phone=answers["residence.emergency_phone"],
        ),
        today=ctx.today,
    )
    return Finished(
        f"居住登记成功！登记编号：{outcome.registration.number}。\n{outcome.continuity}\n"
        "回复「进度」查看您的登记，回复「办证资格」查询能否申领居住证。",
        reference=f"登记编号：{outcome.registration.number}",
    )


def _review_note(filled: Filled) -> str:
    if not _moving_in(filled):
        return ""
    return "提交后，您在其他地址还没搬离的居住登记会在今天结束，不用另外办搬离。"


FLOW = Flow(
    key=MenuKey.RESIDENCE_REGISTER,
    title="居住登记",
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED}),
    requires=(realname_verified,),
    steps=(
        Step(
            "residence.kind",
            "请选择要办理的登记：",
            "登记类型",
            choices=(
                Choice(
                    MOVE_IN,
                    (
                        "入住",
                        "搬入",
                        "搬进",
                        "搬进来",
                        "搬来",
                        "住进来",
                        "新搬来",
                        "刚搬来",
                        "新住址",
                        "搬家",
                        "搬家了",
                        "换住址",
                    ),
                ),
                Choice(MOVE_OUT, ("搬离", "搬出", "搬走", "退租", "搬出去", "搬走了", "不住了", "退房")),
            ),
            check=_something_to_move_out_of,
        ),
        *under(
            _moving_in,
            Step("residence.district", "住址在哪个区？请回复区名或序号。", "所在区", parse=_district),
            Step(
                "residence.address",
                "请输入详细地址，写到楼栋和房号（如：粤海街道科苑路15号1栋1201）：",
                "详细地址",
                parse=_address,
                sensitive=True,
            ),
            Step(
                "residence.house_code",
                "请输入房屋编码（门牌上二维码旁的编号）；不知道请回复「无」：",
                "房屋编码",
                parse=_house_code,
                show=lambda v: v or "未填写",
            ),
            Step(
                "residence.housing_type",
                "住房类型：",
                "住房类型",
                choices=HOUSING_TYPES,
            ),
            Step(
                "residence.move_in_on",
                "请输入入住日期（如：2025-03-01；今天入住可回复「今天」）：",
                "入住日期",
                parse_in=_move_in_on,
            ),
            Step(
                "residence.workplace",
                "您在哪里上班或上学（服务处所）？请回复单位或学校的名称；没有请回复「无」：",
                "服务处所",
                parse=_workplace,
                show=lambda v: v or "未填写",
            ),
            Step("residence.reason", "您为什么来深圳（来深事由）？", "来深事由", choices=REASONS),
            Step(
                "residence.emergency_phone",
                "请输入紧急联系人的手机号码：",
                "紧急联系电话",
                parse=cn_mobile,
                sensitive=True,
            ),
        ),
        Step(
            "residence.move_out_on",
            "请输入搬离日期（如：2025-03-01；今天搬离可回复「今天」）：",
            "搬离日期",
            parse_in=_move_out_on,
            check=_after_move_in,
            when=_moving_out,
        ),
    ),
    review_note=_review_note,
    submit=_submit,
)
