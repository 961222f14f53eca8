"""Numerical gradients by central differences, and a check of anet's backward against them.

Import it from tests under tests/anet as ``from numgrad import check_grads``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import anet
from anet import Tensor


def numerical_vjp(
    f: Callable[..., Tensor],
    arrays: Sequence[np.ndarray],
    grad_output: np.ndarray,
    eps: float = 1e-6,
) -> list[np.ndarray]:
    """d/d(arrays) of ``sum(f(*arrays) * grad_output)``, one central difference per element."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]

    def loss() -> float:
        with anet.no_grad():
            out = f(*[Tensor(a) for a in arrays])
        return float(np.sum(out.data * grad_output))

    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)  # views: writing flat[i] moves a
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            up = loss()
            flat[i] = orig - eps
            down = loss()
            flat[i] = orig
            gflat[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def check_grads(
    f: Callable[..., Tensor],
    *arrays: Any,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
) -> Tensor:
    """Run ``f`` on float64 leaves made from ``arrays``, backward a random grad, and assert every
    leaf's ``.grad`` matches the numerical one. Returns the output (for forward checks)."""
    leaves = [Tensor(np.array(a, dtype=np.float64)) for a in arrays]
    out = f(*leaves)
    assert out.dtype == np.float64, f"float64 in gave {out.dtype} out"
    grad_output = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(grad_output)
    expected = numerical_vjp(f, [t.data for t in leaves], grad_output)
    for i, (t, want) in enumerate(zip(leaves, expected)):
        assert t.grad is not None, f"input {i} got no grad"
        assert t.grad.shape == t.shape, f"input {i}: grad {t.grad.shape} for shape {t.shape}"
        np.testing.assert_allclose(t.grad, want, atol=atol, rtol=rtol, err_msg=f"input {i}")
    return out
