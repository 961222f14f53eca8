"""Lesson 3's final code as a plain script: MyDot and Cube with their bugs fixed (the .T put back,
x squared), a loss through both, and the grads compared with anet's own dot and **.
"""

import numpy as np

from anet import Function, Tensor, register


class MyDot(Function):
    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input, weight)
        return input.dot(weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_output.dot(weight.T)
        grad_weight = grad_output.T.dot(input).T
        return grad_input, grad_weight


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad_output


register("mydot", MyDot)
register("cube", Cube)

x = Tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
w = Tensor([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]])
loss = x.mydot(w).cube().sum()
loss.backward()

x2, w2 = Tensor(x.data), Tensor(w.data)
(x2.dot(w2) ** 3).sum().backward()
print("x.grad matches anet:", np.allclose(x.grad, x2.grad))
print("w.grad matches anet:", np.allclose(w.grad, w2.grad))
