"""The flow view: the grad flow chart (``%flow``) in the graph pane's place, one row per node
that has its grad (or per parameter, by layer: ``%flow --params``), so a vanishing or exploding
gradient is seen along the whole walk. Moving along the rows selects the node (the detail pane
follows, ``▶`` marks the row); Enter goes to it in the tree."""

from __future__ import annotations

import weakref
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from anet.debug import charts, pictures
from anet.debug.records import Graph
from anet.debug.views import to_ascii
from anet_tui.ascii import in_ascii
from anet_tui.command_base import FlowAt

MARKER = "▶ "  # the row under the cursor: read without colour (ASCII: "> ")


def chart_parts(
    flow: pictures.Flow, name: str | None, width: int, ascii: bool
) -> tuple[list[str], list[str], list[str]]:
    """(the column heads, one line per bar, the notes) of ``flow`` drawn ``width`` wide: the
    lines of :func:`anet.debug.charts.flow`, every bar drawn; the notes are the legend, how
    many nodes wait for their grads and the words (the title goes in the border)."""
    lines = charts.flow(
        flow, name=name, ascii=ascii, width=width, max_rows=len(flow.bars) + 1
    ).split("\n")
    if not flow.bars:
        return [], [], lines[-1:]
    legend = next(i for i, line in enumerate(lines) if "mean |grad|" in line)
    end = legend + 2 + len(flow.bars)
    return [lines[legend + 1]], lines[legend + 2 : end], [*lines[end:], lines[legend]]


class FlowView(Vertical, can_focus=False):
    """The chart of :func:`anet.debug.pictures.flow` for the graph shown, redrawn by
    :meth:`show` (after every entry and step, while it is in view)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "tree", tooltip="back to the graph tree"),
    ]

    class Picked(Message):
        """A bar was moved to (``go``: chosen with Enter): its node ``id``."""

        def __init__(self, id: int, go: bool) -> None:
            super().__init__()
            self.id = id
            self.go = go

    class Leave(Message):
        """Esc: back to the tree."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ids: list[int] = []
        self._rows: list[str] = []  # the bars' lines as drawn, without the marker
        self._marked: int | None = None  # the row drawn with the marker
        self._source: tuple[Graph | None, str | None] = (None, None)
        self._asked: tuple[weakref.ref[Graph], FlowAt] | None = None

    def compose(self) -> ComposeResult:
        self.head = Static(id="flow-head")
        self.rows = OptionList(id="flow-rows")
        yield self.head
        yield self.rows

    def ask(self, graph: Graph, at: FlowAt) -> None:
        """Draw ``graph`` as ``%flow`` asked (per node, or per parameter of a model) from now
        on; another graph gets the chart per node until ``%flow`` asks again."""
        self._asked = (weakref.ref(graph), at)

    def asked(self, graph: Graph) -> FlowAt:
        """The chart drawn of ``graph``: as the latest ``%flow`` asked, if it was of this graph."""
        if self._asked is not None and self._asked[0]() is graph:
            return self._asked[1]
        return FlowAt()

    def show(self, graph: Graph | None, name: str | None) -> None:
        """Draw the flow of ``graph``'s grads as they stand now; the row under the cursor stays
        on the same node."""
        self._source = (graph, name)
        if graph is None:
            self.head.update(Text("No graph yet: %debug loss opens a walk.", "dim"))
            self.rows.clear_options()
            self._ids, self._rows, self._marked = [], [], None
            return
        try:
            flow = self.asked(graph).flow(graph)
        except Exception as e:  # a graph the chart cannot draw: say so, keep the app
            self.head.update(Text(f"no flow chart: {e}", "red"))
            return
        ascii = in_ascii(self)
        width = (self.rows.scrollable_content_region.width or self.size.width) - len(MARKER)
        head, rows, notes = chart_parts(flow, name, max(40, width), ascii)
        title = "grad flow per node" if flow.by == "node" else "grad flow per parameter"
        self.border_title = f"{title} of {flow.model}" if flow.model else title
        heads = "\n".join(" " * len(MARKER) + h for h in head)
        self.head.update(Text(heads, no_wrap=True, overflow="crop"))
        keep = self.rows.highlighted
        kept = self._ids[keep] if keep is not None and keep < len(self._ids) else None
        self._ids = [b.id for b in flow.bars]
        self._rows = rows
        self._marked = self._ids.index(kept) if kept in self._ids else None
        with self.prevent(OptionList.OptionHighlighted):
            self.rows.clear_options()
            self.rows.add_options(
                Option(self._prompt(i), id=str(b.id)) for i, b in enumerate(flow.bars)
            )
            self.rows.add_options(  # after the bars: read by scrolling on
                Option(Text(note, style="dim"), disabled=True) for note in notes
            )
            if self._marked is not None:
                self.rows.highlighted = self._marked

    def _prompt(self, i: int) -> Text:
        """Row ``i`` as drawn: the bar's line, after the marker if the cursor is on it."""
        marker = MARKER if i == self._marked else " " * len(MARKER)
        if in_ascii(self):
            marker = to_ascii(marker)
        return Text(marker + self._rows[i], no_wrap=True, overflow="crop")

    def _mark(self, i: int | None) -> None:
        """Move the marker to row ``i`` (None: no row)."""
        before, self._marked = self._marked, i
        for row in {before, i} - {None}:
            if row is not None and row < len(self._rows):
                self.rows.replace_option_prompt_at_index(row, self._prompt(row))

    def on_resize(self) -> None:
        """The chart is drawn to the view's width: drawn again at the new one."""
        self.show(*self._source)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._mark(event.option_index)
        if event.option.id is not None:
            self.post_message(self.Picked(int(event.option.id), go=False))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Picked(int(event.option.id), go=True))

    def action_leave(self) -> None:
        self.post_message(self.Leave())


__all__ = ["FlowView", "chart_parts"]
