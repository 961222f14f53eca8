"""Edge tensors: 0-d, zero-size, integer and boolean, complex, 10⁸ elements, 100,000-node graphs.

The dtype rule (docs/reliability.md): integer and boolean tensors never require grad, whether
made directly or returned by an op; mixed with float tensors they follow numpy's promotion;
complex numbers are refused with a clear error.
"""

from __future__ import annotations

import io
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from anet import GradientError, OpError, Tensor
from anet.debug import BackwardSession, render
from anet_tui.commands import CommandResult, Commands
from anet_tui.plain import PlainRepl
from anet_tui.shell import RunResult, Shell

pytestmark = pytest.mark.timeout(60)


def command(c: Commands, line: str) -> CommandResult:
    result = c.execute(line)
    assert isinstance(result, CommandResult), line
    return result


def python(c: Commands, source: str) -> RunResult:
    result = c.execute(source)
    assert isinstance(result, RunResult) and result.ok, result.error
    return result


# ---- 0-d -----------------------------------------------------------------------------------


def test_zero_d_tensors_through_backward_and_a_session() -> None:
    c = Commands(Shell())
    python(c, "x = Tensor(np.float32(3.0))\nloss = x * x + x")
    assert command(c, "%debug loss").ok and command(c, "%finish").ok
    x = c.shell.namespace["x"]
    assert x.shape == () and x.grad.shape == () and x.grad == pytest.approx(7.0)
    shown = command(c, "%show").text()
    assert "out () float32" in shown and "min 7 max 7" not in shown  # grad_output is the seed 1
    assert c.execute("loss.item()").value == "12.0"


# ---- zero-size -----------------------------------------------------------------------------


def test_reductions_of_empty_tensors() -> None:
    e = Tensor(np.zeros((0, 3), dtype=np.float32))
    total = e.sum()
    assert total.item() == 0.0
    total.backward()
    assert e.grad.shape == (0, 3)
    with warnings.catch_warnings():  # numpy warns "Mean of empty slice": the answer is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = e.mean()
    assert np.isnan(mean.item())
    with pytest.raises(OpError, match=r"Max on shapes \(0, 3\): zero-size array"):
        e.max()
    assert e.max(axis=1).shape == (0,)  # over a non-empty axis: an empty result, no error


def test_matmul_with_a_zero_dimension_and_its_session() -> None:
    a = Tensor(np.ones((2, 0), dtype=np.float32))
    b = Tensor(np.ones((0, 3), dtype=np.float32))
    out = a @ b
    assert out.shape == (2, 3) and not out.data.any()  # an empty sum is zero
    loss = out.sum()
    session = BackwardSession(loss)
    assert session.finish().reason == "done" and not session.flags
    assert a.grad.shape == (2, 0) and b.grad.shape == (0, 3)
    rows = Tensor(np.ones((0, 2), dtype=np.float32))
    w = Tensor(np.ones((2, 3), dtype=np.float32))
    s = BackwardSession((rows @ w).sum())
    s.finish()
    assert rows.grad.shape == (0, 2) and np.array_equal(w.grad, np.zeros((2, 3)))
    dot = next(r for r in s.nodes if r.op == "Dot")
    detail = render.detail(s, dot.id)
    assert "(0, 2) float32  empty" in detail and "grad_output  (0, 3) float32  empty" in detail


# ---- integer, boolean, complex -------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_])
def test_integer_and_boolean_tensors_never_require_grad(dtype: type) -> None:
    t = Tensor(np.ones(3, dtype=dtype), requires_grad=True)
    assert not t.requires_grad and t.dtype == dtype
    with pytest.raises(GradientError, match="integer and boolean tensors never require grad"):
        t.sum().backward()


@pytest.mark.parametrize(
    ("dtype", "result"),
    [(np.bool_, np.float32), (np.int8, np.float32), (np.int32, np.float64), (np.int64, np.float64)],
)
def test_mixing_integers_with_floats_follows_numpy_and_grads_keep_their_dtype(
    dtype: type, result: type
) -> None:
    f = Tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32))
    i = Tensor(np.array([1, 0, 3]).astype(dtype))
    out = f * i
    assert out.dtype == result and out.requires_grad
    out.sum().backward()
    assert i.grad is None
    assert f.grad.dtype == np.float32  # a float64 grad is converted to the leaf's dtype
    np.testing.assert_array_equal(f.grad, i.data.astype(np.float32))


def test_integer_tensors_as_indices_and_in_the_debugger() -> None:
    c = Commands(Shell())
    python(c, "w = Tensor([1.0, 2.0, 3.0])\nidx = Tensor(np.array([0, 2, 2]))\nloss = w[idx].sum()")
    assert command(c, "%debug loss").ok and command(c, "%finish").ok
    np.testing.assert_array_equal(c.shell.namespace["w"].grad, [1.0, 0.0, 2.0])
    refused = command(c, "%debug idx.sum()")
    assert not refused.ok and "int64: integer and boolean tensors never need grad" in refused.text()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor(np.ones(3, dtype=np.complex64)),
        lambda: Tensor([1 + 2j, 3.0]),
        lambda: Tensor(2j),
        lambda: Tensor([1.0, 2.0]) * (1 + 2j),
        lambda: Tensor([1.0, 2.0]) * np.complex128(1j),
        lambda: Tensor([1.0, 2.0]) + np.ones(2, dtype=np.complex64),
    ],
)
def test_complex_numbers_are_refused_clearly(make: object) -> None:
    with pytest.raises(TypeError, match="complex numbers are not supported"):
        make()  # type: ignore[operator]


# ---- 10⁸ elements --------------------------------------------------------------------------


def _peak(run: Callable[[], Any]) -> tuple[Any, int]:
    """What ``run()`` returns and the most memory (bytes) it held at once, numpy arrays included
    (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        return run(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MiB = 2**20


# Memory, not time, shows there is no copy (a copy of x is 381 MiB); the speed of summaries is
# timed in benchmarks/debug_bench.py. The timeout is the suite's default: a guard against hangs.
@pytest.mark.timeout(300)
def test_a_hundred_million_elements_in_the_debugger_without_copies() -> None:
    c = Commands(Shell())
    python(c, "data = np.arange(10**8, dtype=np.float32)\ndata[5] = np.nan\ndata[7] = np.inf")
    python(c, "x = Tensor(data)\nloss = (x * 0.5).sum()")
    data, x = c.shell.namespace["data"], c.shell.namespace["x"]
    assert np.shares_memory(x.data, data)

    # the walk of a session holds no more than plain backward() does on the same graph
    _, plain = _peak(lambda: python(c, "loss.backward()\nx.grad = None"))
    shown_x, shown = _peak(lambda: c.execute("x"))
    assert shown_x.ok and "(100000000,) float32" in shown_x.value and len(shown_x.value) < 200
    assert command(c, "%debug loss").ok
    _, walked = _peak(lambda: command(c, "%finish"))
    assert c.session.done and x.grad.shape == (10**8,)
    assert walked < plain + 64 * MiB, (
        f"the walk held {walked / MiB:.0f} MiB, backward() {plain / MiB:.0f}"
    )

    # the session keeps the arrays themselves, and summaries read them chunk by chunk
    mul = next(r for r in c.session.nodes if r.op == "Mul")
    assert np.shares_memory(mul.tensor._ctx.saved_tensors[0], data)
    assert np.shares_memory(c.session.node(x).tensor.data, data)
    node, node_peak = _peak(lambda: command(c, f"%show #{mul.id}").text())
    leaf, leaf_peak = _peak(lambda: command(c, f"%show #{x.id}").text())
    tree, tree_peak = _peak(lambda: command(c, "%tree").text())
    for what, peak in [
        ("x", shown),
        ("%show", node_peak),
        ("%show", leaf_peak),
        ("%tree", tree_peak),
    ]:
        assert peak < 64 * MiB, f"{what} allocated {peak / MiB:.0f} MiB: a copy of 381 MiB?"
    assert "values  min 0 max 1e+08 mean 5e+07  1 NaN  1 Inf" in leaf
    assert "0: (100000000,) float32  min 0 max 1e+08" in node  # saved_tensors, summarised
    assert "returned" in node and len(node) < 5_000 and len(tree) < 1_000


# ---- 100,000-node graphs -------------------------------------------------------------------


@pytest.mark.timeout(300)  # a guard against a hang, not a speed limit (benchmarks time it)
def test_a_hundred_thousand_node_graph_through_a_session_and_the_text_tree() -> None:
    c = Commands(Shell())
    python(
        c,
        "x = Tensor(np.ones(4, dtype=np.float32))\ny = x\n"
        "for i in range(100_000):\n    y = y * 1.0 if i % 2 else y + x\nloss = y.sum()",
    )
    printed = io.StringIO()
    opened = PlainRepl(c.shell, c, out=printed).execute("%debug loss")
    assert isinstance(opened, CommandResult) and opened.ok and "100001 nodes" in opened.text()
    assert 60 < len(printed.getvalue().splitlines()) <= 70  # the tree printed after it is cut
    stepped = command(c, "%step 50")
    assert stepped.ok and "… 29 more steps" in stepped.text()
    assert command(c, "%finish").ok and c.session.done
    tree = command(c, "%tree").text().splitlines()
    assert 60 < len(tree) <= 1_001 and "deeper" in "\n".join(tree)
    deep = command(c, f"%tree #{c.session.nodes[50_000].id}").text()
    assert deep.startswith(f"#{c.session.nodes[50_000].id} ")
    np.testing.assert_allclose(c.shell.namespace["x"].grad, np.full(4, 50_001.0))


def test_long_answers_of_check_all_and_flags_are_cut() -> None:
    c = Commands(Shell())
    python(
        c,
        "class Wide(Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        return x * 1\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        return g.astype(np.float64)\n"
        "\n"
        "y = Tensor([1.0, 2.0])\n"
        "for _ in range(300):\n"
        "    y = Wide.apply(y, Wide)\n"
        "loss = y.sum()",
    )
    assert command(c, "%debug loss").ok and command(c, "%finish").ok
    flags = command(c, "%flags").text().splitlines()
    assert len(flags) == 202 and flags[-2] == "… 100 more (%show #ID shows a node's flags)"
    assert flags[-1] == "300 flags (step 301/301)"
    checked = command(c, "%check all").text().splitlines()
    assert len(checked) <= 22 and "more not listed" in checked[-2]
    assert checked[-1] == "checked 301 nodes: 0 disagree"
