"""Flags: what the debugger reports about one node, and the checks behind them.

The kinds of flag are anet.flags' table (re-exported here: ``KINDS``, ``FLAG_KINDS``). The cheap
checks (shape, count, none, type, dtype) are anet.autograd's own, the same ones plain
``backward()`` raises, messages included; this module adds ``nonfinite``, ``exception``,
``inplace`` and the numerical ``vjp`` check of one node.
"""

from __future__ import annotations

import os
import traceback as _traceback
from dataclasses import dataclass, field
from math import isfinite
from typing import Any

import numpy as np

from anet import autograd
from anet.autograd import Problem, check_grads, label, where
from anet.debug.recording import fingerprints
from anet.debug.summary import all_finite
from anet.flags import ERROR, EXCEPTION, FLAG_KINDS, INPLACE, KINDS, NONFINITE, VJP, FlagKind
from anet.gradcheck import compare
from anet.tensor import Context, Tensor
from anet.words import exception_text

__all__ = [
    "FLAG_KINDS",
    "KINDS",
    "CheckResult",
    "Flag",
    "FlagKind",
    "ParentCheck",
    "exception",
    "from_problem",
    "inplace",
    "nonfinite",
    "shadow",
    "vjp_check",
]


@dataclass(frozen=True, slots=True)
class Flag:
    """Something wrong at one node: ``kind`` (a name in KINDS), the node's id, the parent index
    it concerns (None for the node as a whole), a full ``message`` and a ``short`` one."""

    kind: str
    node: int
    label: str  # "#5 SwapGrad"
    index: int | None
    message: str
    short: str
    traceback: str | None = field(default=None, repr=False)  # kind "exception" only

    def line(self, ascii: bool = False) -> str:
        """One readable line: ``✗ shape at #5 SwapGrad: parent 0: returned (3, 2), expected …``
        (``!`` rather than ``✗`` for a note: the grad was usable as delivered)."""
        marker = KINDS[self.kind].marker
        if ascii and marker == "✗":
            marker = "x"
        return f"{marker} {self.kind} at {self.label}: {self.short}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "node": self.node,
            "index": self.index,
            "message": self.message,
            "short": self.short,
        }


def _at(t: Tensor) -> str:
    return f"{t._ctx.arg.__name__}.backward, {label(t)}{where(t)}"


def from_problem(t: Tensor, problem: Problem) -> Flag:
    """The flag for one of anet.autograd's problems at node ``t``: its messages, full and short,
    are anet.autograd's, written where the problem is found."""
    short = problem.short or problem.message
    return Flag(problem.kind, t.id, label(t), problem.index, problem.message, short)


def nonfinite(t: Tensor, received: Any, grads: list[np.ndarray | None]) -> list[Flag]:
    """A ``nonfinite`` flag per returned grad with NaN/Inf, only when ``received`` was finite."""
    bad = [
        i
        for i, g in enumerate(grads)
        if g is not None and type(g) is np.ndarray and not all_finite(g)
    ]
    if not bad or not (isinstance(received, np.ndarray) and all_finite(received)):
        return []
    flags = []
    for i in bad:
        g, p = grads[i], t._ctx.parents[i]
        nan, inf = int(np.isnan(g).sum()), int(np.isinf(g).sum())
        where_bad = [tuple(int(d) for d in at) for at in np.argwhere(~np.isfinite(g))[:3]]
        at = ", ".join(map(str, where_bad)) + (", …" if nan + inf > 3 else "")
        what = " and ".join(f"{n} {name}" for n, name in ((nan, "NaN"), (inf, "Inf")) if n)
        short = f"parent {i}: {what} at {at} from a finite grad_output"
        message = (
            f"{_at(t)}: returned a grad with {what} for parent {i} (#{p.id}, shape {p.shape}) "
            f"at {at}, from a finite grad_output: the NaN/Inf starts here (a backward that is "
            "infinite where forward is not differentiable, e.g. sqrt or log at 0?)"
        )
        flags.append(Flag(NONFINITE.name, t.id, label(t), i, message, short))
    return flags


def exception(t: Tensor, error: Exception) -> Flag:
    """The ``exception`` flag for a backward that raised, with its traceback from user code;
    an ``inplace`` flag when it raised because it wrote into its grad_output or saved tensors."""
    tb = error.__traceback__
    # Drop the walk's own frames: the traceback starts in the Function's backward.
    while tb is not None and tb.tb_next is not None and _walk_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    text = "".join(_traceback.format_exception(type(error), error, tb))
    if isinstance(error, autograd.InPlaceError):
        i = error.index
        if i is None:
            short = "backward wrote into grad_output or a saved tensor in place"
        else:  # not a refused write: the fingerprints saw backward change a parent's data
            short = f"backward changed the data of parent {i} in place"
        return Flag(INPLACE.name, t.id, label(t), i, str(error), short, text)
    what = f"{type(error).__name__}: {error}"
    message = f"{_at(t)}: raised {what}"
    return Flag(EXCEPTION.name, t.id, label(t), None, message, what, text)


_WALK_FILES = {autograd.__file__, os.path.join(os.path.dirname(__file__), "session.py")}


def _walk_frame(filename: str) -> bool:
    return filename in _WALK_FILES


def inplace(t: Tensor) -> Flag | None:
    """The ``inplace`` flag when saved tensors or parents' data changed since record() saw them."""
    ctx = t._ctx
    before = ctx.fingerprints
    if before is None:
        return None
    saved_now, parents_now = fingerprints(ctx)
    saved_before, parents_before = before
    changed = [
        f"saved tensor {i} (shape {np.shape(ctx.saved_tensors[i])})"
        for i, (a, b) in enumerate(zip(saved_before, saved_now))
        if a is not None and a != b
    ]
    if len(saved_now) != len(saved_before):
        changed.append("the list of saved tensors")
    moved = [i for i, (a, b) in enumerate(zip(parents_before, parents_now)) if a != b]
    changed += [f"the data of parent {i} (#{ctx.parents[i].id})" for i in moved]
    if not changed:
        return None
    message = (
        f"{ctx.arg.__name__}, {label(t)}{where(t)}: {', '.join(changed)} changed between "
        "forward and backward (modified by an in-place operation?): its backward sees values "
        "its forward did not"
    )
    short = f"{', '.join(changed)} changed since forward"
    return Flag(INPLACE.name, t.id, label(t), moved[0] if moved else None, message, short)


# ---- the numerical check of one node ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParentCheck:
    """How one parent's grad compared: worst entry error over ``checked`` of ``total`` entries."""

    index: int
    checked: int
    total: int
    max_error: float  # inf when a NaN/Inf entry disagrees
    backward: float  # the analytic value at the worst entry
    numerical: float  # the finite-difference value there
    ok: bool
    at: tuple[int, ...] | None = None  # that entry's index in the parent (None when ok)
    unchecked: int = 0  # entries whose finite differences are not finite: not comparable

    def describe(self, detail: bool = False) -> str:
        """``parent 0 max error 1e-10`` (with ``detail``, the worst values when they disagree),
        or the entry that disagrees when one of its values is NaN/Inf."""
        if self.ok or self.at is None:
            return f"parent {self.index} max error {self.max_error:.3g}"
        error = f" max error {self.max_error:.3g}" if detail and isfinite(self.max_error) else ""
        return (
            f"parent {self.index}{error} at {self.at}: backward {self.backward:.6g}, "
            f"finite differences {self.numerical:.6g}"
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The numerical check of one node: ``ok`` True/False, or None when it could not be run."""

    node: int
    ok: bool | None
    parents: tuple[ParentCheck, ...]
    message: str
    flag: Flag | None = None


def vjp_check(
    t: Tensor,
    *,
    entries: int = 64,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int | None = None,
) -> CheckResult:
    """Compare ``t``'s backward with finite differences of its forward, in float64.

    The node's Function runs again on float64 copies of its parents' data with the same keyword
    arguments in a fresh Context; for a random ``v`` of the output's shape, ``backward(ctx, v)``
    must match the derivatives of ``<v, forward(x)>``, entry by entry (at most ``entries`` random
    entries per parent). At a kink (ReLU at 0, tied maxima) a one-sided derivative also counts.
    """
    if t._ctx is None:
        return CheckResult(t.id, None, (), f"#{t.id} is a leaf: nothing to check")
    rng = np.random.default_rng(t.id if seed is None else seed)
    try:
        with np.errstate(all="ignore"):
            return _vjp_check(t, rng, entries, eps, atol, rtol)
    except Exception as e:
        why = exception_text(e)
        return CheckResult(t.id, None, (), f"{label(t)}: could not run the check: {why}")


_SMALL = 1 << 16  # inputs up to this size are copied for every forward call of the check


def _vjp_check(
    t: Tensor, rng: np.random.Generator, entries: int, eps: float, atol: float, rtol: float
) -> CheckResult:
    ctx = t._ctx
    arg, kwargs = ctx.arg, dict(ctx.kwargs)
    # Private C-ordered copies: perturbing them in place must not touch the user's data.
    xs = [
        np.array(p.data, dtype=np.float64 if p.data.dtype.kind == "f" else None, order="C")
        for p in ctx.parents
    ]
    shadows = [shadow(p, x) for p, x in zip(ctx.parents, xs)]

    def forward() -> tuple[Context, np.ndarray]:
        fresh = Context(arg, *shadows)
        fresh.kwargs = kwargs
        # Copies, so a forward that writes into its inputs cannot spoil the next call.
        inputs = [x.copy() if x.size <= _SMALL else x for x in xs]
        return fresh, np.asarray(arg.forward(fresh, *inputs, **kwargs))

    fresh, out = forward()
    if out.dtype.kind != "f":
        return CheckResult(t.id, None, (), f"{label(t)}: output is {out.dtype}, not checked")
    if not np.array_equal(out, forward()[1], equal_nan=True):
        message = (
            f"{label(t)}: not compared: forward gives different outputs for the same inputs "
            "(random, or it keeps state between calls)"
        )
        return CheckResult(t.id, None, (), message)
    v = rng.standard_normal(out.shape)
    f0 = float(np.sum(v * out))
    node = shadow(t, out)
    node._ctx = fresh
    grads, problems = check_grads(node, arg.backward(fresh, v.astype(out.dtype)))
    unusable = [p for p in problems if KINDS[p.kind].severity == ERROR]
    if unusable:
        return CheckResult(t.id, None, (), f"{label(t)}: not compared: {unusable[0].message}")
    grads = [None if g is None else np.array(g, dtype=np.float64) for g in grads]
    if out.dtype != np.float64:  # the forward computes in lower precision: coarser differences
        eps, atol, rtol = 1e-3, 1e-2, 1e-2

    results = []
    for i, (p, x, g) in enumerate(zip(ctx.parents, xs, grads)):
        if not p.requires_grad or g is None or x.dtype.kind != "f":
            continue
        n = x.size
        picks = np.arange(n) if n <= entries else np.sort(rng.choice(n, entries, replace=False))
        central, ahead, behind = (np.empty(len(picks)) for _ in range(3))
        flat = x.reshape(-1)  # a view: moving flat[j] moves x
        for k, j in enumerate(picks):
            here = flat[j]
            h = eps * max(1.0, abs(float(here)))
            flat[j] = here + h
            fp = float(np.sum(v * forward()[1]))
            flat[j] = here - h
            fm = float(np.sum(v * forward()[1]))
            flat[j] = here
            central[k], ahead[k], behind[k] = (fp - fm) / (2 * h), (fp - f0) / h, (f0 - fm) / h
        # At a kink (ReLU at 0, tied maxima) a one-sided difference also counts.
        c = compare(g.reshape(-1)[picks], central, atol, rtol, also=(ahead, behind))
        at = (
            None
            if c.at is None
            else tuple(int(d) for d in np.unravel_index(picks[c.at[0]], x.shape))
        )
        results.append(
            ParentCheck(
                i, len(picks), n, c.max_error, c.analytic, c.numerical, c.ok, at, c.unchecked
            )
        )

    if not results:
        return CheckResult(t.id, True, (), f"{label(t)}: no parent requires grad, nothing to check")
    per_parent = ", ".join(
        r.describe(detail=True)
        + ("" if r.checked == r.total else f" over {r.checked} of {r.total} entries")
        + (f" ({r.unchecked} not comparable: differences not finite)" if r.unchecked else "")
        for r in results
    )
    if all(r.ok and r.unchecked == r.checked for r in results):
        message = (
            f"{label(t)}: not compared: the finite differences are not finite (NaN/Inf in the "
            "forward near these values)"
        )
        return CheckResult(t.id, None, tuple(results), message)
    if all(r.ok for r in results):
        message = f"{label(t)}: backward matches: {per_parent}"
        return CheckResult(t.id, True, tuple(results), message)
    op = arg.__name__
    message = (
        f"{_at(t)}: disagrees with finite differences of {op}.forward "
        f"(float64, random grad_output): {per_parent}; entries agree within "
        f"{atol:g} + {rtol:g}·|finite difference|"
    )
    short = ", ".join(r.describe() for r in results)
    bad = next(r.index for r in results if not r.ok)
    flag = Flag(VJP.name, t.id, label(t), bad, message, short)
    return CheckResult(t.id, False, tuple(results), message, flag)


def shadow(t: Tensor, data: np.ndarray) -> Tensor:
    """A stand-in for ``t`` holding ``data``, with the same id (so messages name the real one)."""
    s = Tensor.__new__(Tensor)
    s.data, s.grad, s._ctx, s.requires_grad, s.id = data, None, None, t.requires_grad, t.id
    return s
