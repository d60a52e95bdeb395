"""The endorsement cycle, as tables of dated cases (RULES.md §4 and its worked examples 1-6)."""

from __future__ import annotations

from datetime import date

import pytest

from models.endorsement import EndorsementKind
from models.permit_cycle import Reading, endorsing, permit_status, read_import, window
from models.rules import Rules

D = date
CIVIL = Rules()
DAY_BEFORE = Rules(endorsement_convention="day_before")
REGULAR, LATE = EndorsementKind.REGULAR, EndorsementKind.LATE


@pytest.mark.parametrize(
    ("issued", "n", "opens", "closes"),
    [
        (D(2025, 3, 10), 1, D(2026, 1, 10), D(2026, 3, 10)),  # example 1
        (D(2025, 3, 10), 2, D(2027, 1, 10), D(2027, 3, 10)),
        (D(2025, 3, 10), 3, D(2028, 1, 11), D(2028, 3, 10)),  # 2028 is a leap year
        (D(2024, 2, 29), 1, D(2024, 12, 31), D(2025, 2, 28)),  # example 5
        (D(2024, 2, 29), 2, D(2025, 12, 31), D(2026, 2, 28)),
        (D(2024, 2, 29), 3, D(2026, 12, 31), D(2027, 2, 28)),
        (D(2024, 2, 29), 4, D(2028, 1, 1), D(2028, 2, 29)),
        (D(2026, 7, 15), 1, D(2027, 5, 17), D(2027, 7, 15)),  # example 4, after 补办
        (D(2025, 8, 1), 1, D(2026, 6, 3), D(2026, 8, 1)),  # example 6, the new permit
        (D(2025, 1, 31), 1, D(2025, 12, 3), D(2026, 1, 31)),  # a month's end
        (D(2024, 12, 31), 1, D(2025, 11, 2), D(2025, 12, 31)),  # the year's end
    ],
)
def test_windows_are_the_60_days_ending_on_each_anniversary(issued, n, opens, closes):
    assert window(issued, n, CIVIL) == (opens, closes)


@pytest.mark.parametrize(
    ("issued", "n", "opens", "closes"),
    [
        (D(2025, 3, 10), 1, D(2026, 1, 9), D(2026, 3, 9)),
        (D(2024, 2, 29), 1, D(2024, 12, 30), D(2025, 2, 27)),
        (D(2024, 2, 29), 4, D(2027, 12, 31), D(2028, 2, 28)),
    ],
)
def test_the_other_reading_shifts_the_window_one_day_earlier(issued, n, opens, closes):
    assert window(issued, n, DAY_BEFORE) == (opens, closes)


# (anchor, the deadline of the last period closed, as of, state, deadline of the current period)
@pytest.mark.parametrize(
    ("anchor", "through", "as_of", "state", "deadline"),
    [
        (D(2025, 3, 10), None, D(2026, 1, 9), "active", D(2026, 3, 10)),  # example 3: the day before it opens
        (D(2025, 3, 10), None, D(2026, 1, 10), "window", D(2026, 3, 10)),
        (D(2025, 3, 10), None, D(2026, 3, 10), "window", D(2026, 3, 10)),
        (D(2025, 3, 10), None, D(2026, 3, 11), "suspended", D(2026, 3, 10)),  # example 2
        (D(2025, 3, 10), None, D(2028, 3, 10), "suspended", D(2026, 3, 10)),  # last 补办 day
        (D(2025, 3, 10), None, D(2028, 3, 11), "cancelled", D(2026, 3, 10)),
        (D(2025, 3, 10), D(2026, 3, 10), D(2026, 6, 1), "active", D(2027, 3, 10)),  # example 1: anchor kept
        (D(2025, 3, 10), D(2026, 3, 10), D(2027, 1, 10), "window", D(2027, 3, 10)),
        (D(2025, 3, 10), D(2027, 3, 10), D(2028, 1, 11), "window", D(2028, 3, 10)),  # the third window
        (D(2026, 7, 15), D(2026, 3, 10), D(2027, 5, 17), "window", D(2027, 7, 15)),  # example 4: 补办 re-anchors
        (D(2026, 7, 15), D(2026, 3, 10), D(2027, 7, 16), "suspended", D(2027, 7, 15)),
        (D(2026, 7, 15), D(2026, 3, 10), D(2029, 7, 16), "cancelled", D(2027, 7, 15)),
        (D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), "window", D(2026, 2, 28)),  # example 5
        (D(2024, 2, 29), D(2025, 2, 28), D(2026, 3, 1), "suspended", D(2026, 2, 28)),  # 2026 missed
        (D(2024, 2, 29), D(2025, 2, 28), D(2028, 2, 29), "suspended", D(2026, 2, 28)),
        (D(2024, 2, 29), D(2025, 2, 28), D(2028, 3, 1), "cancelled", D(2026, 2, 28)),
        (D(2024, 2, 29), D(2027, 2, 28), D(2028, 1, 1), "window", D(2028, 2, 29)),
        (D(2022, 5, 20), None, D(2023, 5, 21), "suspended", D(2023, 5, 20)),  # example 6
        (D(2022, 5, 20), None, D(2025, 5, 21), "cancelled", D(2023, 5, 20)),
        (D(2025, 8, 1), None, D(2026, 6, 3), "window", D(2026, 8, 1)),  # example 6, the new permit
    ],
)
def test_permit_state_on_a_date(anchor, through, as_of, state, deadline):
    status = permit_status(anchor, through, as_of, CIVIL)
    assert (status.state, status.deadline) == (state, deadline)


def test_suspension_and_cancellation_dates_of_example_2():
    status = permit_status(D(2025, 3, 10), None, D(2026, 5, 1), CIVIL)
    assert (status.suspended_from, status.cancelled_from) == (D(2026, 3, 11), D(2028, 3, 11))


def test_under_the_other_reading_use_is_suspended_on_the_anniversary():
    assert permit_status(D(2025, 3, 10), None, D(2026, 3, 10), DAY_BEFORE).state == "suspended"
    assert permit_status(D(2025, 3, 10), None, D(2026, 3, 9), DAY_BEFORE).state == "window"
    assert permit_status(D(2025, 3, 10), None, D(2026, 1, 9), DAY_BEFORE).state == "window"
    assert permit_status(D(2025, 3, 10), None, D(2026, 1, 8), DAY_BEFORE).state == "active"


def test_cancellation_counts_calendar_years_not_730_days():
    # Suspended from 2023-03-01; the two years span 2024's leap day, so 730 days would end a day early.
    status = permit_status(D(2022, 2, 28), None, D(2025, 2, 28), CIVIL)
    assert status.suspended_from == D(2023, 3, 1)
    assert (status.state, status.cancelled_from) == ("suspended", D(2025, 3, 1))


# Endorsing on a date in the chat: (anchor, through, on) → what it is, or None when refused.
@pytest.mark.parametrize(
    ("anchor", "through", "on", "reading"),
    [
        (D(2025, 3, 10), None, D(2026, 1, 9), None),  # example 3: refused, the window opens 2026-01-10
        (D(2025, 3, 10), None, D(2026, 2, 1), Reading(REGULAR, D(2026, 3, 10), D(2025, 3, 10))),  # example 1
        (D(2025, 3, 10), None, D(2026, 7, 15), Reading(LATE, D(2026, 3, 10), D(2026, 7, 15))),  # example 4
        (D(2025, 3, 10), None, D(2028, 3, 10), Reading(LATE, D(2026, 3, 10), D(2028, 3, 10))),  # the last day
        (D(2025, 3, 10), None, D(2028, 3, 11), None),  # cancelled (example 2)
        (D(2026, 7, 15), D(2026, 3, 10), D(2027, 6, 1), Reading(REGULAR, D(2027, 7, 15), D(2026, 7, 15))),
    ],
)
def test_endorsing_on_a_date(anchor, through, on, reading):
    assert endorsing(permit_status(anchor, through, on, CIVIL), on) == reading


def test_after_endorsing_in_the_window_the_next_window_keeps_the_issue_anchor():
    # Example 1: endorsed 2026-02-01 → next window 2027-01-10 … 2027-03-10.
    after = permit_status(D(2025, 3, 10), D(2026, 3, 10), D(2026, 2, 1), CIVIL)
    assert (after.state, after.window_opens, after.window_closes) == ("active", D(2027, 1, 10), D(2027, 3, 10))


def test_after_a_late_endorsement_the_cycle_restarts_on_its_date():
    # Example 4: 补办 on 2026-07-15 → next window 2027-05-17 … 2027-07-15; missed: cancelled 2029-07-16.
    after = permit_status(D(2026, 7, 15), D(2026, 3, 10), D(2026, 7, 15), CIVIL)
    assert (after.state, after.window_opens, after.window_closes) == ("active", D(2027, 5, 17), D(2027, 7, 15))
    assert (after.suspended_from, after.cancelled_from) == (D(2027, 7, 16), D(2029, 7, 16))


def test_a_regular_endorsement_after_a_late_one_keeps_the_late_anchor():
    # The 补办 of example 4, then the regular endorsement of its first period: the next deadline is
    # the 补办's second anniversary, not a year from the regular endorsement's date.
    after = permit_status(D(2026, 7, 15), D(2027, 7, 15), D(2027, 6, 1), CIVIL)
    assert (after.deadline, after.window_opens, after.window_closes) == (D(2028, 7, 15), D(2028, 5, 17), D(2028, 7, 15))


# An imported last_endorsed_on read against the permit's anchor and what is on record already:
# (anchor, through, the imported date) → what it is, or None when it adds nothing.
@pytest.mark.parametrize(
    ("anchor", "through", "on", "reading"),
    [
        (D(2025, 3, 10), None, D(2026, 2, 1), Reading(REGULAR, D(2026, 3, 10), D(2025, 3, 10))),  # in window 1
        (D(2025, 3, 10), None, D(2027, 1, 10), Reading(REGULAR, D(2027, 3, 10), D(2025, 3, 10))),  # in window 2
        (D(2025, 3, 10), None, D(2026, 7, 15), Reading(LATE, D(2026, 3, 10), D(2026, 7, 15))),  # example 4
        (D(2025, 3, 10), None, D(2025, 6, 1), Reading(LATE, D(2026, 3, 10), D(2025, 6, 1))),  # before any window
        (D(2025, 3, 10), None, D(2028, 1, 10), Reading(LATE, D(2027, 3, 10), D(2028, 1, 10))),  # after window 2
        (D(2025, 3, 10), D(2026, 3, 10), D(2026, 3, 1), None),  # window 1, closed already
        (D(2025, 3, 10), D(2026, 3, 10), D(2026, 7, 15), Reading(LATE, D(2027, 3, 10), D(2026, 7, 15))),
        (D(2026, 7, 15), D(2026, 3, 10), D(2027, 6, 1), Reading(REGULAR, D(2027, 7, 15), D(2026, 7, 15))),  # kept
        (D(2026, 7, 15), D(2026, 3, 10), D(2026, 7, 15), None),  # the 补办 itself
        (D(2024, 2, 29), None, D(2025, 2, 28), Reading(REGULAR, D(2025, 2, 28), D(2024, 2, 29))),
        (D(2024, 2, 29), None, D(2025, 3, 1), Reading(LATE, D(2025, 2, 28), D(2025, 3, 1))),
        (D(2024, 2, 29), D(2027, 2, 28), D(2028, 2, 29), Reading(REGULAR, D(2028, 2, 29), D(2024, 2, 29))),
    ],
)
def test_an_imported_endorsement_date_is_read_against_the_anchor(anchor, through, on, reading):
    assert read_import(anchor, through, on, CIVIL) == reading


def test_under_the_other_reading_the_anniversary_itself_is_outside_the_window():
    assert read_import(D(2025, 3, 10), None, D(2026, 3, 10), DAY_BEFORE) == Reading(
        LATE, D(2026, 3, 10), D(2026, 3, 10)
    )
    assert read_import(D(2025, 3, 10), None, D(2026, 1, 9), DAY_BEFORE) == Reading(
        REGULAR, D(2026, 3, 10), D(2025, 3, 10)
    )
