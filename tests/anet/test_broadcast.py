"""Binary ops broadcast as numpy does for any ranks, and take Python numbers in operators and
methods alike; float32 stays float32."""

from __future__ import annotations

import numpy as np
import pytest
from numgrad import check_grads

from anet import Tensor

BINARY = {
    "add": (lambda a, b: a.add(b), np.add),
    "sub": (lambda a, b: a.sub(b), np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a**b, np.power),
}
SHAPES = [
    ((3, 5), (5,)),
    ((5,), (3, 5)),
    ((1, 3, 1, 7, 1), (2, 1, 5, 1, 8)),
    ((4, 1), (1, 3)),
    ((2, 3, 4), ()),
    ((), (2, 3)),
    ((2, 1, 4), (3, 1)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPES, ids=[f"{a}-{b}" for a, b in SHAPES])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_op_broadcasts_and_reduces_grads_to_each_input(name, shape_a, shape_b):
    op, ref = BINARY[name]
    rng = np.random.default_rng(3)
    # Positive operands keep div and pow smooth; the other ops see both signs.
    low = 0.5 if name in ("div", "pow") else -2.0
    a, b = rng.uniform(low, 2.0, shape_a), rng.uniform(low, 2.0, shape_b)
    out = check_grads(op, a, b)
    assert out.shape == np.broadcast_shapes(shape_a, shape_b)
    np.testing.assert_allclose(out.data, ref(a, b), rtol=1e-12)


SCALAR_CASES = {
    "x*2": (lambda x: x * 2, lambda x: x * 2),
    "2*x": (lambda x: 2 * x, lambda x: 2 * x),
    "x+2.5": (lambda x: x + 2.5, lambda x: x + 2.5),
    "3+x": (lambda x: 3 + x, lambda x: 3 + x),
    "x-1": (lambda x: x - 1, lambda x: x - 1),
    "2-x": (lambda x: 2 - x, lambda x: 2 - x),
    "x/4": (lambda x: x / 4, lambda x: x / 4),
    "1/x": (lambda x: 1 / x, lambda x: 1 / x),
    "x**0.5": (lambda x: x**0.5, np.sqrt),
    "x**2": (lambda x: x**2, lambda x: x**2),
    "2**x": (lambda x: 2**x, lambda x: 2**x),
    "-x": (lambda x: -x, lambda x: -x),
    "x.mul(0.5)": (lambda x: x.mul(0.5), lambda x: x * 0.5),
    "x.add(1)": (lambda x: x.add(1), lambda x: x + 1),
    "x.sub(3)": (lambda x: x.sub(3), lambda x: x - 3),
    "x.div(2)": (lambda x: x.div(2), lambda x: x / 2),
    "x.pow(3)": (lambda x: x.pow(3), lambda x: x**3),
    "x*Tensor(2.0)": (lambda x: x * Tensor(2.0, requires_grad=False), lambda x: x * 2),
    "x*ndarray": (
        lambda x: x * np.array([1.0, -2.0, 3.0], dtype=x.dtype),
        lambda x: x * [1.0, -2.0, 3.0],
    ),
    "ndarray*x": (
        lambda x: np.array([1.0, -2.0, 3.0], dtype=x.dtype) * x,
        lambda x: x * [1.0, -2.0, 3.0],
    ),
}


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_scalar_operand_forward_and_grad(name):
    op, ref = SCALAR_CASES[name]
    x = np.random.default_rng(5).uniform(0.5, 2.0, (2, 3))
    out = check_grads(op, x)
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12)


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_scalar_operand_keeps_float32(name):
    op, _ = SCALAR_CASES[name]
    x = Tensor(np.random.default_rng(5).uniform(0.5, 2.0, (2, 3)).astype(np.float32))
    out = op(x)
    assert type(out) is Tensor
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_zero_d_tensor_operand_gets_the_summed_grad():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    s = Tensor(np.array(2.0))
    (x * s).sum().backward()
    assert s.grad.shape == ()
    assert s.grad == pytest.approx(15.0)  # d/ds sum(x*s) = sum(x) = 0+1+...+5
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))


def test_scalar_operand_is_a_constant_without_grad():
    x = Tensor([1.0, 2.0])
    y = x * 3
    const = y._ctx.parents[1]
    assert not const.requires_grad
    y.sum().backward()
    assert const.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
