# expect: exception at Square
"""x**2 written by hand as a Function, in a sum-of-squares penalty on a weight matrix.
Bug: a typo in backward: ctx.saved_tensor (no s) raises AttributeError.
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
        (x,) = ctx.saved_tensor
        return 2 * x * grad_output


register("square", Square)

np.random.seed(8)
w = Tensor(np.random.randn(3, 4).astype(np.float32))
x = Tensor(np.random.randn(2, 3).astype(np.float32), requires_grad=False)
loss = x.dot(w).mean() + 0.01 * w.square().sum()
