"""代办 (UNIT_APPLY): a unit (employer or school) applies for residence permits for its people.

Needs: a bound unit account.

Questions, in order:
  people        one person at a time, 「继续添加」 / 「完成」; at most applications.max_batch_size
    name        "请输入姓名"                   as on the ID card (units.py)
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

from bot.services.applications import Accepted, Filing
from bot.services.errors import Told
from conversations.collection import chosen_point, point_steps
from conversations.flow import Answers, Audience, Context, Finished, Flow, Group
from conversations.keys import MenuKey
from conversations.requirements import bound_unit
from conversations.units import PersonQuestions, Words, summary, unit_of

PERSON = PersonQuestions("unit_apply")
APPLIED = Words(done="已受理", not_done="未受理", number="受理编号", receipt="受理回执")


async def _check_person(ctx: Context, item: Answers, others: Sequence[Answers]) -> Answers:
    applicant = PERSON.applicant(item)
    if any(PERSON.applicant(o).person == applicant.person for o in others):
        raise Told(f"{PERSON.line(item)}已经在名单里了，没有重复添加。")
    _, unit = await unit_of(ctx)
    reason = await ctx.services.applications.unit_refusal(unit, applicant, ctx.today)
    if reason is not None:
        raise Told(f"{PERSON.line(item)}：{reason}，没有添加。")
    return item


async def _submit(ctx: Context, answers: Answers) -> Finished:
    account, unit = await unit_of(ctx)
    point = await chosen_point(answers["unit_apply.point"])
    applications = ctx.services.applications
    accepted: list[tuple[Answers, Accepted]] = []
    refused: list[str] = []
    for item in answers["unit_apply.people"]:
        applicant = PERSON.applicant(item)
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
        refused.append(f"{PERSON.line(item)}：{reason}")
    if not accepted:  # nothing to submit: back to the review, nothing recorded
        raise Told("名单里的人现在都不能申领：\n" + "\n".join(refused) + "\n请「删除」这些人员，或回复「取消」。")
    first = accepted[0][1].receipt.number
    return Finished(
        _summary(ctx, accepted, refused, point.name),
        reference=f"代办受理{len(accepted)}人，受理编号{first}等",
    )


def _summary(ctx: Context, accepted: list[tuple[Answers, Accepted]], refused: list[str], point: str) -> str:
    head = [
        f"代办已提交：受理{len(accepted)}人" + (f"，未受理{len(refused)}人。" if refused else "。"),
        f"居住证制好后，请本人带身份证到{point}领取（网上申领不能代领）。",
    ]
    done = [(PERSON.line(item), filed.receipt) for item, filed in accepted]
    return summary(ctx, head, done, refused, APPLIED)


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
            steps=PERSON.steps(doing="代办"),
            describe=PERSON.line,
            max_items=lambda ctx: ctx.services.applications.max_batch_size,
            check_item=_check_person,
        ),
        *point_steps("unit_apply", whose="本批人员的"),
    ),
    submit=_submit,
)
