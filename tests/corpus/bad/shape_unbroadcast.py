# expect: shape at AddBias
"""A bias added by hand as a Function, broadcast over the batch, after a built-in matmul.
Bug: backward returns grad_output for the bias too, without summing over the batch axis.
"""

import numpy as np

from anet import Function, Tensor, register


class AddBias(Function):
    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


register("addbias", AddBias)

np.random.seed(3)
x = Tensor(np.random.randn(4, 3).astype(np.float32), requires_grad=False)
w = Tensor(np.random.randn(3, 2).astype(np.float32))
b = Tensor(np.zeros(2, dtype=np.float32))
loss = x.dot(w).addbias(b).relu().sum()
