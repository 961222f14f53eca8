"""Views: the placement every tree drawing uses, marks and where, as plain JSON-able values."""

from __future__ import annotations

import collections
import json
import os
from dataclasses import asdict

import numpy as np
import student_bugs  # noqa: F401 - registers the broken Functions

from anet import Tensor
from anet.debug import BackwardSession, Graph, record, render
from anet.debug.views import Mark, Placed, Placement, Status, placement, to_ascii, where_text


def diamond() -> Tensor:
    with record():
        x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
        a = x * 2.0
        return (a.exp() + a.tanh() + x * x).sum()


def test_placement_round_trips_through_json() -> None:
    rows = list(placement(Graph(diamond())))
    back = [Placed(**d) for d in json.loads(json.dumps([asdict(p) for p in rows]))]
    assert back == rows
    assert rows[0].parent is None and rows[0].depth == 0
    assert any(p.ref for p in rows)  # a, x: drawn once, then referred to


def test_placement_places_each_node_once_first_use_first() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    sq = x * x  # the same parent twice
    loss = sq.sum()
    g = Graph(loss)
    rows = list(placement(g))
    assert [(p.id, p.depth, p.index, p.ref) for p in rows] == [
        (loss.id, 0, 0, False),
        (sq.id, 1, 0, False),
        (x.id, 2, 0, False),
        (x.id, 2, 1, True),
    ]
    placed = Placement(g)
    assert placed.here(x.id, sq.id, 0) and not placed.here(x.id, sq.id, 1)
    assert placed.up(x.id) == sq.id and placed.depth(x.id) == 2
    assert placed.ancestor(x.id, 5) == loss.id


def test_placement_is_lazy_and_iterative_on_a_100000_node_chain() -> None:
    y = Tensor(np.ones(2), requires_grad=True)
    for _ in range(100_000):
        y = y.tanh()
    g = Graph(y)
    rows = placement(g)
    assert next(rows).id == y.id  # the first row without walking the rest
    last = collections.deque(rows, maxlen=1).pop()
    assert last.depth == 100_000 and not last.ref
    assert [p.deeper for p in placement(g, max_depth=3)] == [False, False, False, True]


def test_marks_are_values_the_renderers_style() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    swapped = x.swap_grad()
    s = BackwardSession((swapped * 1.0).sum())
    assert Mark.of(s.nodes[1]) == Mark(Status.PENDING)
    s.run()
    mark = Mark.of(s.node(swapped.id))
    assert mark.flags == ("shape",) and mark.text() == "✗ shape"
    d = json.loads(json.dumps(asdict(mark)))
    assert Mark(Status(d["status"]), tuple(d["flags"])) == mark
    assert Mark.of(s.node(x.id)) == Mark() and Mark().text() == ""
    assert Mark.of(s.nodes[0], statuses=False).text() == ""
    assert render.marks(s.nodes[0]) == "✓ done"
    assert render.marks(s.nodes[0], ascii=True) == "ok done"


def test_one_ascii_table_at_output() -> None:
    s = BackwardSession(diamond())
    text = render.tree(s, ascii=True)
    assert text.isascii() and "- pending" in text
    assert text == render.tree(s, ascii=True)
    assert to_ascii("· ▶ ✓ ✗ – … ↑ └─ ├─ │") == "- > ok x - ... ^ `- |- |"


def test_where_reads_one_way_per_place() -> None:
    loss = diamond()
    loc = Graph(loss).nodes[0].where
    assert loc is not None
    assert where_text(loc) == f"test_debug_views.py:{loc.line}"
    assert where_text(loc, "full") == f"{loc.file}:{loc.line}"
    assert where_text(loc, "relative") == f"{os.path.relpath(loc.file)}:{loc.line}"
    assert where_text(None) == ""
