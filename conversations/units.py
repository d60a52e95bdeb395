"""What a unit's batches (代办, 单位签注) share: the unit asking, the two questions that add a person
by name and ID number, and the summary that ends a batch with each receipt's link.

  name        "请输入要…人员的姓名"     as on the ID card
  id_number   "请输入此人的18位身份证号码"  GB 11643; kept only as the keyed hash and the masked form
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.services.applications import Applicant
from bot.services.errors import Told
from bot.text import masked_id
from bot.wechat.reply import MAX_TEXT_BYTES
from conversations.flow import Answers, Asked, Context, Step
from conversations.parsers import person_name, resident_id
from conversations.requirements import NOT_BOUND, NOT_UNIT
from models import Account, Receipt, Unit


async def unit_of(ctx: Context) -> tuple[Account, Unit]:
    """The unit account asking, and its unit; Told when the account is gone or not a unit's."""
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:
        raise Told(NOT_BOUND.message)
    unit = await Unit.get_or_none(accounts__id=account.id)
    if unit is None:
        raise Told(NOT_UNIT.message)
    return account, unit


@dataclass(frozen=True, slots=True)
class PersonQuestions:
    """The questions `<prefix>.name` and `<prefix>.id_number` of a group, and how their item reads."""

    prefix: str

    @property
    def name(self) -> str:
        return f"{self.prefix}.name"

    @property
    def id_number(self) -> str:
        return f"{self.prefix}.id_number"

    def steps(self, *, doing: str) -> tuple[Step, Step]:
        """`doing` is what the unit does for the person: 代办, 签注."""
        return (
            Step(self.name, f"请输入要{doing}人员的姓名（与身份证一致）：", "姓名", parse=person_name),
            Step(
                self.id_number,
                "请输入此人的18位身份证号码：",
                "身份证号码",
                parse_in=_id_number,
                check=_protect,
                show=lambda v: v["masked"],
                sensitive=True,
            ),
        )

    def applicant(self, item: Answers) -> Applicant:
        return Applicant(item[self.id_number]["person"], item[self.name], item[self.id_number]["masked"])

    def line(self, item: Answers) -> str:
        return f"{item[self.name]} {item[self.id_number]['masked']}"


def _id_number(text: str, asked: Asked) -> str:
    return resident_id(text, today=asked.today)


async def _protect(number: str, ctx: Context, answers: Answers) -> dict[str, str]:
    """The person and the masked form; the number itself is not kept, not even sealed."""
    return {"person": ctx.services.security.lookup_hash(number), "masked": masked_id(number)}


@dataclass(frozen=True, slots=True)
class Words:
    """How a batch's summary names what was done: 已受理 / 未受理 / 受理编号 / 受理回执."""

    done: str
    not_done: str
    number: str
    receipt: str


def summary(
    ctx: Context, head: Sequence[str], done: Sequence[tuple[str, Receipt]], refused: Sequence[str], words: Words
) -> str:
    """`head`, everyone done (a line each) with their receipt's link, as many as one reply holds
    (WeChat cuts a text at 2048 bytes), the rest by number; then those refused with the reason.
    「回执」 lists the links again."""
    tail = [f"{words.not_done}：", *refused] if refused else []
    tail.append(f"点开链接查看{words.receipt}，可下载PDF；回复「回执」可再看最近的回执。")
    budget = MAX_TEXT_BYTES - _size([*head, *tail]) - 200  # room for the line about the rest
    lines = [f"{words.done}："]
    linked = 0
    for i, (who, receipt) in enumerate(done, 1):
        line = f"{i}. {who} {receipt.number}\n{ctx.services.receipts.url(receipt.id, ctx.now)}"
        if _size([*lines, line]) > budget:
            break
        lines.append(line)
        linked += 1
    rest = done[linked:]
    if rest:
        numbers = "、".join(receipt.number for _, receipt in rest[:5])
        lines.append(f"另有{len(rest)}人{words.done}（{words.number}{numbers}{'等' if len(rest) > 5 else ''}）。")
    return "\n".join([*head, *lines, *tail])


def _size(lines: Sequence[str]) -> int:
    return len("\n".join(lines).encode())
