"""The top line: the three things a person asks first — what root, how far, what is wrong."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    """``anet-tui · loss = #9 Sum · step 3/4 · ✗ 1 flag`` and, right-aligned, ``F1 help``."""

    def show(self, root: str | None, position: tuple[int, int] | None, flags: int, busy: bool) -> None:
        """``root``: how the root is named (``loss = #9 Sum``) or None without a session."""
        parts: list[tuple[str, str] | str] = [("anet-tui", "bold")]
        if root is None:
            parts.append(" · no session: %debug EXPR")
        else:
            parts.append(f" · {root}")
            if position is not None:
                k, n = position
                parts.append(f" · step {k}/{n}")
            if flags:
                parts.append((f" · ✗ {flags} flag{'s' * (flags != 1)}", "bold red"))
            else:
                parts.append(" · ✓ no flags")
        if busy:
            parts.append((" · running… (Ctrl+C stops)", "bold yellow"))
        left = Text.assemble(*parts)
        right = Text("F1 help ")
        width = max(self.size.width, 1)
        pad = max(1, width - left.cell_len - right.cell_len)
        self.update(Text.assemble(left, " " * pad, right))
