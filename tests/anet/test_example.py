"""examples/train_spiral.py: a small run learns the spiral, which a linear model cannot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from anet import Tensor
from anet.nn import cross_entropy
from anet.optim import Adam

PATH = Path(__file__).parents[2] / "examples" / "train_spiral.py"
spec = importlib.util.spec_from_file_location("train_spiral", PATH)
train_spiral = importlib.util.module_from_spec(spec)
sys.modules["train_spiral"] = train_spiral  # dataclasses look their module up there
spec.loader.exec_module(train_spiral)

SMALL = ["--points", "60", "--hidden", "32", "--epochs", "200", "--lr", "0.02"]
BAR = 0.95  # chance is 1/3; a linear classifier stays near 1/2 (see the test below)


def test_spiral_is_three_balanced_classes_with_no_shared_points() -> None:
    points, labels = train_spiral.make_spiral(60)
    assert points.shape == (180, 2) and points.dtype == np.float32
    assert np.bincount(labels).tolist() == [60, 60, 60]
    assert len(np.unique(points, axis=0)) == 180
    np.testing.assert_array_equal(points, train_spiral.make_spiral(60)[0])  # seeded


def test_small_run_loss_falls_and_accuracy_passes_the_bar(capsys: pytest.CaptureFixture) -> None:
    result = train_spiral.main([*SMALL, "--print-every", "50"])
    out = capsys.readouterr().out
    assert "epoch  200" in out and "final train accuracy" in out
    assert len(result.losses) == 200
    assert result.losses[-1] < 0.1 * result.losses[0]
    assert result.losses[-1] < min(result.losses[:150])  # still falling near the end
    assert result.accuracy > BAR
    assert result.test_accuracy > 0.9
    assert result.seconds < 10


def test_a_linear_model_cannot_pass_the_bar() -> None:
    points, labels = train_spiral.make_spiral(60)
    model = train_spiral.MLP([2, 3])  # no hidden layer: softmax regression
    opt = Adam(model.parameters(), lr=0.02)
    x = Tensor(points, requires_grad=False)
    for _ in range(200):
        opt.zero_grad()
        cross_entropy(model(x), labels).backward()
        opt.step()
    assert train_spiral.accuracy(model, points, labels) < 0.7
