"""Every built-in op, forward against numpy and backward against numerical gradients (float64);
and float32 in gives float32 out and float32 grads, for every op."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numgrad import check_grads

import anet
from anet import Tensor
from anet.autograd import accumulate, call_backward, plan
from anet.autograd import check_grads as walk_checks

# ---- numpy references for the ops numpy has no one-liner for ---------------------------------


def conv2d_ref(x: np.ndarray, w: np.ndarray, stride: Any = 1, groups: int = 1) -> np.ndarray:
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    ho, wo = (h - kh) // sh + 1, (wd - kw) // sw + 1
    og = o // groups
    out = np.zeros((n, o, ho, wo))
    for oc in range(o):
        g = oc // og
        for i in range(ho):
            for j in range(wo):
                patch = x[:, g * cg : (g + 1) * cg, i * sh : i * sh + kh, j * sw : j * sw + kw]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out


def pool_ref(x: np.ndarray, kernel: Any, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    ho, wo = x.shape[-2] // kh, x.shape[-1] // kw
    out = np.zeros((*x.shape[:-2], ho, wo))
    for i in range(ho):
        for j in range(wo):
            window = x[..., i * kh : (i + 1) * kh, j * kw : (j + 1) * kw]
            out[..., i, j] = reduce(window, axis=(-2, -1))
    return out


def softmax_ref(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def pad_ref(x: np.ndarray, left: int, right: int, top: int, bottom: int) -> np.ndarray:
    out = np.zeros((*x.shape[:-2], x.shape[-2] + top + bottom, x.shape[-1] + left + right))
    out[..., top : top + x.shape[-2], left : left + x.shape[-1]] = x
    return out


def pool_case(name: str, reduce: Callable[..., Any], kernel: Any, shape: tuple[int, ...]) -> tuple:
    """A table row for one pooling op, kernel and input shape."""
    return (
        f"{name} kernel_size={kernel} on {shape}",
        lambda a: getattr(a, name)(kernel_size=kernel),
        lambda a: pool_ref(a, kernel, reduce),
        [shape],
        "any",
    )


# ---- the table: (id, op on Tensors, numpy reference, input shapes, input domain) --------------
# Domains keep inputs where the op is smooth: "pos" in [0.5, 2], "away0" |x| in [0.2, 2].

MASK = np.random.default_rng(7).standard_normal((4, 5)) > 0
CASES: list[tuple[str, Callable[..., Tensor], Callable[..., Any], list[tuple[int, ...]], str]] = [
    # binary, elementwise
    ("add", lambda a, b: a.add(b), np.add, [(3, 4), (3, 4)], "any"),
    ("sub", lambda a, b: a.sub(b), np.subtract, [(3, 4), (3, 4)], "any"),
    ("mul", lambda a, b: a.mul(b), np.multiply, [(3, 4), (3, 4)], "any"),
    ("div", lambda a, b: a.div(b), np.divide, [(3, 4), (3, 4)], "pos"),
    ("pow tensor exponent", lambda a, b: a.pow(b), np.power, [(3, 4), (3, 4)], "pos"),
    ("+", lambda a, b: a + b, np.add, [(3, 4), (3, 4)], "any"),
    ("-", lambda a, b: a - b, np.subtract, [(3, 4), (3, 4)], "any"),
    ("*", lambda a, b: a * b, np.multiply, [(3, 4), (3, 4)], "any"),
    ("/", lambda a, b: a / b, np.divide, [(3, 4), (3, 4)], "pos"),
    ("**", lambda a, b: a**b, np.power, [(3, 4), (3, 4)], "pos"),
    # unary, elementwise
    ("neg", lambda a: a.neg(), np.negative, [(3, 4)], "any"),
    ("-x", lambda a: -a, np.negative, [(3, 4)], "any"),
    ("sqrt", lambda a: a.sqrt(), np.sqrt, [(3, 4)], "pos"),
    ("exp", lambda a: a.exp(), np.exp, [(3, 4)], "any"),
    ("log", lambda a: a.log(), np.log, [(3, 4)], "pos"),
    ("abs", lambda a: a.abs(), np.abs, [(3, 4)], "away0"),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), [(3, 4)], "away0"),
    (
        "leakyrelu",
        lambda a: a.leakyrelu(),
        lambda a: np.where(a > 0, a, 0.01 * a),
        [(3, 4)],
        "away0",
    ),
    (
        "leakyrelu(neg_slope=0.2)",
        lambda a: a.leakyrelu(neg_slope=0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
        [(3, 4)],
        "away0",
    ),
    (
        "leakyrelu(0.2)",
        lambda a: a.leakyrelu(0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
        [(3, 4)],
        "away0",
    ),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), [(3, 4)], "any"),
    ("tanh", lambda a: a.tanh(), np.tanh, [(3, 4)], "any"),
    # matrix product
    ("dot 2-D", lambda a, b: a.dot(b), np.matmul, [(3, 4), (4, 2)], "any"),
    ("matmul 2-D", lambda a, b: a.matmul(b), np.matmul, [(3, 4), (4, 2)], "any"),
    ("@ 2-D", lambda a, b: a @ b, np.matmul, [(3, 4), (4, 2)], "any"),
    ("@ 1-D 1-D", lambda a, b: a @ b, np.matmul, [(4,), (4,)], "any"),
    ("@ 1-D 2-D", lambda a, b: a @ b, np.matmul, [(4,), (4, 3)], "any"),
    ("@ 2-D 1-D", lambda a, b: a @ b, np.matmul, [(3, 4), (4,)], "any"),
    ("@ batched", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (2, 4, 5)], "any"),
    ("@ batched 2-D", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (4, 5)], "any"),
    ("@ 2-D batched", lambda a, b: a @ b, np.matmul, [(3, 4), (2, 4, 5)], "any"),
    ("@ broadcast batch", lambda a, b: a @ b, np.matmul, [(2, 1, 3, 4), (3, 4, 2)], "any"),
    ("@ 1-D batched", lambda a, b: a @ b, np.matmul, [(4,), (2, 4, 3)], "any"),
    ("@ batched 1-D", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (4,)], "any"),
    # reductions
    ("sum()", lambda a: a.sum(), np.sum, [(3, 4)], "any"),
    ("sum(axis=0)", lambda a: a.sum(axis=0), lambda a: a.sum(axis=0), [(3, 4)], "any"),
    ("sum(1)", lambda a: a.sum(1), lambda a: a.sum(axis=1), [(3, 4)], "any"),
    ("sum(axis=-1)", lambda a: a.sum(axis=-1), lambda a: a.sum(axis=-1), [(2, 3, 4)], "any"),
    (
        "sum(axis=(0, 2))",
        lambda a: a.sum(axis=(0, 2)),
        lambda a: a.sum(axis=(0, 2)),
        [(2, 3, 4)],
        "any",
    ),
    (
        "sum(axis=(-1, 0), keepdim)",
        lambda a: a.sum(axis=(-1, 0), keepdim=True),
        lambda a: a.sum(axis=(-1, 0), keepdims=True),
        [(2, 3, 4)],
        "any",
    ),
    (
        "sum(keepdim)",
        lambda a: a.sum(keepdim=True),
        lambda a: a.sum(keepdims=True),
        [(3, 4)],
        "any",
    ),
    ("mean()", lambda a: a.mean(), np.mean, [(3, 4)], "any"),
    ("mean(axis=0)", lambda a: a.mean(axis=0), lambda a: a.mean(axis=0), [(3, 4)], "any"),
    ("mean(-1)", lambda a: a.mean(-1), lambda a: a.mean(axis=-1), [(2, 3, 4)], "any"),
    (
        "mean(axis=(0, -1), keepdim)",
        lambda a: a.mean(axis=(0, -1), keepdim=True),
        lambda a: a.mean(axis=(0, -1), keepdims=True),
        [(2, 3, 4)],
        "any",
    ),
    ("max()", lambda a: a.max(), np.max, [(3, 4)], "any"),
    ("max(axis=0)", lambda a: a.max(axis=0), lambda a: a.max(axis=0), [(3, 4)], "any"),
    ("max(-1)", lambda a: a.max(-1), lambda a: a.max(axis=-1), [(2, 3, 4)], "any"),
    (
        "max(axis=(0, 2), keepdim)",
        lambda a: a.max(axis=(0, 2), keepdim=True),
        lambda a: a.max(axis=(0, 2), keepdims=True),
        [(2, 3, 4)],
        "any",
    ),
    # softmax on the last axis
    ("softmax", lambda a: a.softmax(), softmax_ref, [(3, 5)], "any"),
    ("softmax 3-D", lambda a: a.softmax(), softmax_ref, [(2, 3, 4)], "any"),
    ("logsoftmax", lambda a: a.logsoftmax(), lambda a: np.log(softmax_ref(a)), [(3, 5)], "any"),
    (
        "logsoftmax 3-D",
        lambda a: a.logsoftmax(),
        lambda a: np.log(softmax_ref(a)),
        [(2, 3, 4)],
        "any",
    ),
    # shape
    ("reshape(2, 6)", lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6), [(3, 4)], "any"),
    ("reshape((2, 6))", lambda a: a.reshape((2, 6)), lambda a: a.reshape(2, 6), [(3, 4)], "any"),
    (
        "reshape(shape=(2, 6))",
        lambda a: a.reshape(shape=(2, 6)),
        lambda a: a.reshape(2, 6),
        [(3, 4)],
        "any",
    ),
    ("reshape(-1, 2)", lambda a: a.reshape(-1, 2), lambda a: a.reshape(-1, 2), [(3, 4)], "any"),
    ("flatten()", lambda a: a.flatten(), lambda a: a.reshape(-1), [(2, 3, 4)], "any"),
    ("flatten(1)", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), [(2, 3, 4)], "any"),
    ("T 2-D", lambda a: a.T, lambda a: a.T, [(3, 4)], "any"),
    ("T 3-D", lambda a: a.T, lambda a: a.T, [(2, 3, 4)], "any"),
    ("transpose()", lambda a: a.transpose(), lambda a: a.T, [(3, 4)], "any"),
    (
        "transpose(order=(1, 2, 0))",
        lambda a: a.transpose(order=(1, 2, 0)),
        lambda a: a.transpose(1, 2, 0),
        [(2, 3, 4)],
        "any",
    ),
    (
        "transpose(order=(-1, 0, 1))",
        lambda a: a.transpose(order=(-1, 0, 1)),
        lambda a: a.transpose(2, 0, 1),
        [(2, 3, 4)],
        "any",
    ),
    (
        "transpose(0, 1) 3-D swaps",
        lambda a: a.transpose(0, 1),
        lambda a: a.swapaxes(0, 1),
        [(2, 3, 4)],
        "any",
    ),
    (
        "transpose(0, 1) 2-D swaps",
        lambda a: a.transpose(0, 1),
        lambda a: a.T,
        [(3, 4)],
        "any",
    ),
    (
        "transpose(-1, -2)",
        lambda a: a.transpose(-1, -2),
        lambda a: a.swapaxes(-1, -2),
        [(2, 3, 4)],
        "any",
    ),
    (
        "permute(2, 0, 1)",
        lambda a: a.permute(2, 0, 1),
        lambda a: a.transpose(2, 0, 1),
        [(2, 3, 4)],
        "any",
    ),
    (
        "permute((1, 0))",
        lambda a: a.permute((1, 0)),
        lambda a: a.T,
        [(3, 4)],
        "any",
    ),
    ("permute(0, 1) is identity", lambda a: a.permute(0, 1), lambda a: a, [(3, 4)], "any"),
    # indexing
    ("x[1]", lambda a: a[1], lambda a: a[1], [(4, 5)], "any"),
    ("x[-1, 1:4]", lambda a: a[-1, 1:4], lambda a: a[-1, 1:4], [(4, 5)], "any"),
    ("x[::-1]", lambda a: a[::-1], lambda a: a[::-1], [(4, 5)], "any"),
    ("x[::-2, 3:0:-1]", lambda a: a[::-2, 3:0:-1], lambda a: a[::-2, 3:0:-1], [(4, 5)], "any"),
    ("x[..., 2]", lambda a: a[..., 2], lambda a: a[..., 2], [(2, 4, 5)], "any"),
    ("x[None, 1]", lambda a: a[None, 1], lambda a: a[None, 1], [(4, 5)], "any"),
    (
        "x[[0, 0, 3, 0]] repeats",
        lambda a: a[np.array([0, 0, 3, 0])],
        lambda a: a[np.array([0, 0, 3, 0])],
        [(4, 5)],
        "any",
    ),
    ("x[[2, 2, 1]] list", lambda a: a[[2, 2, 1]], lambda a: a[[2, 2, 1]], [(4, 5)], "any"),
    (
        "x[rows, cols] repeats",
        lambda a: a[np.array([0, 0, 2]), np.array([1, 1, 4])],
        lambda a: a[np.array([0, 0, 2]), np.array([1, 1, 4])],
        [(4, 5)],
        "any",
    ),
    (
        "x[1:, int array]",
        lambda a: a[1:, np.array([4, 0, 4])],
        lambda a: a[1:, np.array([4, 0, 4])],
        [(4, 5)],
        "any",
    ),
    ("x[mask]", lambda a: a[MASK], lambda a: a[MASK], [(4, 5)], "any"),
    ("x[Tensor mask]", lambda a: a[Tensor(MASK)], lambda a: a[MASK], [(4, 5)], "any"),
    ("x[row mask]", lambda a: a[MASK[:, 0]], lambda a: a[MASK[:, 0]], [(4, 5)], "any"),
    (
        "x[Tensor int index]",
        lambda a: a[Tensor(np.array([3, 3, 0]))],
        lambda a: a[np.array([3, 3, 0])],
        [(4, 5)],
        "any",
    ),
    # padding
    (
        "pad2d(padding=(1, 2, 3, 0))",
        lambda a: a.pad2d(padding=(1, 2, 3, 0)),
        lambda a: pad_ref(a, 1, 2, 3, 0),
        [(2, 3, 4, 5)],
        "any",
    ),
    (
        "pad2d((0, 1, 0, 2)) 2-D",
        lambda a: a.pad2d((0, 1, 0, 2)),
        lambda a: pad_ref(a, 0, 1, 0, 2),
        [(3, 4)],
        "any",
    ),
    # convolution: stride int and pair, groups, floored output sizes, kernel as large as input
    ("conv2d", lambda x, w: x.conv2d(w), conv2d_ref, [(2, 3, 6, 7), (4, 3, 3, 3)], "any"),
    (
        "conv2d stride=2 floored",
        lambda x, w: x.conv2d(w, stride=2),
        lambda x, w: conv2d_ref(x, w, 2),
        [(1, 2, 8, 7), (3, 2, 3, 2)],
        "any",
    ),
    (
        "conv2d stride=(2, 3)",
        lambda x, w: x.conv2d(w, stride=(2, 3)),
        lambda x, w: conv2d_ref(x, w, (2, 3)),
        [(2, 2, 7, 9), (2, 2, 2, 3)],
        "any",
    ),
    (
        "conv2d groups=2",
        lambda x, w: x.conv2d(w, groups=2),
        lambda x, w: conv2d_ref(x, w, 1, 2),
        [(2, 4, 5, 5), (6, 2, 3, 2)],
        "any",
    ),
    (
        "conv2d depthwise groups=3 stride=2",
        lambda x, w: x.conv2d(w, stride=2, groups=3),
        lambda x, w: conv2d_ref(x, w, 2, 3),
        [(1, 3, 7, 6), (3, 1, 3, 3)],
        "any",
    ),
    (
        "conv2d kernel = input",
        lambda x, w: x.conv2d(w),
        conv2d_ref,
        [(2, 2, 4, 3), (3, 2, 4, 3)],
        "any",
    ),
    # pooling: stride = kernel, trailing rows and columns dropped
    *[
        pool_case(name, reduce, k, shape)
        for name, reduce in [("max_pool2d", np.max), ("avg_pool2d", np.mean)]
        for k, shape in [
            ((2, 2), (2, 3, 4, 6)),
            ((3, 3), (1, 2, 7, 8)),
            ((2, 3), (1, 2, 5, 7)),
            ((5, 4), (2, 1, 5, 4)),
            (2, (1, 1, 5, 5)),
        ]
    ],
    (
        "max_pool2d default",
        lambda a: a.max_pool2d(),
        lambda a: pool_ref(a, 2, np.max),
        [(1, 1, 4, 5)],
        "any",
    ),
    (
        "avg_pool2d default",
        lambda a: a.avg_pool2d(),
        lambda a: pool_ref(a, 2, np.mean),
        [(1, 1, 5, 4)],
        "any",
    ),
]


def make_inputs(shapes: list[tuple[int, ...]], domain: str, seed: int, dtype: Any) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        if domain == "pos":
            a = rng.uniform(0.5, 2.0, shape)
        elif domain == "away0":
            a = rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        else:
            a = rng.standard_normal(shape)
        out.append(a.astype(dtype))
    return out


@pytest.mark.parametrize(
    ("fn", "ref", "shapes", "domain"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_forward_matches_numpy_and_backward_matches_numerical(fn, ref, shapes, domain):
    inputs = make_inputs(shapes, domain, seed=len(CASES), dtype=np.float64)
    out = check_grads(fn, *inputs)
    np.testing.assert_allclose(out.data, ref(*inputs), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("fn", "ref", "shapes", "domain"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_float32_in_gives_float32_out_and_grads(fn, ref, shapes, domain):
    inputs = [Tensor(a) for a in make_inputs(shapes, domain, seed=1, dtype=np.float32)]
    out = fn(*inputs)
    assert out.dtype == np.float32
    # Walk by hand so a backward returning float64 shows up (plain backward converts it).
    for node in plan(out, np.ones(out.shape, dtype=np.float32)):
        grads, problems = walk_checks(node, call_backward(node))
        assert problems == []
        accumulate(node, grads)
    for t in inputs:
        assert t.grad is not None and t.grad.dtype == np.float32


# ---- max: tied maxima share the gradient evenly ------------------------------------------------


def test_max_full_reduction_ties_share_evenly():
    x = Tensor([[1.0, 3.0, 3.0], [3.0, 0.0, 2.0]])
    x.max().backward()
    np.testing.assert_allclose(x.grad, [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]])


def test_max_axis_ties_share_evenly_per_slice():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 0.0, 1.0]])
    x.max(axis=1).backward(np.array([1.0, 6.0, 2.0], dtype=np.float32))
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [2, 2, 2], [2, 0, 0]])
    y = Tensor([[4.0, 1.0], [4.0, 7.0]])
    y.max(axis=0, keepdim=True).backward(np.ones((1, 2), dtype=np.float32))
    np.testing.assert_allclose(y.grad, [[0.5, 0], [0.5, 1]])


def test_max_two_way_tie_agrees_with_central_differences():
    # With two tied maxima, nudging one up raises the max by eps and nudging it down leaves the
    # other: the central difference is exactly 1/2, the even share.
    x = np.array([[0.5, 2.0, 2.0], [1.0, -1.0, 1.0]])
    check_grads(lambda t: t.max(axis=1), x)
    check_grads(lambda t: t.max(), np.array([2.0, 0.0, 2.0]))


def test_max_pool2d_tie_gives_grad_to_first_maximum_like_pytorch():
    x = Tensor(np.array([[[[1.0, 1.0], [0.0, 1.0]]]]))
    x.max_pool2d(kernel_size=(2, 2)).backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(x.grad, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_pooling_drops_trailing_rows_and_columns():
    x = Tensor(np.arange(35.0).reshape(1, 1, 5, 7))
    out = x.avg_pool2d(kernel_size=(2, 3))
    assert out.shape == (1, 1, 2, 2)
    out.sum().backward()
    assert np.all(x.grad[..., 4, :] == 0) and np.all(x.grad[..., :, 6] == 0)
    assert np.all(x.grad[..., :4, :6] == 1 / 6)


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pool_kernel_larger_than_input_is_an_op_error(op):
    with pytest.raises(anet.OpError, match=r"larger than the input"):
        getattr(Tensor.ones(1, 1, 3, 3), op)(kernel_size=(4, 2))


def test_conv2d_errors_name_the_shapes():
    with pytest.raises(anet.OpError, match=r"larger than the input"):
        Tensor.ones(1, 1, 3, 3).conv2d(Tensor.ones(1, 1, 4, 4))
    with pytest.raises(anet.OpError, match=r"groups=2"):
        Tensor.ones(1, 3, 5, 5).conv2d(Tensor.ones(4, 1, 3, 3), groups=2)
    with pytest.raises(anet.OpError, match=r"\(3, 5\)"):
        Tensor.ones(3, 5).conv2d(Tensor.ones(1, 1, 2, 2))
    with pytest.raises(anet.OpError, match=r"stride"):
        Tensor.ones(1, 1, 5, 5).conv2d(Tensor.ones(1, 1, 2, 2), stride=0)


def test_ops_record_their_keyword_arguments_on_the_context():
    x = Tensor.ones(2, 3)
    assert x.sum(1, True)._ctx.axis == 1
    assert x.leakyrelu(0.2)._ctx.neg_slope == 0.2
    assert x.reshape(3, 2)._ctx.shape == (3, 2)
    assert x.transpose(0, 1)._ctx.order == (1, 0)
    assert x.pad2d((1, 0, 0, 1))._ctx.padding == (1, 0, 0, 1)


def test_matmul_names_are_one_op():
    a, b = Tensor.ones(2, 3), Tensor.ones(3, 4)
    assert a.dot(b).op == a.matmul(b).op == (a @ b).op == "Dot"


def test_detach_stops_the_gradient():
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    (x.detach() * x).sum().backward()
    np.testing.assert_array_equal(x.grad, x.data)


def test_pow_at_zero_base_has_finite_grads_like_pytorch():
    # relu outputs exact zeros: x**2 and x**0 there have grad 0 (the limit), not nan.
    base = np.array([0.0, 0.0, 2.0])
    exponent = np.array([2.0, 0.0, 3.0])
    check_grads(lambda x: x ** Tensor(exponent, requires_grad=False), base)
    check_grads(lambda w: Tensor(base[[0, 2]], requires_grad=False) ** w, exponent[[0, 2]])
    x, w = Tensor(base), Tensor(exponent)
    (x**w).sum().backward()
    assert np.all(np.isfinite(x.grad)) and np.all(np.isfinite(w.grad))
    assert w.grad[1] == 0.0  # d/dw 0**w at w = 0: PyTorch's convention, one-sided limit 0
