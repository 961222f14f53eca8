"""A user Function with broadcasting: a linear layer x @ w + b written by hand, whose bias (out,)
is broadcast over the batch, so backward sums its grad over the batch axis.
"""

import numpy as np

from anet import Function, Tensor, register


class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output @ w.T, x.T @ grad_output, grad_output.sum(axis=0)


register("mylinear", MyLinear)

np.random.seed(2)
x = Tensor(np.random.randn(8, 3).astype(np.float32), requires_grad=False)
labels = np.array([0, 1, 2, 3, 0, 1, 2, 3])
w1, b1 = Tensor(np.random.randn(3, 5).astype(np.float32)), Tensor(np.zeros(5, dtype=np.float32))
w2, b2 = Tensor(np.random.randn(5, 4).astype(np.float32)), Tensor(np.zeros(4, dtype=np.float32))

logits = x.mylinear(w1, b1).relu().mylinear(w2, b2)
loss = -logits.logsoftmax()[np.arange(8), labels].mean()
print(f"loss {loss.item():.4f}")
