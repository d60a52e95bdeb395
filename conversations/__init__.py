"""The flow engine, one module per flow, and keys.py: the menu keys and the global commands."""
