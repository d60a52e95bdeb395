"""The endorsement cycle, as tables of dated cases (RULES.md §4 and its worked examples 1-6)."""

from __future__ import annotations

from datetime import date

import pytest

from models.permit_cycle import permit_status, window
from models.rules import Rules

D = date
CIVIL = Rules()
DAY_BEFORE = Rules(endorsement_convention="day_before")


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
    ],
)
def test_windows_are_the_60_days_ending_on_each_anniversary(issued, n, opens, closes):
    assert window(issued, n, CIVIL) == (opens, closes)


def test_the_other_reading_shifts_the_window_one_day_earlier():
    assert window(D(2025, 3, 10), 1, DAY_BEFORE) == (D(2026, 1, 9), D(2026, 3, 9))


@pytest.mark.parametrize(
    ("issued", "endorsed", "as_of", "state", "deadline"),
    [
        (D(2025, 3, 10), None, D(2026, 1, 9), "active", D(2026, 3, 10)),  # example 3: the day before it opens
        (D(2025, 3, 10), None, D(2026, 1, 10), "window", D(2026, 3, 10)),
        (D(2025, 3, 10), None, D(2026, 3, 10), "window", D(2026, 3, 10)),
        (D(2025, 3, 10), None, D(2026, 3, 11), "suspended", D(2026, 3, 10)),  # example 2
        (D(2025, 3, 10), None, D(2028, 3, 10), "suspended", D(2026, 3, 10)),  # last 补办 day
        (D(2025, 3, 10), None, D(2028, 3, 11), "cancelled", D(2026, 3, 10)),
        (D(2025, 3, 10), D(2026, 2, 1), D(2026, 6, 1), "active", D(2027, 3, 10)),  # example 1: anchor kept
        (D(2025, 3, 10), D(2026, 2, 1), D(2027, 1, 10), "window", D(2027, 3, 10)),
        (D(2025, 3, 10), D(2026, 7, 15), D(2027, 5, 17), "window", D(2027, 7, 15)),  # example 4: 补办 re-anchors
        (D(2025, 3, 10), D(2026, 7, 15), D(2027, 7, 16), "suspended", D(2027, 7, 15)),
        (D(2025, 3, 10), D(2026, 7, 15), D(2029, 7, 16), "cancelled", D(2027, 7, 15)),
        (D(2024, 2, 29), D(2025, 1, 15), D(2026, 3, 1), "suspended", D(2026, 2, 28)),  # example 5: 2026 missed
        (D(2024, 2, 29), D(2025, 1, 15), D(2028, 3, 1), "cancelled", D(2026, 2, 28)),
        (D(2022, 5, 20), None, D(2023, 5, 21), "suspended", D(2023, 5, 20)),  # example 6
        (D(2022, 5, 20), None, D(2025, 5, 21), "cancelled", D(2023, 5, 20)),
    ],
)
def test_permit_state_on_a_date(issued, endorsed, as_of, state, deadline):
    status = permit_status(issued, endorsed, as_of, CIVIL)
    assert (status.state, status.deadline) == (state, deadline)


def test_suspension_and_cancellation_dates_of_example_2():
    status = permit_status(D(2025, 3, 10), None, D(2026, 5, 1), CIVIL)
    assert (status.suspended_from, status.cancelled_from) == (D(2026, 3, 11), D(2028, 3, 11))


def test_under_the_other_reading_use_is_suspended_on_the_anniversary():
    assert permit_status(D(2025, 3, 10), None, D(2026, 3, 10), DAY_BEFORE).state == "suspended"
    assert permit_status(D(2025, 3, 10), None, D(2026, 3, 9), DAY_BEFORE).state == "window"


def test_cancellation_counts_calendar_years_not_730_days():
    # Suspended from 2023-03-01; the two years span 2024's leap day, so 730 days would end a day early.
    status = permit_status(D(2022, 2, 28), None, D(2025, 2, 28), CIVIL)
    assert status.suspended_from == D(2023, 3, 1)
    assert (status.state, status.cancelled_from) == ("suspended", D(2025, 3, 1))
