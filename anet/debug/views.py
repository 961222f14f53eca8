"""What every front-end draws, as plain values: where each node goes in the tree
(:func:`placement`), what marks a row carries (:class:`Mark`), and how a source
location reads (:func:`where_text`).

Views hold ids, labels and strings only (no Tensors, no records), so they compare, print and
round-trip through JSON. Front-ends style them; none parses text another one rendered. Symbols
are drawn in Unicode and turned to ASCII once, at output (:func:`to_ascii`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from anet.autograd import short_path
from anet.debug.records import Graph, Record, Where


class Status(StrEnum):
    """A node's place in the walk (the values are the records' status strings)."""

    PENDING = "pending"
    CURRENT = "current"
    DONE = "done"
    ERROR = "error"
    UNREACHED = "unreached"


STATUS_SYMBOLS = {
    Status.PENDING: "·",
    Status.CURRENT: "▶",
    Status.DONE: "✓",
    Status.ERROR: "✗",
    Status.UNREACHED: "–",
}
CROSS = "✗"

# The one table of what stands in, in ASCII, for each symbol anet and anet-tui draw.
ASCII_TABLE = {
    "…": "...",
    "·": "-",
    "—": "-",
    "─": "-",
    "✗": "x",
    "✓": "ok",
    "▶": ">",
    "↑": "^",
    "├": "|",
    "└": "`",
    "│": "|",
    "–": "-",
}
_ASCII = str.maketrans(ASCII_TABLE)


def to_ascii(text: str) -> str:
    """``text`` with the symbols we draw (``✗ … └─``) in ASCII; other text as is."""
    return text.translate(_ASCII)


# ---- marks ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    """The markers of a row: the node's status (None for a leaf, or when no walk is shown) and
    the kinds of its flags, in the order first raised. Front-ends style this, never its text."""

    status: Status | None = None
    flags: tuple[str, ...] = ()

    @classmethod
    def of(cls, rec: Record, statuses: bool = True) -> Mark:
        if rec.is_leaf:
            return cls()
        kinds = tuple(dict.fromkeys(f.kind for f in rec.flags))
        return cls(Status(rec.status) if statuses else None, kinds)

    def text(self) -> str:
        """``✓ done``, ``▶ current``, ``✗ shape ✗ vjp``…: words, readable without colour (a
        node that ran and raised flags shows the flags only)."""
        flags = " ".join(f"{CROSS} {kind}" for kind in self.flags)
        status = self.status
        if status is None or (flags and status in (Status.DONE, Status.ERROR)):
            return flags
        return f"{STATUS_SYMBOLS[status]} {status.value} {flags}".rstrip()


# ---- where ------------------------------------------------------------------------------------


def where_text(loc: Where | None, path: str = "name") -> str:
    """``file.py:31``: where an op was applied ("" when not recorded). ``path`` says how the
    file reads: ``name`` its base name (rows), ``relative`` to the working folder when below it
    (messages, ``anet-tui check``), ``full`` as recorded (a node's detail)."""
    if loc is None:
        return ""
    file = loc.file
    if path == "name":
        file = os.path.basename(file)
    elif path == "relative":
        file = short_path(file)  # as anet's own messages show it
    return f"{file}:{loc.line}"


# ---- placement --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placed:
    """One row of the tree: node or leaf ``id`` at ``depth`` under ``parent`` (None for the top
    row), as that node's parent number ``index``. ``ref``: the node is drawn above, this row is an
    ``↑ #id`` back-reference. ``last``: the last parent of ``parent``. ``deeper``: its parents are
    not placed (deeper than the limit)."""

    id: int
    label: str
    depth: int = 0
    parent: int | None = None
    index: int = 0
    ref: bool = False
    last: bool = True
    deeper: bool = False


def placement(
    graph: Graph, start: int | str | None = None, max_depth: int | None = None
) -> Iterator[Placed]:
    """The rows of the graph's tree, top to bottom, made as they are asked for: ``start`` (the
    root by default) first, then depth first, each node's parents in order. A node is placed
    once, at the first row that meets it; later rows for it are back-references. Rows deeper
    than ``max_depth`` are not made (the row at the limit says ``deeper``).

    Iterative, each parent edge looked at once: 100,000 nodes take linear time and no recursion.
    Every drawing of the graph (the text tree, the Textual tree, ...) places rows with this.
    """
    for rec, parent, index, depth, last, ref, deeper in _walk(graph, start, max_depth):
        yield Placed(rec.id, rec.label, depth, parent, index, ref, last, deeper)


_Step = tuple[Record, int | None, int, int, bool, bool, bool]


def _walk(graph: Graph, start: int | str | None, max_depth: int | None) -> Iterator[_Step]:
    """:func:`placement`'s rows as (record, parent, index, depth, last, ref, deeper)."""
    top = graph.node(start) if start is not None else graph.node(graph.root)
    seen: set[int] = set()
    # (record, its parent's id, index, depth, last)
    stack: list[tuple[Record, int | None, int, int, bool]] = [(top, None, 0, 0, True)]
    node, pop, push = graph.node, stack.pop, stack.append
    while stack:
        rec, parent, index, depth, last = pop()
        ident = rec.id
        if ident in seen:
            yield rec, parent, index, depth, last, True, False
            continue
        seen.add(ident)
        parents = () if rec.is_leaf else rec.ctx.parents
        deeper = bool(parents) and max_depth is not None and depth >= max_depth
        yield rec, parent, index, depth, last, False, deeper
        if deeper:
            continue
        n = len(parents)
        for i in range(n - 1, -1, -1):
            push((node(parents[i]), ident, i, depth + 1, i == n - 1))


class Placement:
    """Where each node's full row is: under which node, as which of its parents (as
    :func:`placement` places it, over the whole graph). What a lazily built tree asks row by
    row: whether parent ``index`` of node ``parent`` is drawn in full there or as a
    back-reference, how deep a node is and what is above it, without building other rows."""

    def __init__(self, graph: Graph, start: int | str | None = None) -> None:
        self.home: dict[int, tuple[int, int] | None] = {}
        home = self.home
        for rec, parent, index, _, _, ref, _ in _walk(graph, start, None):
            if not ref:
                home[rec.id] = None if parent is None else (parent, index)

    def up(self, ident: int) -> int | None:
        """The id of the node ``ident`` is drawn under (None for the top, or not placed)."""
        at = self.home.get(ident)
        return None if at is None else at[0]

    def here(self, ident: int, parent: int, index: int) -> bool:
        """Whether parent ``index`` of ``parent``, node ``ident``, is drawn in full there."""
        return self.home.get(ident) == (parent, index)

    def depth(self, ident: int) -> int:
        depth, up = 0, self.up(ident)
        while up is not None:
            depth += 1
            up = self.up(up)
        return depth

    def ancestor(self, ident: int, levels: int) -> int:
        """The node ``levels`` rows above ``ident`` (the top when that is fewer)."""
        for _ in range(levels):
            up = self.up(ident)
            if up is None:
                break
            ident = up
        return ident
