# expect: vjp at Cube
"""The README's anet.debug example (a Cube whose backward uses 2x instead of 3x²), as written.

Only the seed line below is added. It opens a BackwardSession itself and never calls backward().
"""
# ruff: noqa: E402, I001  (the README's code is kept as written)

import numpy as np

np.random.seed(0)

# ---- from README.md, as written ----
import numpy as np
from anet import Function, Tensor, register
from anet.debug import BackwardSession, record, render


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x  # the bug: d(x³)/dx is 3x²


register("cube", Cube)
x, w = Tensor(np.random.randn(2, 3)), Tensor(np.random.randn(3, 2))
with record():  # remember where each op was applied
    h = x.dot(w).cube()
    loss = (h * h).sum()
s = BackwardSession(loss)  # plans the walk, runs nothing
print(s.step())  # runs the root: <NodeRecord #6 Sum () done>
s.break_on(op="Cube")
print(s.run())  # Stop(reason='break', node=<NodeRecord #4 Cube (2, 2) current>, …)
s.step()
print(s.check(h).message)  # Cube.backward, #4 Cube (applied at demo.py:19: …): disagrees
print(render.tree(s))  # with finite differences … parent 0 max error 2.62 …
