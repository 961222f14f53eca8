"""A user Function that is piecewise: ReLU written by hand (grad 0 at x <= 0, as PyTorch), fed
inputs that include exact zeros, and a leaky variant with its slope as a keyword.
"""

import numpy as np

from anet import Function, Tensor, register


class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)


class MyLeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, slope=0.1):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x > 0, x, slope * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad_output, ctx.slope * grad_output)


register("myrelu", MyReLU)
register("myleaky", MyLeakyReLU)

x = Tensor([[-1.0, 0.0, 2.0, 0.0], [0.5, -0.25, 0.0, 3.0]])  # exact zeros on purpose
w = Tensor([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.25], [2.0, 0.0]])
loss = (x.myrelu().dot(w) + x.myleaky(slope=0.2).dot(w)).sum()
loss.backward()
print("x.grad", x.grad)
