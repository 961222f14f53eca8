"""Pictures of values and gradients, as data: what a histogram of one array shows
(:func:`histogram`, a :class:`Histogram`), and how big the grads are along the whole walk
(:func:`flow`, a :class:`Flow` of :class:`FlowBar` rows), so a vanishing, exploding or dead
gradient is seen rather than read off numbers.

Views like :mod:`anet.debug.views`: frozen dataclasses of plain values (no arrays, no records)
that round-trip through JSON (``to_dict``/``from_dict``); :mod:`anet.debug.charts` draws them as
text, a front-end its own way.

A picture of a big array looks at all of it once, in bounded chunks, for the exact extremes and
NaN/Inf counts, and at a bounded sample (:data:`SAMPLE` entries, spread over the whole array) for
the rest: a 10⁸-element tensor is never copied, and its picture says ``sampled``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from anet.arrays import chunks
from anet.debug.records import Graph, LeafRecord, NodeRecord, Where
from anet.debug.views import dtype_name
from anet.nn import Module, named_parameters
from anet.tensor import Tensor

SAMPLE = 1 << 17  # entries a picture looks at beyond the extremes (a bigger array is sampled)
BINS = 32  # bins of a histogram
PASS_CHUNK = 1 << 18  # elements per piece of the pass for the extremes (stays in the cache)
TINY = 1e-7  # every |x| below this: vanishing
HUGE = 1e6  # some |x| above this: exploding
MANY_ZEROS = 0.6  # a share of exact zeros worth a word (a ReLU's output is about half zeros)
LOG_SPREAD = 8  # counts drawn on a log scale when the tallest bin is this many times the median


# ---- measuring one array ----------------------------------------------------------------------


class Measure(NamedTuple):
    """What a picture knows of an array: ``count`` entries, ``lo``/``hi`` the extremes of its
    finite entries (None when there are none), exact ``nan``/``inf`` counts, ``sample`` its finite
    entries (or a sample of them) as float64, drawn from ``looked`` entries (None: all)."""

    count: int
    lo: float | None
    hi: float | None
    nan: int
    inf: int
    sample: np.ndarray
    looked: int | None
    zeros: float  # share of exact zeros among the entries looked at


def measure(a: np.ndarray, limit: int = SAMPLE) -> Measure:
    """Measure ``a`` (a numeric array): exact extremes and NaN/Inf counts in one pass of bounded
    chunks, everything else from all of it (up to ``limit`` entries) or from a sample of
    ``limit`` entries, one picked at random from each of ``limit`` equal stretches (reproducible:
    the same array gives the same picture)."""
    if a.dtype.kind not in "biuf":
        raise TypeError(f"no picture of a {a.dtype} array: numbers only")
    n = a.size
    if n <= limit:
        flat = np.asarray(a, dtype=np.float64).reshape(-1)
        finite = flat if a.dtype.kind != "f" else flat[np.isfinite(flat)]
        nan = int(np.isnan(flat).sum()) if finite.size < n else 0
        lo = float(finite.min()) if finite.size else None
        hi = float(finite.max()) if finite.size else None
        zeros = float(np.count_nonzero(flat == 0)) / n if n else 0.0
        return Measure(n, lo, hi, nan, n - finite.size - nan, finite, None, zeros)
    lo, hi, nan, inf = _extremes(a)
    picked = _sample(a, limit).astype(np.float64)
    zeros = float(np.count_nonzero(picked == 0)) / picked.size
    if nan or inf:
        picked = picked[np.isfinite(picked)]
    return Measure(n, lo, hi, nan, inf, picked, limit, zeros)


def _extremes(a: np.ndarray) -> tuple[float | None, float | None, int, int]:
    """(min, max) of the finite entries and the NaN and Inf counts, chunk by chunk: views, and
    temporaries the size of a chunk only where a chunk holds NaN or Inf."""
    lo, hi, nan, inf = math.inf, -math.inf, 0, 0
    floats = a.dtype.kind == "f"
    if a.ndim > 1 and not a.flags.c_contiguous:  # the axes in memory order: a transposed or
        a = a.transpose(np.argsort([-abs(s) for s in a.strides], kind="stable"))  # F-order
    for c in chunks(a, PASS_CHUNK):
        cmin, cmax = float(np.min(c)), float(np.max(c))
        if floats and not (math.isfinite(cmin) and math.isfinite(cmax)):
            bad = np.isnan(c)
            nan += int(np.count_nonzero(bad))
            infinite = np.isinf(c)
            inf += int(np.count_nonzero(infinite))
            c = c[~(bad | infinite)]
            if not c.size:
                continue
            cmin, cmax = float(np.min(c)), float(np.max(c))
        lo, hi = min(lo, cmin), max(hi, cmax)
    if lo > hi:  # no finite entry
        return None, None, nan, inf
    return lo, hi, nan, inf


def _sample(a: np.ndarray, n: int) -> np.ndarray:
    """``n`` entries of ``a``, one at a random place in each of ``n`` equal stretches of its
    entries (in C order): a gather of ``n`` values, whatever the layout, no copy of ``a``."""
    starts = np.arange(n + 1, dtype=np.int64) * a.size // n
    rng = np.random.default_rng(0)
    index = starts[:-1] + (rng.random(n) * np.diff(starts)).astype(np.int64)
    if a.flags.c_contiguous:
        return a.reshape(-1)[index]
    return a[np.unravel_index(index, a.shape)]


# ---- a histogram ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Histogram:
    """The picture of one array: its size and statistics, ``counts`` in linear bins between
    ``edges`` (``len(edges) == len(counts) + 1``, from the least to the greatest finite entry),
    and ``words`` saying what is notable (many zeros, NaN/Inf, all tiny or huge).

    A one-element array has its ``value`` and no bins; an empty one, neither. ``min``/``max``
    and the ``nan``/``inf`` counts are exact; ``mean``, ``std``, ``zeros`` (the share of exact
    zeros) and the counts are over the finite entries of a sample of ``sampled`` entries when
    the array is bigger than that (None: all of them). ``log_counts``: the counts spread so
    that a linear scale would flatten most bins (draw them on a log scale)."""

    title: str
    shape: tuple[int, ...]
    dtype: str
    count: int
    value: float | None = None
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    zeros: float = 0.0
    nan: int = 0
    inf: int = 0
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    log_counts: bool = False
    sampled: int | None = None
    words: tuple[str, ...] = ()

    @property
    def max_abs(self) -> float | None:
        """The greatest |x| of the finite entries."""
        if self.min is None or self.max is None:
            return None
        return max(abs(self.min), abs(self.max))

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``json.dumps`` (:meth:`from_dict` makes the view back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Histogram:
        return cls(
            **{
                **d,
                "shape": tuple(d["shape"]),
                "edges": tuple(d["edges"]),
                "counts": tuple(d["counts"]),
                "words": tuple(d["words"]),
            }
        )


def histogram(
    a: Any,
    title: str = "",
    *,
    grad: bool = False,
    relu: bool = False,
    bins: int = BINS,
    sample: int = SAMPLE,
) -> Histogram:
    """The :class:`Histogram` of array ``a`` (a Tensor: its data), titled ``title``.

    ``grad``: ``a`` is a gradient (the words speak of vanishing and exploding gradients, and of
    many zeros); ``relu``: ``a`` is a ReLU's output, or a grad a ReLU's mask zeroed (many zeros
    then read "a dead ReLU?"). Arrays bigger than ``sample`` entries are sampled (see
    :func:`measure`); a 10⁸-element float32 array takes well under a second and never a copy.
    """
    if isinstance(a, Tensor):
        a = a.data
    a = np.asarray(a)
    shape, dtype = tuple(a.shape), dtype_name(a.dtype)
    if a.size == 1 and a.dtype.kind in "biuf":
        value = float(a.reshape(-1)[0])
        words = _value_words(value, grad)
        return Histogram(title, shape, dtype, 1, value=value, words=words)
    m = measure(a, sample)
    if m.count == 0:
        return Histogram(title, shape, dtype, 0, words=("empty",))
    s = m.sample
    with np.errstate(over="ignore"):  # values near ±1e308: an infinite std says so
        mean = float(s.mean()) if s.size else None
        std = float(s.std()) if s.size else None
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    log = False
    if m.lo is not None and m.hi is not None and m.lo < m.hi:
        # Halved when the span overflows float64 (values near ±1.8e308): same bins.
        half = 1 if math.isfinite(m.hi - m.lo) else 2
        counts = _bin_counts(s / half, m.lo / half, m.hi / half, bins)
        edges = tuple(float(e) * half for e in np.linspace(m.lo / half, m.hi / half, bins + 1))
        occupied = sorted(c for c in counts if c)  # none: the sample missed the few finite ones
        log = bool(occupied) and occupied[-1] > LOG_SPREAD * occupied[len(occupied) // 2]
    elif m.lo is not None:  # every finite entry the same value: one bin
        edges, counts = (m.lo, m.hi), (int(s.size),)
    h = Histogram(
        title,
        shape,
        dtype,
        m.count,
        min=m.lo,
        max=m.hi,
        mean=mean,
        std=std,
        zeros=m.zeros,
        nan=m.nan,
        inf=m.inf,
        edges=edges,
        counts=counts,
        log_counts=log,
        sampled=m.looked,
    )
    return _with_words(h, grad, relu)


def _bin_counts(s: np.ndarray, lo: float, hi: float, bins: int) -> tuple[int, ...]:
    """Counts of ``s`` in ``bins`` equal bins from ``lo`` to ``hi`` (the last one closed)."""
    at = ((s - lo) * (bins / (hi - lo))).astype(np.int64)
    np.clip(at, 0, bins - 1, out=at)
    return tuple(int(c) for c in np.bincount(at, minlength=bins))


def _value_words(value: float, grad: bool) -> tuple[str, ...]:
    if math.isnan(value) or math.isinf(value):
        return (f"the value is {value}",)
    big = abs(value)
    if grad and 0 < big < TINY:
        return (f"|grad| {_num(big)} < {TINY:g} — a vanishing gradient",)
    if big > HUGE:
        tail = "an exploding gradient?" if grad else "huge"
        return (f"|{'grad' if grad else 'x'}| {_num(big)} — {tail}",)
    return ()


def percent(share: float) -> str:
    """``62%``; never ``100%`` or ``0%`` for a share that is not all or nothing."""
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{share * 100:.0f}%"


def _num(x: float) -> str:
    return f"{x:.1e}"


def _with_words(h: Histogram, grad: bool, relu: bool) -> Histogram:
    """``h`` with the words for what is notable in it."""
    words: list[str] = []
    what = "grad" if grad else "x"
    if h.nan or h.inf:
        found = [f"{n:,} {name}" for n, name in ((h.nan, "NaN"), (h.inf, "Inf")) if n]
        words.append(" and ".join(found) + " (left out of the bins and statistics)")
    big = h.max_abs
    if big is None:
        pass
    elif big == 0:
        if relu:
            words.append("all zeros — a dead ReLU")
        elif grad:
            words.append("all zeros — no gradient flows here")
        else:
            words.append("all zeros")
    else:
        if h.zeros >= MANY_ZEROS and (grad or relu):
            words.append(f"{percent(h.zeros)} zeros" + (" — a dead ReLU?" if relu else ""))
        if big < TINY:
            tail = "a vanishing gradient" if grad else "all tiny"
            words.append(f"every |{what}| < {TINY:g} (max {_num(big)}) — {tail}")
        elif big > HUGE:
            tail = "an exploding gradient?" if grad else "huge values"
            words.append(f"max |{what}| {_num(big)} — {tail}")
    if not words:
        return h
    return replace(h, words=tuple(words))


# ---- the pictures of one node ------------------------------------------------------------------


def is_relu(op: str) -> bool:
    """Whether op ``op`` is a ReLU (anet's ``ReLU``, a user's ``MyRelu``): its output and the
    grad it passes back are exactly 0 wherever it is off (a leaky one's are not)."""
    name = op.lower()
    return name.endswith("relu") and "leaky" not in name


def node_pictures(graph: Graph, key: int | str | Tensor) -> tuple[Histogram, ...]:
    """What ``%show #id`` draws: for a node, its output (``out``), the grad it received
    (``grad received``; ``so far`` while it has not run) and each grad it returned; for a leaf,
    its values and grad. Values that are not arrays (a list a broken backward returned) are
    left out."""
    rec = graph.node(key)
    if isinstance(rec, LeafRecord):
        pictures = [histogram(rec.tensor.data, "values")]
        if rec.tensor.grad is not None:
            pictures.append(histogram(rec.tensor.grad, "grad", grad=True))
        return tuple(pictures)
    relu = is_relu(rec.op)
    pictures = [histogram(rec.tensor.data, "out", relu=relu)]
    received = rec.grad_output
    if received is not None and received.is_array:
        partial = hasattr(graph, "position") and rec.status == "pending"
        title = "grad received so far" if partial else "grad received"
        fed = _fed_by_relu(graph, rec)
        pictures.append(histogram(received.value, title, grad=True, relu=fed))
    for info in rec.returned or ():
        v = info.value
        if v is None or not v.is_array or v.value.dtype.kind not in "biuf":
            continue
        parent = graph.node(info.parent)
        title = f"grad to parent {info.index} ({parent.label})"
        pictures.append(histogram(v.value, title, grad=True, relu=relu))
    return tuple(pictures)


def _fed_by_relu(graph: Graph, rec: NodeRecord) -> bool:
    """Whether every node that uses ``rec``'s output is a ReLU (its grad is then ReLU-masked)."""
    users = [
        r for r in graph.nodes[: rec.index] if any(p is rec.tensor for p in r.tensor._ctx.parents)
    ]
    return bool(users) and all(is_relu(r.op) for r in users)


# ---- the flow of gradients along the walk ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowBar:
    """One bar of a :class:`Flow`: the grad node (or parameter) ``id`` received, as its mean and
    max |grad| (over its finite entries; None when it has none), its share of exact ``zeros``,
    its ``nonfinite`` entries (NaN and Inf), and the kinds of the node's ``flags``.

    ``label``: ``#12 Dot`` for a node, the parameter's path for a parameter (``layers.0.weight``,
    or ``#3 leaf`` when no model names it); ``group``: the layer that owns the parameter
    (``layers.0``; "" for nodes); ``where``: the user's line that applied the node's op;
    ``sampled``: the mean and zeros come from a sample (a grad of more than ``SAMPLE``
    entries)."""

    id: int
    label: str
    size: int
    mean_abs: float | None
    max_abs: float | None
    zeros: float = 0.0
    nonfinite: int = 0
    flags: tuple[str, ...] = ()
    where: Where | None = None
    group: str = ""
    op: str = ""
    sampled: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlowBar:
        where = d["where"]
        return cls(
            **{**d, "flags": tuple(d["flags"]), "where": None if where is None else Where(*where)}
        )


@dataclass(frozen=True, slots=True)
class Flow:
    """How big the grads are along the walk, as it stands: ``bars`` one per node that has its
    grad (``by="node"``, in walk order: the root first), or one per parameter that has its grad
    from this walk (``by="param"``: grouped by the layer that owns it, layers in the order the
    walk reaches them). ``position`` is the walk's (k, n) (None for a graph no session walks),
    ``waiting`` how many nodes or parameters have no grad yet, ``model`` what names the
    parameters (the model's type name; ``%flow`` puts its name in the namespace before it:
    ``net (Deep)``), ``words`` what is notable (a fall or rise of orders of
    magnitude, all-zero grads, NaN/Inf)."""

    by: str
    root: str
    bars: tuple[FlowBar, ...]
    position: tuple[int, int] | None = None
    waiting: int = 0
    model: str | None = None
    words: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``json.dumps`` (:meth:`from_dict` makes the view back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Flow:
        position = d["position"]
        return cls(
            d["by"],
            d["root"],
            tuple(map(FlowBar.from_dict, d["bars"])),
            None if position is None else (position[0], position[1]),
            d["waiting"],
            d["model"],
            tuple(d["words"]),
        )


def _grad_measure(g: np.ndarray) -> tuple[float | None, float | None, float, int, bool]:
    """(mean |g|, max |g|, share of zeros, NaN and Inf count, sampled) of a grad: four numpy
    calls for a small finite one (a flow measures every node of the walk)."""
    n = g.size
    if 0 < n <= SAMPLE:
        a = np.abs(g)
        total, big = float(np.add.reduce(a, axis=None, dtype=np.float64)), float(a.max())
        if math.isfinite(total) and math.isfinite(big):
            return total / n, big, 1 - np.count_nonzero(g) / n, 0, False
    m = measure(g)
    s = m.sample
    mean = float(np.abs(s).mean()) if s.size else None
    big = None if m.lo is None or m.hi is None else max(abs(m.lo), abs(m.hi))
    return mean, big, m.zeros, m.nan + m.inf, m.looked is not None


def _bar(
    ident: int,
    label: str,
    g: np.ndarray,
    *,
    flags: tuple[str, ...] = (),
    where: Where | None = None,
    group: str = "",
    op: str = "",
) -> FlowBar | None:
    if not isinstance(g, np.ndarray) or g.dtype.kind not in "biuf":
        return None
    mean, big, zeros, bad, sampled = _grad_measure(g)
    return FlowBar(ident, label, g.size, mean, big, zeros, bad, flags, where, group, op, sampled)


def flow(graph: Graph, by: str = "node", model: Any = None) -> Flow:
    """The :class:`Flow` of ``graph``'s grads as they stand: a BackwardSession at its current
    step (nodes that have run, and the current one, whose grad is complete), or a Graph after a
    plain ``backward()`` (every node holding a grad).

    ``by="node"``: a bar per node, the grad it received. ``by="param"``: a bar per parameter
    (a leaf that requires grad) once every node using it has run, the sum of the grads the walk
    gave it (not earlier walks' grads it may still hold); ``model`` (an ``nn.Module`` or any
    object holding Tensors) names them by attribute path (``layers.0.weight``) and groups them
    by the layer owning them.
    """
    if by not in ("node", "param"):
        raise ValueError(f"flow: by must be 'node' or 'param', not {by!r}")
    position = getattr(graph, "position", None)
    walking = position is not None
    # Nodes that have run; with the current one, nodes whose grad is complete.
    ran = (position[0] if graph.started else 0) if walking else len(graph.nodes)
    k = ran + (walking and graph.started and graph.current is not None)
    root = graph.node(graph.root).label if graph.nodes else f"#{graph.root.id} leaf"
    if by == "node":
        bars, waiting = _node_bars(graph, k, walking)
        name = None
    else:
        bars, waiting = _param_bars(graph, ran, walking, model)
        name = None if model is None else type(model).__name__
    relus = any(is_relu(r.op) for r in graph.nodes)
    # The root's grad is the seed (1 for a loss), not a size the walk came to: left out of
    # the fall or rise the words look for.
    words = _flow_words([b for b in bars if b.id != graph.root.id], bars, by, relus)
    return Flow(by, root, tuple(bars), position, waiting, name, words)


# The bars already measured, per graph and node: (the grad, the flags, the bar). A session is
# drawn again after every step; only the nodes whose grad or flags changed are measured again.
_measured: weakref.WeakKeyDictionary[Graph, dict[int, tuple[Any, Any, FlowBar | None]]]
_measured = weakref.WeakKeyDictionary()


def _node_bars(graph: Graph, k: int, walking: bool) -> tuple[list[FlowBar], int]:
    bars: list[FlowBar] = []
    known = _measured.setdefault(graph, {})
    for rec in graph.nodes[:k]:
        g = (rec.received if rec.ran else rec.tensor.grad) if walking else rec.tensor.grad
        if g is None:
            continue
        kept = known.get(rec.id)
        if kept is not None and kept[0] is g and kept[1] is rec.flags:
            bar = kept[2]
        else:
            flags = tuple(dict.fromkeys(f.kind for f in rec.flags))
            bar = _bar(rec.id, rec.label, g, flags=flags, where=rec.where, op=rec.op)
            known[rec.id] = (g, rec.flags, bar)
        if bar is not None:
            bars.append(bar)
    waiting = sum(1 for rec in graph.nodes[k:] if getattr(rec, "status", "") != "unreached")
    return bars, waiting


def _param_bars(graph: Graph, ran: int, walking: bool, model: Any) -> tuple[list[FlowBar], int]:
    """A bar per parameter whose users have all run (the first ``ran`` nodes): the grads the
    walk's nodes delivered to it, summed (a parameter used twice gets both)."""
    named = named_parameters(model) if model is not None else []
    names = {id(t): path for path, t in named}
    order = {id(t): n for n, (_, t) in enumerate(named)}
    users: dict[int, list[tuple[NodeRecord, int]]] = {}  # leaf id -> (node, parent index)
    leaves: dict[int, Tensor] = {}
    last: dict[int, int] = {}  # leaf id -> walk index of its last user, which completes it
    for at, rec in enumerate(graph.nodes):
        for i, p in enumerate(rec.tensor._ctx.parents):
            if p._ctx is None and p.requires_grad:
                users.setdefault(p.id, []).append((rec, i))
                leaves[p.id] = p
                last[p.id] = at
    complete = sorted((pid for pid in leaves if last[pid] < ran), key=last.__getitem__)
    by_group: dict[str, list[FlowBar]] = {}
    for pid in complete:
        t = leaves[pid]
        if walking:
            delivered = [
                rec.grads[i]
                for rec, i in users[pid]
                if rec.grads is not None and i < len(rec.grads) and rec.grads[i] is not None
            ]
            if not delivered:
                continue
            g = delivered[0] if len(delivered) == 1 else sum(delivered[1:], delivered[0])
        elif t.grad is None:
            continue
        else:
            g = t.grad
        path = names.get(id(t))
        group, _, _ = path.rpartition(".") if path else ("", "", "")
        label = path or f"#{t.id} leaf"
        flags = tuple(
            dict.fromkeys(
                f.kind for rec, i in users[pid] for f in rec.flags if f.index in (i, None)
            )
        )
        bar = _bar(t.id, label, g, flags=flags, group=group, op="leaf")
        if bar is not None:
            by_group.setdefault(group, []).append(bar)
    bars: list[FlowBar] = []
    for group_bars in by_group.values():  # layers in the order the walk reaches them
        bars += sorted(group_bars, key=lambda b: order.get(id(leaves[b.id]), 0))
    return bars, len(leaves) - len(bars)


def _flow_words(sized: list[FlowBar], bars: list[FlowBar], by: str, relus: bool) -> tuple[str, ...]:
    """What is notable in a flow: the steepest fall or rise of mean |grad| among ``sized``,
    all-zero and non-finite grads among ``bars``."""
    words: list[str] = []
    what = "nodes" if by == "node" else "parameters"
    change = _steepest(sized)
    if change is not None:
        top, bottom = change
        ratio = bottom.mean_abs / top.mean_abs
        way, end = ("falls", "vanishing") if ratio < 1 else ("grows", "exploding")
        words.append(
            f"mean |grad| {way} {abs(math.log10(ratio)):.0f} orders of magnitude, from "
            f"{_num(top.mean_abs)} at {top.label} to {_num(bottom.mean_abs)} at "
            f"{bottom.label} — {end} gradients"
        )
    dead = [b for b in bars if b.max_abs == 0]
    if dead:
        n = len(dead)
        name = what if n != 1 else what[:-1]
        learn = "" if by == "node" else f", so {'they' if n != 1 else 'it'} will not learn"
        tail = " — dead ReLUs?" if relus else ""
        words.append(f"{n} {name} got all-zero grads{learn} (first {dead[0].label}){tail}")
    bad = [b for b in bars if b.nonfinite]
    if bad:
        n = len(bad)
        words.append(
            f"NaN or Inf in the grads of {n} {what if n != 1 else what[:-1]} (first {bad[0].label})"
        )
    return tuple(words)


def _steepest(bars: list[FlowBar]) -> tuple[FlowBar, FlowBar] | None:
    """The two bars, the first above the second in the walk, whose mean |grad| differ the most
    (a fall or a rise), when by 3 orders of magnitude or more."""
    high: FlowBar | None = None  # the greatest and least mean |grad| so far
    low: FlowBar | None = None
    fall: tuple[float, FlowBar, FlowBar] | None = None  # (orders, from, to)
    rise: tuple[float, FlowBar, FlowBar] | None = None
    for b in bars:
        m = b.mean_abs
        if not m:
            continue
        if high is not None and (fall is None or high.mean_abs / m > fall[0]):
            fall = (high.mean_abs / m, high, b)
        if low is not None and (rise is None or m / low.mean_abs > rise[0]):
            rise = (m / low.mean_abs, low, b)
        if high is None or m > high.mean_abs:
            high = b
        if low is None or m < low.mean_abs:
            low = b
    best = max((c for c in (fall, rise) if c is not None), key=lambda c: c[0], default=None)
    if best is None or best[0] < 1e3:
        return None
    return best[1], best[2]


def find_model(graph: Graph, candidates: Mapping[str, Any]) -> tuple[str, Any] | None:
    """Among ``candidates`` (a namespace), the ``nn.Module`` holding the most of the graph's
    parameters (the first such one on a tie): its name and itself, or None."""
    wanted = {
        id(p)
        for rec in graph.nodes
        for p in rec.tensor._ctx.parents
        if p._ctx is None and p.requires_grad
    }
    best: tuple[int, str, Any] | None = None
    for name, obj in candidates.items():
        if not isinstance(obj, Module) or name.startswith("_"):
            continue
        held = sum(1 for _, t in named_parameters(obj) if id(t) in wanted)
        if held and (best is None or held > best[0]):
            best = (held, name, obj)
    return None if best is None else (best[1], best[2])


__all__ = [
    "BINS",
    "SAMPLE",
    "Flow",
    "FlowBar",
    "Histogram",
    "Measure",
    "find_model",
    "flow",
    "histogram",
    "measure",
    "node_pictures",
]
