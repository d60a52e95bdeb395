"""The flows that exist. The main menu is built from this list, in this order."""

from conversations import acceptance_points
from conversations.flow import Flow

FLOWS: tuple[Flow, ...] = (acceptance_points.FLOW,)
