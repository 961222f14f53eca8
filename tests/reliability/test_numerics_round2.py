"""Numerics, round 2 (issue #11): non-finite grads in gradcheck and the debugger's vjp check (one
comparison for both), means of integers, Max on 0-d tensors and with NaN inputs."""

from __future__ import annotations

import numpy as np
import pytest

from anet import Function, Tensor
from anet.debug import BackwardSession, vjp_check
from anet.gradcheck import GradcheckError, compare, gradcheck

pytestmark = pytest.mark.timeout(60)


class SquareNanAt01(Function):
    """x * x whose backward is right everywhere but entry (0, 1), where it is ``bad``."""

    bad = np.nan

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        g = 2 * x * grad_output
        if grad_output[0, 1] != 0:
            g[0, 1] = SquareNanAt01.bad
        return g


X = np.array([[1.0, 1.5, -2.0], [0.5, 3.0, -1.0]])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gradcheck_fails_a_backward_returning_a_non_finite_entry(bad) -> None:
    SquareNanAt01.bad = bad
    f = lambda x: Function.apply(x, SquareNanAt01)  # noqa: E731
    assert gradcheck(f, X) is False
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, X, raise_exception=True)
    # entry (0, 1) is input element 1, output 1: numerically 2 * 1.5 = 3
    assert f"analytical is {bad} at output 1, input element 1, numerical 3" in str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_vjp_check_names_the_non_finite_entry(bad) -> None:
    SquareNanAt01.bad = bad
    x = Tensor(X)
    result = vjp_check(Function.apply(x, SquareNanAt01))
    assert result.ok is False and result.flag.kind == "vjp"
    assert f"parent 0 at (0, 1): backward {bad}, finite differences " in result.message
    assert "max error" not in result.flag.short  # not "max error 2.9e-11", the NaN ignored
    assert result.parents[0].at == (0, 1)


def test_one_comparison_non_finite_rules() -> None:
    inf, nan = np.inf, np.nan

    def ok(a: float, n: float) -> bool:
        return compare(np.array([a]), np.array([n])).ok

    assert ok(1.0, 1.0 + 1e-9) and not ok(1.0, 2.0)
    assert ok(inf, inf) and ok(-inf, -inf)  # the same infinity: agree
    assert not ok(inf, -inf) and not ok(-inf, inf)  # opposite signs: a wrong sign
    assert not ok(nan, 3.0) and not ok(inf, 3.0)  # non-finite where a finite value is known
    assert ok(nan, nan)  # forward undefined there (sqrt(-1)): nothing to disagree with
    assert ok(0.25, nan)  # the difference is not finite: the entry cannot be checked
    c = compare(np.array([[1.0, nan], [2.0, 3.0]]), np.array([[1.0, 3.0], [2.5, 3.0]]))
    assert not c.ok and c.at == (0, 1) and c.analytic != c.analytic and c.numerical == 3.0
    assert int(c.bad.sum()) == 2  # the finite mismatch at (1, 0) counts too


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero")
def test_correct_backwards_at_non_finite_points_are_not_flagged() -> None:
    # sqrt(-1) is NaN: its grad is NaN, and the difference of a NaN forward is NaN too.
    assert gradcheck(lambda x: x.sqrt(), np.array([-1.0]))
    assert gradcheck(lambda x: x.log(), np.array([0.0]))  # +inf; log(-eps) is NaN: unchecked
    x = Tensor(np.array([-1.0, 4.0]))
    assert vjp_check(x.sqrt()).flag is None
    # log at 0: the grad is +inf, and so is the one-sided difference (log(h) - log(0)) / h.
    z = Tensor(np.array([0.0, 2.0]))
    assert vjp_check(z.log()).flag is None


class LogWrongSign(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return -grad_output / x


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_an_infinite_grad_of_the_wrong_sign_is_flagged() -> None:
    z = Tensor(np.array([0.0]))
    result = vjp_check(Function.apply(z, LogWrongSign), seed=1)
    assert (
        result.ok is False
        and "backward" in result.message
        and "at (0,): backward -inf" in result.message
    )


# ---- means of integers (item 5) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [np.array([[1, 2], [3, 6]]), np.array([[True, False], [True, True]])]
)
@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": 0, "keepdim": True}, {"axis": (0, 1)}])
def test_a_mean_of_integers_or_bools_is_a_float64_mean_as_numpy(data, kw) -> None:
    out = Tensor(data).mean(**kw)
    axis = kw.get("axis")
    expected = np.mean(data, axis=axis, keepdims=kw.get("keepdim", False))
    assert out.dtype == np.float64 == expected.dtype
    np.testing.assert_array_equal(out.data, expected)


def test_avg_pool2d_of_integers_or_bools_is_not_truncated() -> None:
    ints = np.arange(16).reshape(1, 1, 4, 4)
    out = Tensor(ints).avg_pool2d(2)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, [[[[2.5, 4.5], [10.5, 12.5]]]])
    bools = Tensor(np.array([[[[True, False], [False, False]]]])).avg_pool2d(2)
    np.testing.assert_array_equal(bools.data, [[[[0.25]]]])


def test_leakyrelu_of_integers_is_not_truncated() -> None:
    out = Tensor(np.array([-100, 5])).leakyrelu(0.1)
    np.testing.assert_array_equal(out.data, [-10.0, 5.0])


def test_float_means_keep_their_dtype() -> None:
    x = Tensor(np.ones((2, 4), dtype=np.float32))
    assert x.mean(axis=1).dtype == np.float32 and x.mean().dtype == np.float32
    assert x.avg_pool2d(2).dtype == np.float32


# ---- Max: 0-d tensors and NaN inputs --------------------------------------------------------


@pytest.mark.parametrize("axis", [0, -1, None])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_over_an_axis_of_a_0d_tensor_has_a_working_backward(axis, keepdim) -> None:
    x = Tensor(np.array(3.0))
    out = x.max(axis=axis, keepdim=keepdim)
    assert out.shape == np.max(x.data, axis=axis, keepdims=keepdim).shape
    (out * 2).sum().backward()
    assert x.grad.shape == () and x.grad == 2.0
    assert gradcheck(lambda x: x.max(axis=axis, keepdim=keepdim), np.array(3.0))
    s = BackwardSession((Tensor(np.array(3.0)).max(axis=axis) * 2).sum())
    assert s.finish().reason == "done" and s.flags == []


@pytest.mark.parametrize(
    "axis, expected",
    [
        (None, [[0.0, 0.5, 0.0], [0.0, 0.5, 0.0]]),  # PyTorch: evenly among the NaN entries
        (1, [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]),
        (0, [[0.0, 0.5, 0.0], [1.0, 0.5, 1.0]]),
    ],
)
def test_max_with_nan_sends_the_grad_to_the_nan_entries_only(axis, expected) -> None:
    x = Tensor(np.array([[1.0, np.nan, 0.0], [2.0, np.nan, 3.0]]))
    out = x.max(axis=axis)
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad, expected)


def test_max_over_a_non_empty_axis_of_an_empty_tensor_still_backwards() -> None:
    x = Tensor(np.zeros((0, 3)))
    out = x.max(axis=1)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == (0, 3)
