"""One pass of check-and-add per node (autograd.deliver), and the careful way when a grad does not
fit part-way through: each parent gets its grad exactly once, in backward() and in a session."""

from __future__ import annotations

import numpy as np
import pytest

from anet import Function, Tensor
from anet.autograd import GradientError
from anet.debug import BackwardSession


class SecondGradWrong(Function):
    """x * y, whose backward gets parent 0 right and gives parent 1 ``kind`` of wrong grad."""

    @staticmethod
    def forward(ctx, x, y, kind="shape"):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        gy = grad_output * x
        if ctx.kind == "shape":
            gy = gy.T
        elif ctx.kind == "dtype":
            gy = gy.astype(np.float64)
        elif ctx.kind == "list":
            return [grad_output * y, gy]  # a list of arrays: fine, converted
        return grad_output * y, gy


def pair() -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(0)
    return (
        Tensor(rng.standard_normal((2, 3)).astype(np.float32)),
        Tensor(rng.standard_normal((2, 3)).astype(np.float32)),
    )


@pytest.mark.parametrize("kind", ["dtype", "list"])
def test_backward_adds_each_grad_once_when_the_second_goes_the_careful_way(kind: str) -> None:
    x, y = pair()
    loss = Function.apply(x, SecondGradWrong, y, kind=kind).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, y.data)  # once, not twice
    np.testing.assert_allclose(y.grad, x.data, rtol=1e-6)
    assert y.grad.dtype == np.float32  # the float64 grad was converted


def test_backward_raises_on_a_bad_second_grad_naming_the_op() -> None:
    x, y = pair()
    loss = Function.apply(x, SecondGradWrong, y, kind="shape").sum()
    with pytest.raises(GradientError, match=r"SecondGradWrong.*\(3, 2\) for parent 1"):
        loss.backward()
    assert y.grad is None


@pytest.mark.parametrize("kind", ["shape", "dtype", "list"])
def test_session_adds_the_usable_grads_once(kind: str) -> None:
    x, y = pair()
    loss = Function.apply(x, SecondGradWrong, y, kind=kind).sum()
    s = BackwardSession(loss)
    s.finish()
    np.testing.assert_array_equal(x.grad, y.data)  # parent 0 fit: added by deliver, once
    if kind == "shape":
        assert y.grad is None and [f.kind for f in s.flags] == ["shape"]
    else:
        np.testing.assert_allclose(y.grad, x.data, rtol=1e-6)
        assert [f.kind for f in s.flags] == (["dtype"] if kind == "dtype" else [])


def test_a_shared_tensor_gets_both_grads_through_deliver() -> None:
    x, _ = pair()
    c = x * 2.0
    (c * c).sum().backward()  # Mul's two grads go to the same parent
    np.testing.assert_allclose(x.grad, 8 * x.data, rtol=1e-6)
