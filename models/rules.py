"""The Regulation's thresholds and the day-counting readings RULES.md marks unconfirmed, as one value.

The pure rules (models/eligibility.py, models/permit_cycle.py, models/endorsement_conditions.py) take
a `Rules`; the app builds it from config.yaml's `rules:` section (bot/config.py `RulesConfig.as_rules`),
tests construct it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

# The residents' dates and times are Shenzhen's, whatever the server's zone.
SHENZHEN = ZoneInfo("Asia/Shanghai")

EndorsementConvention = Literal["civil_code", "day_before"]


@dataclass(frozen=True, slots=True)
class Rules:
    # Art. 19 route A: continuous residence registration, counted from the declaration date.
    registration_months: int = 12
    # A move-in registered within this many days of the last move-out keeps registration continuous.
    registration_gap_days: int = 30
    social_insurance_consecutive_months: int = 12
    social_insurance_cumulative_months: int = 18
    social_insurance_lookback_months: int = 24
    # [U] whether the application month's contribution counts toward the months.
    current_month_counts: bool = False
    # [U] Civil Code Art. 201: the start day is not counted, so "12 months from 2024-04-01" are
    # complete at the end of 2025-04-01 and the condition is met from 2025-04-02. False: met on 04-01.
    period_met_day_after: bool = True
    # Art. 23: endorse within this many days before each full year from the issue date.
    endorsement_window_days: int = 60
    # [U] civil_code: window A_n-59 … A_n, suspended from A_n+1 (Civil Code Arts. 201-202);
    # day_before: window A_n-60 … A_n-1, suspended from A_n (other cities' practice).
    endorsement_convention: EndorsementConvention = "civil_code"
    # Art. 24: in the `endorsement_lookback_months` before the endorsement date, at least this many
    # months of residence registration and as many of social insurance, each cumulative.
    endorsement_min_months: int = 8
    endorsement_lookback_months: int = 12
    # Suspended this many calendar years in a row → cancelled.
    cancellation_years: int = 2
