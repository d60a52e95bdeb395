"""Routing only: a push → a global command, a flow start, or the current flow's step. Handlers
write nothing themselves; what is recorded goes through the services."""
