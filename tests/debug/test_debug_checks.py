"""The numerical check of one node (vjp), and value summaries."""

from __future__ import annotations

import numpy as np
import pytest
import student_bugs  # noqa: F401 - registers the broken Functions

from anet import Function, Tensor
from anet.debug import BackwardSession, Summary, vjp_check


def rand(*shape: int, seed: int = 0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def test_every_built_in_op_passes_its_own_check() -> None:
    x = rand(2, 3, 6, 6)
    w = rand(4, 3, 3, 3, seed=1)
    h = (x.conv2d(w) * 0.2).relu()  # relu output has exact zeros: kinks for the ops after it
    pooled = h.max_pool2d((2, 2)) + h.avg_pool2d((2, 2))
    flat = pooled.reshape(2, -1)
    m = rand(flat.shape[1], 5, seed=2)
    z = (flat @ m * 0.1).leakyrelu(0.1)
    z = z.softmax() * z.logsoftmax() + z.relu().relu()  # relu of relu: ReLU at exactly 0
    z = z.pad2d((1, 1, 0, 0))[:, 1:-1] + z[np.array([0, 0])] / (z.abs() + 1.0)
    z = z.T.transpose(1, 0) ** 2 + (z * z + 1.0).sqrt().log() - z.tanh() * z.sigmoid()
    z = z.max(axis=1, keepdim=True) + z.mean(0) + (z * 0.2).exp() - (-z)
    batched = rand(3, 2, 4, seed=3) @ rand(4, 2, seed=4)
    loss = z.sum() + batched.sum() + pooled.max()
    assert np.isfinite(z.data).all() and np.abs(z.data).max() < 10
    s = BackwardSession(loss)
    results = s.check_all()
    bad = [r.message for r in results if r.ok is not True]
    assert bad == [] and s.flags == []
    assert {r.op for r in s.nodes} >= {
        "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Reshape", "Dot", "LeakyReLU", "Softmax",
        "LogSoftmax", "Pad2d", "GetItem", "Transpose", "Pow", "Sqrt", "Log", "Tanh", "Sigmoid",
        "Max", "Mean", "Exp", "Neg", "Abs", "Div", "Sum", "Add", "Sub", "Mul",
    }  # fmt: skip


def test_max_with_ties_passes() -> None:
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]))
    loss = x.max(axis=1).sum() + x.max()
    s = BackwardSession(loss)
    assert all(r.ok for r in s.check_all())


class Scale(Function):
    """A user Function with a keyword argument."""

    @staticmethod
    def forward(ctx, x, factor=1.0):
        return x * factor

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.factor


class ScaleForgetsFactor(Scale):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def test_user_function_with_kwargs_is_run_with_the_same_kwargs() -> None:
    x = rand(3, 2)
    good = Function.apply(x, Scale, factor=2.5)
    bad = Function.apply(x, ScaleForgetsFactor, factor=2.5)
    assert vjp_check(good).ok is True
    result = vjp_check(bad)
    assert result.ok is False and result.flag.kind == "vjp"
    worst = result.parents[0]  # backward gave v where forward's derivative says 2.5 v
    assert worst.max_error == pytest.approx(1.5 * abs(worst.backward), rel=1e-3)
    assert worst.numerical == pytest.approx(2.5 * worst.backward, rel=1e-3)
    assert f"#{bad.id} ScaleForgetsFactor" in result.message


class MulWrongSecond(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        _, y = ctx.saved_tensors
        return grad_output * y, grad_output * y  # the second should be grad_output * x


def test_two_parent_message_shows_the_error_of_each() -> None:
    x, y = rand(3, seed=1), rand(3, seed=2)
    out = Function.apply(x, MulWrongSecond, y)
    result = vjp_check(out)
    assert result.ok is False and result.flag.index == 1
    first, second = result.parents
    assert first.ok and first.max_error < 1e-6
    assert not second.ok and second.max_error > 1e-2
    assert "parent 0 max error" in result.message and "parent 1 max error" in result.message
    assert "backward" in result.message and "finite differences" in result.message


def test_a_backward_that_cannot_be_compared() -> None:
    x, y = rand(3, seed=1), rand(3, seed=2)
    bad = x.one_grad_for_two(y)
    result = vjp_check(bad)
    assert result.ok is None and "not compared" in result.message and result.flag is None


def test_big_parents_are_sampled() -> None:
    x = rand(100, 100)
    out = x.wrong_cube()
    result = vjp_check(out, entries=16)
    assert result.ok is False
    assert result.parents[0].checked == 16 and result.parents[0].total == 10000
    assert "over 16 of 10000 entries" in result.message


class NeedsFloat32(Function):
    @staticmethod
    def forward(ctx, x):
        assert x.dtype == np.float32, "float32 only"
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2


def test_a_check_that_cannot_run_says_so_without_a_flag() -> None:
    x = rand(3)
    out = Function.apply(x, NeedsFloat32)
    s = BackwardSession(out.sum())
    result = s.check(out.id)
    assert result.ok is None and "could not run the check" in result.message
    assert s.flags == [] and s.node(out.id).check is result


def test_summary_of_an_array_with_nan_and_inf() -> None:
    a = np.array([[1.0, np.nan, -2.0], [np.inf, 4.0, -np.inf]], dtype=np.float32)
    s = Summary(a)
    assert (s.min, s.max, s.mean, s.nan, s.inf) == (-2.0, 4.0, 1.0, 1, 2)
    assert s.shape == (2, 3) and str(s.dtype) == "float32"
    assert "1 NaN" in str(s) and "2 Inf" in str(s)


def test_summary_of_a_big_array_is_chunked_and_exact() -> None:
    a = np.arange(3_000_000, dtype=np.float64)
    a[-1] = np.nan
    view = a[::-1][::3]  # not contiguous: summarised chunk by chunk
    s = Summary(view)
    want = view[~np.isnan(view)]
    assert s.nan == 1 and s.min == want.min() and s.max == want.max()
    assert np.isclose(s.mean, want.mean())
    assert len(s.preview()) < 100


def test_summary_of_other_values() -> None:
    assert Summary([np.ones(3)] * 100).kind == "list"
    assert len(str(Summary(list(range(10**5))))) < 80
    assert Summary(np.zeros(0)).stats_text() == "empty"
    ints = Summary(np.array([3, 1, 2]))
    assert (ints.min, ints.max, ints.mean) == (1, 3, 2.0)
    assert Summary(np.array([True, False])).max is not None


def test_the_check_never_changes_the_users_data() -> None:
    small = Tensor(np.random.default_rng(0).standard_normal((3, 4)))  # float64, C-ordered
    big = Tensor(np.random.default_rng(1).standard_normal(70_000))  # past the copy limit
    for x in (small, big, Tensor(small.data.T)):
        before = x.data.copy()
        assert vjp_check(x.wrong_cube(), entries=8).ok is False
        np.testing.assert_array_equal(x.data, before)


def test_a_forward_writing_into_its_input_is_still_checked_right() -> None:
    x = rand(2, 3)
    assert vjp_check(x.exp().scale_in_place()).ok is True
