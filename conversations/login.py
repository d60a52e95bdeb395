"""登录 (ACCOUNT_LOGIN): bind this WeChat user to a personal or unit account.

Questions, in order:
  kind          "个人还是单位账号？"    1 个人 / 2 单位
  username      "请输入用户名"
  password      "请输入密码"           5 wrong in a row lock the account for 15 minutes (bot/services/logins.py)
  sms_code      "请输入短信验证码"      only the first time this account is bound to this WeChat user
  new_password  "请设置新密码"          only when the account must change its initial password
Then the account is bound to this WeChat user; a WeChat user it was bound to before is told.
"""

from __future__ import annotations

import logging

from bot.services.logins import AccountLocked
from bot.services.security import hash_password
from bot.wechat.api import WeChatAPIError
from conversations.flow import Audience, Checked, Choice, Context, Ended, Filled, Finished, Flow, Step
from conversations.keys import MenuKey
from conversations.parsers import PASSWORD_RULE, new_password, username
from conversations.verification import code_step
from models import AccountKind

log = logging.getLogger(__name__)

PURPOSE = "login"
KINDS = {"个人": AccountKind.PERSONAL, "单位": AccountKind.UNIT}
LOCKED_NEXT = "到时回复「登录」重新登录；忘记了密码请回复「忘记密码」，重设后马上可以登录。"
SIGNED_OUT_ELSEWHERE = (
    "您的居住证助手账号已在另一个微信上登录，本微信已解除绑定。如果不是您本人操作，请尽快到受理点处理。"
)


async def _check_password(password: str, ctx: Context, answers: Filled) -> Checked:
    try:
        login = await ctx.services.logins.check_password(
            username=answers["login.username"],
            password=password,
            kind=KINDS[answers["login.kind"]],
            openid=ctx.openid,
            now=ctx.now,
        )
    except AccountLocked as exc:  # asking for the password again would be a dead end
        raise Ended(exc.message + LOCKED_NEXT) from None
    # The password itself is never kept: only what the next questions need to know.
    facts = {
        "account_id": login.account_id,
        "trusted": login.trusted,
        "must_change": login.must_change_password,
        "phone": login.phone,
    }
    return Checked("已验证", {"login": facts})


def _needs_code(filled: Filled) -> bool:
    return not filled.facts["login"]["trusted"]


def _must_change(filled: Filled) -> bool:
    return bool(filled.facts["login"]["must_change"])


async def _hash_new_password(password: str, ctx: Context, answers: Filled) -> str:
    new_password(password, username=answers["login.username"])
    return await hash_password(password)


async def _bind(ctx: Context, answers: Filled) -> Finished:
    checked = answers.facts["login"]
    previous = await ctx.services.accounts.bind(
        checked["account_id"], ctx.openid, new_password_hash=answers.get("login.new_password")
    )
    if previous is not None:
        await tell(ctx, previous, SIGNED_OUT_ELSEWHERE)
    if answers["login.kind"] == "单位":
        return Finished("登录成功，已绑定单位账号。回复「代办」为员工申领居住证，回复「单位签注」办理签注。")
    return Finished("登录成功，已绑定个人账号。回复「菜单」查看可办理的业务。")


async def tell(ctx: Context, openid: str, text: str) -> None:
    """Tell a WeChat user, outside their conversation, what just happened to their account (a new
    binding elsewhere, a password reset): it stands all the same when they cannot be told."""
    api = ctx.services.wechat
    if api is None:
        log.warning("no WeChat API configured: a WeChat user was not told of a change to their account")
        return
    try:
        await api.send_text(openid, text)
    except WeChatAPIError as exc:
        log.warning("could not tell a WeChat user of a change to their account: %s", exc)


FLOW = Flow(
    key=MenuKey.ACCOUNT_LOGIN,
    title="登录",
    review=False,
    offered_to=frozenset({Audience.STRANGER}),
    steps=(
        Step(
            "login.kind",
            "请选择要登录的账号类型：",
            "账号类型",
            choices=(
                Choice("个人", ("个人账号", "个人账户", "个人用户")),
                Choice("单位", ("单位账号", "单位账户", "单位用户", "企业", "企业账号", "公司", "公司账号")),
            ),
        ),
        Step("login.username", "请输入用户名：", "用户名", parse=username),
        Step(
            "login.password",
            "请输入密码：",
            "密码",
            parse=lambda text: text.strip(),
            check=_check_password,
            depends_on=("login.kind", "login.username"),
            show=lambda v: "已验证",
        ),
        code_step(
            "login.sms_code",
            "第一次在这个微信上登录，需要短信验证。验证码已发送到账号登记的手机，请输入6位验证码；没有收到请回复「重发」：",
            purpose=PURPOSE,
            restart=MenuKey.ACCOUNT_LOGIN,
            phone=lambda filled: filled.facts["login"]["phone"],
            when=_needs_code,
            depends_on=("login.password",),
        ),
        Step(
            "login.new_password",
            f"这是第一次登录，请设置新密码（{PASSWORD_RULE}）：",
            "新密码",
            parse=lambda text: text,
            check=_hash_new_password,
            when=_must_change,
            depends_on=("login.password",),
            show=lambda v: "已设置（不显示）",
        ),
    ),
    submit=_bind,
)
