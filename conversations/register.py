"""注册 (ACCOUNT_REGISTER): open a personal account and bind it to this WeChat user.

Questions, in order:
  name           "请输入您的姓名"            as on the ID card
  id_number      "请输入18位身份证号码"       checked (GB 11643); a claim until real-name verification
  hukou_address  "请输入户籍地址"
  phone          "请输入手机号码"             a 6-digit code is sent to it
  sms_code       "请输入短信验证码"           「重发」 sends a new one
  username       "请设置用户名"               4-20 letters, digits or _; unique
  password       "请设置密码"                 8+ with letters and digits; not the username or ID digits
  agreement      "用户协议 … 回复「同意」"
  review         确认 creates the account and binds it; refused if a verified account holds the ID number
The ID number is kept encrypted and the password only as its hash, in the conversation too. Whether
an account holds the number is told only at 确认, after this resident's phone passed its SMS code,
in the same words whoever holds it: the ID number question tells a stranger nothing.
"""

from __future__ import annotations

from bot.services.security import ProtectedId, hash_password
from conversations.flow import Answers, Asked, Audience, Choice, Context, Finished, Flow, Step
from conversations.keys import MenuKey
from conversations.parsers import (
    PASSWORD_RULE_WITH_ID,
    Invalid,
    cn_mobile,
    new_password,
    non_empty,
    person_name,
    resident_id,
    username,
)
from conversations.requirements import not_bound
from conversations.verification import code_step

PURPOSE = "register"
AGREEMENT = (
    "用户协议（摘要）：您提交的信息只用于深圳市居住登记和居住证业务；请如实填写，"
    "提供虚假信息须承担法律责任；账号仅限本人使用，请妥善保管密码。"
    "\n回复「同意」继续，回复「取消」放弃注册。"
)


def _id_number(text: str, asked: Asked) -> str:
    return resident_id(text, today=asked.today)


async def _protect_id(number: str, ctx: Context, answers: Answers) -> dict[str, str]:
    protected = ctx.services.security.protect_id(number)
    return {"encrypted": protected.encrypted, "lookup_hash": protected.lookup_hash, "masked": protected.masked}


async def _free_username(name: str, ctx: Context, answers: Answers) -> str:
    if await ctx.services.accounts.username_taken(name):
        raise Invalid(f"用户名{name}已被使用，请换一个。")
    return name


async def _hash_password(password: str, ctx: Context, answers: Answers) -> str:
    id_number = ctx.services.security.decrypt(answers["register.id_number"]["encrypted"])
    new_password(password, username=answers["register.username"], id_number=id_number)
    return await hash_password(password)


async def _create(ctx: Context, answers: Answers) -> Finished:
    id_number = answers["register.id_number"]
    account = await ctx.services.accounts.register_personal(
        openid=ctx.openid,
        name=answers["register.name"],
        id_number=ProtectedId(id_number["encrypted"], id_number["lookup_hash"], id_number["masked"]),
        hukou_address=answers["register.hukou_address"],
        phone=answers["register.phone"],
        username=answers["register.username"],
        password_hash=answers["register.password"],
    )
    return Finished(
        f"注册成功！用户名：{account.username}，已与本微信绑定。\n下一步：回复「实名认证」完成实名认证。",
        reference=f"用户名：{account.username}",
    )


FLOW = Flow(
    key=MenuKey.ACCOUNT_REGISTER,
    title="注册个人账号",
    offered_to=frozenset({Audience.STRANGER}),
    requires=(not_bound,),
    intro="注册个人账号，共8个问题，随时可以回复「返回」或「取消」。",
    steps=(
        Step("register.name", "请输入您的姓名（与身份证一致）：", "姓名", parse=person_name),
        Step(
            "register.id_number",
            "请输入您的18位身份证号码：",
            "身份证号码",
            parse_in=_id_number,
            check=_protect_id,
            show=lambda v: v["masked"],
        ),
        Step(
            "register.hukou_address", "请输入户籍地址（身份证上的住址）：", "户籍地址", parse=non_empty, sensitive=True
        ),
        Step(
            "register.phone",
            "请输入您的手机号码，我们会发送短信验证码：",
            "手机号码",
            parse=cn_mobile,
            sensitive=True,
        ),
        code_step(
            "register.sms_code",
            "请输入短信验证码（6位数字）；没有收到请回复「重发」：",
            purpose=PURPOSE,
            restart=MenuKey.ACCOUNT_REGISTER,
            phone=lambda filled: filled["register.phone"],
            depends_on=("register.phone",),
        ),
        Step(
            "register.username",
            "请设置用户名（4到20位字母、数字或下划线）：",
            "用户名",
            parse=username,
            check=_free_username,
        ),
        Step(
            "register.password",
            f"请设置密码（{PASSWORD_RULE_WITH_ID}）：",
            "密码",
            parse=lambda text: text,
            check=_hash_password,
            depends_on=("register.username", "register.id_number"),
            show=lambda v: "已设置（不显示）",
        ),
        # Only an explicit yes: 好的 or 嗯 may mean "I have read it", not "I agree".
        Step(
            "register.agreement",
            AGREEMENT,
            "用户协议",
            choices=(Choice("同意", ("我同意", "同意协议", "同意用户协议", "我已阅读并同意")),),
            short="请回复「同意」继续，回复「取消」放弃注册。",
        ),
    ),
    submit=_create,
)
