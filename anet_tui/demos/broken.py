"""broken: a user-defined Function whose backward returns a grad of the wrong shape.

Try first:
  %debug loss      open a session on the loss
  %continue        run until something is wrong: SwapGrad is flagged `shape`
  %show #ID        everything about the flagged node (use the id %continue printed)
Then fix SwapGrad.backward (drop the .T), register it again, rebuild loss and %debug it.
"""

import numpy as np

from anet import Function, Tensor, register


class SwapGrad(Function):
    """Doubles its input."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * 2).T  # the bug: this grad comes back transposed


register("swapgrad", SwapGrad)

x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
ones = Tensor.ones(2, 3, requires_grad=False)
loss = x.swapgrad().mul(ones).sum()
