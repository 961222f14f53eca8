"""The node detail pane: everything the record of the selected node holds, and its backward."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from anet.debug.records import Graph, LeafRecord, NodeRecord
from anet.debug.render import listed_flags, listed_grads, listed_parents, more_line
from anet.debug.session import BackwardSession
from anet.debug.summary import Summary
from anet.debug.views import Mark, where_text
from anet_tui.widgets.graph_tree import marker_style

BIG = 1_000_000  # arrays with more elements get their statistics on a worker thread

Stats = Callable[[Summary], str]


def summary_lines(name: str, s: Summary | None, stats: Stats, preview: bool = True) -> list[Text]:
    """``name (2, 3) float32  min 0 max 5 mean 2.5`` and a line of values."""
    if s is None:
        return [Text.assemble((name, "bold"), "  —")]
    if not s.is_array:
        return [Text.assemble((name, "bold"), f"  a {s.kind}: {s.preview()}")]
    lines = [Text.assemble((name, "bold"), f"  {s.shape} {s.dtype}  {stats(s)}")]
    if preview and s.size:
        lines.append(Text(f"  {s.preview()}", style="dim"))
    return lines


def detail(graph: Graph, ident: int, stats: Stats) -> tuple[str, RenderableType]:
    """(title, body) for node or leaf ``ident`` of ``graph``; ``stats`` gives the statistics
    text of a summary."""
    rec = graph.node(ident)
    if isinstance(rec, LeafRecord):
        const = "" if rec.requires_grad else "  (constant: no grad)"
        body = [Text(f"leaf: an input or a weight, no backward{const}", style="dim")]
        body += summary_lines("value", rec.out, stats)
        body += summary_lines("grad", rec.grad, stats)
        return rec.label, Group(*body)
    return rec.label, Group(*node_lines(rec, isinstance(graph, BackwardSession), stats))


def node_lines(rec: NodeRecord, walking: bool, stats: Stats) -> list[RenderableType]:
    lines: list[RenderableType] = []
    mark = Mark.of(rec, statuses=walking)
    if mark.text():
        lines.append(Text(mark.text(), style=marker_style(mark)))
    loc = rec.where
    if loc is not None:
        lines.append(Text(f"applied at {where_text(loc)}"))
        if loc.source:
            lines.append(Text(f"  {loc.source}", style="italic"))
    lines += summary_lines("out", rec.out, stats)
    if rec.kwargs:
        kwargs = ", ".join(f"{k}={v!r:.40}" for k, v in rec.kwargs.items())
        lines.append(Text.assemble(("kwargs", "bold"), f"  {kwargs}"))
    lines.append(Text("parents", style="bold"))
    parents, left = listed_parents(rec)
    for p in parents:
        lines.append(Text(f"  {p.index}: {p.label} {p.shape} {p.dtype}"))
    if left:
        lines.append(Text("  " + more_line(left, "parents"), style="dim"))
    saved = rec.saved
    if not saved:
        lines.append(Text.assemble(("saved_tensors", "bold"), "  —"))
    else:
        lines.append(Text("saved_tensors", style="bold"))
        for i, s in enumerate(saved):
            lines += summary_lines(f"  {i}:", s, stats, preview=False)
    lines += summary_lines("grad_output", rec.grad_output, stats)
    returned = rec.returned
    if returned is not None:
        lines.append(Text("returned", style="bold"))
        grads, left = listed_grads(returned)
        for r in grads:
            if r.value is None:
                got = "None"
            elif r.value.is_array:
                got = f"{r.value.shape} {r.value.dtype}"
            else:
                got = f"a {r.value.kind}"
            line = Text(f"  parent {r.index} (#{r.parent}): {got}")
            if r.flags:
                line.append(f"  ✗ expected {r.expected_shape} {r.expected_dtype}", "bold red")
            else:
                line.append("  ✓", "green")
            lines.append(line)
        if left:
            lines.append(Text("  " + more_line(left, "grads"), style="dim"))
    flags, left = listed_flags(rec)
    for f in flags:
        lines.append(Text.assemble((f"✗ {f.kind}", "bold red"), f"  {f.message}"))
        if f.traceback:
            lines.append(Text(f.traceback.rstrip(), style="red"))
    if left:
        lines.append(Text(more_line(left, "flags (%flags lists them)"), style="dim"))
    if rec.check is not None and rec.check.flag is None:
        ok = {True: "✓", False: "✗", None: "?"}[rec.check.ok]
        lines.append(Text(f"{ok} check: {rec.check.message}"))
    source = rec.source
    lines.append(Text(f"── {rec.op}.backward ──", style="bold"))
    if source:
        lines.append(
            Syntax(source, "python", theme="ansi_dark", background_color="default", word_wrap=True)
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

    def show(self, graph: Graph | None, ident: int | None) -> None:
        body = self.body
        self._showing = (graph, ident)
        if graph is None or ident is None or ident not in graph:
            self.border_title = "detail"
            body.update(Text(START if graph is None else "Select a node in the graph.", "dim"))
            return
        self._pending = []
        title, renderable = detail(graph, ident, self._stats)
        self.border_title = title
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
