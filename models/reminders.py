"""Which endorsement reminders fall on a day (SPEC §6, RULES.md §4), as pure functions of dates.

A permit is reminded on the day its window opens, `days_before` days before the window's last day
(each of reminders.days_before_deadline), on the day its use is suspended, and CANCELLATION_NOTICE_DAYS
before a suspended permit is cancelled. Each reminder is named by its kind and the deadline A_n of
the period it is about, which together with the permit make the push's unique key: the same
reminder found by a second scan, or by two processes, is the same row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from models.permit_cycle import PermitStatus, period_status
from models.records import add_years
from models.rules import Rules

CANCELLATION_NOTICE_DAYS = 60

Subject = Literal["opens", "due", "suspended", "cancellation"]


@dataclass(frozen=True, slots=True)
class Reminder:
    subject: Subject
    status: PermitStatus  # the permit's period as it stands on the day
    days_left: int  # until the window's last day (due) or the cancellation (cancellation); else 0

    @property
    def kind(self) -> str:
        """The reminder's name in its push key: opens, due7, suspended, cancel60."""
        if self.subject == "due":
            return f"due{self.days_left}"
        if self.subject == "cancellation":
            return f"cancel{self.days_left}"
        return self.subject

    @property
    def last_day(self) -> date:
        """The day the reminder warns about: the window's last day, or the last day before cancellation."""
        if self.subject in ("suspended", "cancellation"):
            return self.status.cancelled_from - timedelta(days=1)
        return self.status.window_closes


def reminders_on(status: PermitStatus, as_of: date, days_before: Iterable[int]) -> list[Reminder]:
    """The reminders a permit standing at `status` gets on `as_of`."""
    found: list[Reminder] = []
    if status.window_opens == as_of:
        found.append(Reminder("opens", status, 0))
    if status.state == "window":
        left = (status.window_closes - as_of).days
        found.extend(Reminder("due", status, left) for days in sorted(set(days_before), reverse=True) if days == left)
    if status.suspended_from == as_of:
        found.append(Reminder("suspended", status, 0))
    if status.state == "suspended" and (status.cancelled_from - as_of).days == CANCELLATION_NOTICE_DAYS:
        found.append(Reminder("cancellation", status, CANCELLATION_NOTICE_DAYS))
    return found


def deadlines_reminded_on(as_of: date, rules: Rules, days_before: Iterable[int]) -> list[date]:
    """Every deadline A_n whose period has a reminder on `as_of`, earliest first: what the scan
    asks the index for. A period's dates follow from its deadline alone, so each candidate day
    between the furthest cancellation notice and the furthest window opening is tried."""
    days = tuple(days_before)
    latest = as_of + timedelta(days=rules.endorsement_window_days + max(days, default=0) + 1)
    earliest = add_years(as_of, -rules.cancellation_years) - timedelta(days=rules.endorsement_window_days + 2)
    found: list[date] = []
    deadline = earliest
    while deadline <= latest:
        if reminders_on(period_status(deadline, deadline, as_of, rules), as_of, days):
            found.append(deadline)
        deadline += timedelta(days=1)
    return found
