"""Fit a cubic polynomial to noisy points with SGD; options on the command line (defaults let it
run with none), and the script ends with sys.exit(0), as command-line tools do.
"""

import argparse
import sys

import numpy as np

from anet import Tensor, optim

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=100)
parser.add_argument("--lr", type=float, default=0.05)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

rng = np.random.default_rng(args.seed)
xs = np.linspace(-1, 1, 30, dtype=np.float32).reshape(-1, 1)
ys = (xs**3 - 0.5 * xs + 0.05 * rng.standard_normal(xs.shape)).astype(np.float32)
features = Tensor(np.hstack([xs**0, xs, xs**2, xs**3]), requires_grad=False)
target = Tensor(ys, requires_grad=False)

coef = Tensor(np.zeros((4, 1), dtype=np.float32))
opt = optim.SGD([coef], lr=args.lr, momentum=0.9)
for _ in range(args.steps):
    opt.zero_grad()
    err = features.dot(coef) - target
    loss = (err * err).mean()
    loss.backward()
    opt.step()
print(f"loss {loss.item():.5f}, coefficients {coef.data.ravel().round(2)}")
sys.exit(0)
