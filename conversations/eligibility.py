"""办证资格 (ELIGIBILITY): may I apply for a residence permit, and if not, when? No questions.

A resident who holds a permit is told what they need instead: 签注 in the window (with the last
day), 补办签注 while suspended (with the last day before cancellation), nothing before the window
but its dates; only a cancelled permit leads on to a new application and the verdict. The
verdict lists each condition of the closest route (Art. 19) with ✓ or ✗ and its numbers, the
earliest date for what is missing, and the next step.
"""

from __future__ import annotations

from datetime import timedelta

from conversations.flow import Answers, Audience, Context, Finished, Flow
from conversations.keys import MenuKey
from conversations.requirements import NOT_REALNAME, realname_verified
from models import Permit
from models.eligibility import Assessment, RouteVerdict, assess
from models.permit_cycle import PermitStatus

ROUTE_NAMES = {"A": "居住登记＋社保", "B": "人才引进", "C": "全日制在校学生"}
# What to do about a condition not met: (its name, whether it will be met by waiting) → the step.
NEXT_STEPS = {
    ("连续居住登记", False): "回复「居住登记」申报现在的住址",
    ("连续居住登记", True): "保持居住登记有效（搬家后{gap}天内重新申报）",
    ("居住登记", False): "回复「居住登记」申报现在的住址",
    ("社保", False): "在深圳参加社保并按月缴纳",
    ("社保", True): "按月缴纳社保",
    ("人才引进认定", False): "向人才主管部门申请人才引进认定",
    ("人才引进认定", True): "等认定生效",
    ("全日制在读", False): "在深圳全日制就读",
    ("全日制在读", True): "等入学",
}


async def _answer(ctx: Context, answers: Answers) -> Finished:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    person = account.person if account is not None else None
    if person is None:  # the requirement said so; whatever happens, no records without verification
        return Finished(NOT_REALNAME.message)
    held = await _held_permit(ctx, person)
    if held is not None and held[1].state != "cancelled":
        return Finished(held_advice(*held))
    records = await ctx.services.residence.person_records(person)
    verdict = render(assess(records, ctx.services.rules, ctx.today), ctx)
    return Finished(verdict if held is None else f"{held_advice(*held)}\n{verdict}")


async def _held_permit(ctx: Context, person: str) -> tuple[Permit, PermitStatus] | None:
    """The person's permit that still counts (the newest not cancelled), else the newest cancelled one."""
    endorsements = ctx.services.endorsements
    held = await endorsements.standing(await endorsements.permits_of(person), ctx.today)
    live = [pair for pair in held if pair[1].state != "cancelled"]
    return next(iter(live or held), None)


def held_advice(permit: Permit, status: PermitStatus) -> str:
    """What a resident who holds a permit needs instead of a new application: 签注, 补办签注, or, once
    it is cancelled, a new application (the verdict follows)."""
    number = permit.permit_no
    if status.state == "active":
        return (
            f"您已持有居住证{number}，正常使用中，不需要重新申领。\n"
            f"下次签注期：{status.window_opens.isoformat()}至{status.window_closes.isoformat()}，到时回复「签注」办理。"
        )
    if status.state == "window":
        return (
            f"您已持有居住证{number}，现在正是签注期，请在{status.window_closes.isoformat()}前（含当天）签注：\n"
            "回复「签注」办理，不需要重新申领。"
        )
    last_day = status.cancelled_from - timedelta(days=1)
    if status.state == "suspended":
        return (
            f"您的居住证{number}未按期签注，已于{status.suspended_from.isoformat()}暂停使用。\n"
            f"{last_day.isoformat()}前（含当天）可以补办签注：回复「签注」办理，不需要重新申领。"
        )
    return f"您的居住证{number}已于{status.cancelled_from.isoformat()}注销，要重新申领："


def render(assessment: Assessment, ctx: Context) -> str:
    route = assessment.closest
    lines = [f"办证资格（截至{ctx.today.isoformat()}）", f"按{ROUTE_NAMES[route.route]}："]
    lines += [_condition_line(c) for c in route.conditions]
    lines.append("")
    lines.append(_verdict(route, assessment, ctx))
    return "\n".join(lines)


def _condition_line(condition) -> str:
    mark = "✓" if condition.met else "✗"
    # The measured text often begins with the condition's name already ("连续居住登记9个月…").
    said = condition.measured
    if not said.startswith(condition.name):
        said = f"{condition.name}：{said}"
    if condition.met:  # what it takes matters only while it is missing
        return f"{mark} {said}"
    line = f"{mark} {said}（要求：{condition.threshold}）"
    if condition.earliest is not None:
        line += f"，预计{condition.earliest.isoformat()}满足"
    return line


def _verdict(route: RouteVerdict, assessment: Assessment, ctx: Context) -> str:
    if assessment.eligible:
        return (
            "结论：您符合申领居住证的条件。\n"
            "下一步：回复「申领」在微信里申领，要准备数码照片图像号（回复「照片」看怎么拿到）；"
            "制好后到受理点本人领取。"
        )
    gap = ctx.services.rules.registration_gap_days
    # Only what is still missing: a resident who has just declared is not sent to declare again.
    steps = "；".join(
        NEXT_STEPS[(c.name, c.earliest is not None)].format(gap=gap) for c in route.conditions if not c.met
    )
    if route.earliest is not None:
        return (
            f"结论：暂不符合，最早{route.earliest.isoformat()}符合条件。\n下一步：{steps}，到时再回复「办证资格」查询。"
        )
    return f"结论：暂不符合，目前还算不出符合的日期。\n下一步：{steps}。"


FLOW = Flow(
    key=MenuKey.ELIGIBILITY,
    title="办证资格",
    review=False,
    steps=(),
    offered_to=frozenset({Audience.PERSONAL, Audience.VERIFIED}),
    requires=(realname_verified,),
    submit=_answer,
)
