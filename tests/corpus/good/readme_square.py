"""The README's custom-op example (a Square Function registered by name), copied as written.

The README prints the sum without naming it; the last line keeps it as `loss` for the debugger.
"""

from anet import Function, Tensor, register


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


register("square", Square)
print(Tensor([3.0]).square().sum())

loss = Tensor([3.0, -1.5, 0.5]).square().sum()  # added: a named one-element tensor
