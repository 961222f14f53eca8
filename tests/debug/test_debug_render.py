"""Renderers: text tree, DOT and JSON from the same records; a diamond draws each node once."""

from __future__ import annotations

import json
import re

import numpy as np
import student_bugs  # noqa: F401 - registers the broken Functions

from anet import Tensor
from anet.debug import BackwardSession, record, render


def diamond() -> tuple[Tensor, dict[str, Tensor]]:
    with record():
        x = Tensor(np.ones((2, 3), dtype=np.float32))
        a = x * 2.0
        b = a.exp()
        c = a.tanh()
        loss = (b + c).sum()
    return loss, {"x": x, "a": a, "b": b, "c": c}


def ids_in(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"#(\d+)", text)]


def test_text_tree_of_a_diamond_draws_each_node_once() -> None:
    loss, t = diamond()
    s = BackwardSession(loss)
    s.step()
    text = render.tree(s)
    lines = text.splitlines()
    assert lines[0].startswith(f"#{loss.id} Sum ()") and "✓ done" in lines[0]
    assert "▶ current" in lines[1] and lines[1].startswith("└─ #")
    a = t["a"].id
    full = [line for line in lines if f"#{a} Mul (2, 3)" in line]
    refs = [line for line in lines if f"↑ #{a} Mul" in line]
    assert len(full) == 1 and len(refs) == 1  # the shared node once, then a back-reference
    assert sorted(set(ids_in(text))) == sorted(
        {r.id for r in s.nodes} | {leaf.id for leaf in s.leaves}
    )
    assert f"#{t['x'].id} leaf (2, 3)" in text
    assert "test_debug_render.py:" in text  # where each op was applied
    assert "· pending" in text


def test_text_tree_shows_flags_as_words_and_has_an_ascii_form() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    swapped = x.swap_grad()
    loss = (swapped * 1.0).sum()
    s = BackwardSession(loss)
    s.run()
    text = render.tree(s)
    row = next(line for line in text.splitlines() if f"#{swapped.id} SwapGrad" in line)
    assert "✗ shape" in row
    plain = render.tree(s, ascii=True)
    assert plain.isascii()
    assert "x shape" in plain and "ok done" in plain and "`- " in plain


def test_tree_of_a_plain_tensor_has_no_statuses() -> None:
    loss, _ = diamond()
    text = render.tree(loss)
    assert "pending" not in text and f"#{loss.id} Sum" in text


def test_tree_limits_for_big_graphs() -> None:
    x = Tensor(np.ones(2))
    y = x
    for _ in range(2000):
        y = y.tanh()
    s = BackwardSession(y.sum())
    text = render.tree(s, max_depth=10)
    assert len(text.splitlines()) == 11 and "… deeper" in text.splitlines()[-1]
    deep = s.nodes[10].id
    assert f"#{deep} Tanh" in text.splitlines()[-1]
    assert render.tree(s, node=deep, max_depth=2).splitlines()[0].startswith(f"#{deep} Tanh")
    cut = render.tree(s, max_lines=5).splitlines()
    assert len(cut) == 6 and "cut at 5 lines" in cut[-1]


def test_dot_has_one_box_per_node_and_an_edge_per_parent() -> None:
    loss, t = diamond()
    s = BackwardSession(loss)
    s.finish()
    text = render.dot(s)
    assert text.startswith("digraph anet {") and text.rstrip().endswith("}")
    declared = re.findall(r"^  n(\d+) \[label=", text, flags=re.M)
    assert sorted(map(int, declared)) == sorted(
        {r.id for r in s.nodes} | {leaf.id for leaf in s.leaves}
    )
    edges = re.findall(r"^  n(\d+) -> n(\d+)", text, flags=re.M)
    a = str(t["a"].id)
    assert [e for e in edges if e[1] == a] == [(str(t["b"].id), a), (str(t["c"].id), a)]
    assert "✓ done" in text and "shape=ellipse" in text


def test_json_lists_ids_ops_shapes_statuses_and_flags() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    swapped = x.swap_grad()
    loss = swapped.sum()
    s = BackwardSession(loss)
    s.run()
    data = json.loads(render.json(s))
    assert data["root"] == loss.id and data["position"] == [2, 2] and data["done"] is True
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes[swapped.id]["op"] == "SwapGrad" and nodes[swapped.id]["shape"] == [2, 3]
    assert nodes[swapped.id]["status"] == "error"
    assert nodes[swapped.id]["flags"][0]["kind"] == "shape"
    assert nodes[swapped.id]["returned"][0]["got"]["shape"] == [3, 2]
    assert nodes[swapped.id]["returned"][0]["expected"]["shape"] == [2, 3]
    assert nodes[loss.id]["parents"] == [swapped.id]
    assert data["leaves"][0]["id"] == x.id
    assert data["flags"][0]["node"] == swapped.id
    assert render.to_dict(s) == data


def test_json_of_kwargs_and_a_plain_tensor() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3))
    y = x[np.array([0, 0])].sum(axis=1)
    data = json.loads(render.json(y, indent=2))
    kwargs = [n["kwargs"] for n in data["nodes"]]
    assert {"axis": 1, "keepdim": False} in kwargs or {"axis": 1} in kwargs
    assert {"index": {"array": [2], "dtype": "int64"}} in kwargs
    assert "status" not in data["nodes"][0]


def test_stop_line_and_detail() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    swapped = x.swap_grad()
    loss = (swapped * 1.0).sum()
    s = BackwardSession(loss)
    line = render.stop_line(s, s.run())
    assert line == (
        f"✗ shape at #{swapped.id} SwapGrad: parent 0: returned (3, 2), expected (2, 3)"
        "   (stopped, step 3/3)"
    )
    text = render.detail(s, swapped.id)
    assert "returned" in text and "expected (2, 3)" in text and "def backward" in text
    assert "grad_output  (2, 3) float32" in text
    assert render.stop_line(s, s.finish()) == "done: 3 nodes, 1 flag"
    assert "leaf" in render.detail(s, x.id)
