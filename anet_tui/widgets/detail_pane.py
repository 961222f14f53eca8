"""The node detail pane: everything the record of the selected node holds, and its backward."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from anet.debug import charts
from anet.debug.pictures import node_pictures
from anet.debug.records import Graph, NodeRecord
from anet.debug.render import more_line
from anet.debug.summary import Summary
from anet.debug.views import NodeView, Stats, ValueView, got_expected, node_view, where_text
from anet.words import a_or_an
from anet_tui.ascii import ascii_text, in_ascii
from anet_tui.widgets.graph_tree import marker_style

BIG = 1_000_000  # arrays with more elements get their statistics on a worker thread
PICTURE_ROWS = 3  # rows of a histogram's bars in the pane (a picture: 6 or 7 lines)


def summary_lines(name: str, v: ValueView | None, preview: bool = True) -> list[Text]:
    """``name (2, 3) float32  min 0 max 5 mean 2.5`` and a line of values."""
    if v is None:
        return [Text.assemble((name, "bold"), "  —")]
    if not v.is_array:
        return [Text.assemble((name, "bold"), f"  {a_or_an(v.what)}: {v.stats}")]
    lines = [Text.assemble((name, "bold"), f"  {v.shape} {v.dtype}  {v.stats}")]
    if preview and v.preview is not None:
        lines.append(Text(f"  {v.preview}", style="dim"))
    return lines


@dataclass(frozen=True)
class Pictures:
    """What the pane draws of a node's arrays: ``first`` the histogram of its output (a leaf's
    values), in the place of its line (None: the line), ``rest`` those of the grads, each as
    its lines; ``note`` why there are none."""

    first: list[Text] | None = None
    rest: list[list[Text]] = field(default_factory=list)
    note: str | None = None


NO_PICTURES = Pictures()


def detail(
    graph: Graph, ident: int, stats: Stats, pictures: Pictures = NO_PICTURES
) -> tuple[str, RenderableType]:
    """(title, body) for node or leaf ``ident`` of ``graph``; ``stats`` gives the statistics
    text of a summary, ``pictures`` its histograms (:func:`draw_pictures`)."""
    v = node_view(graph, ident, stats)
    if v.is_leaf:
        const = "" if v.requires_grad else "  (constant: no grad)"
        body = [Text(f"leaf: an input or a weight, no backward{const}", style="dim")]
        body += out_lines("value", v.out, pictures)
        body += summary_lines("grad", v.grad)
        for picture in pictures.rest:
            body += picture
        return v.label, Group(*body)
    return v.label, Group(*node_lines(v, pictures))


MAX_PICTURES = 8  # a node with more parents gets a line pointing to %show instead
FEW = 16  # an array of this many values or fewer gets no picture: its values say more


def draw_pictures(graph: Graph, ident: int, width: int, ascii: bool) -> Pictures:
    """The histograms of node or leaf ``ident`` (its values, the grad it received, each grad it
    returned) with more than ``FEW`` values, drawn ``width`` columns wide; or a note pointing
    to ``%show`` for a node with too many parents or arrays too big to look at here."""
    rec = graph.node(ident)
    parents = rec.tensor.parents if isinstance(rec, NodeRecord) else ()
    if len(parents) > MAX_PICTURES:
        return Pictures(note=f"pictures: %show #{ident} draws them ({len(parents)} parents)")
    if max((t.data.size for t in (rec.tensor, *parents)), default=0) > BIG:
        return Pictures(note=f"pictures: %show #{ident} draws them (big arrays)")
    drawn: list[list[Text] | None] = []
    for h in node_pictures(graph, ident):
        text = charts.histogram(h, ascii=ascii, width=width, height=PICTURE_ROWS)
        lines = [Text(line, no_wrap=True, overflow="crop") for line in text.split("\n")]
        drawn.append(lines if h.count > FEW else None)
    return Pictures(drawn[0], [p for p in drawn[1:] if p is not None])


def out_lines(name: str, v: ValueView | None, pictures: Pictures) -> list[Text]:
    """The output's (a leaf's values') summary, or its picture and then its values."""
    if pictures.first is None:
        lines = summary_lines(name, v)
        if pictures.note:
            lines.append(Text(pictures.note, style="dim"))
        return lines
    return pictures.first + summary_lines(name, v)[1:]


def node_lines(v: NodeView, pictures: Pictures = NO_PICTURES) -> list[RenderableType]:
    """The body of a node's detail: its :class:`NodeView`, styled; its ``pictures`` right
    after the line of code, where they are seen without scrolling."""
    lines: list[RenderableType] = []
    mark = v.mark
    if mark.text():
        lines.append(Text(mark.text(), style=marker_style(mark)))
    loc = v.where
    if loc is not None:
        lines.append(Text(f"applied at {where_text(loc)}"))
        if loc.source:
            lines.append(Text(f"  {loc.source}", style="italic"))
    lines += out_lines("out", v.out, pictures)
    for picture in pictures.rest:
        lines += picture
    if v.kwargs:
        kwargs = ", ".join(f"{k.name}={k.text:.40}" for k in v.kwargs)
        lines.append(Text.assemble(("kwargs", "bold"), f"  {kwargs}"))
    lines.append(Text("parents", style="bold"))
    for p in v.parents:
        lines.append(Text(f"  {p.index}: {p.label} {p.shape} {p.dtype}"))
    if v.parents_left:
        lines.append(Text("  " + more_line(v.parents_left, "parents"), style="dim"))
    if not v.saved:
        lines.append(Text.assemble(("saved_tensors", "bold"), "  —"))
    else:
        lines.append(Text("saved_tensors", style="bold"))
        for i, s in enumerate(v.saved):
            lines += summary_lines(f"  {i}:", s, preview=False)
    lines += summary_lines("grad_output", v.grad_output)
    if v.returned is not None:
        lines.append(Text("returned", style="bold"))
        for r in v.returned:
            got, expected = got_expected(r)
            line = Text(f"  parent {r.index} (#{r.parent}): {got}")
            if r.flags:
                line.append(f"  ✗ expected {expected}", "bold red")
            else:
                line.append("  ✓", "green")
            lines.append(line)
        if v.returned_left:
            lines.append(Text("  " + more_line(v.returned_left, "grads"), style="dim"))
    for f in v.flags:
        lines.append(Text.assemble((f"✗ {f.kind}", "bold red"), f"  {f.message}"))
        if f.traceback:
            lines.append(Text(f.traceback.rstrip(), style="red"))
    if v.flags_left:
        lines.append(Text(more_line(v.flags_left, "flags (%flags lists them)"), style="dim"))
    if v.check is not None:
        ok, message = v.check
        lines.append(Text(f"{ {True: '✓', False: '✗', None: '?'}[ok] } check: {message}"))
    if v.warned:
        lines.append(Text("warnings while it ran", style="bold"))
        for w in v.warned:
            lines.append(Text(f"  {w.text()}", style="yellow"))
            if w.source:
                lines.append(Text(f"    {w.source}", style="italic"))
    lines.append(Text(f"── {v.op}.backward ──", style="bold"))
    if v.source:
        lines.append(
            Syntax(
                v.source, "python", theme="ansi_dark", background_color="default", word_wrap=True
            )
        )
    else:
        lines.append(Text("(source not available)", style="dim"))
    return lines


START = """\
Start here:
 %debug loss  open a session
 F10  step one node
 F5   continue to a flag
 F6   finish the walk
 F1   every key"""


class DetailPane(VerticalScroll):
    """Follows the row selected in the graph pane (by default the current node).

    Statistics of big arrays (10⁸ elements take a second) are computed on a worker thread and
    kept until the model may have changed (:meth:`forget`), so the screen never waits for them.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._known: dict[int, Summary] = {}  # id(array) → a Summary whose statistics are known
        self._pending: list[Summary] = []
        self._showing: tuple[Graph | None, int | None] = (None, None)

    def compose(self) -> ComposeResult:
        self.body = Static(Text(START, style="dim"), id="detail-body")
        yield self.body

    def forget(self) -> None:
        """Drop the kept statistics: code ran and may have changed any array in place."""
        self._known.clear()

    def on_resize(self) -> None:
        """The pictures are drawn to the pane's width: drawn again at the new one."""
        graph, ident = self._showing
        if graph is not None and ident is not None:
            self.show(graph, ident)

    def show(self, graph: Graph | None, ident: int | None) -> None:
        body = self.body
        self._showing = (graph, ident)
        if graph is None or ident is None or ident not in graph:
            self.border_title = "detail"
            body.update(Text(START if graph is None else "Select a node in the graph.", "dim"))
            return
        self._pending = []
        width = max(24, (self.scrollable_content_region.width or 40) - 1)
        pictures = draw_pictures(graph, ident, width, in_ascii(self))
        title, renderable = detail(graph, ident, self._stats, pictures)
        self.border_title = title
        if in_ascii(self) and isinstance(renderable, Group):
            renderable = Group(
                *(ascii_text(r) if isinstance(r, Text) else r for r in renderable.renderables)
            )
        body.update(renderable)
        if self._pending:
            self._compute(graph, ident, self._pending)

    def _stats(self, s: Summary) -> str:
        known = self._known.get(id(s.value))
        if known is not None:
            return known.stats_text()
        if (s.size or 0) <= BIG:
            return s.stats_text()
        self._pending.append(s)
        return "statistics: computing…"

    @work(thread=True, exclusive=True, group="detail")
    def _compute(self, graph: Graph, ident: int, pending: list[Summary]) -> None:
        for s in pending:
            s.stats_text()  # computed once, kept in the Summary
        self.app.call_from_thread(self._computed, graph, ident, pending)

    def _computed(self, graph: Graph, ident: int, pending: list[Summary]) -> None:
        if len(self._known) > 64:
            self._known.clear()
        for s in pending:
            self._known[id(s.value)] = s  # the Summary keeps the array, so its id stays its own
        if self._showing == (graph, ident):
            self.show(graph, ident)
