"""A user Function with two parents: an elementwise product written by hand, used as a gate
(features times sigmoid of a second projection), then a mean-squared error.
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
        a, b = ctx.saved_tensors
        return grad_output * b, grad_output * a


register("mymul", MyMul)

np.random.seed(1)
x = Tensor(np.random.randn(6, 4).astype(np.float32), requires_grad=False)
w_feat = Tensor(np.random.randn(4, 3).astype(np.float32))
w_gate = Tensor(np.random.randn(4, 3).astype(np.float32))
target = Tensor(np.random.randn(6, 3).astype(np.float32), requires_grad=False)

gated = x.dot(w_feat).mymul(x.dot(w_gate).sigmoid())
diff = gated - target
loss = (diff * diff).mean()
loss.backward()
print(f"loss {loss.item():.4f}", w_gate.grad.shape)
