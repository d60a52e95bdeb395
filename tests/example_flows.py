"""Flows that exist only in tests, to drive the engine through HTTP like real ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from conversations.flow import Answers, Choice, Context, Finished, Flow, Step
from conversations.keys import MenuKey
from conversations.parsers import cn_mobile, flexible_date, non_empty


def endorse_like(submissions: list[dict], *, version_tag: str = "") -> Flow:
    """Shaped like STYLE.md's 签注 sketch: a choice, a conditional step, a phone, a date."""

    async def submit(ctx: Context, answers: Answers) -> Finished:
        submissions.append(dict(answers))
        reference = f"QZ{len(submissions):04d}"
        return Finished(f"已提交，受理编号：{reference}", reference=f"受理编号：{reference}")

    return Flow(
        key=MenuKey.ENDORSE,
        title="签注",
        steps=(
            Step(
                "endorse.moved",
                "居住地址有变化吗？",
                "地址变化",
                choices=(Choice("没有变化"), Choice("有变化")),
            ),
            Step(
                "endorse.new_address" + version_tag,
                "请输入新的居住地址",
                "新地址",
                parse=non_empty,
                when=lambda a: a.get("endorse.moved") == "有变化",
            ),
            Step("endorse.phone", "请输入手机号码", "手机号码", parse=cn_mobile),
            Step(
                "endorse.moved_on",
                "请输入搬入日期",
                "搬入日期",
                parse_in=lambda text, asked: flexible_date(text, not_after=asked.today),
            ),
        ),
        submit=submit,
    )


def many_questions(count: int, submissions: list[dict]) -> Flow:
    """`count` free-text questions, for the burst test."""

    async def submit(ctx: Context, answers: Answers) -> Finished:
        submissions.append(dict(answers))
        return Finished("已提交", reference=f"M{len(submissions)}")

    steps = tuple(Step(f"many.q{i:02d}", f"第{i}题", f"第{i}题", parse=non_empty) for i in range(1, count + 1))
    return Flow(key=MenuKey.PERMIT_APPLY, title="多题", steps=steps, submit=submit)


def slow(gate: Callable[[], asyncio.Future[None] | asyncio.Task[None]], calls: list[str]) -> Flow:
    """One question; its submit waits on `gate()` so tests control how long a turn takes."""

    async def submit(ctx: Context, answers: Answers) -> Finished:
        calls.append(ctx.openid)
        await gate()
        return Finished(f"慢慢办好了：{answers['slow.what']}")

    return Flow(
        key=MenuKey.PROGRESS,
        title="慢",
        review=False,
        steps=(Step("slow.what", "办什么？", "事项", parse=non_empty),),
        submit=submit,
    )
