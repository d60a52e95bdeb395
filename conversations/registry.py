"""The flows that exist. The main menu is built from this list, in this order."""

from conversations import acceptance_points, login, logout, realname, register
from conversations.flow import Flow

FLOWS: tuple[Flow, ...] = (
    register.FLOW,
    login.FLOW,
    realname.FLOW,
    acceptance_points.FLOW,
    logout.FLOW,
)
