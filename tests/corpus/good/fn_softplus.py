"""A user Function for softplus, log(1 + exp(x)), computed stably with logaddexp; its backward
is the sigmoid. Used as a smooth positive output (a predicted scale) in a Gaussian-style loss.
"""

import numpy as np

from anet import Function, Tensor, register


class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (1 + np.exp(-x))


register("softplus", Softplus)

np.random.seed(3)
x = Tensor(np.random.randn(10, 2).astype(np.float32), requires_grad=False)
y = Tensor(np.random.randn(10, 1).astype(np.float32), requires_grad=False)
w_mu, w_s = (
    Tensor(np.random.randn(2, 1).astype(np.float32)),
    Tensor(np.random.randn(2, 1).astype(np.float32)),
)

mu = x.dot(w_mu)
scale = x.dot(w_s).softplus() + 0.1
z = (y - mu) / scale
loss = (z * z * 0.5 + scale.log()).mean()
print(f"loss {loss.item():.4f}")
