"""Node records: what the debugger knows about one Function application (or one leaf).

A record holds references only; everything shown about arrays (summaries, source text) is computed
on first use, so a session over a 100,000-node graph is cheap to create.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from anet.autograd import label, topo_order
from anet.debug.checks import KINDS, CheckResult, Flag
from anet.debug.summary import Summary
from anet.debug.warned import Warned
from anet.tensor import Context, Tensor

PENDING, CURRENT, DONE, ERROR, UNREACHED = "pending", "current", "done", "error", "unreached"
CHECKED = "checked"  # ran, and its backward (a user's Function) agreed with finite differences
STATUSES = (PENDING, CURRENT, DONE, CHECKED, ERROR, UNREACHED)


class Where(NamedTuple):
    """Where in the user's code an op was applied (recorded by anet.debug.record())."""

    file: str
    line: int
    source: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class ParentInfo(NamedTuple):
    """One parent of a node, as its record shows it."""

    index: int
    id: int
    op: str  # the op that made it, or "leaf"
    label: str  # "#3 Mul" or "#1 leaf"
    shape: tuple[int, ...]
    dtype: np.dtype
    requires_grad: bool
    is_leaf: bool


class GradInfo(NamedTuple):
    """What a node's backward returned for one parent, beside what was expected."""

    index: int
    parent: int  # the parent's id
    value: Summary | None  # None when backward returned None (or too few grads)
    expected_shape: tuple[int, ...]
    expected_dtype: np.dtype
    flags: tuple[str, ...]  # kinds of the flags about this parent (shape, dtype…)

    @property
    def ok(self) -> bool:
        return not self.flags


_sources: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()


def backward_source(fxn: type) -> str | None:
    """The source text of a Function's ``backward`` (None when Python cannot find it)."""
    backward = fxn.__dict__.get("backward", getattr(fxn, "backward", None))
    backward = getattr(backward, "__func__", backward)
    try:
        return _sources[backward]
    except (KeyError, TypeError):
        pass
    try:
        text: str | None = inspect.cleandoc("\n" + inspect.getsource(backward))
    except (OSError, TypeError):
        text = None
    with contextlib.suppress(TypeError):  # not weak-referenceable: not remembered
        _sources[backward] = text
    return text


class NodeRecord:
    """One Function application in the walk: the tensor it made (``tensor``) and its ``ctx``.

    ``status`` is one of pending / current / done / checked / error / unreached (``checked``:
    done, and a user Function's backward agreed with finite differences); ``flags`` the flags raised
    at this node. After the node runs, ``grad_output`` is the grad it received and ``returned``
    the grads it gave each parent; ``warned`` the warnings its backward (or a check of it)
    raised, kept here rather than printed.
    """

    __slots__ = (
        "_parents",
        "_returned",
        "_saved",
        "check",
        "flags",
        "grads",
        "index",
        "raw",
        "received",
        "status",
        "tensor",
        "warned",
    )
    is_leaf = False

    def __init__(self, tensor: Tensor, index: int) -> None:
        # A session makes one record per node before it starts: this is kept to the stores.
        self.tensor = tensor
        self.index = index  # position in the walk, 0 = the root
        self.status = PENDING
        self.flags: tuple[Flag, ...] = ()  # a new tuple when a flag is raised
        self.received: np.ndarray | None = None  # the grad_output it ran on
        self.raw: Any = None  # what backward returned, as returned
        self.grads: Sequence[np.ndarray | None] | None = None  # the usable grads, one per parent
        self.check: CheckResult | None = None  # the latest numerical check
        self.warned: tuple[Warned, ...] = ()  # warnings raised while it ran (a new tuple each)
        self._saved: tuple[Summary, ...] | None = None
        self._parents: tuple[ParentInfo, ...] | None = None
        # ``returned`` and the (raw, grads, flags) it was computed from: kept until one changes.
        self._returned: tuple[Any, Any, Any, tuple[GradInfo, ...] | None] | None = None

    # ---- what it is ----------------------------------------------------------------------
    @property
    def ctx(self) -> Context:
        return self.tensor._ctx

    @property
    def id(self) -> int:
        return self.tensor.id

    @property
    def op(self) -> str:
        return self.tensor._ctx.arg.__name__

    @property
    def label(self) -> str:
        return label(self.tensor)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.tensor.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.tensor.data.dtype

    @property
    def out(self) -> Summary:
        """The output the op computed."""
        return Summary(self.tensor.data)

    @property
    def ran(self) -> bool:
        return self.status in (DONE, CHECKED, ERROR)

    @property
    def parents(self) -> tuple[ParentInfo, ...]:
        """One entry per parent (computed once: a node may have 20,000 parents)."""
        if self._parents is None:
            self._parents = tuple(
                ParentInfo(
                    i,
                    p.id,
                    p.op,
                    label(p),
                    p.data.shape,
                    p.data.dtype,
                    p.requires_grad,
                    p._ctx is None,
                )
                for i, p in enumerate(self.tensor._ctx.parents)
            )
        return self._parents

    @property
    def kwargs(self) -> dict[str, Any]:
        return self.tensor._ctx.kwargs

    @property
    def saved(self) -> tuple[Summary, ...]:
        """Summaries of ``ctx.saved_tensors`` (statistics computed when first asked for)."""
        if self._saved is None:
            self._saved = tuple(Summary(a) for a in self.tensor._ctx.saved_tensors)
        return self._saved

    @property
    def where(self) -> Where | None:
        loc = self.tensor._ctx.where
        return Where(*loc) if loc else None

    @property
    def source(self) -> str | None:
        """The source of the Function's ``backward`` (None when unavailable)."""
        return backward_source(self.tensor._ctx.arg)

    # ---- the walk ------------------------------------------------------------------------
    @property
    def grad_output(self) -> Summary | None:
        """The grad it ran on; before it runs, what it has received so far (None: nothing yet)."""
        g = self.received if self.ran else self.tensor.grad
        return None if g is None else Summary(g)

    @property
    def returned(self) -> tuple[GradInfo, ...] | None:
        """One entry per parent once it has run (None before, or when backward raised).

        Computed once per run (and again when a flag is raised), in one pass over the parents
        and one over the flags: views ask for it once per row.
        """
        raw, grads, flags = self.raw, self.grads, self.flags
        kept = self._returned
        if kept is not None and kept[0] is raw and kept[1] is grads and kept[2] is flags:
            return kept[3]
        out: tuple[GradInfo, ...] | None = None
        if raw is not None or grads is not None:
            items = list(raw) if isinstance(raw, (tuple, list)) else [raw]
            kinds: dict[int | None, list[str]] = {}
            for f in flags:
                if not KINDS[f.kind].survives_restart:  # the check's, not about this walk
                    kinds.setdefault(f.index, []).append(f.kind)
            out = tuple(
                GradInfo(
                    i,
                    p.id,
                    None if i >= len(items) or items[i] is None else Summary(items[i]),
                    p.data.shape,
                    p.data.dtype,
                    tuple(kinds.get(i, ())),
                )
                for i, p in enumerate(self.tensor._ctx.parents)
            )
        self._returned = (raw, grads, flags, out)
        return out

    def __repr__(self) -> str:
        flags = "".join(f" ✗{f.kind}" for f in self.flags)
        return f"<NodeRecord {self.label} {self.shape} {self.status}{flags}>"


class LeafRecord:
    """A tensor without a ctx (an input, a weight, a constant): what a tree shows below nodes."""

    __slots__ = ("tensor",)
    is_leaf = True
    op = "leaf"
    status = None
    flags = ()
    where = None
    parents = ()

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor

    @property
    def id(self) -> int:
        return self.tensor.id

    @property
    def label(self) -> str:
        return f"#{self.tensor.id} leaf"

    @property
    def shape(self) -> tuple[int, ...]:
        return self.tensor.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.tensor.data.dtype

    @property
    def requires_grad(self) -> bool:
        return self.tensor.requires_grad

    @property
    def out(self) -> Summary:
        return Summary(self.tensor.data)

    @property
    def grad(self) -> Summary | None:
        g = self.tensor.grad
        return None if g is None else Summary(g)

    def __repr__(self) -> str:
        return f"<LeafRecord {self.label} {self.shape}>"


Record = NodeRecord | LeafRecord


class Graph:
    """The records of ``root``'s graph: ``nodes`` in walk order (root first), leaves on demand.

    BackwardSession is a Graph with a walk; renderers take either (or a bare Tensor).
    """

    def __init__(self, root: Tensor, order: list[Tensor] | None = None) -> None:
        self.root = root
        if order is None:
            order = topo_order(root)
        # The cyclic GC would rescan the whole graph while 10⁵ records are made: hold it off.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.nodes: list[NodeRecord] = list(map(NodeRecord, order, range(len(order))))
        finally:
            if collecting:
                gc.enable()
        self._by_id: dict[int, NodeRecord] | None = None
        self._leaves: dict[int, LeafRecord] | None = None

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, key: int | str | Tensor) -> Record:
        """The record of a node or leaf, by id (``5`` or ``"#5"``) or by tensor."""
        ident = node_id(key)
        if self._by_id is None:
            self._by_id = {r.tensor.id: r for r in self.nodes}
        found = self._by_id.get(ident)
        if found is not None:
            return found
        leaf = self._leaf_records().get(ident)
        if leaf is None:
            raise KeyError(f"no #{ident} in the graph of {label(self.root)}")
        return leaf

    __getitem__ = node

    def __contains__(self, key: object) -> bool:
        try:
            self.node(key)  # type: ignore[arg-type]
        except (KeyError, ValueError):
            return False
        return True

    @property
    def leaves(self) -> list[LeafRecord]:
        """Records of the tensors without a ctx that the graph uses, in walk order."""
        return list(self._leaf_records().values())

    def parents(self, key: int | str | Tensor | Record) -> list[Record]:
        """The records of a node's parents, in parent order (leaves included)."""
        rec = key if isinstance(key, (NodeRecord, LeafRecord)) else self.node(key)
        return [] if rec.is_leaf else [self.node(p) for p in rec.tensor._ctx.parents]

    def _leaf_records(self) -> dict[int, LeafRecord]:
        if self._leaves is None:
            leaves: dict[int, LeafRecord] = {}
            if self.root._ctx is None:
                leaves[self.root.id] = LeafRecord(self.root)
            for r in self.nodes:
                for p in r.tensor._ctx.parents:
                    if p._ctx is None and p.id not in leaves:
                        leaves[p.id] = LeafRecord(p)
            self._leaves = leaves
        return self._leaves


def node_id(key: Any) -> int:
    """A node id from ``5``, ``"#5"``, ``"5"``, a Tensor or a record."""
    if isinstance(key, (Tensor, NodeRecord, LeafRecord)):
        return key.id
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str):
        text = key.strip().removeprefix("#")
        if text.isdigit():
            return int(text)
    raise ValueError(f"not a node id: {key!r} (use 5 or '#5')")
