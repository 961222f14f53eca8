"""anet.optim: steps match PyTorch (golden data) and the formulas written out here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anet import Tensor
from anet.optim import SGD, Adam, Optimizer, RMSprop

GOLDEN = np.load(Path(__file__).parents[1] / "golden" / "optim.npz", allow_pickle=False)
CONFIGS = sorted({key.split("__")[0] for key in GOLDEN.files if "__" in key})
KINDS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}
HPARAMS = ("lr", "momentum", "b1", "b2", "eps", "decay")


def config(name: str) -> tuple[type[Optimizer], dict[str, float]]:
    kwargs = {k: float(GOLDEN[f"{name}__{k}"]) for k in HPARAMS if f"{name}__{k}" in GOLDEN}
    return KINDS[name.split("_")[0]], kwargs


def problem(dtype=np.float64):
    """The golden problem: loss = 0.5 * sum((W @ p + q - T)**2) over parameters p and q."""
    W = Tensor(GOLDEN["W"], requires_grad=False, dtype=dtype)
    T = Tensor(GOLDEN["T"], requires_grad=False, dtype=dtype)
    p, q = Tensor(GOLDEN["p0"].copy(), dtype=dtype), Tensor(GOLDEN["q0"].copy(), dtype=dtype)

    def loss() -> Tensor:
        r = W.dot(p) + q - T
        return (r * r).sum() * 0.5

    return p, q, loss


def run(opt: Optimizer, loss, steps: int, skip_q_at: int | None = None, q=None) -> None:
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss().backward()
        if step == skip_q_at:
            q.grad = None
        opt.step()


def test_golden_file_has_every_optimizer() -> None:
    assert {"sgd", "sgd_momentum", "adam", "adam_skip", "rmsprop", "rmsprop_alpha"} <= set(CONFIGS)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("steps", [1, 3])
def test_steps_match_pytorch_float64(name: str, steps: int) -> None:
    cls, kwargs = config(name)
    p, q, loss = problem()
    run(cls([p, q], **kwargs), loss, steps, 2 if name == "adam_skip" else None, q)
    np.testing.assert_allclose(p.data, GOLDEN[f"{name}__p{steps}"], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(q.data, GOLDEN[f"{name}__q{steps}"], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", CONFIGS)
def test_float32_params_stay_float32_in_place_and_close(name: str) -> None:
    cls, kwargs = config(name)
    p, q, loss = problem(np.float32)
    p_array, q_array = p.data, q.data
    run(cls([p, q], **kwargs), loss, 3, 2 if name == "adam_skip" else None, q)
    assert p.data is p_array and q.data is q_array  # updated in place
    assert p.dtype == np.float32 and q.dtype == np.float32
    np.testing.assert_allclose(p.data, GOLDEN[f"{name}__p3"], rtol=1e-4, atol=1e-5)


def reference_steps(kind: str, kwargs: dict[str, float], grads_of, x0: np.ndarray, steps: int):
    """Each optimizer's update written out in numpy (PyTorch's documented algorithms)."""
    lr = kwargs["lr"]
    x = x0.copy()
    buf = np.zeros_like(x)
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = grads_of(x)
        if kind == "sgd":
            buf = kwargs.get("momentum", 0.0) * buf + g
            x = x - lr * buf
        elif kind == "adam":
            b1, b2, eps = kwargs.get("b1", 0.9), kwargs.get("b2", 0.999), kwargs.get("eps", 1e-8)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        else:
            decay, eps = kwargs.get("decay", 0.9), kwargs.get("eps", 1e-8)
            v = decay * v + (1 - decay) * g**2
            x = x - lr * g / (np.sqrt(v) + eps)
    return x


@pytest.mark.parametrize("name", [c for c in CONFIGS if c != "adam_skip"])
def test_steps_match_formula_written_out(name: str) -> None:
    cls, kwargs = config(name)
    A = np.diag([1.0, 4.0, 0.25])
    b = np.array([1.0, -2.0, 0.5])
    x0 = np.array([0.3, -0.7, 2.0])
    x = Tensor(x0.copy())
    At, bt = Tensor(A, requires_grad=False), Tensor(b, requires_grad=False)
    opt = cls([x], **kwargs)
    for _ in range(5):
        opt.zero_grad()
        (x.dot(At.dot(x)) * 0.5 - bt.dot(x)).backward()  # grad: A x - b
        opt.step()
    expected = reference_steps(name.split("_")[0], kwargs, lambda z: A @ z - b, x0, 5)
    np.testing.assert_allclose(x.data, expected, rtol=1e-12, atol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr() -> None:
    # Bias correction makes the first step lr * g / (|g| + eps): lr in each coordinate.
    x = Tensor(np.array([1.0, -3.0, 0.001]))
    opt = Adam([x], lr=0.01)
    (x * Tensor(np.array([5.0, 0.5, -2.0]), requires_grad=False)).sum().backward()
    opt.step()
    np.testing.assert_allclose(x.data, [1.0 - 0.01, -3.0 - 0.01, 0.001 + 0.01], rtol=1e-7)


def test_params_without_grad_are_skipped() -> None:
    a, b = Tensor(np.ones(3)), Tensor(np.ones(2))
    for cls in (SGD, Adam, RMSprop):
        opt = cls([a, b], lr=0.1)
        (a * a).sum().backward()
        before = b.data.copy()
        opt.step()
        np.testing.assert_array_equal(b.data, before)
        assert (a.data < 1).all()
        opt.zero_grad()


def test_zero_grad_clears_every_grad() -> None:
    a, b = Tensor(np.ones(3)), Tensor(np.ones(2))
    opt = SGD([a, b], lr=0.1)
    (a.sum() + b.sum()).backward()
    assert a.grad is not None and b.grad is not None
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_rmsprop_accepts_pytorch_alpha() -> None:
    assert RMSprop([Tensor([1.0])], alpha=0.99).decay == 0.99
    assert RMSprop([Tensor([1.0])]).decay == 0.9
    with pytest.raises(TypeError, match="not both"):
        RMSprop([Tensor([1.0])], decay=0.8, alpha=0.99)


def test_params_that_do_not_require_grad_are_left_out() -> None:
    w, frozen = Tensor([1.0, 2.0]), Tensor([3.0], requires_grad=False)
    labels = Tensor(np.array([0, 1]))  # integer tensors never require grad
    assert SGD([w, frozen, labels]).params == [w]
    with pytest.raises(ValueError, match="no parameters"):
        Adam([frozen])
    with pytest.raises(TypeError, match="Tensors"):
        SGD([np.ones(3)])


def test_sgd_reaches_the_minimum_of_a_quadratic() -> None:
    p, q, loss = problem()
    opt = SGD([p, q], lr=0.02, momentum=0.9)
    first = loss().item()
    for _ in range(300):
        opt.zero_grad()
        loss().backward()
        opt.step()
    # At the minimum the gradient vanishes: W^T r = 0 and sum over rows of r = 0.
    r = GOLDEN["W"] @ p.data + q.data - GOLDEN["T"]
    np.testing.assert_allclose(GOLDEN["W"].T @ r, 0, atol=1e-6)
    np.testing.assert_allclose(r.sum(axis=0), 0, atol=1e-6)
    assert loss().item() < first
