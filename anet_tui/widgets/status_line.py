"""The top line: the three things a person asks first — what root, how far, what is wrong."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from anet.words import counted
from anet_tui.ascii import ascii_text, in_ascii


class StatusLine(Widget):
    """``anet-tui · loss = #9 Sum · step 3/4 · ✗ 1 flag`` and, right-aligned, ``F1 help``; in a
    lesson, ``lesson 3 · step 2/7`` in the app's name's place."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root: str | None = None
        self.position: tuple[int, int] | None = None
        self.flags = 0
        self.busy = False
        self.lesson: str | None = None
        self.queued = 0

    def show(
        self,
        root: str | None,
        position: tuple[int, int] | None,
        flags: int,
        busy: bool,
        lesson: str | None = None,
        queued: int = 0,
    ) -> None:
        """``root``: how the root is named (``loss = #9 Sum``), None when there is no graph;
        ``position``: (k, n) of a session's walk; ``lesson``: where the open lesson is
        (``lesson 3 · step 2/7``); ``queued``: entries waiting to run."""
        self.root, self.position, self.flags, self.busy = root, position, flags, busy
        self.lesson, self.queued = lesson, queued
        self.refresh()

    def render(self) -> Text:
        parts: list[tuple[str, str] | str] = [(self.lesson or "anet-tui", "bold")]
        if self.root is None:
            if self.lesson is None:
                parts.append(" · no session: %debug EXPR")
        else:
            parts.append(f"{' │ ' if self.lesson else ' · '}{self.root}")
            if self.position is not None:
                k, n = self.position
                parts.append(f" · step {k}/{n}")
                if self.flags:
                    parts.append((f" · ✗ {counted(self.flags, 'flag')}", "bold red"))
                else:
                    parts.append(" · ✓ no flags")
        if self.busy and self.queued:
            parts.append((f" · running, {self.queued} queued (^c stops)", "bold yellow"))
        elif self.busy:
            parts.append((" · running… (Ctrl+C stops)", "bold yellow"))
        left = Text.assemble(*parts)
        right = Text("F1 help ")
        pad = max(1, self.size.width - left.cell_len - right.cell_len)
        line = Text.assemble(left, " " * pad, right, no_wrap=True, overflow="ellipsis")
        return ascii_text(line) if in_ascii(self) else line
