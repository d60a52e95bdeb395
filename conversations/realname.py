"""实名认证 (REALNAME): prove the bound personal account belongs to the person chatting.

Questions, in order:
  name       "请输入姓名"                  must match the account
  id_number  "请输入身份证号码"            must match the account
  photo      "请发送身份证人像面照片"       an image message; fetched from WeChat and kept
Then the configured provider decides (it compares name, ID number and photo); the account records
when and how it was verified, and becomes the holder of its ID number. An account whose number
another account was verified with first has lost its claim: it is told so, at the start and on
submit, and its details are not sent to the provider.
"""

from __future__ import annotations

from conversations.flow import Answers, Asked, Audience, Check, Context, Finished, Flow, Image, Missing, Step
from conversations.keys import MenuKey
from conversations.parsers import Invalid, person_name, resident_id
from conversations.requirements import CLAIM_LOST, bound_personal


async def _not_yet_verified(ctx: Context) -> Missing | None:
    missing = await bound_personal(ctx)
    if missing:
        return missing
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is not None and account.realname_verified:
        return Missing("您的账号已经完成实名认证，无需再次认证。回复「菜单」查看可办理的业务。")
    if account is not None and await ctx.services.accounts.claim_lost(account):
        return CLAIM_LOST
    return None


async def _same_name(name: str, ctx: Context, answers: Answers) -> str:
    account = await _account(ctx)
    if name != account.name:
        raise Invalid("姓名与账号登记的不一致，请输入注册时填写的姓名（与身份证一致）。")
    return name


def _id_number(text: str, asked: Asked) -> str:
    return resident_id(text, today=asked.today)


async def _same_id(number: str, ctx: Context, answers: Answers) -> str:
    account = await _account(ctx)
    if ctx.services.security.lookup_hash(number) != account.id_number_hash:
        raise Invalid("身份证号码与账号登记的不一致，请核对后重新输入。")
    return ctx.services.security.protect_id(number).masked  # only the masked form stays in the conversation


def _photo(image: Image) -> str:
    return image.media_id


def photo_step(name: str, check: Check, *, label: str = "身份证照片", done: str = "已上传") -> Step:
    """The ID-card photo question (here, and again at 换手机号): an image message, whose media id
    `check` is given (keep_photo keeps it); `label` and `done` are how a review shows it."""
    return Step(
        name,
        "请拍摄身份证人像面照片发送给我（点击输入框旁的「+」→「拍摄」或「相册」）：",
        label,
        on_image=_photo,
        check=check,
        show=lambda v: done,
    )


async def keep_photo(media_id: str, ctx: Context, answers: Answers) -> dict[str, str]:
    """Fetch the photo from WeChat and keep it with the bound account: {"path": where it is kept}."""
    account = await _account(ctx)
    return {"path": await ctx.services.realname.keep_photo(account.id, media_id)}


async def _verify(ctx: Context, answers: Answers) -> Finished:
    account = await _account(ctx)
    if await ctx.services.accounts.claim_lost(account):  # another account was verified meanwhile
        return Finished(CLAIM_LOST.message)
    id_number = ctx.services.security.decrypt(account.id_number_enc)
    result = await ctx.services.realname.verify(account.name, id_number, answers["realname.photo"]["path"])
    if not result.verified:
        return Finished(f"实名认证未通过：{result.reason}\n请回复「实名认证」重新认证，或带身份证到受理点办理。")
    if not await ctx.services.accounts.record_realname(
        account.id, method=result.method, photo=answers["realname.photo"]["path"], now=ctx.now
    ):  # the same number verified for another account at the same moment: that one holds it
        return Finished(CLAIM_LOST.message)
    return Finished("实名认证已通过！现在可以办理居住登记、查询办证资格了：回复「菜单」查看。")


async def _account(ctx: Context):
    account = await ctx.services.accounts.bound_account(ctx.openid)
    if account is None:  # unbound meanwhile (退出 from another turn is serialised, but a new login elsewhere is not)
        raise Invalid("本微信已不再绑定账号，请回复「登录」后重新认证。")
    return account


FLOW = Flow(
    key=MenuKey.REALNAME,
    title="实名认证",
    review=False,
    offered_to=frozenset({Audience.PERSONAL}),
    requires=(_not_yet_verified,),
    intro="实名认证需要核对姓名、身份证号码，并上传身份证人像面照片。",
    steps=(
        Step("realname.name", "请输入您的姓名（与身份证一致）：", "姓名", parse=person_name, check=_same_name),
        Step("realname.id_number", "请输入您的18位身份证号码：", "身份证号码", parse_in=_id_number, check=_same_id),
        photo_step("realname.photo", keep_photo),
    ),
    submit=_verify,
)
