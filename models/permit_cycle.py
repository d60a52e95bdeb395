"""The endorsement cycle of a residence permit (RULES.md §4), as pure functions of dates.

Anchor D is the issue date, or the date of the last late endorsement (补办), which restarts the
cycle; period n ends on A_n = D + n years (29 Feb → 28 Feb). Under the default reading (Civil Code
Arts. 201-202) the window is A_n-59 … A_n and use is suspended from A_n+1; under `day_before`
the window is A_n-60 … A_n-1 and use is suspended from A_n. A permit suspended for
`cancellation_years` calendar years is cancelled.

Where a permit stands follows from its anchor and the deadline of the last period an endorsement
closed (`endorsed_through`, None before the first): the current period is the first one of the
anchor that ends after it. A regular endorsement closes a period of the anchor; a late one closes
the period that lapsed, which ends before its own date and so before every period of the new
anchor. So a regular endorsement after a 补办 moves on one period of the 补办's anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from models.endorsement import EndorsementKind
from models.records import add_years
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


@dataclass(frozen=True, slots=True)
class Reading:
    """An endorsement as the cycle reads it: regular or late, the period it closes, and the anchor after it."""

    kind: EndorsementKind
    deadline: date
    anchor: date


def window(anchor: date, n: int, rules: Rules) -> tuple[date, date]:
    """The endorsement window of period n."""
    return window_before(add_years(anchor, n), rules)


def window_before(deadline: date, rules: Rules) -> tuple[date, date]:
    """The endorsement window of the period ending on `deadline`."""
    days = rules.endorsement_window_days
    if rules.endorsement_convention == "civil_code":
        return deadline - timedelta(days=days - 1), deadline
    return deadline - timedelta(days=days), deadline - ONE_DAY


def current_period(anchor: date, endorsed_through: date | None) -> int:
    """n of the period running after the last one closed: the first of the anchor ending after it."""
    n = 1
    while endorsed_through is not None and add_years(anchor, n) <= endorsed_through:
        n += 1
    return n


def permit_status(anchor: date, endorsed_through: date | None, as_of: date, rules: Rules) -> PermitStatus:
    return period_status(anchor, add_years(anchor, current_period(anchor, endorsed_through)), as_of, rules)


def period_status(anchor: date, deadline: date, as_of: date, rules: Rules) -> PermitStatus:
    """Where a permit stands whose current period ends on `deadline` (Permit.deadline_on)."""
    opens, closes = window_before(deadline, rules)
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
    return PermitStatus(state, anchor, deadline, opens, closes, suspended_from, cancelled_from)


def deadline_after(reading: Reading) -> date:
    """The deadline of the period running once `reading` is on record: the next one of its anchor."""
    return add_years(reading.anchor, current_period(reading.anchor, reading.deadline))


def endorsing(status: PermitStatus, on: date) -> Reading | None:
    """What endorsing on `on` (the status's date) is: regular in the window, late (补办) while
    suspended; None before the window and once cancelled, when there is nothing to endorse."""
    if status.state == "window":
        return Reading(EndorsementKind.REGULAR, status.deadline, status.anchor)
    if status.state == "suspended":
        return Reading(EndorsementKind.LATE, status.deadline, on)
    return None


def read_import(anchor: date, endorsed_through: date | None, on: date, rules: Rules) -> Reading | None:
    """An endorsement date another department reports, read as RULES.md says ("From an import"):
    inside a window of the anchor, a regular endorsement of that period; outside every window, a
    late one that re-anchors, closing the period that lapsed: the latest of the anchor that ended
    before it and is not closed yet, or else the current one. None when it falls in a window
    already closed (that endorsement is on record already), or on or before the anchor.
    """
    if on <= anchor:
        return None
    n = current_period(anchor, endorsed_through)
    k = 1
    while True:
        opens, closes = window(anchor, k, rules)
        if on < opens:
            lapsed = max(n, k - 1)
            return Reading(EndorsementKind.LATE, add_years(anchor, lapsed), on)
        if on <= closes:
            if k < n:
                return None
            return Reading(EndorsementKind.REGULAR, add_years(anchor, k), anchor)
        k += 1
