"""The automatic check of a user Function's backward, as the walk runs it.

A session checks every node whose op is not one of anet's own (``Function.trusted``) right after
it runs, with no command: cheap enough to be always on, whatever the tensor's size.

Every parent ``x_i`` that takes a grad moves at once along its own random direction ``u_i``
(drawn once per shape and session): the grads the walk just returned must satisfy
``Σ ⟨g_i, h u_i⟩ = ⟨r, f(x + h u) − f(x − h u)⟩ / 2``, where ``r`` is the grad the node received,
forward run in float64 on read-only inputs (two forward calls per node). This screen is a
single number, so it may disagree where forward has a kink (ReLU at exactly 0): a disagreement
is confirmed entry by entry (:func:`anet.debug.checks.vjp_check`, which knows about kinks and
names the parent) before anything is flagged. A flag is a claim that the user's grads are
wrong; the screen alone never makes one.
"""

from __future__ import annotations

from math import isfinite, sqrt
from typing import Any

import numpy as np

from anet.debug.checks import CheckResult, shadow, vjp_check
from anet.tensor import Context, Tensor
from anet.words import exception_text

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
        why = exception_text(e)
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
    """True when the grads agree, False when they do not, None when there is nothing to
    compare (no float parent takes a grad, forward does not give floats, or NaN/Inf)."""
    parents = t._ctx.parents
    if type(received) is not np.ndarray or received.dtype.kind != "f":
        return None
    xs = [_read_only(p.data) for p in parents]  # a forward that writes into them raises
    moved = [
        i
        for i, p in enumerate(parents)
        if grads[i] is not None and p.requires_grad and xs[i].dtype == np.float64 and xs[i].size
    ]
    if not moved:
        return None
    # Every parent that takes a grad moves at once, each along its own direction u_i scaled to
    # its values: <r, f(x + h u) - f(x - h u)> / 2 must equal sum_i <g_i, h_i u_i>.
    scales = [max(1.0, sqrt(float(np.vdot(xs[i], xs[i])) / xs[i].size)) for i in moved]
    r = received
    for eps in (EPS, EPS_LOW):
        steps = [directions.get(xs[i].shape) * (eps * s) for i, s in zip(moved, scales)]
        diff = _difference(t, xs, moved, steps, r.shape)
        if diff is None:
            return None
        if diff.dtype == np.float64 or eps == EPS_LOW:
            break  # else forward rounds to float32 (or less) whatever it is given: coarser
    rtol = RTOL if eps == EPS else RTOL_LOW
    numerical = float(np.vdot(r, diff)) / 2
    analytic = size = 0.0
    for i, step in zip(moved, steps):
        g = grads[i]
        analytic += float(np.vdot(g, step))
        size += float(np.vdot(g, g)) * float(np.vdot(step, step)) / step.size
    if not (isfinite(numerical) and isfinite(analytic)):
        return None
    # The size of the terms: |<g, h u>| is about h ||g|| for a standard normal u.
    bound = rtol * (sqrt(size) + abs(analytic) + abs(numerical))
    return abs(analytic - numerical) <= bound


def _difference(
    t: Tensor, xs: list[Any], moved: list[int], steps: list[np.ndarray], shape: tuple[int, ...]
) -> np.ndarray | None:
    """``forward(x + step) - forward(x - step)`` (parents ``moved`` moved, the others as they
    are), each call in a fresh Context; None when forward does not give floats of the node's
    shape."""
    ctx = t._ctx
    arg, kwargs, parents = ctx.arg, ctx.kwargs, ctx.parents
    outs = []
    for sign in (1.0, -1.0):
        inputs = list(xs)
        for i, step in zip(moved, steps):
            inputs[i] = xs[i] + step if sign > 0 else xs[i] - step
        fresh = Context(arg, *[shadow(q, a) for q, a in zip(parents, inputs)])
        fresh.kwargs = kwargs
        out = np.asarray(arg.forward(fresh, *inputs, **kwargs))
        if out.dtype.kind != "f" or out.shape != shape:
            return None
        outs.append(out)
    return outs[0] - outs[1]


def _read_only(a: np.ndarray) -> np.ndarray:
    """``a`` in float64 (a copy) when it holds other floats, else a read-only view of it."""
    if a.dtype.kind == "f" and a.dtype != np.float64:
        return a.astype(np.float64)
    view = a.view()
    view.flags.writeable = False
    return view


__all__ = ["Directions", "verify"]
