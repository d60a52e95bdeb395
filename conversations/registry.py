"""The flows that exist. The main menu is built from this list, in this order."""

from conversations import (
    acceptance_points,
    change_phone,
    correct_details,
    eligibility,
    endorse,
    login,
    logout,
    permit_apply,
    progress,
    realname,
    receipts,
    recovery,
    register,
    reminders,
    residence,
    unit_apply,
    unit_endorse,
)
from conversations.flow import Flow

FLOWS: tuple[Flow, ...] = (
    register.FLOW,
    login.FLOW,
    realname.FLOW,
    residence.FLOW,
    eligibility.FLOW,
    permit_apply.FLOW,
    endorse.FLOW,
    unit_apply.FLOW,
    unit_endorse.FLOW,
    receipts.FLOW,
    progress.FLOW,
    acceptance_points.FLOW,
    reminders.FLOW,
    recovery.USERNAME_FLOW,
    recovery.PASSWORD_FLOW,
    change_phone.FLOW,
    correct_details.FLOW,
    logout.FLOW,
)
