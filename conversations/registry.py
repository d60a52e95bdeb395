"""The flows that exist. The main menu is built from this list, in this order."""

from conversations import (
    acceptance_points,
    eligibility,
    login,
    logout,
    progress,
    realname,
    register,
    residence,
)
from conversations.flow import Flow

FLOWS: tuple[Flow, ...] = (
    register.FLOW,
    login.FLOW,
    realname.FLOW,
    residence.FLOW,
    eligibility.FLOW,
    progress.FLOW,
    acceptance_points.FLOW,
    logout.FLOW,
)
