"""Fit a small MLP to y = sin(x) with Adam for 50 steps; the script ends right after the last
opt.step(), as a training script often does.
"""

import numpy as np

from anet import Tensor, nn, optim

np.random.seed(0)
x = Tensor(np.linspace(-3, 3, 40, dtype=np.float32).reshape(-1, 1), requires_grad=False)
y = Tensor(np.sin(x.data), requires_grad=False)


class MLP(nn.Module):
    def __init__(self):
        self.hidden = nn.Linear(1, 16)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        return self.out(self.hidden(x).tanh())


model = MLP()
opt = optim.Adam(model.parameters(), lr=0.02)
for step in range(50):
    opt.zero_grad()
    loss = nn.mse_loss(model(x), y)
    if step % 10 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}")
    loss.backward()
    opt.step()
