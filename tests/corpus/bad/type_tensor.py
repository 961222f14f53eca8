# expect: type at Scale
"""Scale a tensor by a constant factor with a hand-written Function, in a small regression.
Bug: backward wraps its grad in a Tensor; backward must return numpy arrays.
"""

import numpy as np

from anet import Function, Tensor, register


class Scale(Function):
    @staticmethod
    def forward(ctx, x, factor=1.0):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor(grad_output * ctx.factor)


register("scale", Scale)

np.random.seed(7)
x = Tensor(np.random.randn(6, 2).astype(np.float32), requires_grad=False)
w = Tensor(np.random.randn(2, 1).astype(np.float32))
pred = x.dot(w).scale(factor=0.5)
loss = (pred * pred).mean()
