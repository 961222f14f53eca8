# expect: vjp at MyTanh
"""tanh written by hand as a Function, used as the hidden activation of a tiny network.
Bug: backward uses 1 - tanh(x) instead of 1 - tanh(x)**2.
"""

import numpy as np

from anet import Function, Tensor, register


class MyTanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * (1 - y)


register("mytanh", MyTanh)

np.random.seed(0)
x = Tensor(np.random.randn(4, 3).astype(np.float32), requires_grad=False)
w1 = Tensor(np.random.randn(3, 5).astype(np.float32))
w2 = Tensor(np.random.randn(5, 1).astype(np.float32))
loss = x.dot(w1).mytanh().dot(w2).mean()
