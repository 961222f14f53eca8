"""The graph pane: the root at the top, each node's parents below it, built lazily as it opens.

Every node appears once, at its first place in a depth-first walk from the root (parents in
order); later uses are ``↑ #id`` back-references that jump to it. The view never nests deeper than
``MAX_DEPTH``: a deeper node re-roots the view at one of its ancestors (an ``↑`` row at the top
leads back up), so a 10,000-node chain opens and steps as fast as a small graph. A node's
parents are shown ``PAGE`` at a time (a ``… N more parents`` row adds the next page), so a node
with 20,000 parents opens as fast as one with two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from anet.debug.records import CURRENT, GradInfo, Graph, LeafRecord, NodeRecord
from anet.debug.session import BackwardSession
from anet.debug.views import (
    Mark,
    Placement,
    Status,
    ValueView,
    got_expected,
    grad_view,
    node_view,
    shape_text,
)
from anet.flags import ERROR, KINDS
from anet.words import counted, plural
from anet_tui.ascii import TREE_ICONS, TREE_LINES, ascii_text, in_ascii

MAX_DEPTH = 12  # deepest nesting shown before the view re-roots
OPEN_LEVELS, OPEN_ROWS = 3, 20  # a new graph opens this many levels, while rows stay this few
PAGE = 100  # parent rows (and their grad rows) added under a node at a time


@dataclass(frozen=True, slots=True)
class Row:
    """What a tree row shows: ``kind`` is node, leaf, ref, saved, grad, more, up or hint; ``id``
    the node it is about (for saved/grad/more rows, the node that owns them); ``index`` a grad
    row's parent index, or the first parent a more row stands for."""

    kind: str
    id: int
    index: int = 0


def marker_style(mark: Mark) -> str:
    """Colour on top of the words: red for flags, yellow for the current node, green for done."""
    if mark.status == Status.ERROR or any(KINDS[k].severity == ERROR for k in mark.flags):
        return "bold red"
    if mark.flags:  # notes only
        return "yellow"
    if mark.status == Status.CURRENT:
        return "bold yellow"
    if mark.status in (Status.DONE, Status.CHECKED):
        return "green"
    return "dim"


def node_label(rec: NodeRecord | LeafRecord, walking: bool) -> Text:
    """``#5 SwapGrad ✗ shape out(2,3) grad(2,3)``; leaves ``#1 leaf out(2,3) grad(2,3)``."""
    if isinstance(rec, LeafRecord):
        grad = rec.grad
        const = "" if rec.requires_grad else " const"
        return Text.assemble(
            (f"#{rec.id} leaf", "cyan"),
            f" out{shape_text(rec.shape)} grad{shape_text(grad.shape if grad else None)}{const}",
        )
    text = Text(f"#{rec.id} {rec.op}", style="bold" if rec.status == CURRENT else "")
    mark = Mark.of(rec, statuses=walking)
    marker = mark.text()
    if marker:
        text.append(" ")
        text.append(marker, marker_style(mark))
    g = rec.grad_output
    text.append(f" out{shape_text(rec.shape)} grad{shape_text(g.shape if g else None)}")
    return text


def grad_label(info: GradInfo) -> Text:
    """What a node's backward returned for one parent: ``→#1 got (3,2) expected (2,3) ✗ shape``."""
    g = grad_view(info)
    got, expected = got_expected(g, compact=True)
    text = Text(f"→#{g.parent} got {got}")
    if g.flags:
        text.append(f" expected {expected}")
        text.append(" ✗ " + " ".join(g.flags), style="bold red")
    else:
        text.append(" ✓", style="green")
    return text


def more_label(left: int) -> Text:
    """``… 19,900 more parents (Enter: 100 more)``."""
    more = plural(left, "more parent")
    return Text(f"… {left:,} {more} (Enter: {min(left, PAGE)} more)", style="dim")


def saved_label(saved: Sequence[ValueView]) -> Text:
    """``saved (2,3) float32, (3,) int64``: what forward kept for backward (a node view's
    ``saved``), in one row."""
    return Text("saved " + ", ".join(v.short() for v in saved), style="dim")


class GraphTree(Tree[Row]):
    """The tree of a session (or of a graph after a plain ``backward()``)."""

    # Not Textual's ▶/▼: ``▶`` means "current" in a row.
    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "

    BINDINGS = [  # noqa: RUF012 (Textual's own class variable)
        Binding("right", "open", "Open", show=False),
        Binding("left", "close", "Close / up", show=False),
    ]
    KEYS: ClassVar[dict[str, str]] = {  # for the help screen
        "↑ ↓": "move between rows (the detail pane follows)",
        "→ ←": "open / close a node (← on a closed one, or on one holding the current node, "
        "goes to its parent: the current node stays in sight)",
        "Enter": "open or close; on ↑ #id jump to the shared node; on ↑ N levels go up",
        "Space": "open or close",
    }

    @dataclass
    class Shown(Message):
        """The row under the cursor is about this node or leaf (the detail pane follows it)."""

        id: int | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("graph", id=id)
        self._ascii = False
        self.show_root = False
        self.guide_depth = 2
        self.auto_expand = False
        self.graph: Graph | None = None
        self.placed: Placement | None = None  # where each node's full row is
        self.view_root: int | None = None
        self._rows: dict[int, TreeNode[Row]] = {}  # node id → its full row in the view
        self._leaf_rows: dict[int, TreeNode[Row]] = {}
        self._info: dict[int, list[TreeNode[Row]]] = {}  # node id → its grad rows
        self._ran: dict[int, bool] = {}  # node id → whether its grad rows reflect a run
        self._shown: dict[int, int] = {}  # node id → how many of its parents have rows
        self._more: dict[int, TreeNode[Row]] = {}  # node id → its "… N more parents" row

    def on_mount(self) -> None:
        if in_ascii(self):  # guides, icons and every label in ASCII (anet_tui.ascii)
            self._ascii = True
            self.LINES = TREE_LINES
            self.ICON_NODE, self.ICON_NODE_EXPANDED = TREE_ICONS
            self._invalidate()

    def render_label(self, node: TreeNode[Row], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        return ascii_text(label) if self._ascii else label

    # ---- what is shown -------------------------------------------------------------------------
    @property
    def walking(self) -> bool:
        return isinstance(self.graph, BackwardSession)

    def show_graph(self, graph: Graph | None) -> None:
        """Show ``graph`` from its root (or a one-line hint when there is none)."""
        self.graph = graph
        self.placed = Placement(graph) if graph is not None else None
        self.view_root = graph.root.id if graph is not None else None
        self._rebuild()

    def _rebuild(self) -> None:
        self.clear()
        self._rows.clear()
        self._leaf_rows.clear()
        self._info.clear()
        self._ran.clear()
        self._shown.clear()
        self._more.clear()
        graph = self.graph
        if graph is None or self.view_root is None:
            self.root.add_leaf(Text("no graph yet: %debug EXPR", style="dim"), Row("hint", 0))
            return
        above = self._depth(self.view_root)
        if above:
            top = self._ancestor(self.view_root, 1)
            self.root.add_leaf(
                Text(f"↑ {counted(above, 'level')} above: #{top} (Enter goes up)"),
                Row("up", top),
            )
        rec = graph.node(self.view_root)
        self._add_record(self.root, rec)
        self._open_top(rec.id)

    def _open_top(self, ident: int) -> None:
        """Open the first levels under the view's root, while they fit in about a screenful."""
        level = [self._rows[ident]] if ident in self._rows else []
        shown = 1
        for _ in range(OPEN_LEVELS):
            below = []
            for row in level:
                self._populate(row)
                row.expand()
                shown += len(row.children)
                below += [c for c in row.children if c.data is not None and c.data.kind == "node"]
            if shown > OPEN_ROWS:
                break
            level = below

    def _depth(self, ident: int) -> int:
        return 0 if self.placed is None else self.placed.depth(ident)

    def _ancestor(self, ident: int, levels: int) -> int:
        return ident if self.placed is None else self.placed.ancestor(ident, levels)

    def _add_record(
        self, parent: TreeNode[Row], rec: NodeRecord | LeafRecord, before: int | None = None
    ) -> TreeNode[Row]:
        """A full row for a node (expandable) or a leaf."""
        walking = self.walking
        if isinstance(rec, LeafRecord):
            node = parent.add_leaf(node_label(rec, walking), Row("leaf", rec.id), before=before)
            self._leaf_rows[rec.id] = node
            return node
        node = parent.add(node_label(rec, walking), Row("node", rec.id), before=before)
        self._rows[rec.id] = node
        return node

    def _populate(self, node: TreeNode[Row]) -> None:
        """Add a node row's children once: a page of its parents, its saved tensors and the
        grads returned to the parents shown."""
        if node.children or node.data is None or node.data.kind != "node":
            return
        graph = self.graph
        assert graph is not None
        rec = graph.node(node.data.id)
        assert isinstance(rec, NodeRecord)
        self._shown[rec.id] = 0
        self._add_parents(node, rec, PAGE)
        saved = node_view(graph, rec.id, values=False).saved
        if saved:
            node.add_leaf(saved_label(saved), Row("saved", rec.id))
        self._info[rec.id] = []
        self._ran[rec.id] = rec.returned is not None
        self._add_grad_rows(node, rec, 0, self._shown[rec.id])

    def _add_parents(self, node: TreeNode[Row], rec: NodeRecord, upto: int) -> None:
        """Rows for the parents of ``rec`` up to index ``upto`` (after those shown), then a
        ``… N more parents`` row when some are left."""
        graph = self.graph
        assert graph is not None
        parents = rec.tensor.parents
        start, end = self._shown[rec.id], min(len(parents), upto)
        if end <= start:
            return
        more = self._more.pop(rec.id, None)
        if more is not None:
            more.remove()
        placed = self.placed
        assert placed is not None
        for i in range(start, end):  # parent rows come first among the children: row i
            p = graph.node(parents[i])
            if placed.here(p.id, rec.id, i):
                self._add_record(node, p, before=i)
            else:
                node.add_leaf(Text(f"↑ #{p.id} {p.op}"), Row("ref", p.id), before=i)
        self._shown[rec.id] = end
        if end < len(parents):
            self._more[rec.id] = node.add_leaf(
                more_label(len(parents) - end), Row("more", rec.id, end), before=end
            )

    def _add_grad_rows(self, node: TreeNode[Row], rec: NodeRecord, start: int, end: int) -> None:
        """Rows for the grads the node's backward returned to parents ``start`` to ``end``
        (a constant's None says nothing), after the node's other rows."""
        returned = rec.returned
        if returned is None:
            return
        rows = self._info[rec.id]
        for info in returned[start:end]:
            if info.value is None and not info.flags:
                continue
            rows.append(node.add_leaf(grad_label(info), Row("grad", rec.id, info.index)))

    def _page(self, node: TreeNode[Row], rec: NodeRecord, upto: int) -> None:
        """Show the parents of ``rec`` (and their grads) up to index ``upto``."""
        start = self._shown[rec.id]
        self._add_parents(node, rec, upto)
        self._add_grad_rows(node, rec, start, self._shown[rec.id])

    def _show_parent(self, node: TreeNode[Row], rec: NodeRecord, ident: int) -> None:
        """Page in the parents of ``rec`` far enough to show the full row of parent ``ident``."""
        if ident in self._rows or ident in self._leaf_rows:
            return
        for i, p in enumerate(rec.tensor.parents):
            if p.id == ident:
                self._page(node, rec, (i // PAGE + 1) * PAGE)
                return

    # ---- keeping it current ----------------------------------------------------------------------
    def refresh_rows(self) -> None:
        """Relabel every row in the view from the records (after a step, a run or a check)."""
        graph = self.graph
        if graph is None:
            return
        walking = self.walking
        for ident, row in list(self._rows.items()):
            rec = graph.node(ident)
            label = node_label(rec, walking)
            if label != row.label:
                row.set_label(label)
            assert isinstance(rec, NodeRecord)
            returned = rec.returned
            if ident in self._info and self._ran[ident] != (returned is not None):
                old = self._info[ident]
                if len(old) > PAGE:
                    # Textual removes a row in time linear in its siblings: many rows go faster
                    # with the view rebuilt, labels and all (the app then reveals its node).
                    self._rebuild()
                    return
                for info in old:
                    info.remove()
                self._info[ident] = []
                self._ran[ident] = returned is not None
                self._add_grad_rows(row, rec, 0, self._shown[ident])
            elif ident in self._info and returned is not None:
                for info in self._info[ident]:
                    assert info.data is not None
                    label = grad_label(returned[info.data.index])
                    if label != info.label:
                        info.set_label(label)
        for ident, row in self._leaf_rows.items():
            label = node_label(graph.node(ident), walking)
            if label != row.label:
                row.set_label(label)

    def reveal(self, ident: int) -> bool:
        """Open the path to node ``ident``, put the cursor on it and scroll it into view."""
        graph = self.graph
        if graph is None or ident not in graph:
            return False
        path = [ident]
        while path[-1] != self.view_root:
            up = None if self.placed is None else self.placed.up(path[-1])
            if up is None or len(path) > MAX_DEPTH:
                # Not below the current view, or too deep in it: re-root above the node.
                self.view_root = self._ancestor(ident, MAX_DEPTH // 2)
                self._rebuild()
                return self.reveal(ident)
            path.append(up)
        for step, child in zip(reversed(path[1:]), reversed(path[:-1]), strict=True):
            row = self._rows[step]
            self._populate(row)
            rec = graph.node(step)
            assert isinstance(rec, NodeRecord)
            self._show_parent(row, rec, child)
            row.expand()
        self._put_cursor(self._rows.get(ident) or self._leaf_rows[ident])
        return True

    def _put_cursor(self, node: TreeNode[Row]) -> None:
        self.last_line  # noqa: B018 (builds the line index so the node's line is known)
        self.move_cursor(node, animate=False)
        self.scroll_to_node(node, animate=False)
        self.post_message(self.Shown(self._about(node)))

    def _about(self, node: TreeNode[Row] | None) -> int | None:
        if node is None or node.data is None or node.data.kind in ("hint", "up"):
            return None
        return node.data.id

    @property
    def selected_id(self) -> int | None:
        """The node or leaf the row under the cursor is about."""
        return self._about(self.cursor_node)

    # ---- events and keys ------------------------------------------------------------------------
    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Row]) -> None:
        event.stop()
        node = event.node
        if node.data is None or node.data.kind != "node":
            return
        if self._depth(node.data.id) - self._depth(self.view_root or 0) >= MAX_DEPTH:
            self.view_root = node.data.id
            self._rebuild()
            self._put_cursor(self._rows[node.data.id])
            return
        self._populate(node)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[Row]) -> None:
        """The current node stays in sight: a row holding it opens again, and says why."""
        event.stop()
        held = [row for row in self._above_current() if not row.is_expanded]
        if not held:
            return
        for row in held:
            row.expand()
        current = self._current_row()
        data = event.node.data
        if current is not None and current.data is not None and data is not None:
            self.notify(
                f"#{data.id} stays open: the current node, #{current.data.id}, is inside it",
                timeout=3,
            )

    def _current_row(self) -> TreeNode[Row] | None:
        """The full row of the node the walk runs next (None: no walk, or not in the view)."""
        graph = self.graph
        current = graph.current if isinstance(graph, BackwardSession) else None
        return None if current is None else self._rows.get(current.id)

    def _above_current(self) -> list[TreeNode[Row]]:
        """The rows the current node's row is inside, nearest first."""
        row = self._current_row()
        rows = []
        while row is not None and row.parent is not None and row.parent is not self.root:
            row = row.parent
            rows.append(row)
        return rows

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Row]) -> None:
        event.stop()
        self.post_message(self.Shown(self._about(event.node)))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Row]) -> None:
        event.stop()
        data = event.node.data
        if data is None:
            return
        if data.kind == "ref":
            self.reveal(data.id)
        elif data.kind == "more":
            self._more_row(event.node)
        elif data.kind == "up":
            self.view_root = data.id
            self._rebuild()
            self.reveal(data.id)
        elif data.kind == "node":
            event.node.toggle()

    def action_open(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if node.data.kind == "ref":
            self.reveal(node.data.id)
        elif node.data.kind == "more":
            self._more_row(node)
        elif node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.children:
            self.action_cursor_down()

    def _more_row(self, more: TreeNode[Row]) -> None:
        """Enter on ``… N more parents``: the next page, the cursor on its first row."""
        row, data, graph = more.parent, more.data, self.graph
        if row is None or data is None or graph is None:
            return
        rec = graph.node(data.id)
        assert isinstance(rec, NodeRecord)
        self._page(row, rec, data.index + PAGE)
        self._put_cursor(row.children[data.index])

    def action_close(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children and node not in self._above_current():
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self._put_cursor(node.parent)
