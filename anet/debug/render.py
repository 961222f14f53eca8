"""Text, Graphviz DOT and JSON views of a graph or a session, all drawn from the same records.

Each takes a BackwardSession (statuses and flags shown), a Graph, or a bare Tensor (its graph).
Shared nodes appear once; later uses are back-references (``↑ #7``), so a diamond stays small.
"""

from __future__ import annotations

import json as _json
from typing import Any

from anet.debug import charts
from anet.debug.records import (
    CURRENT,
    UNREACHED,
    Graph,
    NodeRecord,
    Record,
)
from anet.debug.session import BackwardSession, Stop
from anet.debug.views import (
    CROSS,
    Mark,
    NodeView,
    ValueView,
    got_expected,
    node_view,
    option_value,
    placement,
    to_ascii,
    where_text,
)
from anet.flags import KINDS
from anet.tensor import Tensor
from anet.words import counted, plural

Source = BackwardSession | Graph | Tensor

# Tree drawing: tee, last, bar, blank (Unicode; ASCII comes from views.to_ascii at output).
_TEE, _LAST, _BAR, _BLANK = "├─ ", "└─ ", "│  ", "   "


def more_line(left: int, what: str, ascii: bool = False) -> str:
    """``… 19,900 more parents`` (what a capped list says it left out)."""
    text = f"… {left:,} more {what if left != 1 else _one(what)}"
    return to_ascii(text) if ascii else text


def _one(what: str) -> str:
    """``parent`` for ``parents``, ``flag (%flags …)`` for ``flags (%flags …)``."""
    word, space, rest = what.partition(" ")
    return word.removesuffix("s") + space + rest


def graph_of(source: Source) -> Graph:
    """The Graph to draw: a session or graph as is, a Tensor's graph otherwise."""
    return Graph(source) if isinstance(source, Tensor) else source


def marks(rec: Record, ascii: bool = False, statuses: bool = True) -> str:
    """The status and flag markers of a row: ``✓ done``, ``▶ current``, ``✗ shape ✗ vjp``…"""
    text = Mark.of(rec, statuses).text()
    return to_ascii(text) if ascii else text


def row(rec: Record) -> str:
    """``#5 SwapGrad (2, 3)``: a record's label and output shape."""
    return f"{rec.label} {rec.shape}"


def tree(
    source: Source,
    *,
    node: int | str | None = None,
    ascii: bool = False,
    max_depth: int | None = 64,
    max_lines: int | None = None,
) -> str:
    """The graph as a text tree: the root (or ``node``) at the top, parents below.

    Each row: ``#id Op (shape)``, status and flag markers (words, readable without colour), the
    file:line where the op was applied. ``ascii=True`` draws with ASCII only. Rows deeper than
    ``max_depth`` are not drawn (the last row drawn ends in ``… #id``: draw from there with
    ``node=``), and ``max_lines`` cuts long output: a 100,000-op chain stays printable.
    """
    g = graph_of(source)
    statuses = isinstance(g, BackwardSession)
    rows: list[tuple[str, str, str]] = []  # (tree part, markers, where)
    prefixes = [""]  # prefixes[d]: what stands left of the connector of a row at depth d + 1
    cut = False
    for p in placement(g, node, max_depth):
        if max_lines is not None and len(rows) >= max_lines:
            cut = True
            break
        depth = p.depth
        prefix = prefixes[depth - 1] if depth else ""
        connector = (_LAST if p.last else _TEE) if depth else ""
        if p.ref:
            rows.append((f"{prefix}{connector}↑ {p.label}", "", ""))
            continue
        rec = g.node(p.id)
        text = f"{prefix}{connector}{row(rec)}" + (" … deeper" if p.deeper else "")
        rows.append((text, marks(rec, statuses=statuses), where_text(rec.where)))
        if depth:
            del prefixes[depth:]
            prefixes.append(prefix + (_BLANK if p.last else _BAR))
    if cut:
        rows.append((f"… (cut at {max_lines} lines)", "", ""))
    if ascii:  # cell by cell, before the columns are lined up
        rows = [(to_ascii(t), to_ascii(m), w) for t, m, w in rows]
    width = min(max((len(r[0]) for r in rows[: len(rows) - cut]), default=0), 48)
    mark_width = 11 if statuses else 0
    return "\n".join(
        f"{t:<{width}}  {m:<{mark_width}} {w}".rstrip() if m or w else t for t, m, w in rows
    )


def dot(source: Source) -> str:
    """Graphviz DOT text: one box per node, one ellipse per leaf, an edge to each parent."""
    g = graph_of(source)
    statuses = isinstance(g, BackwardSession)
    out = ["digraph anet {", "  rankdir=TB;", '  node [fontname="monospace"];']
    edges = []
    records: list[Record] = [*g.nodes, *g.leaves]
    for rec in records:
        label = row(rec).replace(" (", "\\n(", 1)
        attrs = ["shape=ellipse" if rec.is_leaf else "shape=box"]
        if not rec.is_leaf:
            mark = marks(rec, statuses=statuses)
            if mark:
                label += "\\n" + mark
            if rec.flags:
                attrs.append("color=red")
            if statuses and rec.status == CURRENT:
                attrs.append("penwidth=2")
            if statuses and rec.status == UNREACHED:
                attrs.append("style=dashed")
            for i, p in enumerate(rec.tensor._ctx.parents):
                edges.append(f'  n{rec.id} -> n{p.id} [label="{i}"];')
        out.append(f'  n{rec.id} [label="{_dot_escape(label)}", {", ".join(attrs)}];')
    out += edges
    out.append("}")
    return "\n".join(out)


def _dot_escape(text: str) -> str:
    return text.replace('"', '\\"')


def to_dict(source: Source) -> dict[str, Any]:
    """Ids, ops, shapes, statuses, flags and where of every node and leaf, JSON-ready: each
    node's :class:`~anet.debug.views.NodeView` listing all of it, values as shapes only."""
    g = graph_of(source)
    walking = isinstance(g, BackwardSession)
    data: dict[str, Any] = {"root": g.root.id}
    if walking:
        k, n = g.position
        data.update(
            position=[k, n],
            done=g.done,
            flags=[f.to_dict() for f in g.flags],
            breakpoints=[{"kind": b.kind, "value": b.value} for b in g.list_breaks()],
        )
    data["nodes"] = [_node_dict(g, rec, walking) for rec in g.nodes]
    data["leaves"] = [_leaf_dict(node_view(g, rec.id, values=False)) for rec in g.leaves]
    return data


def _node_dict(g: Graph, rec: NodeRecord, walking: bool) -> dict[str, Any]:
    v = node_view(g, rec.id, capped=False, values=False)
    loc = v.where
    d: dict[str, Any] = {
        "id": v.id,
        "op": v.op,
        "label": v.label,
        "shape": list(v.shape),
        "dtype": v.dtype,
        "parents": [p.id for p in v.parents],
        # The options as values and the flags with their short message: the view has them as
        # text for people (KwargView, FlagView), the records as data.
        "kwargs": {k: option_value(x) for k, x in rec.kwargs.items()},
        "where": None if loc is None else loc._asdict(),
        "flags": [f.to_dict() for f in rec.flags],
    }
    if walking:
        received = v.grad_output
        d["status"] = None if v.mark.status is None else v.mark.status.value
        d["warned"] = [w._asdict() for w in v.warned]
        d["grad_output"] = None if received is None else _value_dict(received)
        d["returned"] = (
            None
            if v.returned is None
            else [
                {
                    "parent": r.parent,
                    "got": None if r.got is None else _value_dict(r.got),
                    "expected": {"shape": list(r.expected_shape), "dtype": r.expected_dtype},
                    "flags": list(r.flags),
                }
                for r in v.returned
            ]
        )
    return d


def _leaf_dict(v: NodeView) -> dict[str, Any]:
    return {
        "id": v.id,
        "label": v.label,
        "shape": list(v.shape),
        "dtype": v.dtype,
        "requires_grad": v.requires_grad,
        "grad": None if v.grad is None else list(v.grad.shape or ()),
    }


def _value_dict(v: ValueView) -> dict[str, Any]:
    if v.is_array:
        return {"shape": list(v.shape or ()), "dtype": v.dtype}
    return {"kind": v.kind}


def json(source: Source, indent: int | None = None) -> str:
    """``to_dict`` as JSON text (compact unless ``indent`` is given: pretty JSON is slow)."""
    return _json.dumps(to_dict(source), indent=indent, ensure_ascii=False)


def node_json(source: Source, key: int | str | Tensor, ascii: bool = False) -> str:
    """One node's :class:`~anet.debug.views.NodeView` as JSON text (``%show #id --json``);
    ``NodeView.from_dict(json.loads(text))`` is that view again."""
    return _json.dumps(node_view(graph_of(source), key).to_dict(), ensure_ascii=ascii)


def _pictures(g: Graph, key: int | str | Tensor) -> list[str]:
    """The node's histograms, under a rule, indented to sit in a detail at 80 columns."""
    text = charts.pictures(g, key, width=charts.WIDTH - 2)
    return ["  ── pictures ──", *("  " + t if t else t for t in text.splitlines())]


# ---- sentences the front-ends print ----------------------------------------------------------


def stop_line(session: BackwardSession, stop: Stop, ascii: bool = False) -> str:
    """What ``run()``/``finish()`` did, in one line:
    ``✗ shape at #5 SwapGrad: parent 0: returned (3, 2), expected (2, 3)   (stopped, step 3/4)``.
    """
    k, n = session.position
    if stop.reason == "flag":
        flag = next(f for f in reversed(stop.flags) if f.node == stop.node.id)
        more = len(stop.flags) - 1
        extra = f", {more} more {plural(more, 'flag')}" if more else ""
        return f"{flag.line(ascii)}   (stopped, step {k}/{n}{extra})"
    if stop.reason == "break":
        return f"breakpoint {stop.breakpoint}: stopped before {stop.node.label}   (step {k}/{n})"
    flags = len(session.flags)
    return f"done: {counted(n, 'node')}, {counted(flags, 'flag')}"


def detail(
    source: Source, key: int | str | Tensor, ascii: bool = False, pictures: bool = False
) -> str:
    """Everything a record holds, as text (the plain REPL's ``%show #id``), drawn from its
    :class:`~anet.debug.views.NodeView` (a node's output by its shape: no statistics).
    ``pictures``: with the histograms of its values and grads (:func:`charts.pictures`), before
    the backward's source."""
    g = graph_of(source)
    v = node_view(g, key, out_values=g.node(key).is_leaf)
    lines = [f"{v.label}  out {v.shape} {v.dtype}"]
    drawn = _pictures(g, key) if pictures else []
    if v.is_leaf:
        lines.append(f"  values  {v.out.stats}")
        lines.append(f"  grad    {'—' if v.grad is None else v.grad.text()}")
        lines += drawn
        return to_ascii("\n".join(lines)) if ascii else "\n".join(lines)
    if v.mark.status is not None:
        lines[0] += f"  {v.mark.text()}"
    loc = v.where
    if loc is not None:
        lines.append(f"  applied at {where_text(loc, 'full')}")
        if loc.source:
            lines.append(f"    {loc.source}")
    if v.kwargs:
        lines.append("  kwargs  " + ", ".join(f"{k.name}={k.short()}" for k in v.kwargs))
    lines.append("  parents")
    for p in v.parents:
        lines.append(f"    {p.index}: {p.label} {p.shape} {p.dtype}")
    if v.parents_left:
        lines.append("    " + more_line(v.parents_left, "parents"))
    lines.append("  saved_tensors" + ("  —" if not v.saved else ""))
    for i, s in enumerate(v.saved):
        lines.append(f"    {i}: {s.text()}")
    received = v.grad_output
    lines.append(f"  grad_output  {'—' if received is None else received.text()}")
    if v.returned is not None:
        lines.append("  returned")
        for r in v.returned:
            got, expected = got_expected(r)
            if r.got is not None and not r.got.is_array:
                got = r.got.text()
            bad = f"  {CROSS} {' '.join(r.flags)}" if r.flags else ""
            lines.append(f"    parent {r.index} (#{r.parent}): {got}  expected {expected}{bad}")
        if v.returned_left:
            lines.append("    " + more_line(v.returned_left, "grads"))
    for f in v.flags:
        lines.append(f"  {KINDS[f.kind].marker} {f.kind}: {f.message}")
        if f.traceback:
            lines += ["    " + t for t in f.traceback.rstrip().splitlines()]
    if v.flags_left:
        lines.append("  " + more_line(v.flags_left, "flags (%flags lists them)"))
    if v.check is not None:
        lines.append(f"  check: {v.check[1]}")
    if v.warned:
        lines.append("  warnings while it ran (kept here, not printed)")
        for w in v.warned:
            lines.append(f"    {w.text()}")
            if w.source:
                lines.append(f"      {w.source}")
    lines += drawn
    if v.source:
        lines.append("  ── backward ──")
        lines += ["    " + t for t in v.source.splitlines()]
    text = "\n".join(lines)
    return to_ascii(text) if ascii else text
