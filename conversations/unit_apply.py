"""代办 (UNIT_APPLY): a unit (employer or school) applies for residence permits for its people.

Needs: a bound unit account.

Questions, in order:
  people        one person at a time, 「继续添加」 / 「完成」; at most applications.max_batch_size
    name        "请输入姓名"                   as on the ID card
    id_number   "请输入身份证号码"             GB 11643; kept only as the keyed hash and the masked form
                each person is checked at once: the unit's own (its social insurance in the last three
                months, or its student), the name on record, eligible, no open application, not twice;
                a refused person is named with the reason and the batch goes on
  where         "请发送位置，或回复区名"        where to look for acceptance points (collection.py)
  point         "请选择领证的受理点"            for the whole batch
  review        确认 submits: each person checked again; one application and receipt for each one
                accepted, and a summary with every receipt's link that fits in one reply
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.applications import Accepted, Applicant, Filing
from bot.services.errors import Told
from bot.text import masked_id
from bot.wechat.reply import MAX_TEXT_BYTES
from conversations.collection import chosen_point, point_steps
from conversations.flow import Answers, Asked, Audience, Context, Finished, Flow, Group, Step
from conversations.keys import MenuKey
from conversations.parsers import person_name, resident_id
from conversations.requirements import NOT_BOUND, NOT_UNIT, bound_unit
from models import Account, Unit

NAME, ID_NUMBER = "unit_apply.name", "unit_apply.id_number"


async def _unit(ctx: Context) -> tuple[Account, Unit]:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        raise Told(NOT_BOUND.message)
    unit = await Unit.get_or_none(accounts__id=account.id)
    if unit is None:
        raise Told(NOT_UNIT.message)
    return account, unit


def _id_number(text: str, asked: Asked) -> str:
    return resident_id(text, today=asked.today)


async def _protect(number: str, ctx: Context, answers: Answers) -> dict[str, str]:
    """The person and the masked form; the number itself is not kept, not even sealed."""
    return {"person": ctx.services.security.lookup_hash(number), "masked": masked_id(number)}


def _applicant(item: Answers) -> Applicant:
    return Applicant(item[ID_NUMBER]["person"], item[NAME], item[ID_NUMBER]["masked"])


def _describe(item: Answers) -> str:
    return f"{item[NAME]} {item[ID_NUMBER]['masked']}"


async def _check_person(ctx: Context, item: Answers, others: Sequence[Answers]) -> Answers:
    applicant = _applicant(item)
    if any(o[ID_NUMBER]["person"] == applicant.person for o in others):
        raise Told(f"{_describe(item)}已经在名单里了，没有重复添加。")
    _, unit = await _unit(ctx)
    reason = await ctx.services.applications.unit_refusal(unit, applicant, ctx.today)
    if reason is not None:
        raise Told(f"{_describe(item)}：{reason}，没有添加。")
    return item


async def _submit(ctx: Context, answers: Answers) -> Finished:
    account, unit = await _unit(ctx)
    point = await chosen_point(answers["unit_apply.point"])
    applications = ctx.services.applications
    accepted: list[tuple[Answers, Accepted]] = []
    refused: list[str] = []
    for item in answers["unit_apply.people"]:
        applicant = _applicant(item)
        # Again at 确认: a person may have moved on, or applied themselves, since being added.
        reason = await applications.unit_refusal(unit, applicant, ctx.today)
        if reason is None:
            registration = await ctx.services.residence.current_registration(applicant.person)
            filing = Filing(account, point, unit=unit, registration_number=registration.number if registration else "")
            try:
                accepted.append((item, await applications.apply(
                    applicant, filing, submission_id=ctx.submission_id, now=ctx.now
                )))  # fmt: skip
                continue
            except Told as exc:  # applied for in between, by themselves or another unit
                reason = exc.message.rstrip("。")
        refused.append(f"{_describe(item)}：{reason}")
    if not accepted:  # nothing to submit: back to the review, nothing recorded
        raise Told("名单里的人现在都不能申领：\n" + "\n".join(refused) + "\n请「删除」这些人员，或回复「取消」。")
    first = accepted[0][1].receipt.number
    return Finished(
        _summary(ctx, accepted, refused, point.name),
        reference=f"代办受理{len(accepted)}人，受理编号{first}等",
    )


def _summary(ctx: Context, accepted: list[tuple[Answers, Accepted]], refused: list[str], point: str) -> str:
    """Everyone accepted with their receipt's link, as many as one reply holds (WeChat cuts a text
    at 2048 bytes); the rest by number, and 「回执」 lists the links again."""
    head = [
        f"代办已提交：受理{len(accepted)}人" + (f"，未受理{len(refused)}人。" if refused else "。"),
        f"居住证制好后，请本人带身份证到{point}领取（网上申领不能代领）。",
    ]
    tail = ["未受理：", *refused] if refused else []
    tail.append("点开链接查看受理回执，可下载PDF；回复「回执」可再看最近的回执。")
    budget = MAX_TEXT_BYTES - _size(head + tail) - 200  # room for the line about the rest
    lines: list[str] = ["已受理："]
    linked = 0
    for i, (item, done) in enumerate(accepted, 1):
        line = (
            f"{i}. {_describe(item)} {done.receipt.number}\n{ctx.services.receipts.url(done.receipt.id, ctx.now)}"
        )
        if _size([*lines, line]) > budget:
            break
        lines.append(line)
        linked += 1
    rest = accepted[linked:]
    if rest:
        numbers = "、".join(done.receipt.number for _, done in rest[:5])
        lines.append(f"另有{len(rest)}人已受理（受理编号{numbers}{'等' if len(rest) > 5 else ''}）。")
    return "\n".join(head + lines + tail)


def _size(lines: list[str]) -> int:
    return len("\n".join(lines).encode())


FLOW = Flow(
    key=MenuKey.UNIT_APPLY,
    title="单位代办居住证",
    offered_to=frozenset({Audience.UNIT}),
    requires=(bound_unit,),
    intro="单位代办居住证：逐个添加人员（姓名和身份证号码），每添加一人都会当即核对；再选领证的受理点。",
    steps=(
        Group(
            "unit_apply.people",
            item="人",
            steps=(
                Step(NAME, "请输入要代办人员的姓名（与身份证一致）：", "姓名", parse=person_name),
                Step(
                    ID_NUMBER,
                    "请输入此人的18位身份证号码：",
                    "身份证号码",
                    parse_in=_id_number,
                    check=_protect,
                    show=lambda v: v["masked"],
                    sensitive=True,
                ),
            ),
            describe=_describe,
            max_items=lambda ctx: ctx.services.applications.max_batch_size,
            check_item=_check_person,
        ),
        *point_steps("unit_apply", whose="本批人员的"),
    ),
    submit=_submit,
)
