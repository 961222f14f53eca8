"""Same walk: on random graphs of registered ops, a session — finished at once or driven by any
mix of step/run/finish/restart — leaves exactly the grads Tensor.backward() leaves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from anet import Tensor
from anet.debug import BackwardSession

SHAPE = (3, 4)
UNARY: list[Callable[[Tensor], Tensor]] = [
    lambda t: -t,
    lambda t: (t * 0.3).exp(),
    lambda t: t.tanh(),
    lambda t: t.sigmoid(),
    lambda t: t.relu(),
    lambda t: t.abs(),
    lambda t: t.leakyrelu(0.1),
    lambda t: (t * t + 1.0).sqrt(),
    lambda t: (t * t + 1.0).log(),
    lambda t: t.softmax(),
    lambda t: t.logsoftmax(),
    lambda t: t.reshape(4, 3).T,
    lambda t: t[::-1],
    lambda t: t.max(1, True) + t,
    lambda t: t.mean(0, True) * t,
    lambda t: t.pad2d((1, 0, 0, 1))[:3, 1:],
    lambda t: t**2,
]
BINARY: list[Callable[[Tensor, Tensor], Tensor]] = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1.0),
]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """(root, leaves, every tensor made): ops over a pool, reusing earlier results (diamonds)."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    leaves = [Tensor(rng.standard_normal(SHAPE).astype(dtype)) for _ in range(3)]
    row = Tensor(rng.standard_normal(SHAPE[1]).astype(dtype))  # broadcasts over rows
    square = Tensor(rng.standard_normal((SHAPE[1], SHAPE[1])).astype(dtype))
    const = Tensor(rng.standard_normal(SHAPE).astype(dtype), requires_grad=False)
    pool: list[Tensor] = list(leaves)
    made: list[Tensor] = []
    for _ in range(draw(st.integers(1, 12))):
        pick = st.integers(0, len(pool) - 1)
        kind = draw(st.sampled_from(["unary", "binary", "row", "dot", "const"]))
        a = pool[draw(pick)]
        if kind == "unary":
            out = draw(st.sampled_from(UNARY))(a)
        elif kind == "binary":
            out = draw(st.sampled_from(BINARY))(a, pool[draw(pick)])
        elif kind == "row":
            out = a * row if draw(st.booleans()) else row - a
        elif kind == "dot":
            out = a @ square
        else:
            out = a * const
        pool.append(out)
        made.append(out)
    # The root sums a few results, so shared subgraphs and several paths are common.
    parts = draw(st.lists(st.sampled_from(pool[3:] or pool), min_size=1, max_size=3))
    root = parts[0].sum()
    for p in parts[1:]:
        root = root + p.mean()
    return root, [*leaves, row, square, const], made


def grads(tensors: list[Tensor]) -> list[np.ndarray | None]:
    return [None if t.grad is None else t.grad.copy() for t in tensors]


def assert_same(got: list[np.ndarray | None], want: list[np.ndarray | None]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)  # bit for bit: the same code ran


def reset(leaves: list[Tensor], before: list[np.ndarray | None]) -> None:
    for t, g in zip(leaves, before):
        t.grad = None if g is None else g.copy()


@given(graphs(), st.data())
def test_finished_session_leaves_the_grads_backward_leaves(graph, data) -> None:
    root, leaves, made = graph
    # Some leaves hold grads from an earlier step: both must add to them the same way.
    before = [
        np.full(t.shape, 0.5, dtype=t.dtype) if data.draw(st.booleans()) else None for t in leaves
    ]
    reset(leaves, before)
    root.backward()
    want = grads([*leaves, *made, root])

    reset(leaves, before)
    s = BackwardSession(root)
    s.finish()
    assert s.done and s.flags == []
    assert_same(grads([*leaves, *made, root]), want)


@given(graphs(), st.lists(st.sampled_from(["step", "run", "finish", "restart"]), max_size=8))
def test_any_way_of_walking_ends_in_the_same_grads(graph, actions) -> None:
    root, leaves, made = graph
    reset(leaves, [None] * len(leaves))
    root.backward()
    want = grads([*leaves, *made, root])

    reset(leaves, [None] * len(leaves))
    s = BackwardSession(root)
    ops = sorted({r.op for r in s.nodes})
    s.break_on(op=ops[len(ops) // 2])
    for action in actions:
        getattr(s, action)()
        k, _ = s.position
        assert [r.status for r in s.nodes[:k]] == ["done"] * k
        assert s.done or s.nodes[k].status == "current"
    while not s.done:
        s.run()
    assert_same(grads([*leaves, *made, root]), want)
