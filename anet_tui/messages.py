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
class Finished(Message):
    """One REPL entry, ``%`` command or key action finished; ``outcome`` is the shell's
    RunResult or the command module's CommandResult."""

    source: str
    outcome: Any
