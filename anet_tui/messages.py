"""Messages the app's worker thread posts back to the UI (thread-safe: ``App.post_message``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class Output(Message):
    """Text the running code printed, as it arrives (already inert and capped by the shell)."""

    text: str


@dataclass
class Echo(Message):
    """An entry about to run as if typed (the cells a lesson's ``%next`` runs)."""

    source: str


@dataclass
class Outcome(Message):
    """What one entry produced: the shell's RunResult or the command module's CommandResult.
    ``source`` is the entry (empty for start-up)."""

    source: str
    outcome: Any


@dataclass
class Finished(Message):
    """The entry (or the start-up) and everything it ran have finished."""
