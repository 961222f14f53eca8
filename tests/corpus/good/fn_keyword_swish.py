"""A user Function with a keyword argument: Swish, x * sigmoid(beta * x), called as
x.swish(beta=1.5) in a small two-layer network.
"""

import numpy as np

from anet import Function, Tensor, register


class Swish(Function):
    @staticmethod
    def forward(ctx, x, beta=1.0):
        s = 1 / (1 + np.exp(-beta * x))
        ctx.save_for_backward(x, s)
        ctx.beta = beta
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * (s + ctx.beta * x * s * (1 - s))


register("swish", Swish)

np.random.seed(0)
x = Tensor(np.random.randn(5, 3).astype(np.float32), requires_grad=False)
w1 = Tensor(np.random.randn(3, 4).astype(np.float32))
w2 = Tensor(np.random.randn(4, 1).astype(np.float32))
loss = x.dot(w1).swish(beta=1.5).dot(w2).mean()
print(f"loss {loss.item():.4f}")
