"""Text drawings of the pictures in :mod:`anet.debug.pictures`, what both front-ends print: a
histogram in block bars (``▁▂▃▄▅▆▇█``, a few rows tall) and the flow of gradients as a bar chart
on a log scale, one row per node or parameter, each fitting ``width`` columns (80 by default).

Drawn in Unicode with symbols that have one-character ASCII stand-ins (``█`` → ``#``, ``·`` →
``-``; :data:`anet.debug.views.ASCII_TABLE`), so ``to_ascii`` of a chart keeps its columns:
``ascii=True`` draws that, a front-end may turn the Unicode lines to ASCII at output. What is
notable is said in words (``! 62% zeros — a dead ReLU?``), never by colour.
"""

from __future__ import annotations

import math
import textwrap

from anet.debug.pictures import Flow, FlowBar, Histogram, node_pictures, percent
from anet.debug.records import Graph
from anet.debug.views import to_ascii, where_text
from anet.flags import KINDS
from anet.tensor import Tensor

WIDTH = 80
HEIGHT = 4  # rows of a histogram's bars: 4 × 8 levels
FLOW_ROWS = 60  # rows a flow chart draws (the first and last half when there are more)
BAR = 30  # cells of a flow chart's bars the labels make room for, as far as they can
_LEVELS = " ▁▂▃▄▅▆▇█"
_FULL, _REACH = "█", "·"
_CUT = "~"  # the end of a label cut to fit (one ASCII character: columns stay as drawn)
_INDENT = "  "


def _short(x: float) -> str:
    """A number in at most 9 characters: ``-0.0273``, ``3.07``, ``1.2e-08``."""
    if x == 0:
        return "0"
    return f"{x:.3g}"


def _sci(x: float | None) -> str:
    """``3.1e-02``: a flow chart's numbers, all alike so their columns compare at a glance."""
    if x is None:
        return "—"
    return "0" if x == 0 else f"{x:.1e}"


def _cut(text: str, width: int, left: bool = False) -> str:
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return _CUT + text[len(text) - width + 1 :] if left else text[: width - 1] + _CUT


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    ) or [first.rstrip()]


def _parts(parts: list[str], width: int) -> list[str]:
    """``parts`` joined by `` · ``, a new (indented) line where the next one would not fit."""
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(_INDENT + "  " + part)
    return lines


def _finish(lines: list[str], ascii: bool) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return to_ascii(text) if ascii else text


# ---- histogram -------------------------------------------------------------------------------


def histogram(
    h: Histogram, *, ascii: bool = False, width: int = WIDTH, height: int = HEIGHT
) -> str:
    """``h`` as text: a title line (what, shape, dtype, how many values, sampled, the count
    scale), ``height`` rows of block bars between the least and greatest value, an axis with
    both ends (and 0 where it falls inside), ``mean std zeros`` and the words."""
    head = f"{h.title}  {h.shape} {h.dtype}" if h.title else f"{h.shape} {h.dtype}"
    parts: list[str] = []
    body: list[str] = []
    if h.value is not None:
        parts.append(f"value {h.value:.6g}")
    elif h.count == 0:
        parts.append("empty")
    else:
        parts.append(f"{h.count:,} values")
        if h.sampled is not None:
            parts.append(f"sampled {h.sampled:,} of {h.count:,}")
        if h.min is None:
            parts.append("none finite")
        elif h.min == h.max:
            parts.append(f"all {h.min:.6g}")
        elif not any(h.counts):  # the few finite entries are not in the sample
            parts.append(f"finite from {_short(h.min)} to {_short(h.max)}, none sampled")
        else:
            if h.log_counts:
                parts.append("counts on a log scale")
            body = _bars(h, width, height)
        if h.mean is not None and h.std is not None:
            stats = f"mean {_short(h.mean)}  std {_short(h.std)}  zeros {percent(h.zeros)}"
            if h.nan:
                stats += f"  NaN {h.nan:,}"
            if h.inf:
                stats += f"  Inf {h.inf:,}"
            body += _wrap(stats, width, _INDENT, _INDENT)
        elif h.nan or h.inf:
            stats = f"zeros {percent(h.zeros)}  NaN {h.nan:,}  Inf {h.inf:,}"
            body += _wrap(stats, width, _INDENT, _INDENT)
    lines = _parts([head, *parts], width)
    lines += body
    for w in h.words:
        lines += _wrap(w, width, _INDENT + "! ", _INDENT + "  ")
    return _finish(lines, ascii)


def _bars(h: Histogram, width: int, height: int) -> list[str]:
    counts = h.counts
    room = max(1, width - len(_INDENT))
    if len(counts) > room:  # narrower than a cell a bin: neighbouring bins drawn as one
        k = math.ceil(len(counts) / room)
        counts = tuple(sum(counts[i : i + k]) for i in range(0, len(counts), k))
    cell = max(1, min(3, room // len(counts)))
    top = max(counts)
    log = h.log_counts
    scale = (math.log1p(top) if log else top) / (8 * height)  # counts per eighth of a cell
    eighths = [max(1, math.ceil((math.log1p(c) if log else c) / scale)) if c else 0 for c in counts]
    rows = []
    for r in range(height - 1, -1, -1):
        row = "".join(_LEVELS[min(8, max(0, e - 8 * r))] * cell for e in eighths)
        rows.append(_INDENT + row)
    span = cell * len(counts)
    lo, hi = _short(h.min), _short(h.max)
    axis = [" "] * span
    axis[: len(lo)] = lo
    axis[span - len(hi) :] = hi
    if h.min < 0 < h.max:  # where 0 falls, when it does not run into the ends' labels
        at = int((0 - h.min) / (h.max - h.min) * span)
        if len(lo) + 1 < at < span - len(hi) - 1:
            axis[at] = "0"
    rows.append(_INDENT + "".join(axis))
    return rows


def pictures(source: Graph | Tensor, key: int | str | Tensor, **options: object) -> str:
    """The histograms of node or leaf ``key`` (:func:`anet.debug.pictures.node_pictures`),
    one after another (``%show #id`` prints them after the node's detail)."""
    graph = Graph(source) if isinstance(source, Tensor) else source
    drawn = [histogram(h, **options) for h in node_pictures(graph, key)]  # type: ignore[arg-type]
    return "\n".join(drawn)


# ---- flow ------------------------------------------------------------------------------------


def _marks(bar: FlowBar) -> str:
    marks = [f"{KINDS[k].marker} {k}" for k in bar.flags if k in KINDS]
    if bar.nonfinite:
        marks.append(f"{bar.nonfinite:,} NaN/Inf")
    if bar.max_abs == 0:
        marks.append("all zeros")
    elif bar.zeros >= 0.6:
        marks.append(f"{percent(bar.zeros)} zeros")
    return " ".join(marks)


def flow(
    f: Flow,
    *,
    name: str | None = None,
    ascii: bool = False,
    width: int = WIDTH,
    max_rows: int = FLOW_ROWS,
) -> str:
    """``f`` as a bar chart on a log scale: a row per bar (the node and the user's line, or
    the layer and the parameter; then the bar: ``█`` to the mean |grad|, ``·`` on to the max;
    then both numbers and the marks: flags, NaN/Inf, many zeros), an axis of powers of ten,
    and the words. ``name``: what the root is called (``loss``)."""
    head = "grad flow per node" if f.by == "node" else "grad flow per parameter"
    if f.model:
        head += f" of {f.model}"
    parts = [head, f"{name} ({f.root})" if name else f.root]
    if f.position is not None:
        parts.append(f"step {f.position[0]}/{f.position[1]}")
    lines = _parts(parts, width)
    if not f.bars:
        waiting = "no grads yet" if f.position is None or f.position[0] == 0 else "no grads"
        lines.append(f"{waiting}: %step runs the walk on" if f.position else "no grads")
        return _finish(lines, ascii)
    lines.append(f"{_FULL} mean |grad|, {_REACH} on to max |grad|, log scale")
    lines += _flow_rows(f, width, max_rows)
    if f.waiting:
        thing = "nodes" if f.by == "node" else "parameters"
        lines.append(f"{f.waiting:,} more {thing} get their grads as the walk goes on")
    for w in f.words:
        lines += _wrap(w, width, "! ", "  ")
    return _finish(lines, ascii)


def _flow_rows(f: Flow, width: int, max_rows: int) -> list[str]:
    bars = f.bars
    by_node = f.by == "node"  # (node, its line: cut at the left) or (layer: likewise, param)
    if by_node:
        firsts = [b.label for b in bars]
        seconds = [where_text(b.where) for b in bars]
        ditto = 1  # the user's line, when the row above has it too, is left blank
        heads = ("node", "line")
    else:
        firsts = [b.group for b in bars]
        seconds = [b.label[len(b.group) + 1 :] if b.group else b.label for b in bars]
        ditto = 0  # the layer, likewise
        heads = ("layer", "param")
    marks = [_marks(b) for b in bars]
    w1 = min(max(len(t) for t in (*firsts, heads[0])), 22)
    w2 = min(max(len(t) for t in (*seconds, heads[1])), 16)
    wm = min(max(len(m) for m in marks), 22)
    numbers = 8 + 8  # " 3.1e-02" twice
    extra = numbers + (1 + wm if wm else 0)
    span = width - (w1 + 1 + w2 + 1 + extra) - 1
    if span < BAR:  # the second label gives way first, down to 10 (``~ients.py:25``)
        w2 = max(min(w2, 10), w2 - (BAR - span))
        span = width - (w1 + 1 + w2 + 1 + extra) - 1
    if span < 12 and by_node:  # narrow: the user's line gives way (the detail says it)
        w2 = -1
        span = width - (w1 + 1 + extra) - 1
    if span < 12:  # narrow: the labels give way to the bar, the second then the first
        w2 = max(6, w2 - (12 - span)) if w2 >= 0 else w2
        span = width - (w1 + 1 + w2 + 1 + extra) - 1
    if span < 12:
        w1 = max(6, w1 - (12 - span))
        span = width - (w1 + 1 + w2 + 1 + extra) - 1
    span = max(span, 8)  # narrower still: the rows run past the width rather than lose the bar
    positive = [b.mean_abs for b in bars if b.mean_abs] + [b.max_abs for b in bars if b.max_abs]
    if positive:  # the shortest bar at least half a power of ten long
        lo = math.floor(math.log10(min(positive)) - 0.5)
        hi = max(lo + 1, math.ceil(math.log10(max(positive))))
    else:
        lo, hi = -1, 0
    axis = _axis(lo, hi, span)
    second = (lambda text: "") if w2 < 0 else (lambda text: f"{text:<{w2}} ")
    rows = [f"{heads[0]:<{w1}} {second(heads[1])}{axis} {'mean':>7} {'max':>7}"]

    def place(x: float) -> int:
        return 1 + round((math.log10(x) - lo) / (hi - lo) * (span - 1))

    shown = list(range(len(bars)))
    if len(bars) > max_rows:
        half = max_rows // 2
        shown = [*range(half), -1, *range(len(bars) - (max_rows - half), len(bars))]
    previous: list[str | None] = [None, None]
    for i in shown:
        if i < 0:
            rows.append(f"… {len(bars) - max_rows:,} more rows")
            previous = [None, None]
            continue
        b = bars[i]
        cols = [firsts[i], seconds[i]]
        same = bool(cols[ditto]) and cols[ditto] == previous[ditto]
        previous = cols[:]
        if same:
            cols[ditto] = ""
        fill = place(b.mean_abs) if b.mean_abs else 0
        reach = place(b.max_abs) if b.max_abs else 0
        bar = _FULL * min(fill, span) + _REACH * max(0, min(reach, span) - fill)
        rows.append(
            f"{_cut(cols[0], w1, left=not by_node):<{w1}} {second(_cut(cols[1], w2, by_node))}"
            f"{bar:<{span}} {_sci(b.mean_abs):>7} {_sci(b.max_abs):>7} {_cut(marks[i], wm)}"
        )
    return rows


def _axis(lo: int, hi: int, span: int) -> str:
    """Powers of ten along a bar of ``span`` cells: both ends, and the middle when it fits."""
    axis = [" "] * span
    first, last = f"1e{lo:+03d}", f"1e{hi:+03d}"
    axis[: len(first)] = first
    axis[span - len(last) :] = last
    mid = (lo + hi) // 2
    if lo < mid < hi:
        label = f"1e{mid:+03d}"
        at = round((mid - lo) / (hi - lo) * (span - 1)) - len(label) // 2
        if len(first) + 1 < at and at + len(label) < span - len(last) - 1:
            axis[at : at + len(label)] = label
    return "".join(axis)


__all__ = ["flow", "histogram", "pictures"]
