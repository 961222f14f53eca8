# expect: shape at MyDot
"""The article's Dot written by hand, with a 3x2 weight (not square).
Bug: grad_weight is grad_output.T.dot(input), missing the final .T: shape (2, 3), not (3, 2).
"""

import numpy as np

from anet import Function, Tensor, register


class MyDot(Function):
    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input, weight)
        return input.dot(weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_output.dot(weight.T)
        grad_weight = grad_output.T.dot(input)
        return grad_input, grad_weight


register("mydot", MyDot)

np.random.seed(4)
x = Tensor(np.random.randn(4, 3).astype(np.float32))
w = Tensor(np.random.randn(3, 2).astype(np.float32))
loss = x.mydot(w).tanh().mean()
