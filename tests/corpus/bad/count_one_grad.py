# expect: count at MyMul
"""An elementwise product written by hand, gating features with a learned sigmoid gate.
Bug: backward returns only the first parent's grad, one grad for two parents.
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
        _, b = ctx.saved_tensors
        return grad_output * b


register("mymul", MyMul)

np.random.seed(5)
features = Tensor(np.random.randn(4, 3).astype(np.float32))
gate_logits = Tensor(np.random.randn(4, 3).astype(np.float32))
loss = features.mymul(gate_logits.sigmoid()).sum()
