# expect: vjp at Reciprocal
"""1/x written by hand as a Function, used to turn predicted rates into expected waiting times.
Bug: backward returns +grad/x**2; the derivative of 1/x is -1/x**2.
"""

from anet import Function, Tensor, register


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 1 / x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / x**2


register("reciprocal", Reciprocal)

rates = Tensor([[0.5, 1.0, 2.0], [4.0, 0.8, 1.25]])
observed = Tensor([[1.5, 1.0, 0.75], [0.5, 1.0, 1.0]], requires_grad=False)
err = rates.reciprocal() - observed
loss = (err * err).sum()
