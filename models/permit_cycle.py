"""The endorsement cycle of a residence permit (RULES.md §4), as pure functions of dates.

Anchor D is the issue date (or the date of a late endorsement, 补办, which restarts the cycle);
period n ends on A_n = D + n years (29 Feb → 28 Feb). Under the default reading (Civil Code
Arts. 201-202) the window is A_n-59 … A_n and use is suspended from A_n+1; under `day_before`
the window is A_n-60 … A_n-1 and use is suspended from A_n. A permit suspended for
`cancellation_years` calendar years is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from models.rules import Rules

ONE_DAY = timedelta(days=1)
State = Literal["active", "window", "suspended", "cancelled"]


@dataclass(frozen=True, slots=True)
class PermitStatus:
    state: State
    anchor: date  # the issue date, or the last late endorsement
    deadline: date  # A_n: the end of the current period
    window_opens: date
    window_closes: date
    suspended_from: date  # when use is (or will be) suspended if not endorsed
    cancelled_from: date  # when it is (or will be) cancelled if not endorsed meanwhile


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb in a common year: the month's last day
        return day.replace(year=day.year + years, day=28)


def window(anchor: date, n: int, rules: Rules) -> tuple[date, date]:
    """The endorsement window of period n."""
    deadline = add_years(anchor, n)
    days = rules.endorsement_window_days
    if rules.endorsement_convention == "civil_code":
        return deadline - timedelta(days=days - 1), deadline
    return deadline - timedelta(days=days), deadline - ONE_DAY


def current_period(issued_on: date, last_endorsed_on: date | None, rules: Rules) -> tuple[date, int]:
    """(anchor, n) of the period that runs after the last endorsement.

    An endorsement inside a window of the issue anchor keeps the anchor and moves on one period;
    one outside every window was a late endorsement (补办) and is the new anchor.
    """
    if last_endorsed_on is None:
        return issued_on, 1
    k = 1
    while True:
        opens, closes = window(issued_on, k, rules)
        if last_endorsed_on < opens:
            return last_endorsed_on, 1
        if last_endorsed_on <= closes:
            return issued_on, k + 1
        k += 1


def permit_status(issued_on: date, last_endorsed_on: date | None, as_of: date, rules: Rules) -> PermitStatus:
    anchor, n = current_period(issued_on, last_endorsed_on, rules)
    opens, closes = window(anchor, n, rules)
    suspended_from = closes + ONE_DAY
    cancelled_from = add_years(suspended_from, rules.cancellation_years)
    if as_of < opens:
        state: State = "active"
    elif as_of <= closes:
        state = "window"
    elif as_of < cancelled_from:
        state = "suspended"
    else:
        state = "cancelled"
    return PermitStatus(state, anchor, add_years(anchor, n), opens, closes, suspended_from, cancelled_from)
