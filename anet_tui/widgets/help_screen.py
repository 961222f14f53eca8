"""F1: every key that works now, read from the live bindings, and the ``%`` commands."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from anet.debug.views import LEGEND, to_ascii
from anet_tui.ascii import in_ascii


class HelpScreen(ModalScreen[None]):
    """Keys grouped by where they work (the whole app, the focused pane), then the commands."""

    BINDINGS = [  # noqa: RUF012 (Textual's own class variable)
        Binding("escape,f1,q,question_mark", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, keys: list[tuple[str, str, str]], commands: list[tuple[str, str]]) -> None:
        """``keys``: (where, key, what it does); ``commands``: (usage, what it does)."""
        super().__init__(id="help")
        self.keys = keys
        self.commands = commands

    def compose(self) -> ComposeResult:
        self.set_class(in_ascii(self), "-ascii")
        with VerticalScroll(id="help-body"):
            yield Static(self.body(), id="help-text")

    def body(self) -> RenderableType:
        out = to_ascii if in_ascii(self) else str
        parts: list[RenderableType] = [Text("anet-tui keys  (Esc or F1 closes)", style="bold")]
        where = None
        table = None
        for place, key, description in self.keys:
            if place != where:
                where = place
                parts.append(Text(f"\n{place}", style="bold underline"))
                table = Table.grid(padding=(0, 2))
                table.add_column(min_width=10, style="bold")
                table.add_column()
                parts.append(table)
            assert table is not None
            table.add_row(out(key), out(description))
        parts.append(Text("\nmarks in the graph", style="bold underline"))
        marks = Table.grid(padding=(0, 2))
        marks.add_column(min_width=10, style="bold")
        marks.add_column()
        for mark, meaning in LEGEND:
            marks.add_row(out(mark), out(meaning))
        parts.append(marks)
        if self.commands:
            parts.append(Text("\n% commands (type them in the REPL)", style="bold underline"))
            commands = Table.grid(padding=(0, 2))
            commands.add_column(style="bold")
            commands.add_column()
            for usage, description in self.commands:
                commands.add_row(out(usage), out(description))
            parts.append(commands)
        return Group(*parts)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
