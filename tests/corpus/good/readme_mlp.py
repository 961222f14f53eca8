"""The README's training example (an MLP on a XOR-like pattern, Adam, 200 epochs), as written.

Only the seed line below is added, so the run is the same every time.
"""
# ruff: noqa: B007, E402, I001  (the README's code is kept as written)

import numpy as np

np.random.seed(0)

# ---- from README.md, as written ----
import numpy as np
from anet import Tensor, nn, optim


class MLP(nn.Module):
    def __init__(self):
        self.l1, self.l2 = nn.Linear(2, 32), nn.Linear(32, 2)

    def forward(self, x):
        return self.l2(self.l1(x).relu())


x = Tensor(np.random.randn(64, 2), requires_grad=False)
labels = (x.data[:, 0] * x.data[:, 1] > 0).astype(np.int64)  # a XOR-like pattern
model = MLP()
opt = optim.Adam(model.parameters(), lr=0.05)
for epoch in range(200):
    loss = nn.cross_entropy(model(x), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"loss {loss.item():.3f}")
