"""Check a function's gradients: analytical Jacobian (backward) against central differences.

``func`` takes Tensors and returns one Tensor. ``x`` is one input (Tensor, array, list or number)
or a tuple of them, called as ``func(*x)``, PyTorch style: ``gradcheck(f, (a, b))``. Every input is
cast to float64 and differentiated; close over constants such as labels
(``gradcheck(lambda z: nll_loss(z, labels), z)``). With one input the Jacobians are
``(n_out, n_in)`` matrices; with a tuple, a tuple of them, one per input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from anet.errors import AnetError
from anet.tensor import Tensor, no_grad

Jacobian = np.ndarray | tuple[np.ndarray, ...]


class GradcheckError(AnetError):
    """Analytical and numerical Jacobians differ (from ``gradcheck(raise_exception=True)``)."""


def _inputs(x: Any) -> tuple[tuple[np.ndarray, ...], bool]:
    """The inputs as float64 arrays (copies), and whether they came as a tuple."""
    many = isinstance(x, tuple)
    items = x if many else (x,)
    arrays = tuple(
        np.array(i.data if isinstance(i, Tensor) else i, dtype=np.float64) for i in items
    )
    return arrays, many


def _call(func: Callable[..., Tensor], arrays: tuple[np.ndarray, ...]) -> Tensor:
    out = func(*(Tensor(a) for a in arrays))
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: func must return a Tensor, got {type(out).__name__}")
    return out


def _result(jacobians: list[np.ndarray], many: bool) -> Jacobian:
    return tuple(jacobians) if many else jacobians[0]


def numerical_jacobian(func: Callable[..., Tensor], x: Any, eps: float = 1e-6) -> Jacobian:
    """d func(x) / dx by central differences, ``(f(x+eps) - f(x-eps)) / 2eps``, in float64."""
    arrays, many = _inputs(x)
    jacobians = []
    with no_grad():
        n_out = _call(func, arrays).size
        for a in arrays:
            flat = a.reshape(-1)  # a view: perturbing it perturbs the input
            jac = np.zeros((n_out, flat.size))
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = _call(func, arrays).data.astype(np.float64).reshape(-1)
                flat[j] = orig - eps
                minus = _call(func, arrays).data.astype(np.float64).reshape(-1)
                flat[j] = orig
                jac[:, j] = (plus - minus) / (2 * eps)
            jacobians.append(jac)
    return _result(jacobians, many)


def jacobian(func: Callable[..., Tensor], x: Any) -> Jacobian:
    """d func(x) / dx from backward: row i is the grad for a one-hot ``gradient`` on output i."""
    arrays, many = _inputs(x)
    inputs = [Tensor(a) for a in arrays]
    out = func(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"jacobian: func must return a Tensor, got {type(out).__name__}")
    jacobians = [np.zeros((out.size, a.size)) for a in arrays]
    if out.requires_grad:  # otherwise out does not depend on x: the Jacobian is zero
        for i in range(out.size):
            for t in inputs:
                t.grad = None
            onehot = np.zeros(out.size, dtype=out.dtype)
            onehot[i] = 1
            out.backward(onehot.reshape(out.shape))
            for jac, t in zip(jacobians, inputs):
                if t.grad is not None:
                    jac[i] = t.grad.reshape(-1)
    return _result(jacobians, many)


def gradcheck(
    func: Callable[..., Tensor],
    x: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    raise_exception: bool = False,
) -> bool:
    """True when ``|analytical - numerical| <= atol + rtol * |numerical|`` for every entry.

    With ``raise_exception=True`` a failure raises GradcheckError naming the input, the worst
    entry (output index, input index), both values, and both Jacobians when they are small.
    """
    analytical, numerical = jacobian(func, x), numerical_jacobian(func, x, eps)
    if not isinstance(x, tuple):
        analytical, numerical = (analytical,), (numerical,)
    for k, (a, n) in enumerate(zip(analytical, numerical)):
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if not bad.any():
            continue
        if raise_exception:
            raise GradcheckError(_report(k, a, n, bad, eps))
        return False
    return True


def _report(k: int, a: np.ndarray, n: np.ndarray, bad: np.ndarray, eps: float) -> str:
    err = np.where(bad, np.abs(a - n), 0)
    i, j = np.unravel_index(np.argmax(err), err.shape)
    lines = [
        f"gradcheck: Jacobian mismatch for input {k}: {int(bad.sum())} of {bad.size} entries "
        f"differ (eps={eps:g}); worst at output {i}, input element {j}: "
        f"analytical {a[i, j]:.8g}, numerical {n[i, j]:.8g}"
    ]
    if a.size <= 64:
        with np.printoptions(precision=6, suppress=True):
            lines += [f"analytical:\n{a}", f"numerical:\n{n}"]
    return "\n".join(lines)
