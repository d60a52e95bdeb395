"""修改资料 (CORRECT_DETAILS): a name or hukou address typed wrong at 注册, corrected before real-name
verification; after it they are the ID card's, and only an acceptance point changes them.

Questions, in order:
  which          "要改正哪一项？"       1 姓名 / 2 户籍地址 / 3 两项都改
  name           "请输入正确的姓名"      when 姓名 or both; as on the ID card
  hukou_address  "请输入正确的户籍地址"  when 户籍地址 or both
  review         确认 records them (refused if the account was verified meanwhile)
"""

from __future__ import annotations

from bot.services.errors import Told
from conversations.flow import Audience, Choice, Context, Filled, Finished, Flow, Missing, Step
from conversations.keys import MenuKey
from conversations.parsers import non_empty, person_name
from conversations.requirements import bound_personal

NAME = "姓名"
ADDRESS = "户籍地址"
BOTH = "两项都改"
VERIFIED = (
    "您的账号已经完成实名认证，姓名和户籍地址以身份证为准，不能在微信里修改。身份证上的信息变了，"
    "请本人带身份证原件（户籍地址变了还要带户口簿）到受理点办理（回复「受理点」查询地址）。"
)


async def _not_yet_verified(ctx: Context) -> Missing | None:
    missing = await bound_personal(ctx)
    if missing:
        return missing
    account = await ctx.services.accounts.bound_account(ctx.openid)
    return Missing(VERIFIED) if account is not None and account.realname_verified else None


def _changes(which: str) -> frozenset[str]:
    return frozenset({NAME, ADDRESS}) if which == BOTH else frozenset({which})


async def _correct(ctx: Context, filled: Filled) -> Finished:
    account = await ctx.services.accounts.bound_account(ctx.openid)
    corrected = account is not None and await ctx.services.accounts.correct_details(
        account.id, name=filled.get("correct_details.name"), hukou_address=filled.get("correct_details.hukou_address")
    )
    if not corrected:  # verified (or unbound) since the review was shown
        raise Told(VERIFIED)
    return Finished("已改正。下一步：回复「实名认证」完成实名认证。", reference="资料已改正")


FLOW = Flow(
    key=MenuKey.CORRECT_DETAILS,
    title="修改资料",
    offered_to=frozenset({Audience.PERSONAL}),
    requires=(_not_yet_verified,),
    steps=(
        Step(
            "correct_details.which",
            "实名认证前可以改正注册时填错的姓名或户籍地址。要改正哪一项？（换手机号请回复「换手机号」）",
            "改正",
            choices=(
                Choice(NAME, ("名字", "改名字", "姓名写错了", "名字写错了")),
                Choice(ADDRESS, ("地址", "户籍", "户口地址", "住址", "地址写错了")),
                Choice(BOTH, ("都改", "两个都改", "都要改", "全部")),
            ),
        ),
        Step(
            "correct_details.name",
            "请输入正确的姓名（与身份证一致）：",
            "姓名",
            parse=person_name,
            when=lambda filled: NAME in _changes(filled["correct_details.which"]),
        ),
        Step(
            "correct_details.hukou_address",
            "请输入正确的户籍地址（身份证上的住址）：",
            "户籍地址",
            parse=non_empty,
            when=lambda filled: ADDRESS in _changes(filled["correct_details.which"]),
            sensitive=True,
        ),
    ),
    submit=_correct,
)
