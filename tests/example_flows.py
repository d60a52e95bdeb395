"""Flows that exist only in tests, to drive the engine through HTTP like real ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.services.errors import Told
from bot.text import masked_id
from bot.wechat.reply import Article, NewsReply
from conversations.flow import Answers, Choice, Context, Filled, Finished, Flow, Group, Missing, Step
from conversations.keys import MenuKey
from conversations.parsers import cn_mobile, flexible_date, non_empty, resident_id
from models import AcceptancePoint


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
                parse_in=lambda text, asked: flexible_date(text, not_after=asked.today, today=asked.today),
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


def batch(submissions: list[dict], *, refuse: str = "李四", limit: int = 3) -> Flow:
    """A unit's batch: a contact phone, then people one at a time (name, ID number), then review.
    A person named `refuse` is refused by the item check, as a stranger to the unit would be."""

    async def check_person(ctx: Context, item: Answers, others: Sequence[Answers]) -> Answers:
        if item["batch.name"] == refuse:
            raise Told(f"{refuse}不是本单位的人员，没有添加。")
        if any(o["batch.id_number"] == item["batch.id_number"] for o in others):
            raise Told("这个身份证号码已经在名单里了。")
        return item

    async def submit(ctx: Context, answers: Answers) -> Finished:
        submissions.append(dict(answers))
        return Finished(f"已提交{len(answers['batch.people'])}人", reference=f"批次{len(submissions)}")

    return Flow(
        key=MenuKey.UNIT_APPLY,
        title="代办",
        steps=(
            Step("batch.phone", "请输入联系人手机号码", "联系电话", parse=cn_mobile),
            Group(
                "batch.people",
                item="人",
                steps=(
                    Step("batch.name", "请输入姓名", "姓名", parse=non_empty),
                    Step(
                        "batch.id_number",
                        "请输入身份证号码",
                        "身份证号码",
                        parse_in=lambda text, asked: resident_id(text, today=asked.today),
                    ),
                ),
                describe=lambda item: f"{item['batch.name']} {masked_id(item['batch.id_number'])}",
                max_items=lambda ctx: limit,
                check_item=check_person,
            ),
        ),
        submit=submit,
    )


def pick_point(submissions: list[dict], asked: list[str]) -> Flow:
    """A question whose choices come from the database when it is asked (the acceptance points of
    a district), and an action when a question is asked (recorded in `asked`)."""

    async def points_of(ctx: Context, filled: Filled) -> list[Choice]:
        rows = await AcceptancePoint.filter(district="福田区").order_by("name")
        return [Choice(row.name, value={"id": row.id, "name": row.name}) for row in rows]

    async def note(ctx: Context, filled: Filled) -> None:
        asked.append("phone")

    async def submit(ctx: Context, answers: Answers) -> Finished:
        submissions.append(dict(answers))
        return Finished(
            NewsReply(Article("预约成功", f"{answers['pick.point']['name']}", "https://bot.example.gov.cn/r/abc")),
            reference="预约：" + answers["pick.point"]["name"],
        )

    return Flow(
        key=MenuKey.RECEIPTS,
        title="选受理点",
        steps=(
            Step("pick.point", "请选择受理点", "受理点", choices_from=points_of, show=lambda v: v["name"]),
            Step("pick.phone", "请输入手机号码", "手机号码", parse=cn_mobile, on_ask=note),
        ),
        submit=submit,
    )


def guarded(submissions: list[dict], allowed: list[bool]) -> Flow:
    """One question behind a requirement that the test turns on and off."""

    async def open_now(ctx: Context) -> Missing | None:
        return None if allowed[0] else Missing("现在不能办理：条件已经不满足。")

    async def submit(ctx: Context, answers: Answers) -> Finished:
        submissions.append(dict(answers))
        return Finished("已提交", reference="G1")

    return Flow(
        key=MenuKey.REMINDERS,
        title="有条件的事项",
        requires=(open_now,),
        steps=(Step("guarded.what", "办什么？", "事项", parse=non_empty),),
        submit=submit,
    )
