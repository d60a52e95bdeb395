"""The flow engine and one module per flow."""
