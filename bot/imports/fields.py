"""Checks of one CSV cell each: the cell's text in, a typed value out, or `Invalid` with a short reason.

The answer parsers of conversations/parsers.py do the work, so a value is accepted from a file
exactly when the bot would accept it in a chat. Their messages speak to a resident ("…，请核对后重新
输入。"); a bad-row report speaks to an operator, so only the part that says what is wrong is kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from conversations import parsers
from conversations.parsers import Invalid
from models.records import month_index

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class Cells:
    """Checks the cells of one row, collecting a reason per bad cell ("id_number: 校验位不对")."""

    __slots__ = ("reasons",)

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def __call__(self, column: str, check: Callable[..., Any], text: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return check(text, *args, **kwargs)
        except Invalid as exc:
            self.reasons.append(f"{column}: {exc.message}")
            return None

    def refuse(self, column: str, reason: str) -> None:
        self.reasons.append(f"{column}: {reason}")


def _short(message: str) -> str:
    return message.split("，请")[0].rstrip("。")


def id_number(text: str, today: date) -> str:
    """An 18-character resident ID number, upper-case X (as `parsers.resident_id`)."""
    number, reason = _id_number(text, today)
    if reason:
        raise Invalid(reason)
    return number


# One person has a row per month in a social-insurance file: the checksum and region lookups are
# done once per distinct number. Bounded, so a file of a million different people stays flat.
@lru_cache(maxsize=1 << 16)
def _id_number(text: str, today: date) -> tuple[str, str]:
    try:
        return parsers.resident_id(text, today=today), ""
    except Invalid as exc:
        return "", _short(exc.message)


# Values repeat down a file (a person's name on each of their months, an employer on each of its
# people): each distinct one is checked once. Bounded, so memory stays flat on any file.
@lru_cache(maxsize=1 << 16)
def text(value: str, max_len: int) -> str:
    """Non-empty text, trimmed, runs of whitespace made one space (as the bot stores answers)."""
    try:
        return parsers.non_empty(value, max_len=max_len)
    except Invalid as exc:
        raise Invalid(_short(exc.message)) from None


def optional_text(value: str, max_len: int) -> str:
    return text(value, max_len) if value.strip() else ""


@lru_cache(maxsize=1 << 12)
def day(value: str, *, not_after: date | None = None) -> date:
    """A date: 2025-03-01, 2025/3/1, 2025.3.1 or 2025年3月1日; `not_after` today for a past event."""
    try:
        return date.fromisoformat(parsers.flexible_date(value, not_after=not_after))
    except Invalid as exc:
        raise Invalid(_short(exc.message)) from None


def optional_day(value: str, *, not_after: date | None = None) -> date | None:
    return day(value, not_after=not_after) if value.strip() else None


@lru_cache(maxsize=1 << 12)
def month(value: str, today: date) -> int:
    """A month paid, `YYYY-MM`, not after this month; as `models.records.month_index`."""
    text = unicodedata.normalize("NFKC", value).strip()  # full-width digits, as the parsers accept them
    found = _MONTH.fullmatch(text)
    if found is None:
        raise Invalid("格式应为 YYYY-MM, 如 2025-03")
    year, number = int(found[1]), int(found[2])
    if year < 1900 or not 1 <= number <= 12:
        raise Invalid(f"{text} 不是有效月份")
    index = month_index(year, number)
    if index > month_index(today.year, today.month):
        raise Invalid("晚于本月")
    return index
