"""anet.nn: BatchNorm2D against PyTorch (golden data), Linear, losses, parameter listing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anet import Tensor
from anet.autograd import topo_order
from anet.gradcheck import gradcheck
from anet.nn import (
    BatchNorm2D,
    Linear,
    Module,
    cross_entropy,
    get_parameters,
    mse_loss,
    named_parameters,
    nll_loss,
)

BN = np.load(Path(__file__).parents[1] / "golden" / "batchnorm.npz", allow_pickle=False)
TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def golden_bn(**kwargs) -> BatchNorm2D:
    """BatchNorm2D(3) holding the golden float64 weight, bias and initial running statistics."""
    bn = BatchNorm2D(3, eps=float(BN["eps"]), momentum=float(BN["momentum"]), **kwargs)
    bn.weight, bn.bias = Tensor(BN["weight"].copy()), Tensor(BN["bias"].copy())
    bn.running_mean = Tensor(BN["running_mean0"].copy(), requires_grad=False)
    bn.running_var = Tensor(BN["running_var0"].copy(), requires_grad=False)
    return bn


def forward_backward(bn: BatchNorm2D, x: np.ndarray) -> tuple[Tensor, Tensor]:
    bn.weight.grad = bn.bias.grad = None
    xt = Tensor(x.copy())
    y = bn(xt)
    (y * Tensor(BN["G"], requires_grad=False)).sum().backward()
    return xt, y


def assert_matches(prefix: str, bn: BatchNorm2D, xt: Tensor, y: Tensor) -> None:
    np.testing.assert_allclose(y.data, BN[f"{prefix}_y"], **TIGHT)
    np.testing.assert_allclose(xt.grad, BN[f"{prefix}_dx"], **TIGHT)
    np.testing.assert_allclose(bn.weight.grad, BN[f"{prefix}_dweight"], **TIGHT)
    np.testing.assert_allclose(bn.bias.grad, BN[f"{prefix}_dbias"], **TIGHT)
    np.testing.assert_allclose(bn.running_mean.data, BN[f"{prefix}_running_mean"], **TIGHT)
    np.testing.assert_allclose(bn.running_var.data, BN[f"{prefix}_running_var"], **TIGHT)
    assert bn.num_batches_tracked == BN[f"{prefix}_num_batches_tracked"]


# ---- BatchNorm2D ------------------------------------------------------------------------------


def test_batchnorm_train_then_eval_matches_pytorch() -> None:
    bn = golden_bn(track_running_stats=True, training=True)
    assert_matches("train1", bn, *forward_backward(bn, BN["x"]))
    assert_matches("train2", bn, *forward_backward(bn, BN["x2"]))
    bn.training = False  # PyTorch's bn.eval(): the running statistics, left unchanged
    assert_matches("eval", bn, *forward_backward(bn, BN["x"]))


def test_batchnorm_eval_is_the_formula_with_running_stats() -> None:
    bn = golden_bn()  # training=False, the default
    x = BN["x"]
    y = bn(Tensor(x))
    rm, rv = BN["running_mean0"][:, None, None], BN["running_var0"][:, None, None]
    w, b = BN["weight"][:, None, None], BN["bias"][:, None, None]
    np.testing.assert_allclose(y.data, (x - rm) / np.sqrt(rv + 1e-5) * w + b, **TIGHT)
    np.testing.assert_array_equal(bn.running_mean.data, BN["running_mean0"])
    assert bn.num_batches_tracked == 0


def test_batchnorm_training_without_tracking_leaves_running_stats() -> None:
    bn = golden_bn(training=True)
    xt, y = forward_backward(bn, BN["x"])
    np.testing.assert_allclose(y.data, BN["train1_y"], **TIGHT)
    np.testing.assert_allclose(xt.grad, BN["train1_dx"], **TIGHT)
    np.testing.assert_array_equal(bn.running_mean.data, BN["running_mean0"])
    np.testing.assert_array_equal(bn.running_var.data, BN["running_var0"])
    assert bn.num_batches_tracked == 0


def test_batchnorm_running_var_is_unbiased_batch_var_is_biased() -> None:
    x = np.random.default_rng(1).standard_normal((2, 2, 3, 3)) * 3 + 1
    bn = BatchNorm2D(2, track_running_stats=True, training=True, momentum=1.0)
    y = bn(Tensor(x))
    np.testing.assert_allclose(bn.running_var.data, x.var(axis=(0, 2, 3), ddof=1), rtol=1e-6)
    np.testing.assert_allclose(bn.running_mean.data, x.mean(axis=(0, 2, 3)), rtol=1e-6)
    # normalised with the biased variance: each channel of y has variance var / (var + eps)
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y.data.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-9)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_backward_matches_numerical_gradients(training: bool) -> None:
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(2), rng.standard_normal(2)
    g = rng.standard_normal((3, 2, 2, 3))

    def f(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        bn = BatchNorm2D(2, training=training)
        bn.weight, bn.bias = w, b
        bn.running_mean = Tensor(np.array([0.5, -1.0]), requires_grad=False)
        bn.running_var = Tensor(np.array([2.0, 0.3]), requires_grad=False)
        return (bn(x) * Tensor(g, requires_grad=False)).sum()

    assert gradcheck(f, (x, w, b), raise_exception=True)


def test_batchnorm_defaults_are_the_first_tinygrads() -> None:
    bn = BatchNorm2D(4)
    assert (bn.eps, bn.track_running_stats, bn.training, bn.momentum) == (1e-5, False, False, 0.1)
    np.testing.assert_array_equal(bn.weight.data, np.ones(4))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(4))
    assert bn.parameters() == [bn.weight, bn.bias]  # running statistics are buffers
    x = Tensor.randn(2, 4, 3, 3)
    assert bn(x).dtype == np.float32


def test_batchnorm_rejects_wrong_input() -> None:
    with pytest.raises(ValueError, match=r"expected input \(N, 3, H, W\), got \(2, 4, 5, 5\)"):
        BatchNorm2D(3)(Tensor.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm2D(3, training=True)(Tensor.randn(1, 3, 1, 1))


# ---- Linear -----------------------------------------------------------------------------------


def test_linear_forward_is_x_dot_weight_plus_bias() -> None:
    layer = Linear(5, 3)
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (3,)
    x = np.random.default_rng(3).standard_normal((4, 5)).astype(np.float32)
    y = layer(Tensor(x))
    np.testing.assert_allclose(y.data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)
    assert layer.parameters() == [layer.weight, layer.bias]
    no_bias = Linear(5, 3, bias=False)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weight]
    np.testing.assert_allclose(no_bias(Tensor(x)).data, x @ no_bias.weight.data, rtol=1e-6)


def test_linear_init_is_pytorchs_uniform_bound_and_seeded() -> None:
    np.random.seed(0)
    a = Linear(400, 300)
    np.random.seed(0)
    b = Linear(400, 300)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / np.sqrt(400)
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.bias.data).max() <= bound
    # uniform on ±bound has standard deviation bound / sqrt(3)
    assert a.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.01)
    assert a.weight.dtype == np.float32


def test_linear_backward_matches_numerical_gradients() -> None:
    rng = np.random.default_rng(4)

    def f(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        layer = Linear(3, 2)
        layer.weight, layer.bias = w, b
        return layer(x).tanh()

    args = (rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2))
    assert gradcheck(f, args, raise_exception=True)


# ---- losses -----------------------------------------------------------------------------------

LOGITS = np.random.default_rng(5).standard_normal((6, 4))
TARGET = np.array([0, 3, 1, 1, 2, 0])


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("target", [TARGET, TARGET.tolist(), Tensor(TARGET)])
def test_nll_loss_value_and_grad(target) -> None:
    logp = Tensor(log_softmax(LOGITS))
    loss = nll_loss(logp, target)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(-log_softmax(LOGITS)[np.arange(6), TARGET].mean())
    loss.backward()
    expected = np.zeros((6, 4))
    expected[np.arange(6), TARGET] = -1 / 6
    np.testing.assert_allclose(logp.grad, expected)


def test_cross_entropy_value_grad_and_gradcheck() -> None:
    logits = Tensor(LOGITS.copy())
    loss = cross_entropy(logits, TARGET)
    assert loss.item() == pytest.approx(-log_softmax(LOGITS)[np.arange(6), TARGET].mean())
    loss.backward()
    softmax = np.exp(log_softmax(LOGITS))
    np.testing.assert_allclose(logits.grad, (softmax - np.eye(4)[TARGET]) / 6, atol=1e-12)
    assert gradcheck(lambda z: cross_entropy(z, TARGET), LOGITS, raise_exception=True)


def test_losses_are_graphs_of_registered_ops() -> None:
    # The debugger steps through ops: a loss is not one opaque node.
    loss = cross_entropy(Tensor(LOGITS), TARGET)
    assert {"LogSoftmax", "GetItem", "Mean", "Neg"} <= {t.op for t in topo_order(loss)}
    loss = mse_loss(Tensor(LOGITS), np.zeros((6, 4)))
    assert {"Sub", "Mul", "Mean"} <= {t.op for t in topo_order(loss)}


def test_nll_loss_rejects_bad_targets() -> None:
    logp = Tensor(log_softmax(LOGITS))
    with pytest.raises(TypeError, match="integer class indices"):
        nll_loss(logp, TARGET.astype(np.float32))
    with pytest.raises(ValueError, match=r"class 4, outside 0\.\.3"):
        nll_loss(logp, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match=r"class -1, outside 0\.\.3"):
        nll_loss(logp, np.array([0, 1, 2, 3, -1, 0]))
    with pytest.raises(ValueError, match=r"expected \(6,\)"):
        nll_loss(logp, TARGET[:5])
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        nll_loss(Tensor(np.zeros(4)), [1])


def test_mse_loss_value_grad_and_shape_check() -> None:
    rng = np.random.default_rng(6)
    pred_np, target_np = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    pred = Tensor(pred_np.copy())
    loss = mse_loss(pred, target_np)
    assert loss.item() == pytest.approx(((pred_np - target_np) ** 2).mean())
    loss.backward()
    np.testing.assert_allclose(pred.grad, 2 * (pred_np - target_np) / 10)
    target = Tensor(target_np.copy())  # a target that requires grad gets one too
    mse_loss(Tensor(pred_np), target).backward()
    np.testing.assert_allclose(target.grad, -2 * (pred_np - target_np) / 10)
    with pytest.raises(ValueError, match=r"pred has shape \(5, 2\) but target has \(5,\)"):
        mse_loss(pred, target_np[:, 0])


# ---- parameters -------------------------------------------------------------------------------


class MLP(Module):
    def __init__(self) -> None:
        self.layers = [Linear(2, 4), Linear(4, 4)]
        self.head = {"out": Linear(4, 3)}
        self.norm = BatchNorm2D(4)
        self.tied = self.layers[0].weight  # shared: listed once
        self.scale = 2.0
        self.activation = np.tanh
        self.me = self  # a cycle does not hang the walk

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x).relu()
        return self.head["out"](x)


def test_get_parameters_walks_lists_dicts_and_objects_once() -> None:
    model = MLP()
    l0, l1, out = model.layers[0], model.layers[1], model.head["out"]
    expected = [l0.weight, l0.bias, l1.weight, l1.bias, out.weight, out.bias]
    expected += [model.norm.weight, model.norm.bias]
    params = model.parameters()
    assert [id(p) for p in params] == [id(p) for p in expected]
    assert get_parameters(model) == params
    assert get_parameters([model.layers, {"a": model.norm}]) == expected[:4] + expected[6:]


def test_named_parameters_give_the_path_to_each_in_the_same_order() -> None:
    model = MLP()
    named = model.named_parameters()
    assert [path for path, _ in named] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "head.out.weight",
        "head.out.bias",
        "norm.weight",
        "norm.bias",
    ]  # `tied` is layers.0.weight again: listed once, under its first path
    assert [id(t) for _, t in named] == [id(p) for p in model.parameters()]
    assert named_parameters(model.layers, "net") == [
        ("net.0.weight", model.layers[0].weight),
        ("net.0.bias", model.layers[0].bias),
        ("net.1.weight", model.layers[1].weight),
        ("net.1.bias", model.layers[1].bias),
    ]


def test_module_call_runs_forward() -> None:
    model = MLP()
    x = Tensor.randn(5, 2)
    np.testing.assert_array_equal(model(x).data, model.forward(x).data)
    assert model(x).shape == (5, 3)

    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()(x)
