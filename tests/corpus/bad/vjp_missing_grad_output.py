# expect: vjp at MySigmoid
"""A logistic-regression score with sigmoid written by hand, weighted per example.
Bug: backward returns s * (1 - s) and forgets to multiply by grad_output (the chain rule).
"""

import numpy as np

from anet import Function, Tensor, register


class MySigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return s * (1 - s)


register("mysigmoid", MySigmoid)

np.random.seed(1)
x = Tensor(np.random.randn(6, 2).astype(np.float32), requires_grad=False)
w = Tensor(np.random.randn(2, 1).astype(np.float32))
weights = Tensor([[0.5], [2.0], [1.0], [3.0], [0.25], [1.5]], requires_grad=False)
loss = (x.dot(w).mysigmoid() * weights).mean()
