"""Residents' own words for the services, in one table: data, easy for an operator to extend.

Outside a form, a message that is neither a keyword nor a menu number is read for these phrases
anywhere in it ("我的居住证怎么续签" → 签注), in text and in recognised voice alike. One service
found starts it; several are offered, at most MAX_OFFERED, as "您是想…吗？"; a greeting or thanks
with no service in it gets a short friendly answer. A phrase inside a longer phrase that also
matched does not count on its own (单位签注 is not also 签注). Each flow's own keyword counts as a
phrase of it. No learning, no scoring: the table is the whole rule, and tests/test_phrases.py
keeps it honest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conversations.keys import MenuKey

MAX_OFFERED = 3

PHRASES: dict[MenuKey, tuple[str, ...]] = {
    MenuKey.ENDORSE: ("续签", "续期", "续办", "过期", "年审", "年检", "到期"),
    MenuKey.ELIGIBILITY: (
        "办居住证",
        "申请居住证",
        "办证",
        "能不能办",
        "可以办吗",
        "办证条件",
        "资格",
        "能办",
        "可不可以办",
        "符合条件",
    ),
    MenuKey.PERMIT_APPLY: ("办居住证", "申请居住证", "办证", "申办"),
    MenuKey.ACCEPTANCE_POINTS: ("在哪办", "在哪里办", "哪里办", "去哪办", "附近", "办事大厅", "地址在哪"),
    MenuKey.PROGRESS: ("进展", "到哪一步", "办好了吗", "好了没", "查进度", "状态"),
    MenuKey.RESIDENCE_REGISTER: ("搬家", "换地址", "新地址", "住址变更", "登记住址"),
    MenuKey.ACCOUNT_LOGIN: ("登陆", "绑定账号"),
    MenuKey.REALNAME: ("实名",),
    MenuKey.FORGOT_USERNAME: ("用户名忘了", "忘了用户名", "找回用户名", "找回账号", "账号忘了", "忘记账号"),
    MenuKey.FORGOT_PASSWORD: ("密码忘了", "忘了密码", "找回密码", "重设密码", "重置密码", "密码错误", "密码不对"),
    MenuKey.CHANGE_PHONE: ("改手机号", "手机号换了", "换了手机号", "换号码", "手机号码变了", "手机号不用了"),
    MenuKey.CORRECT_DETAILS: ("改名字", "改姓名", "名字写错", "姓名写错", "名字错了", "地址写错", "地址填错"),
}

GREETINGS = ("你好", "您好", "在吗", "在不在", "哈喽", "hello", "hi")
THANKS = ("谢谢", "感谢", "多谢", "辛苦了", "thanks", "thank")

GREETING_REPLY = (
    "您好！我是居住证助手，可以办理居住登记、居住证申领和签注等。直接说您想办什么，或回复「菜单」查看全部业务。"
)
THANKS_REPLY = "不客气！还有需要随时找我，回复「菜单」查看全部业务。"
NOTHING_FITS = "抱歉，没有理解您的意思。\n请直接说想办什么（如「签注」「受理点」），或回复「菜单」查看全部业务。"


def _owners() -> dict[str, set[MenuKey]]:
    owners: dict[str, set[MenuKey]] = {}
    for key in MenuKey:
        for phrase in (key.keyword, *PHRASES.get(key, ())):
            owners.setdefault(phrase, set()).add(key)
    return owners


_OWNERS = _owners()  # the services each phrase names
# Every (phrase, service), longest first, so a longer phrase claims its span before its parts.
_LONGEST_FIRST = sorted(
    ((phrase, key) for key in MenuKey for phrase in (key.keyword, *PHRASES.get(key, ()))), key=lambda p: -len(p[0])
)


@dataclass(frozen=True, slots=True)
class Understood:
    keys: tuple[MenuKey, ...]  # the services the message names, in table order
    small_talk: str | None  # the answer to a greeting or thanks that names no service


def understand(text: str, offered: Iterable[MenuKey]) -> Understood:
    """What a free-text message asks for: the services `offered` to this resident that it names,
    or, when it names none of those, the others it names (starting one says who it is for)."""
    lowered = text.lower()
    offered = tuple(offered)
    claimed: list[tuple[int, int]] = []  # spans of longer phrases already matched
    found: set[MenuKey] = set()
    named: set[MenuKey] = set()  # found by a phrase of theirs alone
    for phrase, key in _LONGEST_FIRST:
        start = lowered.find(phrase.lower())
        if start < 0:
            continue
        span = (start, start + len(phrase))
        if any(a <= span[0] and span[1] <= b and (a, b) != span for a, b in claimed):
            continue  # part of a longer phrase that matched
        claimed.append(span)
        found.add(key)
        if len(_OWNERS[phrase]) == 1:
            named.add(key)
    # "我能不能办居住证": 办居住证 fits 办证资格 and 申领, 能不能办 only 办证资格, which is meant.
    found = named or found
    keys = tuple(key for key in offered if key in found) or tuple(key for key in MenuKey if key in found)
    if keys:
        return Understood(keys, None)
    if any(word in lowered for word in THANKS):
        return Understood((), THANKS_REPLY)
    if any(word in lowered for word in GREETINGS):
        return Understood((), GREETING_REPLY)
    return Understood((), None)


def offer(keys: tuple[MenuKey, ...]) -> str:
    """The "您是想…吗？" of several services, at most MAX_OFFERED of them, each by its keyword."""
    lines = [f"{i}. {key.keyword}：{key.summary}" for i, key in enumerate(keys[:MAX_OFFERED], 1)]
    return "您是想办理下面哪一项吗？\n" + "\n".join(lines) + "\n请回复序号或关键词。"
