"""单位签注 (UNIT_ENDORSE): a unit endorses the residence permits of its people whose windows are open.

Needs: a bound unit account.

Questions, in order:
  chosen      the permits in their window of the people the unit applied for (代办), the soonest to
              close first, each with its deadline; 「全部」, numbers (「1 3」, 「1,3」), and 「添加」
              to add people not listed (both at once: 「1 添加」)
  added       only with 「添加」: one person at a time (name, ID number: units.py), 「继续添加」 /
              「完成」; each checked at once: the unit's by the rule of 代办 (asked first, so a
              stranger's refusal says nothing of their records), the name on record, a permit in its
              window, the Art. 24 conditions; a refused person is named with the reason
  review      确认: each person checked again and endorsed, or refused with the reason while the
              batch goes on; one summary with every receipt's link that fits in one reply

A permit past its window (suspended) is not the unit's to endorse: 补办签注 restarts the person's
cycle, and they do it themselves with 「签注」.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.services.applications import Applicant
from bot.services.endorsements import Endorsed, UnitPermit, unmet
from bot.services.errors import Told
from conversations.flow import Answers, Asked, Audience, Choice, Context, Filled, Finished, Flow, Group, Step
from conversations.keys import MenuKey
from conversations.parsers import Invalid
from conversations.requirements import bound_unit
from conversations.units import PersonQuestions, Words, summary, unit_of
from models import Account, Permit, Receipt, Unit
from models.permit_cycle import PermitStatus

CHOSEN, ADDED = "unit_endorse.chosen", "unit_endorse.added"
PERSON = PersonQuestions("unit_endorse")
PERMIT = "unit_endorse.permit"  # what an added person's check found: their permit in its window
ENDORSED = Words(done="已签注", not_done="未签注", number="回执编号", receipt="签注回执")
SHOWN = 5  # two phone lines each: the list and the question's words fit one phone screen
HOW = "回复「全部」或序号（可多选，如：1 3）。名单外的本单位人员，回复「添加」（可与序号一起回复，如：1 添加）。"
NOBODY = (
    "本单位代办过的人员中，现在没有在签注期内的，到签注期再回复「单位签注」即可。\n"
    "要为本单位其他人员签注，请回复「添加」，按姓名和身份证号码添加；不办了请回复「取消」。"
)
_WORDS = re.compile(r"\d+|全部|添加|[^\s,，、;；]+")


def _who(permit: Permit, status: PermitStatus, *, name: str, masked: str, added: bool) -> dict[str, Any]:
    """Someone to endorse for, as kept in the conversation: the permit, named as on the receipt."""
    return {
        "person": permit.person,
        "permit": permit.id,
        "no": permit.permit_no,
        "closes": status.window_closes.isoformat(),
        "name": name,
        "masked": masked,
        "added": added,  # added by ID number: checked again at 确认 as the unit's
    }


def _line(who: Answers) -> str:
    return f"{who['name']} {who['masked']}"


async def _windows(ctx: Context) -> list[UnitPermit]:
    """What the list shows: the first SHOWN of the unit's permits in their window."""
    _, unit = await unit_of(ctx)
    return (await ctx.services.endorsements.unit_windows(unit, ctx.today))[:SHOWN]


async def _listed(ctx: Context, filled: Filled) -> list[Choice]:
    people = [
        _who(w.permit, w.status, name=w.permit.name, masked=w.id_number_masked, added=False)
        for w in await _windows(ctx)
    ]
    return [Choice(f"{_line(who)} 截止{who['closes']}", value=who) for who in people]


def _question(listed: Sequence[Choice]) -> str:
    if not listed:
        return NOBODY
    lines = "\n".join(f"{i}. {c.label}" for i, c in enumerate(listed, 1))
    more = f"\n（截止早的{SHOWN}人；其余的签注后再回复「单位签注」）" if len(listed) == SHOWN else ""
    return f"本单位代办过的人员中，正在签注期内的有：\n{lines}{more}\n\n{HOW}"


def _picked(text: str, asked: Asked) -> dict[str, Any]:
    """「全部」, numbers of the list shown, and 「添加」, in any mix: whom to endorse of the list, and
    whether to add others."""
    listed = asked.shown
    words = _WORDS.findall(text)
    add = "添加" in words
    picks = [w for w in words if w != "添加"]
    if not listed and (picks or not add):
        raise Invalid("名单里现在没有人员可选。")
    if not words or any(w != "全部" and not w.isdigit() for w in picks):
        raise Invalid("没有看懂这个回复。")
    if "全部" in picks:
        return {"people": [c.kept for c in listed], "add": add}
    numbers = list(dict.fromkeys(int(w) for w in picks))
    outside = next((n for n in numbers if not 1 <= n <= len(listed)), None)
    if outside is not None:
        raise Invalid(f"名单里只有{len(listed)}人，没有第{outside}人。")
    return {"people": [listed[n - 1].kept for n in numbers], "add": add}


def _show_chosen(value: dict[str, Any]) -> str:
    if not value["people"]:
        return "未选（另按身份证号码添加）"
    return "".join(f"\n   {_line(who)}（截止{who['closes']}）" for who in value["people"])


def _adding(filled: Filled) -> bool:
    return bool(filled.get(CHOSEN, {}).get("add"))


def _describe_added(item: Answers) -> str:
    closes = f"（截止{item[PERMIT]['closes']}）" if PERMIT in item else ""
    return PERSON.line(item) + closes


def _not_open(permit: Permit, status: PermitStatus) -> str:
    """Why a unit cannot endorse this permit today (it is not in its window), in the unit's words."""
    head = f"居住证{permit.permit_no}"
    opens, closes = status.window_opens.isoformat(), status.window_closes.isoformat()
    if status.state == "active" and permit.last_endorsed_on is not None:
        return f"{head}已于{permit.last_endorsed_on.isoformat()}签注，下次签注期为{opens}至{closes}"
    if status.state == "active":
        return f"{head}还没到签注期，本期签注期为{opens}至{closes}"
    if status.state == "suspended":
        return f"{head}未按期签注，已于{status.suspended_from.isoformat()}暂停使用，请本人回复「签注」补办签注"
    return f"{head}已于{status.cancelled_from.isoformat()}注销，不能签注，请本人重新申领"


async def _check_added(ctx: Context, item: Answers, others: Sequence[Answers]) -> Answers:
    applicant, line = PERSON.applicant(item), PERSON.line(item)
    if any(PERSON.applicant(o).person == applicant.person for o in others):
        raise Told(f"{line}已经在名单里了，没有重复添加。")
    if any(w.permit.person == applicant.person for w in await _windows(ctx)):
        raise Told(f"{line}就在签注期内的名单里，请按序号选择（核对时回复「修改 1」），没有添加。")
    _, unit = await unit_of(ctx)
    reason = await ctx.services.applications.not_units_person(unit, applicant, ctx.today)
    if reason is not None:
        raise Told(f"{line}：{reason}，没有添加。")
    return {**item, PERMIT: await _open_permit(ctx, applicant)}


async def _open_permit(ctx: Context, applicant: Applicant) -> dict[str, Any]:
    """The person's permit in its window, with the conditions met; Told why not."""
    endorsements = ctx.services.endorsements
    held = await endorsements.standing(await endorsements.permits_of(applicant.person), ctx.today)
    line = f"{applicant.name} {applicant.id_number_masked}"
    if not held:
        raise Told(f"{line}：没有居住证记录，不用签注，没有添加。")
    permit, status = next(((p, s) for p, s in held if s.state == "window"), held[0])
    if status.state != "window":
        raise Told(f"{line}：{_not_open(permit, status)}，没有添加。")
    check = await endorsements.check(applicant.person, ctx.today)
    if not check.met:
        raise Told(f"{line}：签注条件不符合（{unmet(check)}），没有添加。")
    return _who(permit, status, name=applicant.name, masked=applicant.id_number_masked, added=True)


def _people(answers: Answers) -> list[Answers]:
    """Everyone confirmed: those chosen from the list, then those added (while 「添加」 was asked for)."""
    added = answers.get(ADDED, []) if answers[CHOSEN]["add"] else []
    return [*answers[CHOSEN]["people"], *(item[PERMIT] for item in added)]


async def _endorse(ctx: Context, account: Account, unit: Unit, who: Answers) -> Endorsed:
    """One person's endorsement, checked again now: records and permits change after the review."""
    if who["added"]:
        applicant = Applicant(who["person"], who["name"], who["masked"])
        reason = await ctx.services.applications.not_units_person(unit, applicant, ctx.today)
        if reason is not None:
            raise Told(reason)
    endorsements = ctx.services.endorsements
    permit = await endorsements.permit_of(who["person"], who["permit"])
    if permit is None:
        raise Told(f"没有找到居住证{who['no']}")
    status = await endorsements.status(permit, ctx.today)
    if status.state != "window":
        raise Told(_not_open(permit, status))
    return await endorsements.endorse(
        permit, account, name=who["name"], id_number_masked=who["masked"], now=ctx.now, unit=unit
    )


async def _submit(ctx: Context, answers: Answers) -> Finished:
    account, unit = await unit_of(ctx)
    done: list[tuple[str, Receipt]] = []
    refused: list[str] = []
    for who in _people(answers):
        try:
            endorsed = await _endorse(ctx, account, unit, who)
        except Told as exc:  # this one is refused; the batch goes on
            refused.append(f"{_line(who)}：{exc.message.rstrip('。')}")
            continue
        done.append((_line(who), endorsed.receipt))
    if not done:  # nothing endorsed: back to the review, nothing recorded
        raise Told("名单里的人现在都不能签注：\n" + "\n".join(refused) + "\n请「修改」名单，或回复「取消」。")
    head = [f"单位签注已提交：签注{len(done)}人" + (f"，未签注{len(refused)}人。" if refused else "。")]
    first = done[0][1].number
    return Finished(
        summary(ctx, head, done, refused, ENDORSED),
        reference=f"单位签注{len(done)}人，回执编号{first}" + ("等" if len(done) > 1 else ""),
    )


FLOW = Flow(
    key=MenuKey.UNIT_ENDORSE,
    title="单位签注",
    offered_to=frozenset({Audience.UNIT}),
    requires=(bound_unit,),
    intro="为本单位人员签注：确认后逐人核对条件，当场签注。",
    steps=(
        Step(
            CHOSEN,
            "请选择要签注的人员：",
            "名单中选择",
            choices_from=_listed,
            parse_in=_picked,
            question_with=_question,
            show=_show_chosen,
        ),
        Group(
            ADDED,
            item="人",
            steps=PERSON.steps(doing="签注"),
            describe=_describe_added,
            max_items=lambda ctx: ctx.services.applications.max_batch_size,
            check_item=_check_added,
            when=_adding,
            needs_items=lambda filled: not filled[CHOSEN]["people"],
        ),
    ),
    submit=_submit,
)
