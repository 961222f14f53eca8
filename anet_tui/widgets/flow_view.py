"""The flow view: the grad flow chart (``%flow``) in the graph pane's place, one row per node
that has its grad, so a vanishing or exploding gradient is seen along the whole walk. Moving
along the rows selects the node (the detail pane follows); Enter goes to it in the tree."""

from __future__ import annotations

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
from anet_tui.ascii import in_ascii


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
        self._source: tuple[Graph | None, str | None] = (None, None)

    def compose(self) -> ComposeResult:
        self.head = Static(id="flow-head")
        self.rows = OptionList(id="flow-rows")
        yield self.head
        yield self.rows

    def show(self, graph: Graph | None, name: str | None) -> None:
        """Draw the flow of ``graph``'s grads as they stand now; the row under the cursor stays
        on the same node."""
        self._source = (graph, name)
        if graph is None:
            self.head.update(Text("No graph yet: %debug loss opens a walk.", "dim"))
            self.rows.clear_options()
            self._ids = []
            return
        try:
            flow = pictures.flow(graph)
        except Exception as e:  # a graph the chart cannot draw: say so, keep the app
            self.head.update(Text(f"no flow chart: {e}", "red"))
            return
        width = max(40, (self.rows.scrollable_content_region.width or self.size.width) - 1)
        head, rows, notes = chart_parts(flow, name, width, in_ascii(self))
        title = "grad flow per node"  # (the root and the step: in the status line)
        self.border_title = title
        self.head.update(Text("\n".join(head), no_wrap=True, overflow="crop"))
        keep = self.rows.highlighted
        kept = self._ids[keep] if keep is not None and keep < len(self._ids) else None
        self._ids = [b.id for b in flow.bars]
        with self.prevent(OptionList.OptionHighlighted):
            self.rows.clear_options()
            self.rows.add_options(
                Option(Text(row, no_wrap=True, overflow="crop"), id=str(b.id))
                for row, b in zip(rows, flow.bars, strict=True)
            )
            self.rows.add_options(  # after the bars: read by scrolling on
                Option(Text(note, style="dim"), disabled=True) for note in notes
            )
            if kept in self._ids:
                self.rows.highlighted = self._ids.index(kept)

    def on_resize(self) -> None:
        """The chart is drawn to the view's width: drawn again at the new one."""
        self.show(*self._source)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Picked(int(event.option.id), go=False))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Picked(int(event.option.id), go=True))

    def action_leave(self) -> None:
        self.post_message(self.Leave())


__all__ = ["FlowView", "chart_parts"]
