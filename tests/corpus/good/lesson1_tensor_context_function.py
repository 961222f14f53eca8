"""Lesson 1's code as a plain script: the article's Dot and a Sum written by hand as Functions,
a backward through them, and the grads compared with anet's own dot and sum.
"""

import numpy as np

from anet import Function, Tensor, register

x = Tensor([[1.0, 2.0, 3.0]])
w = Tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
y = x.dot(w)
print("y:", y.data, "arg:", y._ctx.arg.__name__)


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


class MySum(Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return np.array(input.sum())

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * np.ones_like(input)


register("mydot", MyDot)
register("mysum", MySum)
out = x.mydot(w).mysum()
print(out)

out.backward()
print("x.grad", x.grad)
print("w.grad", w.grad.ravel())

x2, w2 = Tensor(x.data), Tensor(w.data)
x2.dot(w2).sum().backward()
print("same as anet's Dot and Sum:", np.allclose(x.grad, x2.grad), np.allclose(w.grad, w2.grad))
