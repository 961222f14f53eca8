"""Operators and binary methods take a private path (tensor._binary) that must build exactly what
``Function.apply`` builds: the same values and dtypes, the same graph (op, parents, constants,
float16 narrowing), the same grads and the same errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from anet import Function, Tensor
from anet.debug import record
from anet.ops import Add, Div, Dot, Mul, Pow, Sub
from anet.tensor import _const, no_grad

OPERATORS = {
    Add: ("__add__", "__radd__", "add"),
    Sub: ("__sub__", "__rsub__", "sub"),
    Mul: ("__mul__", "__rmul__", "mul"),
    Div: ("__truediv__", "__rtruediv__", "div"),
    Pow: ("__pow__", "__rpow__", "pow"),
}


def outcome(fn, *args) -> tuple:
    """What a user or the debugger can see of ``fn(*args)``, one op (or the error it raised)."""
    try:
        out = fn(*args)
    except Exception as e:  # the same error, word for word
        return ("error", type(e).__name__, str(e))
    ctx = out._ctx
    graph = None
    if ctx is not None:
        graph = (
            ctx.arg,
            tuple((type(p).__name__, p.dtype, p.shape, p.requires_grad) for p in ctx.parents),
            tuple(float(p.data) for p in ctx.parents if p.data.ndim == 0),
            ctx.narrowed,
            len(ctx.saved_tensors),
            dict(ctx.kwargs),
        )
    return (out.data.dtype, out.data.shape, out.data.tobytes(), out.requires_grad, graph)


DTYPES = [np.float16, np.float32, np.float64, np.int32, np.bool_]
NUMBERS = [0.5, 2, -0.0, 1e5, np.float64(0.1), np.int64(3)]


@pytest.mark.parametrize("arg", list(OPERATORS), ids=lambda a: a.__name__)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_an_operator_with_a_number_builds_what_apply_builds(arg, dtype) -> None:
    forward_name, reflected_name, method_name = OPERATORS[arg]
    x = Tensor(np.array([1.5, 2.0, 3.0]).astype(dtype))
    for number in NUMBERS:
        with np.errstate(all="ignore"):
            assert outcome(getattr(x, forward_name), number) == outcome(
                Function.apply, x, arg, number
            ), number
            assert outcome(getattr(x, method_name), number) == outcome(
                Function.apply, x, arg, number
            ), number
            # 2 * x is Mul(2, x): the constant is the first parent
            assert outcome(getattr(x, reflected_name), number) == outcome(
                Function.apply, _const(number, x), arg, x
            ), number


@pytest.mark.parametrize("arg", [*OPERATORS, Dot], ids=lambda a: a.__name__)
def test_two_tensors_build_what_apply_builds(arg) -> None:
    shapes = [(3,), (2, 3), (1, 3), (3, 3), (2, 1), ()]
    for (sa, sb), (ga, gb) in itertools.product(
        itertools.product(shapes, shapes), itertools.product([True, False], repeat=2)
    ):
        a = Tensor(np.linspace(0.5, 1.5, int(np.prod(sa))).reshape(sa), requires_grad=ga)
        b = Tensor(np.linspace(1.0, 2.0, int(np.prod(sb))).reshape(sb), requires_grad=gb)
        method = "dot" if arg is Dot else OPERATORS[arg][2]
        assert outcome(getattr(a, method), b) == outcome(Function.apply, a, arg, b), (
            sa,
            sb,
            ga,
            gb,
        )


def test_grads_errors_no_grad_and_record_match_apply() -> None:
    def run(binary: bool) -> tuple:
        x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
        w = Tensor(np.array([[0.5], [-1.0]], dtype=np.float32))
        with record():
            if binary:
                y = ((x * 2.0 + 1) @ w - 3).tanh() / 4
            else:
                a = Function.apply(x, Mul, 2.0)
                b = Function.apply(a, Add, 1)
                c = Function.apply(b, Dot, w)
                y = Function.apply(Function.apply(c, Sub, 3).tanh(), Div, 4)
        y.sum().backward()
        with no_grad():
            z = x * 3.0 if binary else Function.apply(x, Mul, 3.0)
        where = y._ctx.where
        return (
            x.grad.tobytes(),
            w.grad.tobytes(),
            z._ctx,
            z.requires_grad,
            where is not None and where[1] > 0,
        )

    assert run(True) == run(False)
    x = Tensor(np.ones((2, 3)))
    assert outcome(x.__matmul__, Tensor(np.ones((2, 3)))) == outcome(
        Function.apply, x, Dot, Tensor(np.ones((2, 3)))
    )
    assert outcome(x.__add__, None)[0:2] == ("error", "TypeError")
    assert outcome(x.__add__, "a") == outcome(Function.apply, x, Add, "a")
