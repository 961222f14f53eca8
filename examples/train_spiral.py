"""Train an MLP with anet on a three-class spiral made in numpy.

    python examples/train_spiral.py                 # the default run below
    python examples/train_spiral.py --epochs 100    # see --help for size, width, rate, seed

Default run (300 points per class, 2-64-64-3 ReLU MLP, Adam lr 0.01, full batch, 400 epochs,
seed 0), measured on a shared 2-core machine with numpy 2.4: final train accuracy 1.000 (900
points) in 0.8-0.9 s of training (about 1.5 s for the whole command), 0.994 on a fresh spiral.
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass

import numpy as np

from anet import Tensor, no_grad
from anet.nn import Linear, Module, cross_entropy
from anet.optim import Adam


def make_spiral(
    points_per_class: int, classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class: points (N*K, 2) float32 and labels (N*K,) int.

    The arms start just off the origin, so no two classes share a point.
    """
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, points_per_class + 1)[1:], classes)
    labels = np.repeat(np.arange(classes), points_per_class)
    angle = (
        np.linspace(0.0, 4.0, points_per_class)[None, :]
        + 4.0 * np.arange(classes)[:, None]
        + noise * rng.standard_normal((classes, points_per_class))
    ).reshape(-1)
    points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return points.astype(np.float32), labels


class MLP(Module):
    """Linear layers with ReLU between them."""

    def __init__(self, sizes: list[int]) -> None:
        self.layers = [Linear(a, b) for a, b in itertools.pairwise(sizes)]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = layer(x).relu()
        return self.layers[-1](x)


@dataclass
class Result:
    losses: list[float]  # one per epoch
    accuracy: float  # on the training points
    test_accuracy: float  # on a fresh spiral of the same size (the next seed)
    seconds: float  # training time


def train(
    points_per_class: int = 300,
    hidden: int = 64,
    epochs: int = 400,
    lr: float = 0.01,
    seed: int = 0,
    print_every: int = 50,
) -> Result:
    """Full-batch training; prints the loss and accuracy every ``print_every`` epochs (0: never)."""
    np.random.seed(seed)  # Linear's initialisation draws from numpy's global generator
    points, labels = make_spiral(points_per_class, seed=seed)
    x = Tensor(points, requires_grad=False)
    model = MLP([2, hidden, hidden, 3])
    opt = Adam(model.parameters(), lr=lr)
    losses = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        logits = model(x)
        loss = cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if print_every and (epoch % print_every == 0 or epoch == 1):
            correct = (logits.data.argmax(axis=1) == labels).mean()
            print(f"epoch {epoch:4d}  loss {losses[-1]:.4f}  accuracy {correct:.3f}")
    seconds = time.perf_counter() - start
    test_points, test_labels = make_spiral(points_per_class, seed=seed + 1)
    return Result(
        losses, accuracy(model, points, labels), accuracy(model, test_points, test_labels), seconds
    )


def accuracy(model: Module, points: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of points whose highest score is their label."""
    with no_grad():
        return float((model(Tensor(points)).data.argmax(axis=1) == labels).mean())


def main(argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=300, help="points per class (3 classes)")
    parser.add_argument("--hidden", type=int, default=64, help="width of the two hidden layers")
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--print-every", type=int, default=50, help="0 prints only the result")
    args = parser.parse_args(argv)
    result = train(args.points, args.hidden, args.epochs, args.lr, args.seed, args.print_every)
    print(
        f"final train accuracy {result.accuracy:.3f} ({3 * args.points} points, "
        f"{args.epochs} epochs) in {result.seconds:.2f} s; "
        f"accuracy on a fresh spiral {result.test_accuracy:.3f}"
    )
    return result


if __name__ == "__main__":
    main()
