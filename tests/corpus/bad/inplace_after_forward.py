# expect: inplace at MyLinear
"""A linear layer written by hand (correct), fed batches through one reused numpy buffer.
Bug: the next batch is copied into the buffer after loss is built, before its backward runs.
"""

import numpy as np

from anet import Function, Tensor, register


class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output @ w.T, x.T @ grad_output


register("mylinear", MyLinear)

np.random.seed(12)
data = np.random.randn(16, 3).astype(np.float32)
targets = np.random.randn(16, 2).astype(np.float32)
w = Tensor(np.random.randn(3, 2).astype(np.float32))

buffer = np.empty((8, 3), dtype=np.float32)
buffer[:] = data[:8]
x = Tensor(buffer, requires_grad=False)  # a Tensor made from an array shares its memory
diff = x.mylinear(w) - Tensor(targets[:8], requires_grad=False)
loss = (diff * diff).mean()
buffer[:] = data[8:]  # prefetch the next batch into the same buffer
