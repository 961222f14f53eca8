"""Check a function's gradients: analytical Jacobian (backward) against central differences.

``func`` takes Tensors and returns one Tensor. ``x`` is one input (Tensor, array, list or number)
or a tuple of them, called as ``func(*x)``, PyTorch style: ``gradcheck(f, (a, b))``. Every input is
cast to float64 and differentiated; close over constants such as labels
(``gradcheck(lambda z: nll_loss(z, labels), z)``). With one input the Jacobians are
``(n_out, n_in)`` matrices; with a tuple, a tuple of them, one per input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Comparison:
    """How an analytical gradient compared with a numerical one, entry by entry (``compare``).

    ``at`` is the entry to report (None when ``ok``): the first disagreement where a value is
    not finite, else the largest error. ``max_error`` is the largest ``|analytical - numerical|``
    over entries where both are finite, ``inf`` when a non-finite entry disagrees.
    ``unchecked`` counts entries whose numerical difference is not finite (nothing to compare).
    """

    ok: bool
    bad: np.ndarray
    at: tuple[int, ...] | None
    analytic: float
    numerical: float
    max_error: float
    unchecked: int

    @property
    def nonfinite(self) -> bool:
        """Whether the reported entry holds a NaN or an infinity."""
        return not (math.isfinite(self.analytic) and math.isfinite(self.numerical))


def compare(
    analytic: Any,
    numerical: Any,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    also: Sequence[Any] = (),
) -> Comparison:
    """Compare gradients entry by entry: the one rule of ``gradcheck`` and the debugger's check.

    A finite entry agrees when ``|a - n| <= atol + rtol * |n|``; a non-finite one only with the
    same value (NaN with NaN, +inf with +inf): a NaN or an infinity where the difference is
    finite disagrees. Where the numerical difference is not finite (the forward is NaN or
    infinite nearby) the entry cannot be checked and agrees, unless the two are infinities of
    opposite signs. ``also`` holds other estimates of ``numerical`` (one-sided differences at a
    kink), any of which may agree.
    """
    a = np.asarray(analytic, dtype=np.float64)
    estimates = [np.asarray(n, dtype=np.float64) for n in (numerical, *also)]
    a_finite = np.isfinite(a)
    ok = np.zeros(a.shape, dtype=bool)
    any_finite = np.zeros(a.shape, dtype=bool)
    opposite = np.zeros(a.shape, dtype=bool)
    err = np.full(a.shape, np.inf)
    with np.errstate(invalid="ignore", over="ignore"):
        for n in estimates:
            n_finite = np.isfinite(n)
            any_finite |= n_finite
            e = np.where(a_finite & n_finite, np.abs(a - n), np.inf)
            err = np.minimum(err, e)
            ok |= a_finite & n_finite & (e <= atol + rtol * np.abs(n))
            ok |= ~a_finite & ((a == n) | (np.isnan(a) & np.isnan(n)))
            opposite |= np.isinf(a) & (a == -n)
    unchecked = ~ok & ~any_finite & ~opposite
    bad = ~ok & ~unchecked
    n = estimates[0]
    finite_err = err[np.isfinite(err)]
    max_error = float(finite_err.max()) if finite_err.size else 0.0
    if not bad.any():
        return Comparison(True, bad, None, math.nan, math.nan, max_error, int(unchecked.sum()))
    strange = bad & ~(a_finite & np.isfinite(n))
    flat = (
        int(np.argmax(strange.reshape(-1)))
        if strange.any()
        else int(np.argmax(np.where(bad, err, -1.0).reshape(-1)))
    )
    at = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    if strange.any():
        max_error = math.inf
    return Comparison(
        False, bad, at, float(a.flat[flat]), float(n.flat[flat]), max_error, int(unchecked.sum())
    )


def gradcheck(
    func: Callable[..., Tensor],
    x: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    raise_exception: bool = False,
) -> bool:
    """True when every entry of the Jacobians agrees (``compare``): ``|analytical - numerical|
    <= atol + rtol * |numerical|``; a NaN or infinity where the difference is finite fails.

    With ``raise_exception=True`` a failure raises GradcheckError naming the input, the entry
    (output index, input index), both values, and both Jacobians when they are small.
    """
    analytical, numerical = jacobian(func, x), numerical_jacobian(func, x, eps)
    if not isinstance(x, tuple):
        analytical, numerical = (analytical,), (numerical,)
    for k, (a, n) in enumerate(zip(analytical, numerical)):
        c = compare(a, n, atol, rtol)
        if c.ok:
            continue
        if raise_exception:
            raise GradcheckError(_report(k, a, n, c, eps))
        return False
    return True


def _report(k: int, a: np.ndarray, n: np.ndarray, c: Comparison, eps: float) -> str:
    i, j = c.at
    count = f"{int(c.bad.sum())} of {c.bad.size} entries differ (eps={eps:g})"
    if c.nonfinite:
        where = (
            f"analytical is {c.analytic:.8g} at output {i}, input element {j}, "
            f"numerical {c.numerical:.8g}"
        )
    else:
        where = (
            f"worst at output {i}, input element {j}: "
            f"analytical {c.analytic:.8g}, numerical {c.numerical:.8g}"
        )
    lines = [f"gradcheck: Jacobian mismatch for input {k}: {count}; {where}"]
    if a.size <= 64:
        with np.printoptions(precision=6, suppress=True):
            lines += [f"analytical:\n{a}", f"numerical:\n{n}"]
    return "\n".join(lines)
