"""Which endorsement reminders fall on a day (models/reminders.py), as tables of dated cases.

The permit of the tables: issued (anchored) 2025-03-10, never endorsed, so its first period ends
on A_1 = 2026-03-10. Under the default reading (civil_code) its window is 2026-01-10 … 2026-03-10,
use is suspended from 2026-03-11 and it is cancelled from 2028-03-11; under day_before the window
is 2026-01-09 … 2026-03-09, suspended from 2026-03-10, cancelled from 2028-03-10.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date as D

import pytest

from models.permit_cycle import period_status
from models.reminders import deadlines_reminded_on, reminders_on
from models.rules import Rules

CIVIL = Rules()
DAY_BEFORE = replace(CIVIL, endorsement_convention="day_before")
ANCHOR, DEADLINE = D(2025, 3, 10), D(2026, 3, 10)
DAYS_BEFORE = [30, 7, 1]


def kinds_on(day: D, rules: Rules, days_before: list[int] = DAYS_BEFORE) -> list[str]:
    return [r.kind for r in reminders_on(period_status(ANCHOR, DEADLINE, day, rules), day, days_before)]


@pytest.mark.parametrize(
    ("day", "kinds"),
    [
        (D(2026, 1, 9), []),  # the day before the window
        (D(2026, 1, 10), ["opens"]),  # A_1 - 59
        (D(2026, 2, 7), []),
        (D(2026, 2, 8), ["due30"]),  # 30 days before the window's last day
        (D(2026, 3, 3), ["due7"]),
        (D(2026, 3, 9), ["due1"]),
        (D(2026, 3, 10), []),  # the last day itself: not configured (0)
        (D(2026, 3, 11), ["suspended"]),  # A_1 + 1
        (D(2027, 3, 11), []),  # a year suspended: nothing
        (D(2028, 1, 10), []),
        (D(2028, 1, 11), ["cancel60"]),  # 60 days before 2028-03-11 (2028 is a leap year)
        (D(2028, 3, 11), []),  # cancelled: nothing more
    ],
)
def test_reminders_of_a_permit_under_the_civil_code_reading(day, kinds):
    assert kinds_on(day, CIVIL) == kinds


@pytest.mark.parametrize(
    ("day", "kinds"),
    [
        (D(2026, 1, 9), ["opens"]),  # A_1 - 60
        (D(2026, 1, 10), []),
        (D(2026, 2, 7), ["due30"]),  # 30 days before 2026-03-09
        (D(2026, 3, 2), ["due7"]),
        (D(2026, 3, 8), ["due1"]),
        (D(2026, 3, 10), ["suspended"]),  # A_1
        (D(2028, 1, 10), ["cancel60"]),  # 60 days before 2028-03-10
    ],
)
def test_reminders_of_a_permit_under_the_day_before_reading(day, kinds):
    assert kinds_on(day, DAY_BEFORE) == kinds


def test_the_days_before_the_deadline_are_a_setting():
    assert kinds_on(D(2026, 3, 10), CIVIL, [0]) == ["due0"]
    assert kinds_on(D(2026, 2, 24), CIVIL, [14, 3]) == ["due14"]
    assert kinds_on(D(2026, 3, 3), CIVIL, [14, 3]) == []


def test_a_reminder_says_until_when_to_act():
    def last_day(day: D) -> D:
        [reminder] = reminders_on(period_status(ANCHOR, DEADLINE, day, CIVIL), day, DAYS_BEFORE)
        return reminder.last_day

    assert last_day(D(2026, 1, 10)) == D(2026, 3, 10)  # to endorse: the window's last day
    assert last_day(D(2026, 3, 11)) == D(2028, 3, 10)  # to 补办: the day before cancellation
    assert last_day(D(2028, 1, 11)) == D(2028, 3, 10)


def test_a_leap_day_anchor_opens_its_window_from_28_february():
    # Issued 2024-02-29: A_1 is 2025-02-28, so the window opens 59 days before, on 2024-12-31.
    status = period_status(D(2024, 2, 29), D(2025, 2, 28), D(2024, 12, 31), CIVIL)
    assert [r.kind for r in reminders_on(status, D(2024, 12, 31), DAYS_BEFORE)] == ["opens"]


@pytest.mark.parametrize(
    ("day", "deadlines"),
    [
        # cancel60 of a period that ended 2024-03-10, suspended 2026-01-09 (civil: A+1), due1,
        # due7, due30, and the window opening of 2026-03-10
        (D(2026, 1, 10), [D(2024, 3, 10), D(2026, 1, 9), D(2026, 1, 11), D(2026, 1, 17), D(2026, 2, 9),
                          D(2026, 3, 10)]),
        # 2030-02-28 is 60 days after 2029-12-30, and two periods are cancelled then: use suspended
        # from 2028-02-28 (the period ending 2028-02-27) and from 2028-02-29 (ending 2028-02-28),
        # since two years after 29 February is 28 February
        (D(2029, 12, 30), [D(2028, 2, 27), D(2028, 2, 28), D(2029, 12, 29), D(2029, 12, 31), D(2030, 1, 6),
                           D(2030, 1, 29), D(2030, 2, 27)]),
    ],
)  # fmt: skip
def test_the_scan_asks_for_exactly_the_deadlines_with_a_reminder_on_the_day(day, deadlines):
    assert deadlines_reminded_on(day, CIVIL, DAYS_BEFORE) == deadlines


def test_every_deadline_the_scan_asks_for_has_a_reminder_and_no_other_has_one():
    day = D(2026, 7, 1)
    asked = set(deadlines_reminded_on(day, CIVIL, DAYS_BEFORE))
    for offset in range(-1000, 200):
        deadline = D.fromordinal(day.toordinal() + offset)
        has = bool(reminders_on(period_status(deadline, deadline, day, CIVIL), day, DAYS_BEFORE))
        assert has == (deadline in asked), deadline
