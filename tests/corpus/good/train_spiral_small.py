"""Run examples/train_spiral.py's main with small arguments (few points, narrow, 30 epochs).

Then keep the cross-entropy of an untrained model of the same shape as `loss`, for comparison.
"""

import os
import sys

import numpy as np

from anet import Tensor
from anet.nn import cross_entropy

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "examples"))
from train_spiral import MLP, main, make_spiral  # noqa: E402

result = main(["--points", "40", "--hidden", "16", "--epochs", "30", "--print-every", "10"])
print(f"trained: loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}")

np.random.seed(1)
points, labels = make_spiral(40, seed=1)
untrained = MLP([2, 16, 16, 3])
loss = cross_entropy(untrained(Tensor(points, requires_grad=False)), labels)
print(f"untrained: loss {loss.item():.3f} (log 3 = {np.log(3):.3f})")
