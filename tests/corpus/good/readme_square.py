"""The README's custom-op example (a Square Function registered by name), copied as written."""

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
x = Tensor([3.0])
y = x.square().sum()
y.backward()
print(y.data, x.grad)  # 9.0 [6.]
