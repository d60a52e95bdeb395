"""The account's custom menu (自定义菜单), built from the flows that exist.

WeChat allows 1-3 top-level buttons of 1-5 sub-buttons each; a CLICK sends the button's key,
which the router reads as the flow's MenuKey. The groups are the text menu's (conversations/menu.py);
groups with no existing flow are left out, so the menu never offers what is not there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conversations.keys import MenuKey
from conversations.menu import GROUPS

MAX_SUB_BUTTONS = 5


def custom_menu(existing: Iterable[MenuKey]) -> dict[str, Any]:
    """The JSON for /cgi-bin/menu/create."""
    present = set(existing)
    buttons = []
    for name, keys in GROUPS:
        subs = [{"type": "click", "name": k.button, "key": k.event_key} for k in keys if k in present]
        if subs:
            buttons.append({"name": name, "sub_button": subs[:MAX_SUB_BUTTONS]})
    return {"button": buttons}
