"""Regression with float64 numpy data (np.random.randn) fed into float32 Linear layers:
the classic loop (zero_grad, forward, backward, step) with SGD for 20 steps.
"""

import numpy as np

from anet import Tensor, nn, optim

np.random.seed(0)
X = np.random.randn(32, 3)  # float64, as numpy makes it
y = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.1 * np.random.randn(32, 1)

model_l1, model_l2 = nn.Linear(3, 8), nn.Linear(8, 1)  # float32 weights
opt = optim.SGD([model_l1.weight, model_l1.bias, model_l2.weight, model_l2.bias], lr=0.05)

for step in range(20):
    opt.zero_grad()
    pred = model_l2(model_l1(Tensor(X, requires_grad=False)).tanh())
    loss = nn.mse_loss(pred, y)
    loss.backward()
    opt.step()
    if step % 5 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}  pred dtype {pred.dtype}")
print("weights still float32:", model_l1.weight.dtype, model_l2.weight.dtype)
