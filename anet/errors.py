"""The exceptions anet raises on purpose, so callers can tell them from bugs."""


class AnetError(Exception):
    """Base of every error anet raises about the user's graph or input."""
