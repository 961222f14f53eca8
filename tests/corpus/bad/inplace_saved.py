# expect: inplace at Cube
"""x**3 written by hand as a Function, used in a cubic penalty on predictions.
Bug: backward squares its saved input in place (x **= 2) to reuse the memory.
"""

import numpy as np

from anet import Function, Tensor, register


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        x **= 2
        return 3 * x * grad_output


register("cube", Cube)

np.random.seed(11)
x = Tensor(np.random.randn(3, 2).astype(np.float32), requires_grad=False)
w = Tensor(np.random.randn(2, 2).astype(np.float32))
loss = x.dot(w).cube().mean()
