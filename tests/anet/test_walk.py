"""The backward walk: shared nodes accumulate with one backward call per node, deep chains need no
recursion, bad grads raise errors naming the op that returned them, and the documented rules for
implicit gradients, repeated backward calls and bad op inputs."""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pytest
from numgrad import check_grads

import anet
from anet import Function, Tensor
from anet.ops import Add

# ---- shared nodes ------------------------------------------------------------------------------


def test_x_times_x_gives_2x():
    x = Tensor(np.array([1.0, -2.0, 3.0]))
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])
    check_grads(lambda t: t * t, np.array([1.0, -2.0, 3.0]))


def test_x_plus_x_times_x_at_3_gives_12():
    x = Tensor(3.0)
    ((x + x) * x).backward()
    assert x.grad == 12.0
    check_grads(lambda t: (t + t) * t, np.array(3.0))


@pytest.fixture
def add_backward_calls(monkeypatch):
    """Counts Add.backward calls per node (keyed by the Context)."""
    calls: Counter = Counter()
    original = Add.backward

    def counting(ctx, grad_output):
        calls[id(ctx)] += 1
        return original(ctx, grad_output)

    monkeypatch.setattr(Add, "backward", staticmethod(counting))
    return calls


def test_twelve_nested_doublings_give_4096_with_one_call_per_node(add_backward_calls):
    x = Tensor(1.0)
    y = x
    for _ in range(12):
        y = y + y
    y.backward()
    assert x.grad == 4096.0
    assert len(add_backward_calls) == 12
    assert set(add_backward_calls.values()) == {1}


def test_user_function_in_a_diamond_is_called_once():
    calls = []

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            calls.append(ctx)
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output

    x = Tensor(np.array([1.0, 2.0]))
    s = Function.apply(x, Square)
    out = (s * 3 + s.exp() + s).sum()  # three paths leave s
    out.backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad, (3 + np.exp(x.data**2) + 1) * 2 * x.data)


def test_hundred_thousand_op_chain_needs_no_recursion():
    assert sys.getrecursionlimit() < 100_000  # a recursive walk would fail here
    x = Tensor(np.array([1.0]))
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.00001**100_000], rtol=1e-9)


# ---- grads a backward cannot return ------------------------------------------------------------


class WrongShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[:-1] * 2


class WrongShapeSecond(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output.sum(axis=0)


class OneGradForTwo(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class NoneGrad(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def downstream(t: Tensor) -> Tensor:
    """Ops after the faulty one, so the walk reaches it from a different op."""
    return (t.relu() * 3).sum()


def test_wrong_shape_names_the_op_that_returned_it():
    x = Tensor(np.ones(3))
    y = Function.apply(x, WrongShape)
    with pytest.raises(anet.GradientError) as info:
        downstream(y).backward()
    message = str(info.value)
    assert "WrongShape.backward" in message
    assert "parent 0" in message
    assert "(2,)" in message and "expected (3,)" in message
    assert "ReLU" not in message and "Mul" not in message and "Sum" not in message
    assert info.value.kind == "shape" and info.value.index == 0 and info.value.node is y


def test_wrong_shape_for_the_second_parent_names_index_1():
    x, w = Tensor(np.ones((4, 3))), Tensor(np.ones((4, 3)))
    y = Function.apply(x, WrongShapeSecond, w)
    with pytest.raises(anet.GradientError) as info:
        downstream(y).backward()
    message = str(info.value)
    assert "WrongShapeSecond.backward" in message and "parent 1" in message
    assert "(3,)" in message and "expected (4, 3)" in message
    assert info.value.index == 1


def test_wrong_number_of_grads_names_op_and_counts():
    x, w = Tensor(np.ones(2)), Tensor(np.ones(2))
    y = Function.apply(x, OneGradForTwo, w)
    with pytest.raises(anet.GradientError, match=r"OneGradForTwo\.backward returned 1 grad for 2"):
        downstream(y).backward()


def test_none_for_a_parent_that_requires_grad():
    x, w = Tensor(np.ones(2)), Tensor(np.ones(2))
    y = Function.apply(x, NoneGrad, w)
    with pytest.raises(anet.GradientError) as info:
        downstream(y).backward()
    assert "NoneGrad.backward" in str(info.value) and "parent 1" in str(info.value)
    assert info.value.kind == "none"


def test_none_for_a_constant_parent_is_fine():
    x = Tensor(np.ones(2))
    y = Function.apply(x, NoneGrad, Tensor(np.ones(2), requires_grad=False))
    downstream(y).backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_error_is_raised_not_printed(capsys):
    with pytest.raises(anet.GradientError):
        downstream(Function.apply(Tensor(np.ones(3)), WrongShape)).backward()
    assert capsys.readouterr().out == ""


# ---- the seed gradient -------------------------------------------------------------------------


def test_implicit_gradient_only_for_one_element_outputs():
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(anet.GradientError, match=r"one-element.*gradient") as info:
        (x * 2).backward()
    assert "(3,)" in str(info.value)
    (x * 2).sum(keepdim=True).backward()  # shape (1,): one element is fine
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_explicit_gradient_must_match_the_output_shape():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(anet.GradientError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))
    (x * 2).backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))


def test_backward_of_a_constant_is_a_clear_error():
    with pytest.raises(anet.GradientError, match=r"does not require grad"):
        (Tensor([1.0], requires_grad=False) * 2).sum().backward()
    with anet.no_grad():
        y = (Tensor([1.0]) * 2).sum()
    with pytest.raises(anet.GradientError, match=r"no_grad"):
        y.backward()


# ---- backward twice: leaves accumulate, as in PyTorch; zero_grad resets --------------------------


def test_backward_twice_accumulates_on_leaves_and_zero_grad_resets():
    x = Tensor(np.array([1.0, 2.0]))
    y = x * x
    loss = y.sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    loss.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])  # intermediates hold the latest walk only
    x.zero_grad()
    assert x.grad is None
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_two_losses_sharing_a_leaf_add_up():
    x = Tensor(np.array([1.0, 2.0]))
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])


# ---- ops on inputs they cannot take --------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "op", "shapes"),
    [
        (lambda: Tensor.ones(3, 4) + Tensor.ones(5), "Add", ["(3, 4)", "(5,)"]),
        (lambda: Tensor.ones(3, 4).mul(Tensor.ones(2, 4)), "Mul", ["(3, 4)", "(2, 4)"]),
        (lambda: Tensor.ones(2, 3) - Tensor.ones(3, 2), "Sub", ["(2, 3)", "(3, 2)"]),
        (lambda: Tensor.ones(3, 4) @ Tensor.ones(5, 2), "Dot", ["(3, 4)", "(5, 2)"]),
        (lambda: Tensor.ones(3, 4).dot(Tensor.ones(3)), "Dot", ["(3, 4)", "(3,)"]),
        (lambda: Tensor.ones(3, 4).reshape(5, 2), "Reshape", ["(3, 4)"]),
        (lambda: Tensor.ones(3, 4)[5], "GetItem", ["(3, 4)"]),
        (lambda: Tensor.ones(3, 4).sum(axis=2), "Sum", ["(3, 4)"]),
        (lambda: Tensor.ones(3, 4).transpose(order=(0, 0)), "Transpose", ["(3, 4)"]),
    ],
)
def test_op_on_incompatible_shapes_names_op_and_shapes(make, op, shapes):
    with pytest.raises(anet.OpError) as info:
        make()
    message = str(info.value)
    assert message.startswith(op)
    for shape in shapes:
        assert shape in message
