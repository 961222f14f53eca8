"""The automatic check of a user Function's backward, as the walk runs it.

A session checks every node whose op is not one of anet's own (``Function.trusted``) right after
it runs, with no command: cheap enough to be always on, whatever the tensor's size.

For each parent ``x_i`` that takes a grad, with a random direction ``u`` of its shape, the
grad the walk just returned must satisfy ``⟨g_i, u⟩ = ⟨r, J_i u⟩``, where ``r`` is the grad the
node received and ``J_i u`` the directional derivative of forward, by central differences in
float64 on copies (two forward calls per parent). This screen is a single number per parent, so
it may disagree where forward has a kink (ReLU at exactly 0): a disagreement is confirmed entry
by entry (:func:`anet.debug.checks.vjp_check`, which knows about kinks) before anything is
flagged. A flag is a claim that the user's grads are wrong; the screen alone never makes one.
"""

from __future__ import annotations

from math import isfinite, sqrt
from typing import Any

import numpy as np

from anet.debug.checks import CheckResult, shadow, vjp_check
from anet.tensor import Context, Tensor

EPS = 1e-6  # relative step of the central differences (float64 forward)
RTOL = 1e-5  # screen tolerance, relative to the size of the terms compared
EPS_LOW, RTOL_LOW = 1e-3, 1e-2  # when forward computes in float32 (or less) whatever it gets


class Directions:
    """Random directions, one per shape, drawn once per session (reused by every node of that
    shape: the screen's cost is then a few array operations and two forward calls per parent)."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)
        self._by_shape: dict[tuple[int, ...], np.ndarray] = {}

    def get(self, shape: tuple[int, ...]) -> np.ndarray:
        """A standard normal float64 array of ``shape`` (read-only)."""
        u = self._by_shape.get(shape)
        if u is None:
            u = self._by_shape[shape] = self._rng.standard_normal(shape)
            u.flags.writeable = False
        return u


def verify(
    t: Tensor, received: np.ndarray, grads: Any, directions: Directions
) -> CheckResult | None:
    """Check the grads node ``t``'s backward returned on ``received`` (the walk's own): a
    CheckResult whose ``ok`` is True (agrees), False (confirmed wrong, with a ``vjp`` flag) or
    None (cannot be checked: it says why). None when nothing here takes a grad."""
    try:
        with np.errstate(all="ignore"):
            agrees = _screen(t, received, grads, directions)
    except Exception as e:  # forward cannot run on float64 copies: a full check says more
        agrees = None
        why = f"{e!r}"
    else:
        why = ""
    if agrees is True:
        message = (
            f"#{t.id} {t.op}: backward agrees with finite differences of forward along a "
            "random direction (checked as it ran)"
        )
        return CheckResult(t.id, True, (), message)
    if agrees is None and not why:
        return None
    # A disagreement (or a screen that could not run): entry by entry decides.
    result = vjp_check(t)
    if result.ok is None and why:
        message = f"{result.message} (the automatic check could not run forward: {why})"
        return CheckResult(t.id, None, result.parents, message)
    return result


def _screen(t: Tensor, received: Any, grads: Any, directions: Directions) -> bool | None:
    """True when every parent's grad agrees, False when one does not, None when there is
    nothing to compare (no float parent takes a grad, or forward does not give floats)."""
    parents = t._ctx.parents
    if type(received) is not np.ndarray or received.dtype.kind != "f":
        return None
    # Copies: a forward that writes into its inputs spoils nothing of the user's.
    xs = [p.data.astype(np.float64) if p.data.dtype.kind == "f" else p.data for p in parents]
    r = received.astype(np.float64, copy=False)
    compared = False
    for i, p in enumerate(parents):
        g, x = grads[i], xs[i]
        if g is None or not p.requires_grad or x.dtype != np.float64 or x.size == 0:
            continue
        u = directions.get(x.shape)
        scale = max(1.0, sqrt(float(np.vdot(x, x)) / x.size))
        eps, rtol, atol = EPS, RTOL, 1e-12
        diff = _difference(t, xs, i, u, eps * scale, r.shape)
        if diff is not None and diff.dtype != np.float64:
            # forward rounds to float32 (or less) whatever it is given: a coarser step
            eps, rtol, atol = EPS_LOW, RTOL_LOW, 1e-6
            diff = _difference(t, xs, i, u, eps * scale, r.shape)
        if diff is None:
            return None
        numerical = float(np.vdot(r, diff)) / (2 * eps * scale)
        g64 = g.astype(np.float64, copy=False)
        analytic = float(np.vdot(g64, u))
        if not (isfinite(numerical) and isfinite(analytic)):
            return None
        # The size of the terms: |<g, u>| is about ||g|| for a standard normal u.
        size = sqrt(float(np.vdot(g64, g64))) + abs(analytic) + abs(numerical)
        if abs(analytic - numerical) > rtol * size + atol:
            return False
        compared = True
    return True if compared else None


def _difference(
    t: Tensor, xs: list[Any], i: int, u: np.ndarray, h: float, shape: tuple[int, ...]
) -> np.ndarray | None:
    """``forward(x_i + h u) - forward(x_i - h u)`` (the other parents as they are), each call
    in a fresh Context; None when forward does not give floats of the node's shape."""
    ctx = t._ctx
    arg, kwargs, parents = ctx.arg, ctx.kwargs, ctx.parents
    outs = []
    for step in (h, -h):
        inputs = list(xs)
        inputs[i] = xs[i] + step * u
        fresh = Context(arg, *[shadow(q, a) for q, a in zip(parents, inputs)])
        fresh.kwargs = kwargs
        out = np.asarray(arg.forward(fresh, *inputs, **kwargs))
        if out.dtype.kind != "f" or out.shape != shape:
            return None
        outs.append(out)
    return outs[0] - outs[1]


__all__ = ["Directions", "verify"]
