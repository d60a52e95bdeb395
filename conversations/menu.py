"""The menu's three groups, one list for both menus: the account's custom menu (handlers/menu.py)
and the text menu the bot replies with (Engine.menu), so a resident finds a service under the same
name in both. A flow in no group is listed under the last one."""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import width
from conversations.keys import MenuKey

GROUPS: tuple[tuple[str, tuple[MenuKey, ...]], ...] = (
    ("居住证", (MenuKey.ELIGIBILITY, MenuKey.PERMIT_APPLY, MenuKey.ENDORSE, MenuKey.RECEIPTS, MenuKey.PROGRESS)),
    (
        "登记查询",
        (
            MenuKey.RESIDENCE_REGISTER,
            MenuKey.ACCEPTANCE_POINTS,
            MenuKey.REMINDERS,
            MenuKey.UNIT_APPLY,
            MenuKey.UNIT_ENDORSE,
        ),
    ),
    ("我的账号", (MenuKey.ACCOUNT_REGISTER, MenuKey.ACCOUNT_LOGIN, MenuKey.REALNAME, MenuKey.ACCOUNT_LOGOUT)),
)
# A line of the text menu holds this many Chinese characters on a 375 px phone (tests/screen.py).
LINE_WIDTH = 14


def grouped(keys: Sequence[MenuKey]) -> list[tuple[str, list[MenuKey]]]:
    """`keys` sorted into the groups, in menu order; groups none of them is in are left out."""
    present = set(keys)
    placed = {key for _, members in GROUPS for key in members}
    groups = [(name, [k for k in members if k in present]) for name, members in GROUPS]
    groups[-1][1].extend(k for k in keys if k not in placed)
    return [(name, members) for name, members in groups if members]


def in_menu_order(keys: Sequence[MenuKey]) -> list[MenuKey]:
    """The order the text menu numbers them in."""
    return [key for _, members in grouped(keys) for key in members]


def text_menu(keys: Sequence[MenuKey]) -> str:
    """Each group's name, then its services numbered, several to a line, wrapped to the phone's width."""
    lines: list[str] = []
    number = 0
    for name, members in grouped(keys):
        lines.append(f"【{name}】")
        line = ""
        for key in members:
            number += 1
            entry = f"{number}.{key.button}"  # the custom menu's name for it, a keyword too
            candidate = f"{line} {entry}" if line else entry
            if width(candidate) > LINE_WIDTH and line:
                lines.append(line)
                candidate = entry
            line = candidate
        lines.append(line)
    return "\n".join(lines)
