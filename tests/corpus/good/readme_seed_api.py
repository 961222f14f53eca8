"""The README's first example ("The seed's API, as the article wrote it"), copied as written.

Only the seed line below is added, so the run is the same every time.
"""
# ruff: noqa: E402, I001  (the README's code is kept as written)

import numpy as np

np.random.seed(0)

# ---- from README.md, as written ----
import numpy as np
from anet import Tensor

x = Tensor(np.random.randn(4, 3))  # Tensor(data, requires_grad=True, dtype=None)
w = Tensor(np.random.randn(3, 2))
loss = x.dot(w).relu().sum()  # every op is a Function registered on Tensor
loss.backward()  # one walk, reverse topological order
print(w.grad.shape, loss._ctx.arg.__name__, loss._ctx.parents)  # (3, 2) Sum (<Tensor #…>,)
