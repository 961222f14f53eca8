# expect: nonfinite at Log1p
"""log(1 + x) written by hand, applied to word counts (which include zeros) before a linear
score; counts require grad, to see which words move the score.
Bug: backward divides by x instead of 1 + x: inf where a count is 0, though the true grad is 1.
"""

import numpy as np

from anet import Function, Tensor, register


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / x


register("log1p", Log1p)

counts = Tensor([[0.0, 3.0, 1.0, 0.0], [2.0, 0.0, 5.0, 1.0]])
w = Tensor([[0.5], [-0.25], [1.0], [0.75]])
loss = counts.log1p().dot(w).sum()
