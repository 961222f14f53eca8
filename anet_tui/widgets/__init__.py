"""The widgets of the anet-tui app, one per module."""
