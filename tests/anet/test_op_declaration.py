"""Built-in ops are declared by anet.ops.op beside their classes, and trusted by a class attribute
(``trusted``) that is never inherited nor guessed from the module a class lives in."""

from __future__ import annotations

import types

import numpy as np
import pytest

import anet.ops
from anet import Function, InPlaceError, Tensor, register
from anet.ops import ReLU


def _builtins() -> list[type[Function]]:
    return [
        o
        for o in vars(anet.ops).values()
        if isinstance(o, type) and issubclass(o, Function) and o is not Function
    ]


def test_every_builtin_op_is_trusted_by_its_own_attribute() -> None:
    assert len(_builtins()) == 27
    for fxn in _builtins():
        assert fxn.__dict__["trusted"] is True, fxn
    assert Function.trusted is False


def test_every_name_applies_its_op() -> None:
    x = Tensor(np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4))
    m = Tensor(np.ones((4, 4), dtype=np.float32))
    ops = anet.ops
    cases = [
        (x.add(x), ops.Add), (x.sub(x), ops.Sub), (x.mul(x), ops.Mul), (x.div(x), ops.Div),
        (x.pow(x), ops.Pow), (x.neg(), ops.Neg), (x.sqrt(), ops.Sqrt), (x.exp(), ops.Exp),
        (x.log(), ops.Log), (x.abs(), ops.Abs), (x.relu(), ops.ReLU),
        (x.leakyrelu(0.1), ops.LeakyReLU), (x.sigmoid(), ops.Sigmoid), (x.tanh(), ops.Tanh),
        (m.dot(m), ops.Dot), (m.matmul(m), ops.Dot), (m @ m, ops.Dot), (m.data @ m, ops.Dot),
        (x.sum(1, True), ops.Sum), (x.mean(axis=2), ops.Mean), (x.max(3), ops.Max),
        (m.logsoftmax(), ops.LogSoftmax), (m.softmax(), ops.Softmax),
        (x.reshape(16), ops.Reshape), (x.view((2, 8)), ops.Reshape), (x.flatten(1), ops.Reshape),
        (x.transpose(0, 1), ops.Transpose), (x.permute(3, 2, 1, 0), ops.Transpose),
        (m.T, ops.Transpose), (x[0, :, 1], ops.GetItem), (x.getitem(index=0), ops.GetItem),
        (x.pad2d((1, 1, 1, 1)), ops.Pad2d), (x.conv2d(x[:, :, :2, :2], 1, 1), ops.Conv2d),
        (x.max_pool2d(2), ops.MaxPool2d), (x.avg_pool2d(kernel_size=(2, 2)), ops.AvgPool2d),
        (x + 1, ops.Add), (1 + x, ops.Add), (x - 1, ops.Sub), (1 - x, ops.Sub),
        (x * 2, ops.Mul), (2 * x, ops.Mul), (x / 2, ops.Div), (2 / x, ops.Div),
        (x**2, ops.Pow), (2**x, ops.Pow), (-x, ops.Neg),
    ]  # fmt: skip
    for result, fxn in cases:
        assert result._ctx.arg is fxn
    assert (1 - x)._ctx.parents[1] is x and (2 / x).data[0, 0, 0, 1] == 1.0
    with pytest.raises(TypeError, match="at most 2 options"):
        x.sum(0, True, 1)


class _Probe(Function):
    """Records whether backward may write into grad_output, and writes into it."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        ctx.seen.append(grad_output.flags.writeable)
        grad_output *= 2  # in place: refused when locked
        return grad_output


def _run(fxn: type[Function]) -> list[bool]:
    x = Tensor(np.ones(4, dtype=np.float32))
    y = Function.apply(x, fxn)
    seen: list[bool] = []
    y._ctx.seen = seen
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 2.0)
    return seen


def _moved(cls: type[Function], module: types.ModuleType, **extra: object) -> type[Function]:
    """A copy of ``cls`` made with type() in ``module``: same code, same class attributes."""
    body = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
    body.update(extra, __module__=module.__name__)
    copy = type(cls.__name__, (Function,), body)
    setattr(module, cls.__name__, copy)
    return copy


def test_trust_follows_the_declaration_not_the_module() -> None:
    elsewhere = types.ModuleType("elsewhere")
    # A built-in moved to another module keeps its trust: it is the class's attribute.
    relu = _moved(ReLU, elsewhere)
    assert relu.__module__ == "elsewhere" and relu.trusted is True
    x = Tensor(np.array([-1.0, 2.0], dtype=np.float32))
    x.relu().sum().backward()
    expected = x.grad
    x.grad = None
    Function.apply(x, relu).sum().backward()
    np.testing.assert_array_equal(x.grad, expected)

    # The same code declared trusted elsewhere runs unlocked: it may write into grad_output.
    trusted = _moved(_Probe, elsewhere, trusted=True)
    assert _run(trusted) == [True]
    # As a user's Function (no declaration) it runs locked: the write is refused.
    user = _moved(_Probe, elsewhere)
    assert user.trusted is False
    with pytest.raises(InPlaceError, match=r"_Probe\.backward"):
        _run(user)


def test_a_subclass_of_a_builtin_is_not_trusted_unless_it_says_so() -> None:
    class MyReLU(ReLU):
        @staticmethod
        def backward(ctx, grad_output):
            ctx.seen.append(grad_output.flags.writeable)
            grad_output *= 2
            return grad_output

    class Inherited(ReLU):  # ReLU's own backward, but not declared: checked all the same
        pass

    class Declared(MyReLU):
        trusted = True

    assert MyReLU.trusted is False and Inherited.trusted is False and Declared.trusted is True
    assert ReLU.trusted is True  # the subclasses left their base alone
    with pytest.raises(InPlaceError, match=r"MyReLU\.backward"):
        _run(MyReLU)
    assert _run(Declared) == [True]
    x = Tensor(np.array([-1.0, 2.0], dtype=np.float32))
    Function.apply(x, Inherited).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_register_attaches_a_checked_user_op() -> None:
    class Twice(_Probe):
        pass

    register("twice_probe", Twice)
    try:
        x = Tensor(np.ones(3, dtype=np.float32))
        y = x.twice_probe()
        y._ctx.seen = []
        with pytest.raises(InPlaceError):
            y.sum().backward()
    finally:
        del Tensor.twice_probe
    with pytest.raises(TypeError, match=r"subclass of anet\.Function"):
        register("probe", object)
    with pytest.raises(ValueError, match="own attributes"):
        register("backward", Twice)
