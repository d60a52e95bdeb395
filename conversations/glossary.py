"""Every term the bot's replies use, the plain words residents know it by, and the variants the
replies never use, so that one thing has one name across every flow.

A term marked `explain` is official wording residents may not know: a question that asks for it
says the plain words too (tests/test_glossary.py reads every flow's questions). The variants are
what residents themselves may type (续签, 年审, 办事大厅: conversations/phrases.py understands
those); the bot answers with the term. No article numbers in replies either: residents cite no law.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    plain: str  # the words residents know it by
    variants: tuple[str, ...] = ()  # other names, never used in a reply
    explain: bool = False  # asking for it says the plain words too


TERMS = (
    Term("居住登记", "告诉政府您住在哪里（入住或搬离）", ("暂住登记", "流动人口登记")),
    Term("居住证", "深圳居住证", ("暂住证",)),
    Term("申领", "第一次办居住证", ()),
    Term("签注", "居住证每年一次的续期", ("签证", "续签", "年审", "年检")),
    Term("补办签注", "过了签注期以后补签", ()),
    Term("暂停使用", "没按时签注，居住证先不能用", ("中止",)),
    Term("注销", "暂停使用满两年，居住证作废", ()),
    Term("受理点", "办居住证的窗口（派出所、街道办）", ("办事大厅", "办证点", "服务点", "办事点", "服务大厅")),
    Term("受理回执", "办理后给您的凭证", ("回执单",)),
    Term("数码照片图像号", "照相馆给的数码照片回执上的图像号", (), explain=True),
    Term("服务处所", "在哪里上班或上学", (), explain=True),
    Term("房屋编码", "门牌上二维码旁的编号", (), explain=True),
    Term("来深事由", "为什么来深圳", (), explain=True),
    Term("户籍地址", "身份证上的住址", ("户口地址", "户口所在地"), explain=True),
    Term("统一社会信用代码", "营业执照上的18位代码", (), explain=True),
    Term("实名认证", "用身份证照片核对是您本人", ()),
    Term("社保", "社会保险（养老、医疗、工伤、失业、生育，任意一项）", ()),
    Term("账号", "在这里注册的用户名和密码", ("账户",)),
    Term("身份证号码", "身份证上的18位号码", ()),
    Term("短信验证码", "手机短信里的6位数字", ("短信码",)),
)

# "第十九条", "第二十三条第一项": citations residents cannot use.
ARTICLE = re.compile(r"第[一二三四五六七八九十百零〇\d]+条")
# 身份证号 without 码 is the one variant that is a prefix of its term.
SHORT_ID = re.compile(r"身份证号(?!码)")


def misnamed(reply: str) -> list[str]:
    """The variants and citations in `reply`, each as "variant → term"; empty when it keeps to the terms."""
    found = [f"{v} → {t.term}" for t in TERMS for v in t.variants if v in reply]
    found += [f"{m} → 不引用条文" for m in ARTICLE.findall(reply)]
    found += ["身份证号 → 身份证号码" for _ in SHORT_ID.findall(reply)]
    return found
