"""What every front-end draws, as plain values: where each node goes in the tree
(:func:`placement`), what marks a row carries (:class:`Mark`), how a source location reads
(:func:`where_text`), and everything shown about one node (:func:`node_view`, a
:class:`NodeView`; :func:`got_expected` says what a returned grad is beside what was expected).

Views hold ids, labels and strings only (no Tensors, no records), so they compare, print and
round-trip through JSON. Front-ends style them; none parses text another one rendered. Symbols
are drawn in Unicode and turned to ASCII once, at output (:func:`to_ascii`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from anet.autograd import short_path
from anet.debug.records import GradInfo, Graph, LeafRecord, Record, Where
from anet.debug.summary import Summary
from anet.debug.warned import Warned
from anet.flags import DTYPE, KINDS
from anet.tensor import Tensor
from anet.words import a_or_an


class Status(StrEnum):
    """A node's place in the walk (the values are the records' status strings)."""

    PENDING = "pending"
    CURRENT = "current"
    DONE = "done"
    CHECKED = "checked"
    ERROR = "error"
    UNREACHED = "unreached"


STATUS_SYMBOLS = {
    Status.PENDING: "·",
    Status.CURRENT: "▶",
    Status.DONE: "✓",
    Status.CHECKED: "✓",
    Status.ERROR: "✗",
    Status.UNREACHED: "–",
}
CROSS = "✗"

# What each mark in a tree row means (F1 help, %help, the docs), readable without colour.
LEGEND: tuple[tuple[str, str], ...] = (
    ("▶ current", "runs next"),
    ("· pending", "not run yet"),
    ("✓ checked", "ran: a user Function; backward agreed with finite differences"),
    ("✓ done", "ran: one of anet's own ops (tested by anet, not re-checked)"),
    ("– unreached", "got no grad (reached only through a node that failed)"),
    ("✗ KIND", "error: grads wrong or missing (stops %continue, fails check)"),
    ("! KIND", "note: grad usable as delivered (e.g. converted to parent's dtype)"),
)

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
    "→": "->",
    "×": "x",
    "├": "|",
    "└": "`",
    "│": "|",
    "–": "-",
    # block bars (anet.debug.charts): heights by their ASCII ramp, one character each
    "▁": "_",
    "▂": "_",
    "▃": "-",
    "▄": "-",
    "▅": "=",
    "▆": "=",
    "▇": "#",
    "█": "#",
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
        flags = " ".join(f"{KINDS[kind].marker} {kind}" for kind in self.flags)
        status = self.status
        if status is None or (flags and status in (Status.DONE, Status.CHECKED, Status.ERROR)):
            return flags
        return f"{STATUS_SYMBOLS[status]} {status.value} {flags}".rstrip()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mark:
        status = d["status"]
        return cls(None if status is None else Status(status), tuple(d["flags"]))


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


# ---- a node's detail --------------------------------------------------------------------------

LIST_LIMIT = 100  # parents and grads a node's detail lists (a node may have 20,000)
FLAG_LIMIT = 20  # flags it lists

Stats = Callable[[Summary], str]


def shape_text(shape: tuple[int, ...] | None) -> str:
    """``(2,3)``: compact, so rows fit a narrow pane (`` —`` for no value yet)."""
    if shape is None:
        return " —"
    return "(" + ",".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


_dtype_names: dict[np.dtype, str] = {}


def dtype_name(dtype: np.dtype) -> str:
    """``str(dtype)``, remembered: numpy computes it slowly, and a big graph asks 10⁵ times."""
    name = _dtype_names.get(dtype)
    if name is None:
        name = _dtype_names[dtype] = str(dtype)
    return name


@dataclass(frozen=True, slots=True)
class ValueView:
    """An array (or what stands in its place) without its contents: ``kind`` ("array", or the
    type name of what is there instead), ``shape`` and ``dtype`` (of an array or a numpy scalar,
    else None), ``stats`` (``min … max … mean …``; a short repr for a non-array; "" when not
    asked for) and ``preview`` (a few values; None when not asked for or empty)."""

    kind: str
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    stats: str = ""
    preview: str | None = None

    @property
    def is_array(self) -> bool:
        return self.kind == "array"

    @property
    def what(self) -> str:
        """What stands in place of an array: ``list``, ``int``, ``float32 scalar`` (a numpy
        scalar)."""
        return f"{self.kind} scalar" if self.dtype is not None else self.kind

    def text(self) -> str:
        """``(2, 3) float32  min 0 max 5 mean 2.5``, or ``list [1, 2]``."""
        if not self.is_array:
            return f"{self.what} {self.stats}"
        return f"{self.shape} {self.dtype}  {self.stats}"

    def short(self) -> str:
        """``(2,3) float32``, or ``a list``, ``an int``, ``a float32 scalar``: compact, for a
        row."""
        return f"{shape_text(self.shape)} {self.dtype}" if self.is_array else a_or_an(self.what)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ValueView:
        shape = d["shape"]
        return cls(
            d["kind"],
            None if shape is None else tuple(shape),
            *_rest(d, "dtype", "stats", "preview"),
        )


def value_view(s: Summary, stats: Stats | None = None, preview: bool = False) -> ValueView:
    """The view of a summary: statistics from ``stats`` (none when None), values when
    ``preview``."""
    value = s.value
    if s.is_array:
        if stats is None and not preview:  # shape and dtype only: one view serves them all
            return _bare(value.shape, value.dtype)
        return ValueView(
            "array",
            value.shape,
            dtype_name(value.dtype),
            "" if stats is None else stats(s),
            s.preview() if preview and s.size else None,
        )
    if isinstance(value, np.generic):  # a numpy scalar: shaped (), as a row shows it
        return ValueView(s.kind, (), dtype_name(value.dtype), s.stats_text())
    return ValueView(s.kind, stats=s.stats_text())


@functools.lru_cache(maxsize=1024)
def _bare(shape: tuple[int, ...], dtype: np.dtype) -> ValueView:
    """The view of an array by its shape and dtype (views are immutable: this one is shared;
    a listing of a 100,000-node graph makes it once, not once per value)."""
    return ValueView("array", shape, dtype_name(dtype))


def _value(d: dict[str, Any] | None) -> ValueView | None:
    return None if d is None else ValueView.from_dict(d)


def _rest(d: dict[str, Any], *names: str) -> list[Any]:
    return [d[n] for n in names]


@dataclass(frozen=True, slots=True)
class ParentView:
    """Parent ``index`` of a node: its ``id``, ``label`` (``#3 Mul``), shape and dtype."""

    index: int
    id: int
    label: str
    shape: tuple[int, ...]
    dtype: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParentView:
        return cls(d["index"], d["id"], d["label"], tuple(d["shape"]), d["dtype"])


@dataclass(frozen=True, slots=True)
class GradView:
    """What a node's backward returned for parent ``index`` (id ``parent``): ``got`` (None when
    it returned None), beside the shape and dtype expected, and the kinds of the flags about it."""

    index: int
    parent: int
    got: ValueView | None
    expected_shape: tuple[int, ...]
    expected_dtype: str
    flags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GradView:
        return cls(
            d["index"],
            d["parent"],
            _value(d["got"]),
            tuple(d["expected_shape"]),
            d["expected_dtype"],
            tuple(d["flags"]),
        )


def grad_view(info: GradInfo) -> GradView:
    """The view of one returned grad (no statistics: a row shows shapes)."""
    got = None if info.value is None else value_view(info.value)
    return GradView(
        info.index,
        info.parent,
        got,
        info.expected_shape,
        dtype_name(info.expected_dtype),
        info.flags,
    )


def got_expected(g: GradView, compact: bool = False) -> tuple[str, str]:
    """What a returned grad is and what was expected, as (got, expected) texts: ``(3, 2)
    float32`` and ``(2, 3) float32``; ``compact`` for a tree row: ``(3,2)`` (its dtype only when
    not the expected one) and ``(2,3)`` (the dtype only under a dtype flag)."""
    v = g.got
    if v is None:
        got = "None"
    elif compact and v.shape is not None:
        got = shape_text(v.shape) + ("" if v.dtype == g.expected_dtype else f" {v.dtype}")
    elif v.is_array:
        got = f"{v.shape} {v.dtype}"
    else:
        got = a_or_an(v.what)
    if not compact:
        return got, f"{g.expected_shape} {g.expected_dtype}"
    expected = shape_text(g.expected_shape)
    if DTYPE.name in g.flags:
        expected += f" {g.expected_dtype}"
    return got, expected


@dataclass(frozen=True, slots=True)
class FlagView:
    """One flag at a node: its ``kind``, the parent ``index`` it is about (None: the node), the
    ``message`` and, for an exception, its ``traceback``."""

    kind: str
    index: int | None
    message: str
    traceback: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlagView:
        return cls(*_rest(d, "kind", "index", "message", "traceback"))


@dataclass(frozen=True, slots=True)
class KwargView:
    """A keyword argument of the op: ``text`` its repr (cut at 41 characters), ``shape`` when it
    is an array."""

    name: str
    text: str
    shape: tuple[int, ...] | None = None

    def short(self) -> str:
        """``array(2,)`` for an array, else the repr, at most 40 characters."""
        if self.shape is not None:
            return f"array{self.shape}"
        return self.text if len(self.text) <= 40 else self.text[:39] + "…"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KwargView:
        shape = d["shape"]
        return cls(d["name"], d["text"], None if shape is None else tuple(shape))


@dataclass(frozen=True, slots=True)
class NodeView:
    """Everything a front-end shows about one node or leaf, as plain values (no arrays).

    ``mark.status`` is None for a leaf and when no walk is shown. Lists are capped: the first
    ``LIST_LIMIT`` parents and grads (then flagged grads), ``FLAG_LIMIT`` flags; ``*_left`` says
    how many are left out. ``check``: (ok, message) of a numerical check that raised no flag.
    ``warned``: the warnings the node's backward (or a check of it) raised, each once, counted.
    """

    id: int
    label: str
    op: str
    shape: tuple[int, ...]
    dtype: str
    out: ValueView
    is_leaf: bool = False
    requires_grad: bool = True
    grad: ValueView | None = None  # a leaf's
    mark: Mark = Mark()
    where: Where | None = None
    kwargs: tuple[KwargView, ...] = ()
    parents: tuple[ParentView, ...] = ()
    parents_left: int = 0
    saved: tuple[ValueView, ...] = ()
    grad_output: ValueView | None = None
    returned: tuple[GradView, ...] | None = None
    returned_left: int = 0
    flags: tuple[FlagView, ...] = ()
    flags_left: int = 0
    check: tuple[bool | None, str] | None = None
    source: str | None = None
    warned: tuple[Warned, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``json.dumps`` (:meth:`from_dict` makes the view back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NodeView:
        where, check, returned = d["where"], d["check"], d["returned"]
        return cls(
            d["id"],
            d["label"],
            d["op"],
            tuple(d["shape"]),
            d["dtype"],
            ValueView.from_dict(d["out"]),
            d["is_leaf"],
            d["requires_grad"],
            _value(d["grad"]),
            Mark.from_dict(d["mark"]),
            None if where is None else Where(*where),
            tuple(map(KwargView.from_dict, d["kwargs"])),
            tuple(map(ParentView.from_dict, d["parents"])),
            d["parents_left"],
            tuple(map(ValueView.from_dict, d["saved"])),
            _value(d["grad_output"]),
            None if returned is None else tuple(map(GradView.from_dict, returned)),
            d["returned_left"],
            tuple(map(FlagView.from_dict, d["flags"])),
            d["flags_left"],
            None if check is None else (check[0], check[1]),
            d["source"],
            tuple(Warned(*w) for w in d.get("warned", ())),
        )


def listed_grads(returned: tuple[GradInfo, ...]) -> tuple[list[GradInfo], int]:
    """The grads a detail lists: the first ``LIST_LIMIT``, then up to as many flagged ones from
    the rest (a flag is what one looks for); and how many it leaves out."""
    shown = list(returned[:LIST_LIMIT])
    for info in returned[LIST_LIMIT:]:
        if len(shown) >= 2 * LIST_LIMIT:
            break
        if info.flags:
            shown.append(info)
    return shown, len(returned) - len(shown)


def _kwarg(name: str, v: Any) -> KwargView:
    shape = tuple(v.shape) if isinstance(v, np.ndarray) else None
    return KwargView(name, repr(v)[:41], shape)


def option_value(v: Any) -> Any:
    """An op's keyword argument as a JSON value (:class:`KwargView` is its text for people):
    numbers, strings and lists as such, an array as its shape and dtype, anything else its
    repr, cut at 80 characters."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (tuple, list)):
        return [option_value(x) for x in v]
    if isinstance(v, np.ndarray):
        return {"array": list(v.shape), "dtype": dtype_name(v.dtype)}
    return repr(v)[:80]


def node_view(
    graph: Graph,
    key: int | str | Tensor,
    stats: Stats | None = None,
    *,
    capped: bool = True,
    values: bool = True,
    out_values: bool = True,
) -> NodeView:
    """The view of node or leaf ``key`` of ``graph`` (statuses when it is a walk, a
    BackwardSession). ``stats`` gives the statistics text of a summary (``stats_text`` by
    default; a front-end may compute big ones later).

    ``capped=False`` lists every parent, grad and flag (a listing of the whole graph);
    ``values=False`` gives values as shape and dtype only, no statistics and no previews;
    ``out_values=False`` does so for the output alone (a node's text detail shows its shape)."""
    stats = (stats or Summary.stats_text) if values else None
    rec = graph.node(key)
    shown_out = values and out_values
    out = value_view(rec.out, stats if shown_out else None, preview=shown_out)
    if isinstance(rec, LeafRecord):
        grad = rec.grad
        return NodeView(
            rec.id,
            rec.label,
            rec.op,
            rec.shape,
            dtype_name(rec.dtype),
            out,
            is_leaf=True,
            requires_grad=rec.requires_grad,
            grad=None if grad is None else value_view(grad, stats, preview=values),
        )
    walking = hasattr(graph, "position")  # a BackwardSession (views do not import the session)
    received = rec.grad_output
    returned = rec.returned
    grads: tuple[GradView, ...] | None = None
    grads_left = 0
    if returned is not None:
        shown, grads_left = listed_grads(returned) if capped else (list(returned), 0)
        grads = tuple(map(grad_view, shown))
    parents = rec.parents[:LIST_LIMIT] if capped else rec.parents
    flags = rec.flags[:FLAG_LIMIT] if capped else rec.flags
    check = rec.check
    return NodeView(
        rec.id,
        rec.label,
        rec.op,
        rec.shape,
        dtype_name(rec.dtype),
        out,
        requires_grad=rec.tensor.requires_grad,
        mark=Mark.of(rec, walking),
        where=rec.where,
        kwargs=tuple(_kwarg(k, v) for k, v in rec.kwargs.items()),
        parents=tuple(
            ParentView(p.index, p.id, p.label, p.shape, dtype_name(p.dtype)) for p in parents
        ),
        parents_left=len(rec.parents) - len(parents),
        saved=tuple(value_view(s, stats) for s in rec.saved),
        grad_output=None if received is None else value_view(received, stats, preview=values),
        returned=grads,
        returned_left=grads_left,
        flags=tuple(FlagView(f.kind, f.index, f.message, f.traceback) for f in flags),
        flags_left=len(rec.flags) - len(flags),
        check=None if check is None or check.flag is not None else (check.ok, check.message),
        source=rec.source,
        warned=rec.warned,
    )
