"""mlp: a working two-layer network on a small batch; every check passes.

Try first:
  %debug loss      open a session on the loss
  %step            run one node's backward (repeat, or %step 3)
  %tree            see which nodes are done
  %finish          run to the end, then look at w1.grad.shape
"""

import numpy as np

from anet import Tensor

rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=False)
labels = np.array([0, 2, 1, 2])
onehot = Tensor(np.eye(3, dtype=np.float32)[labels], requires_grad=False)

w1 = Tensor(rng.standard_normal((3, 8)).astype(np.float32) * 0.5)
w2 = Tensor(rng.standard_normal((8, 3)).astype(np.float32) * 0.5)

hidden = x.dot(w1).relu()
logp = hidden.dot(w2).logsoftmax()
loss = (logp * onehot).sum().neg()
