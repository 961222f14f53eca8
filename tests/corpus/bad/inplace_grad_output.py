# expect: inplace at Square
"""x**2 written by hand as a Function, in a squared-error loss.
Bug: backward scales grad_output in place (grad_output *= 2 * x) instead of making a new array.
"""

import numpy as np

from anet import Function, Tensor, register


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_output *= 2 * x
        return grad_output


register("square", Square)

np.random.seed(10)
x = Tensor(np.random.randn(5, 2).astype(np.float32), requires_grad=False)
w = Tensor(np.random.randn(2, 1).astype(np.float32))
y = Tensor(np.random.randn(5, 1).astype(np.float32), requires_grad=False)
loss = (x.dot(w) - y).square().mean()
