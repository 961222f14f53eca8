# expect: none at WeightedSum
"""A weighted sum of each row, x @ w for a weight vector w, written by hand as a Function.
Bug: backward returns None for w, although w is a parameter that requires grad.
"""

import numpy as np

from anet import Function, Tensor, register


class WeightedSum(Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    def backward(ctx, grad_output):
        _, w = ctx.saved_tensors
        return np.outer(grad_output, w), None


register("weighted_sum", WeightedSum)

np.random.seed(6)
x = Tensor(np.random.randn(5, 3).astype(np.float32))
w = Tensor(np.random.randn(3).astype(np.float32))
y = Tensor(np.random.randn(5).astype(np.float32), requires_grad=False)
err = x.weighted_sum(w) - y
loss = (err * err).mean()
