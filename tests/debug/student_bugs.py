"""User-defined Functions with the bugs students write, one per flag kind, and a correct one.

Each is registered as a Tensor method, as a user would (``x.swap_grad()``). Import from tests
under tests/debug: ``import student_bugs``.
"""

from __future__ import annotations

import numpy as np

from anet import Function, Tensor, register


class Square(Function):
    """Correct: x**2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class SwapGrad(Function):
    """shape: transposes the grad it returns."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * 2).T


class NoBroadcastAdd(Function):
    """shape: forgets to sum the grad of the broadcast operand."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


class OneGradForTwo(Function):
    """count: returns one grad for two parents."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        _, y = ctx.saved_tensors
        return grad_output * y


class ForgetsSecond(Function):
    """none: returns None for a parent that requires grad."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        _, y = ctx.saved_tensors
        return grad_output * y, None


class Float64Grad(Function):
    """dtype: computes its grad with a float64 constant array."""

    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * np.full(grad_output.shape, 3.0)


class ReturnsTensor(Function):
    """type: returns a Tensor instead of its numpy array."""

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor(grad_output)


class SafeLog(Function):
    """nonfinite: forward is guarded, backward divides by x where x may be 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(np.maximum(x, 1e-12))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad_output / x


class Crashes(Function):
    """exception: backward refers to something forward never saved."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[0]  # forward saved nothing: IndexError
        return grad_output * 2 * x


class Cube(Function):
    """vjp: the right shape and dtype, the wrong derivative (3x**2 written as 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x


class ScaleInPlace(Function):
    """inplace: forward scales its input in place (and returns it), so an earlier op that saved
    that input sees different values in its backward."""

    @staticmethod
    def forward(ctx, x):
        x *= 2
        return x.copy()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2


for _name, _fxn in [
    ("square", Square),
    ("swap_grad", SwapGrad),
    ("no_broadcast_add", NoBroadcastAdd),
    ("one_grad_for_two", OneGradForTwo),
    ("forgets_second", ForgetsSecond),
    ("float64_grad", Float64Grad),
    ("returns_tensor", ReturnsTensor),
    ("safe_log", SafeLog),
    ("crashes", Crashes),
    ("wrong_cube", Cube),  # (not "cube": lesson 3 registers its own)
    ("scale_in_place", ScaleInPlace),
]:
    register(_name, _fxn)
