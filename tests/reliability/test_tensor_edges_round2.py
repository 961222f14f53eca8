"""Tensor edges, round 2: iteration, register() checks, None, odd seed gradients, aliased grads,
``np.array(t, copy=…)``, float16 constants, no_grad across threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

import anet
from anet import Function, GradientError, Tensor, register
from anet.tensor import is_grad_enabled, no_grad

pytestmark = pytest.mark.timeout(60)


def grid(*shape: int) -> Tensor:
    return Tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) + 1)


# ---- iteration and `in` -------------------------------------------------------------------------


def test_iterating_a_tensor_gives_its_rows_and_stops() -> None:
    x = grid(3, 2)
    rows = [r for r in x]
    assert len(rows) == 3 and all(isinstance(r, Tensor) for r in rows)
    for r, expected in zip(rows, x.data):
        np.testing.assert_array_equal(r.data, expected)
    a, b = grid(2, 4)
    assert a.shape == b.shape == (4,)
    assert len(list(grid(5))) == 5 and list(grid(0, 3)) == []


def test_sum_over_a_tensor_backpropagates() -> None:
    x = grid(3, 2)
    total = sum(x)  # 0 + x[0] + x[1] + x[2]: a graph
    np.testing.assert_allclose(total.data, x.data.sum(axis=0))
    (total * total).sum().backward()
    np.testing.assert_allclose(x.grad, np.broadcast_to(2 * x.data.sum(axis=0), (3, 2)))


def test_iterating_a_0d_tensor_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(Tensor(np.float32(3)))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(Tensor(np.float32(3)))


def test_in_follows_numpy() -> None:
    x = grid(2, 3)
    assert 1.0 in x and 6 in x and 7.0 not in x
    assert Tensor(np.float64(4)) in x
    assert np.array([4.0, 5.0, 6.0]) in x  # numpy: (x == value).any()
    assert (1.0 in Tensor(np.float32(1))) is True


# ---- register() ---------------------------------------------------------------------------------


class Sq(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad_output


def still_works() -> None:
    x = Tensor([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert x.shape == (2,) and x.data.dtype == np.float32 and x._ctx is None


@pytest.mark.parametrize(
    "name",
    ["backward", "data", "grad", "id", "_ctx", "shape", "__init__", "requires_grad", "T",
     "zero_grad", "__getitem__", "__class__", "__setattr__", "__len__", "item"],
)  # fmt: skip
def test_register_refuses_the_tensors_own_attributes(name: str) -> None:
    with pytest.raises(ValueError) as info:
        register(name, Sq)
    assert repr(name) in str(info.value) and "Sq" in str(info.value)
    still_works()


@pytest.mark.parametrize("fxn", [lambda ctx, x: x, None, Sq(), int, "Sq", Function], ids=repr)
def test_register_refuses_what_is_not_a_function_subclass(fxn: object) -> None:
    with pytest.raises(TypeError) as info:
        register("myop_round2", fxn)
    assert "'myop_round2'" in str(info.value)
    assert not hasattr(Tensor, "myop_round2")


def test_register_still_allows_user_and_builtin_op_names() -> None:
    register("sq_round2", Sq)
    register("sq_round2", Cube)  # redefined, as teaching does
    assert Tensor([2.0]).sq_round2().data.item() == 8.0
    relu = Tensor.relu
    try:
        register("relu", Sq)  # a built-in op redefined
        assert Tensor([-3.0]).relu().data.item() == 9.0
    finally:
        Tensor.relu = relu
    assert Tensor([-3.0]).relu().data.item() == 0.0
    still_works()


# ---- None ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor(None),
        lambda: Tensor([1.0, None]),
        lambda: Tensor([[1.0, 2.0], [None, 3.0]]),
        lambda: Tensor([1.0, 2.0]) + None,
        lambda: None + Tensor([1.0, 2.0]),
        lambda: Tensor([1.0, 2.0]) ** None,
        lambda: Tensor([1.0, 2.0]).mul(None),
        lambda: Tensor([1.0, -2.0]).leakyrelu(None),
    ],
    ids=["Tensor(None)", "list", "nested", "x+None", "None+x", "x**None", "mul", "leakyrelu"],
)
def test_none_is_a_type_error_not_nan(make: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="None"):
        make()


def test_nan_itself_is_still_a_value() -> None:
    assert np.isnan(Tensor([1.0, float("nan")]).data[1])


# ---- the seed gradient ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "gradient",
    [
        np.array(None),
        np.array([None, None], dtype=object),
        np.array(["1.0", "2.0"]),
        np.array([1 + 1j, 2j]),
        np.array([True, False]),
        [None, 1.0],
        "12",
    ],
    ids=["None-array", "object", "str", "complex", "bool", "list-None", "text"],
)
def test_backward_refuses_gradients_that_are_not_real_numbers(gradient: object) -> None:
    x = Tensor([1.0, 2.0])
    y = x * 2 if np.ndim(gradient) else (x * 2).sum()  # shapes match: only the values are wrong
    with pytest.raises((GradientError, TypeError)) as info:
        y.backward(gradient=gradient)
    assert f"#{y.id} {y.op}" in str(info.value) and "shape" not in str(info.value)
    assert x.grad is None


def test_integer_gradients_are_cast_to_the_roots_dtype() -> None:
    x = Tensor([1.0, 2.0])
    (x * 2).backward(gradient=np.array([1, 3]))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 6.0])


# ---- grads that alias --------------------------------------------------------------------------


class SameGradTwice(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output * 1.0
        return g, g


class ReturnsSaved(Function):
    """forward x * 1 (of a [1, 1] x), backward returns the parent's own data as its grad."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 1

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.saved_tensors[0]


def test_one_array_returned_for_two_leaves_gives_two_grads() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    SameGradTwice.apply(a, SameGradTwice, b).sum().backward()
    assert a.grad is not b.grad
    a.grad += 1
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_a_saved_array_returned_as_a_grad_is_not_the_leafs_data() -> None:
    x = Tensor([1.0, 1.0])
    ReturnsSaved.apply(x, ReturnsSaved).sum().backward()
    assert not np.shares_memory(x.grad, x.data)
    x.data -= 0.5  # an optimizer step: the grad must not move with it
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


# ---- np.array(t, copy=…) -------------------------------------------------------------------------


def test_numpy_copy_semantics() -> None:
    t = Tensor([1.0, 2.0])
    copied = np.array(t, copy=True)
    copied[0] = 9
    assert t.data[0] == 1.0
    assert np.shares_memory(np.asarray(t), t.data)
    assert np.shares_memory(np.array(t, copy=False), t.data)
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float64, copy=False)
    as64 = np.asarray(t, dtype=np.float64)
    assert as64.dtype == np.float64 and not np.shares_memory(as64, t.data)
    again = np.array(t, dtype=np.float32, copy=True)
    assert not np.shares_memory(again, t.data)


# ---- float16 and Python numbers --------------------------------------------------------------


def test_float16_with_a_python_number_is_computed_before_rounding() -> None:
    x16 = Tensor(np.array([0.001, 1000.0], dtype=np.float16))
    for out in (x16 * 1e5, 1e5 * x16, x16 / 1e-5):
        assert out.dtype == np.float16
        assert abs(float(out.data[0]) - 100.06) < 0.05  # PyTorch: 100.0625
        assert np.isinf(out.data[1])  # 1e8 overflows float16 after the op, as in PyTorch
    tiny = x16 * 1e-8  # 1e-8 is 0 in float16, but 1000 * 1e-8 is not
    assert tiny.dtype == np.float16 and tiny.data[1] > 0
    y = Tensor(np.array([2.0], dtype=np.float16))
    (y * 0.5 + 1).sum().backward()
    assert y.grad.dtype == np.float16 and y.grad[0] == 0.5


# ---- no_grad and threads -----------------------------------------------------------------------


def test_no_grad_in_another_thread_does_not_stop_this_one() -> None:
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def other() -> None:
        with no_grad():
            seen["enabled"] = is_grad_enabled()
            seen["ctx"] = (Tensor([1.0]) * 2)._ctx
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert inside.wait(10)
        x = Tensor([1.0, 2.0])
        y = x * 3
        assert is_grad_enabled() and y._ctx is not None and y.requires_grad
        y.sum().backward()
        np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    finally:
        release.set()
        thread.join(10)
    assert seen == {"enabled": False, "ctx": None}
    assert anet.is_grad_enabled()
