"""Renderers: text tree, DOT and JSON from the same records; a diamond draws each node once."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import numpy as np
import pytest
import student_bugs  # noqa: F401 - registers the broken Functions

from anet import Function, Tensor, register
from anet.debug import BackwardSession, record, render
from anet.debug.summary import Summary
from anet.debug.views import LIST_LIMIT, node_view


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


def test_json_format_of_a_node_its_leaf_and_the_session() -> None:
    with record():
        x = Tensor(np.ones((2, 3), dtype=np.float32))
        swapped = x.swap_grad()
        loss = swapped.sum(axis=1).sum()
    s = BackwardSession(loss)
    s.run()
    data = render.to_dict(s)
    assert list(data) == ["root", "position", "done", "flags", "breakpoints", "nodes", "leaves"]
    assert data["flags"] == [s.flags[0].to_dict()] and data["breakpoints"] == []
    node = {n["id"]: n for n in data["nodes"]}[swapped.id]
    where = node.pop("where")
    assert list(where) == ["file", "line", "source"]
    assert where["source"] == "swapped = x.swap_grad()"
    assert node == {
        "id": swapped.id,
        "op": "SwapGrad",
        "label": f"#{swapped.id} SwapGrad",
        "shape": [2, 3],
        "dtype": "float32",
        "parents": [x.id],
        "kwargs": {},
        "flags": [s.flags[0].to_dict()],
        "status": "error",
        "warned": [],
        "grad_output": {"shape": [2, 3], "dtype": "float32"},
        "returned": [
            {
                "parent": x.id,
                "got": {"shape": [3, 2], "dtype": "float32"},
                "expected": {"shape": [2, 3], "dtype": "float32"},
                "flags": ["shape"],
            }
        ],
    }
    assert [n["kwargs"] for n in data["nodes"]] == [{}, {"axis": 1}, {}]
    assert data["leaves"] == [
        {
            "id": x.id,
            "label": f"#{x.id} leaf",
            "shape": [2, 3],
            "dtype": "float32",
            "requires_grad": True,
            "grad": None,
        }
    ]


def test_json_is_drawn_from_each_node_s_view(monkeypatch: pytest.MonkeyPatch) -> None:
    loss, _ = diamond()
    s = BackwardSession(loss)
    s.step()
    asked: list[tuple[int, dict[str, Any]]] = []

    def view(graph: Any, key: int, *args: Any, **options: Any) -> Any:
        asked.append((key, options))
        v = node_view(graph, key, *args, **options)
        return dataclasses.replace(v, label=f"view of {v.id}", dtype="the view's")

    monkeypatch.setattr(render, "node_view", view)
    data = render.to_dict(s)
    for entry in data["nodes"] + data["leaves"]:
        assert entry["label"] == f"view of {entry['id']}" and entry["dtype"] == "the view's"
    assert sorted(k for k, _ in asked) == sorted([r.id for r in s.nodes] + [r.id for r in s.leaves])
    assert all(options.get("values") is False for _, options in asked)  # no statistics


class Many(Function):
    """Adds any number of tensors: a node with more parents than a view lists."""

    @staticmethod
    def forward(ctx, *xs):
        return sum(xs)

    @staticmethod
    def backward(ctx, grad_output):
        return tuple(grad_output for _ in ctx.parents)


register("add_many", Many)


def test_json_lists_every_parent_and_grad_of_a_node_with_many() -> None:
    xs = [Tensor(np.full(2, i, dtype=np.float32), requires_grad=True) for i in range(150)]
    many = xs[0].add_many(*xs[1:])
    s = BackwardSession(many.sum())
    s.finish()
    node = next(n for n in render.to_dict(s)["nodes"] if n["id"] == many.id)
    assert node["parents"] == [x.id for x in xs]
    assert [r["parent"] for r in node["returned"]] == [x.id for x in xs]
    shown = node_view(s, many.id)  # a detail lists the first ones and says how many are left
    assert len(shown.parents) == LIST_LIMIT and shown.parents_left == 150 - LIST_LIMIT


def test_a_node_s_detail_computes_no_statistics_of_its_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    y = x.sum(axis=1)  # it saves nothing: no statistics of its output as a saved tensor
    s = BackwardSession(y.sum())
    s.finish()
    summarised: list[Any] = []
    real = Summary.stats_text

    def stats_text(self: Summary) -> str:
        summarised.append(self.value)
        return real(self)

    monkeypatch.setattr(Summary, "stats_text", stats_text)
    text = render.detail(s, y.id)
    assert text.startswith(f"#{y.id} Sum  out (2,) float32")
    assert "grad_output  (2,) float32  min 1 max 1 mean 1" in text and "kwargs  axis=1" in text
    assert summarised and not any(v is y.data for v in summarised)  # the output: its shape
    summarised.clear()
    assert "values  min 0 max 5 mean 2.5" in render.detail(s, x.id)  # a leaf's values are shown
    assert any(v is x.data for v in summarised)
