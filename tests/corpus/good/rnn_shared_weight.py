"""An RNN cell h = tanh(x_t W_x + h W_h + b) applied over 5 time steps with one set of weights,
and a squared-error loss on the last hidden state; one backward fills the shared weights' grads.
"""

import numpy as np

from anet import Tensor

np.random.seed(0)
batch, n_in, n_hidden, steps = 3, 2, 4, 5

W_x = Tensor(np.random.randn(n_in, n_hidden).astype(np.float32) * 0.5)
W_h = Tensor(np.random.randn(n_hidden, n_hidden).astype(np.float32) * 0.5)
b = Tensor(np.zeros(n_hidden, dtype=np.float32))
xs = [
    Tensor(np.random.randn(batch, n_in).astype(np.float32), requires_grad=False)
    for _ in range(steps)
]
target = Tensor(np.random.randn(batch, n_hidden).astype(np.float32), requires_grad=False)

h = Tensor(np.zeros((batch, n_hidden), dtype=np.float32), requires_grad=False)
for x_t in xs:
    h = (x_t.dot(W_x) + h.dot(W_h) + b).tanh()

diff = h - target
loss = (diff * diff).mean()
loss.backward()
print(f"loss {loss.item():.4f}")
print("W_h.grad (one grad, summed over the 5 steps):\n", W_h.grad)
