"""Routing: a push → a global command, a flow start, or the current flow's step."""
