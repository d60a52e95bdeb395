"""What one reply takes on a 375 px phone screen: WeChat's chat bubble there holds about 14 Chinese
characters a line (a Latin letter or digit takes half of one), and about 20 lines fit one screen."""

from __future__ import annotations

import math
import re

from bot.text import width

CHARS_PER_LINE = 14
LINES_PER_SCREEN = 20


_LINK = re.compile(r'<a href="[^"]*">([^<]*)</a>')


def lines_on_screen(reply: str) -> int:
    """The lines `reply` wraps to in the bubble (an empty line still takes one; a link shows its label)."""
    reply = _LINK.sub(r"\1", reply)
    return sum(max(1, math.ceil(width(line) / CHARS_PER_LINE)) for line in reply.split("\n"))


def fits_one_screen(reply: str) -> bool:
    return lines_on_screen(reply) <= LINES_PER_SCREEN
