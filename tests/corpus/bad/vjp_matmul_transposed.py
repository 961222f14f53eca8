# expect: vjp at MyMatMul
"""A hand-written matmul with a square weight matrix (a 3x3 linear map) in a least-squares fit.
Bug: the weight's grad is grad_output.T @ x, the transpose of x.T @ grad_output (same shape).
"""

import numpy as np

from anet import Function, Tensor, register


class MyMatMul(Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output @ w.T, grad_output.T @ x


register("mymatmul", MyMatMul)

np.random.seed(2)
x = Tensor(np.random.randn(5, 3).astype(np.float32), requires_grad=False)
w = Tensor(np.random.randn(3, 3).astype(np.float32))
target = Tensor(np.random.randn(5, 3).astype(np.float32), requires_grad=False)
diff = x.mymatmul(w) - target
loss = (diff * diff).mean()
