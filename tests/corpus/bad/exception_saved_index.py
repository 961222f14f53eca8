# expect: exception at MyMul
"""An elementwise product written by hand, scaling features by per-feature weights.
Bug: backward counts the saved arrays from 1: ctx.saved_tensors[2] raises IndexError.
"""

import numpy as np

from anet import Function, Tensor, register


class MyMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.saved_tensors[1]
        b = ctx.saved_tensors[2]
        return grad_output * b, grad_output * a


register("mymul", MyMul)

np.random.seed(9)
x = Tensor(np.random.randn(4, 3).astype(np.float32), requires_grad=False)
scale = Tensor(np.ones((4, 3), dtype=np.float32))
loss = x.mymul(scale).tanh().sum()
