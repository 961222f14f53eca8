"""Lesson 2's code as a plain script: the article's recursive backward (which overwrites the grad
of a tensor used twice) next to anet's walk, on x*x and (x + x) * x.
"""

import numpy as np

from anet import Tensor


def article_backward(t, allow_fill=True):
    if t._ctx is None:
        return
    if t.grad is None and allow_fill:
        assert t.data.size == 1
        t.grad = np.ones_like(t.data)
    assert t.grad is not None
    grads = t._ctx.arg.backward(t._ctx, t.grad)
    if len(t._ctx.parents) == 1:
        grads = [grads]
    for p, g in zip(t._ctx.parents, grads):
        if g.shape != p.data.shape:
            print(f"grad shape must match tensor shape in {t._ctx.arg!r}, {g.shape} != {p.shape}")
        p.grad = g
        article_backward(p, False)


x = Tensor([1.0, 2.0, 3.0])
y = (x * x).sum()
article_backward(y)
print("article's walk:", x.grad, " should be 2x:", 2 * x.data)

mul = y._ctx.parents[0]
print("both parents are x:", mul._ctx.parents[0] is x, mul._ctx.parents[1] is x)
grads = mul._ctx.arg.backward(mul._ctx, np.ones(3, dtype=np.float32))
print("Mul.backward returns:", grads)

x.grad = None
y.backward()
print("anet's walk:", x.grad, "  (2x)")

x = Tensor([3.0])
z = (x + x) * x
article_backward(z)
print("article's walk:", x.grad)

x.grad = None
z.backward()
print("anet's walk:   ", x.grad, "  expected", 4 * x.data)
