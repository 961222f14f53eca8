"""What the shell hands back: the :class:`RunResult` of one run, and the :class:`Cell` record of
what ran (for ``%save``). Plain data, no running here: see :mod:`anet_tui.shell`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "error", "interrupted", "exit"]


@dataclass
class RunResult:
    """What one run produced. ``output`` is everything printed (inert, capped), ``value`` the
    compact repr of an expression's value, ``error`` the trimmed traceback of an error or of an
    interrupt, ``exit_code`` the code passed to ``exit()``/``sys.exit()`` when status is "exit"
    (and when a script :meth:`Shell.run_file` ran exited: status "ok" for 0, else "error").
    ``obj`` is the Python object itself: an expression's value, or what :meth:`Shell.call`'s
    function returned."""

    status: Status
    output: str = ""
    value: str | None = None
    error: str | None = None
    exit_code: int | None = None
    obj: Any = None
    filename: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def text(self) -> str:
        """Output, value and error as one block, in the order a terminal REPL shows them."""
        parts = [self.output.rstrip("\n")] if self.output else []
        if self.value is not None:
            parts.append(self.value)
        if self.error:
            parts.append(self.error.rstrip("\n"))
        return "\n".join(p for p in parts if p)


@dataclass
class Cell:
    """One thing the user ran: Python source (``kind="python"``) or a ``%`` line (``"command"``)."""

    source: str
    filename: str
    status: Status
    kind: Literal["python", "command"] = "python"


__all__ = ["Cell", "RunResult", "Status"]
