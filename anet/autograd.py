"""The backward walk: plan (topological order, seed), one node's step, accumulation, cheap checks.

``Tensor.backward()`` and ``anet.debug.BackwardSession`` both walk with these functions, so what a
session steps through is exactly what backward does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from anet.arrays import fingerprint
from anet.errors import AnetError
from anet.flags import COUNT, DTYPE, INPLACE, NONE, SHAPE, TYPE, WARNING_KINDS
from anet.tensor import Tensor
from anet.words import a_or_an, counted


class Problem(NamedTuple):
    """Something wrong with what one node's backward returned."""

    kind: str  # a name in anet.flags.KINDS: shape, count, none, type, dtype or inplace here
    index: int | None  # the parent it concerns, None for the node as a whole
    message: str
    short: str = ""  # the message in a few words, for a flag (anet.debug); "" where none is made


class GradientError(AnetError, ValueError):
    """A Function's backward returned grads that cannot be used."""

    def __init__(self, node: Tensor, problem: Problem) -> None:
        super().__init__(problem.message)
        self.node = node
        self.kind = problem.kind
        self.index = problem.index


class InPlaceError(GradientError):
    """A Function's backward wrote into grad_output, a saved tensor or a parent's data."""


def label(t: Tensor) -> str:
    """``#<id> <OpName>``, the name a node goes by everywhere."""
    return f"#{t.id} {t.op}"


def where(t: Tensor) -> str:
    """`` (applied at file:line: source)`` when anet.debug.record() saw the op applied, else ""."""
    ctx = t._ctx
    loc = None if ctx is None else ctx.where
    if not loc:
        return ""
    source = f": {loc[2]}" if len(loc) > 2 and loc[2] else ""
    return f" (applied at {short_path(loc[0])}:{loc[1]}{source})"


def short_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else as it is."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive, or not a path at all ("<repl-3>")
        return path
    return path if relative.startswith("..") or path.startswith("<") else relative


_EMIT = object()  # topo_order's marker: the node below it on the stack is done


def topo_order(root: Tensor) -> list[Tensor]:
    """Every tensor with a ctx that ``root`` depends on, root first, each before its parents.

    Iterative depth-first search: no recursion limit, each node visited once.
    """
    order: list[Tensor] = []
    if root._ctx is None:
        return order
    # A node is marked when it is expanded, not when it is pushed: a tensor pushed early (as a
    # direct parent of the root) and reached again deeper must still come after its consumers.
    # An expanded node is pushed again under _EMIT: popping _EMIT, the node below it is done.
    visited: set[Tensor] = set()
    stack: list[Any] = [root]
    push, pop, mark, emit = stack.append, stack.pop, visited.add, order.append
    while stack:
        t = pop()
        if t is _EMIT:
            emit(pop())
            continue
        if t in visited:
            continue
        mark(t)
        push(t)
        push(_EMIT)
        for p in t._ctx.parents:
            if p._ctx is not None and p not in visited:
                push(p)
    order.reverse()
    return order


def seed(root: Tensor, gradient: Any = None) -> np.ndarray:
    """The grad the walk starts from: ``gradient``, or ones for a one-element root.

    Unlike the seed, a grad left on the root by an earlier walk is never reused as the start.
    """
    if gradient is not None:
        given = gradient.data if isinstance(gradient, Tensor) else gradient
        try:
            g = np.asarray(given)
        except ValueError as e:  # ragged lists
            raise GradientError(
                root, Problem(TYPE.name, None, f"backward: gradient for {label(root)}: {e}")
            ) from None
        if g.dtype.kind not in "fiu":
            what = {"b": "booleans", "c": "complex numbers", "O": "Python objects"}.get(
                g.dtype.kind, f"dtype {g.dtype}"
            )
            raise GradientError(
                root,
                Problem(
                    TYPE.name,
                    None,
                    f"backward: gradient for {label(root)} holds {what}, not real numbers",
                ),
            )
        g = g.astype(root.dtype, copy=False)  # integers: in the root's dtype
        if g.shape != root.shape:
            raise GradientError(
                root,
                Problem(
                    SHAPE.name,
                    None,
                    f"backward: gradient has shape {g.shape}, "
                    f"but {label(root)} has shape {root.shape}",
                ),
            )
        return g
    if root.data.size != 1:
        raise GradientError(
            root,
            Problem(
                SHAPE.name,
                None,
                f"backward: {label(root)} has shape {root.shape}; the implicit "
                "gradient of ones is only for one-element outputs: pass backward(gradient=...)",
            ),
        )
    return np.ones_like(root.data)


def prepare(root: Tensor, gradient: Any = None) -> tuple[list[Tensor], np.ndarray]:
    """The walk order and its seed grad, checked; nothing is changed yet (see ``begin``)."""
    if not root.requires_grad:
        why = (
            f"it is {root.dtype}: integer and boolean tensors never require grad"
            if root.dtype.kind != "f"
            else "made from constants, or under no_grad"
        )
        raise GradientError(
            root,
            Problem(
                NONE.name,
                None,
                f"backward: {label(root)} does not require grad and has no graph ({why})",
            ),
        )
    g = seed(root, gradient)
    return topo_order(root), g


def begin(root: Tensor, order: list[Tensor], g: np.ndarray) -> None:
    """Start a walk: intermediate grads are cleared, the root's is set to the seed ``g``."""
    for t in order:
        t.grad = None
    if root._ctx is None:
        root.grad = g if root.grad is None else root.grad + g
    else:
        root.grad = g


def plan(root: Tensor, gradient: Any = None) -> list[Tensor]:
    """Order the walk and seed it: intermediate grads are cleared, the root's is set.

    Leaves keep their grads, so a second backward adds to them (call zero_grad between steps,
    as in PyTorch); intermediate tensors hold the grads of the latest walk only.
    """
    order, g = prepare(root, gradient)
    begin(root, order, g)
    return order


def call_backward(t: Tensor) -> Any:
    """Run one node's backward on the grad it has received so far.

    A user-defined Function's backward sees grad_output, its saved tensors and its parents' data
    read-only: writing into them (``grad_output *= 2``) would corrupt grads other nodes share,
    the user's tensors, or what the next walk sees. Such a write raises InPlaceError, naming the
    op. The lock is always undone, leaving every array's flag as it was. Writes it cannot see
    (through a view kept on ``ctx``) are caught for ops applied under ``anet.debug.record()``:
    the arrays are fingerprinted before and after. anet's own ops never write into their
    inputs: they are declared ``trusted`` (a class attribute, never inherited: see Function) and
    run unguarded, at no cost.
    """
    ctx = t._ctx
    arg = ctx.arg
    if arg.trusted:
        return arg.backward(ctx, t.grad)
    arrays = [t.grad, *ctx.saved_tensors, *(p.data for p in ctx.parents)]
    watched = ctx.fingerprints is not None  # recorded: writes the lock misses are seen too
    before = _fingerprints(arrays) if watched else None
    locked: list[np.ndarray] = []
    try:
        _lock(arrays, locked)
        raw = arg.backward(ctx, t.grad)
    except ValueError as e:
        if locked and "read-only" in str(e):
            message = (
                f"{arg.__name__}.backward, {label(t)}{where(t)}: wrote into an array in place "
                f"({e}): grad_output, ctx.saved_tensors and the parents' data may be shared with "
                "other grads and tensors, so backward must not change them; compute a new array "
                "(g = g * 2, not g *= 2)"
            )
            raise InPlaceError(t, Problem(INPLACE.name, None, message)) from e
        raise
    finally:
        _unlock(locked)
    if before is not None:
        _check_unchanged(t, arrays, before)
    return _unaliased(raw, arrays)


def _unaliased(raw: Any, arrays: list[Any]) -> Any:
    """``raw`` with a copy of each grad that is a saved array or a parent's data, or was already
    returned for another parent: two tensors never share one grad array, and a grad never
    aliases a tensor's data (an optimizer step would move it)."""
    inputs = arrays[1:]
    if type(raw) is np.ndarray:
        for a in inputs:
            if raw is a:
                return raw.copy()
        return raw
    if type(raw) is not tuple and type(raw) is not list:
        return raw
    grads = list(raw)
    seen = {id(a) for a in inputs}  # ids, not scans: a node may have 20,000 parents
    for i, g in enumerate(grads):
        if type(g) is np.ndarray:
            if id(g) in seen:
                grads[i] = g.copy()
            else:
                seen.add(id(g))
    return type(raw)(grads)


# numpy's NPY_ARRAY_WARN_ON_WRITE (np.broadcast_arrays' results): setting writeable clears it.
_WARN_ON_WRITE = 1 << 31


def _lock(arrays: list[Any], locked: list[np.ndarray]) -> None:
    """Make the writeable arrays among ``arrays`` read-only, appending each to ``locked`` as it
    is locked (an interrupted lock is undone all the same).

    An array numpy would not let anyone make writeable again (a writeable view of an array made
    read-only since) is left alone, as is one warning on write: the lock must be undoable.
    Setting ``writeable = True`` on a writeable array changes nothing but raises in the first
    case, so all are asked before any is locked (a locked base would make its views fail)."""
    lockable = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            flags = a.flags
            if flags.writeable and not flags.num & _WARN_ON_WRITE:
                try:
                    flags.writeable = True
                except ValueError:
                    continue
                lockable.append(a)
    for a in lockable:
        if a.flags.writeable:  # (an array given twice is locked once)
            a.flags.writeable = False
            locked.append(a)


def _unlock(locked: list[np.ndarray]) -> None:
    """Make the ``locked`` arrays writeable again, bases before their views (numpy refuses a
    view while its base is read-only)."""
    if len(locked) > 1:
        locked.sort(key=_depth)
    for a in locked:
        a.flags.writeable = True
    locked.clear()


def _depth(a: np.ndarray) -> int:
    """How many arrays lie below ``a`` in its chain of bases."""
    n = 0
    base = a.base
    while isinstance(base, np.ndarray):
        n += 1
        base = base.base
    return n


def _fingerprints(arrays: list[Any]) -> list[int | None]:
    return [fingerprint(a) if isinstance(a, np.ndarray) else None for a in arrays]


def _check_unchanged(t: Tensor, arrays: list[Any], before: list[int | None]) -> None:
    """Raise InPlaceError when ``t``'s backward changed grad_output, a saved array or a parent's
    data (``arrays`` as call_backward lists them) without hitting the lock."""
    after = _fingerprints(arrays)
    if after == before:
        return
    ctx = t._ctx
    n_saved = len(ctx.saved_tensors)
    changed, index = [], None
    for k, (a, b) in enumerate(zip(before, after)):
        if a == b:
            continue
        if k == 0:
            changed.append("grad_output")
        elif k <= n_saved:
            changed.append(f"saved tensor {k - 1}")
        else:
            i = k - 1 - n_saved
            index = i if index is None else index
            changed.append(f"the data of parent {i} (#{ctx.parents[i].id})")
    message = (
        f"{ctx.arg.__name__}.backward, {label(t)}{where(t)}: changed {', '.join(changed)} in "
        "place, through an array the read-only lock does not cover (a view kept on ctx?): "
        "backward must not change its inputs; compute a new array"
    )
    raise InPlaceError(t, Problem(INPLACE.name, index, message))


def check_grads(t: Tensor, raw: Any) -> tuple[Sequence[np.ndarray | None], list[Problem]]:
    """One usable grad per parent (None where there is none), and the problems found.

    dtype mismatches are converted to the parent's dtype and reported as ``dtype`` problems.
    """
    parents = t._ctx.parents
    grads = raw if type(raw) is tuple else list(raw) if type(raw) is list else (raw,)
    if len(grads) == len(parents):
        # Every grad an array that fits (a list of them, or the numerical check's call):
        # answered without building anything. The walk's own common case is deliver().
        for p, g in zip(parents, grads):
            if type(g) is np.ndarray:
                pd = p.data
                if g.shape == pd.shape and g.dtype == pd.dtype:
                    continue
            elif g is None and not p.requires_grad:
                continue
            break
        else:
            return grads, []
    return _check_all(t, list(grads), raw)


def _check_all(
    t: Tensor, grads: list[Any], raw: Any
) -> tuple[list[np.ndarray | None], list[Problem]]:
    ctx = t._ctx
    parents = ctx.parents
    op = ctx.arg.__name__
    if type(raw) is list and any(isinstance(g, (int, float, list)) for g in grads):
        # ``grad.tolist()``: numbers, not one grad per parent (a list of arrays is fine)
        message = (
            f"{op}.backward, {label(t)}{where(t)}: returned a Python list of numbers, not numpy "
            "arrays: return np.asarray(...) (one array per parent, a tuple for several)"
        )
        short = "returned a list of numbers, expected numpy arrays"
        return [None] * len(parents), [Problem(TYPE.name, None, message, short)]
    problems: list[Problem] = []
    if len(grads) != len(parents):
        n = len(grads)
        what = "None (a missing return?)" if raw is None else counted(n, "grad")
        of = counted(len(parents), "parent")
        problems.append(
            Problem(
                COUNT.name,
                None,
                f"{op}.backward returned {what} for {of} in {label(t)}{where(t)}",
                f"returned {'None' if raw is None else what} for {of}",
            )
        )
        grads = (grads + [None] * len(parents))[: len(parents)]
    for i, (p, g) in enumerate(zip(parents, grads)):
        g, problem = _check_one(t, i, p, g)
        grads[i] = g
        if problem is not None:
            problems.append(problem)
    return grads, problems


def _check_one(t: Tensor, i: int, p: Tensor, g: Any) -> tuple[np.ndarray | None, Problem | None]:
    op = t._ctx.arg.__name__
    at = f"{op}.backward, {label(t)}{where(t)}"
    if g is None:
        if not p.requires_grad:
            return None, None
        return None, Problem(
            NONE.name,
            i,
            f"{at}: returned None for parent {i} (#{p.id}, shape {p.shape}), which requires grad",
            f"parent {i}: returned None, expected {p.shape}",
        )
    given = g  # as returned: what the short messages name
    if isinstance(g, (np.generic, int, float)) and not isinstance(g, bool):
        g = np.asarray(g)
    elif isinstance(g, np.ndarray) and type(g) is not np.ndarray:
        g = np.asarray(g)  # a matrix or masked array: its plain values (grads are plain arrays)
    if type(g) is not np.ndarray:
        hint = " (use .data)" if isinstance(g, Tensor) else ""
        return None, Problem(
            TYPE.name,
            i,
            f"{at}: returned {a_or_an(type(g).__name__)} for parent {i}; "
            f"backward must return numpy arrays{hint}",
            f"parent {i}: returned {_shape_of(given)}, expected a numpy array",
        )
    if g.dtype.kind not in "fiub":
        return None, Problem(
            TYPE.name,
            i,
            f"{at}: returned an array of dtype {g.dtype} for parent {i}",
            f"parent {i}: returned {_shape_of(given)}, expected a numpy array"
            if not isinstance(given, np.ndarray)
            else f"parent {i}: returned an array of {g.dtype}, expected {p.dtype}",
        )
    if g.shape != p.shape:
        short = f"parent {i}: returned {_shape_of(given)}, expected {p.shape}"
        return None, Problem(SHAPE.name, i, _shape_message(at, i, p, g), short)
    if g.dtype != p.dtype:
        if p.dtype == np.float16 and t._ctx.narrowed:
            return g.astype(p.dtype), None  # computed in float32 on purpose (see _WideConstant)
        got = a_or_an(str(g.dtype))
        message = f"{at}: returned {got} grad for parent {i} (#{p.id}), which is {p.dtype}"
        short = f"parent {i}: returned {g.dtype}, expected {p.dtype}"
        return g.astype(p.dtype), Problem(DTYPE.name, i, message, short)
    return g, None


def _shape_of(g: Any) -> str:
    return str(g.shape) if isinstance(g, np.ndarray) else a_or_an(type(g).__name__)


def _shape_message(at: str, i: int, p: Tensor, g: np.ndarray) -> str:
    message = (
        f"{at}: returned a grad of shape {g.shape} for parent {i} (#{p.id}, shape "
        f"{p.shape}): expected {p.shape}"
    )
    try:
        fixable = np.broadcast_shapes(p.shape, g.shape) == g.shape
    except ValueError:
        fixable = False
    if fixable:
        message += "; summing over the broadcast axes would fix it (anet.ops.unbroadcast)"
    return message


def deliver(t: Tensor, raw: Any) -> int:
    """Add what ``t``'s backward returned into its parents' ``.grad``, checking each grad as it
    goes: check_grads and accumulate in one pass, the common case of every walk.

    Returns how many parents were served before the first grad that does not fit (not an array
    of its parent's shape and dtype, or None where a grad is needed): all of them, normally. A
    caller given fewer takes the careful way for the rest: ``check_grads`` names the problems,
    ``accumulate(t, grads, start)`` adds what is usable.
    """
    parents = t._ctx.parents
    if type(raw) is tuple:
        if len(raw) != len(parents):
            return 0
        grads = raw
    elif type(raw) is np.ndarray and len(parents) == 1:
        grads = (raw,)
    else:
        return 0
    served = 0
    for p, g in zip(parents, grads):
        if g is None:
            if p.requires_grad:
                return served
        elif type(g) is not np.ndarray:
            return served
        else:
            pd = p.data
            if g.shape != pd.shape or (g.dtype is not pd.dtype and g.dtype != pd.dtype):
                return served
            if p.requires_grad:  # _add, written out: it runs once per edge of every walk
                pg = p.grad
                if pg is not None:
                    p.grad = pg + g
                elif p._ctx is None and (
                    g is t.grad or g.base is not None or not g.flags.writeable
                ):
                    p.grad = g.copy()
                else:
                    p.grad = g
        served += 1
    return served


def accumulate(t: Tensor, grads: Sequence[np.ndarray | None], start: int = 0) -> None:
    """Add each grad (from parent ``start`` on) into its parent's ``.grad``: a tensor used twice
    gets the sum."""
    parents = t._ctx.parents
    for i in range(start, len(parents)):
        _add(t, parents[i], grads[i])


def _add(t: Tensor, p: Tensor, g: np.ndarray | None) -> None:
    if g is None or not p.requires_grad:
        return
    if p.grad is not None:
        p.grad = p.grad + g
    elif p._ctx is None and (g is t.grad or g.base is not None or not g.flags.writeable):
        p.grad = g.copy()  # a leaf's grad is the user's: never an alias of another grad
    else:
        p.grad = g


def backward(root: Tensor, gradient: Any = None) -> None:
    """Walk the graph once in reverse topological order, filling ``.grad`` on every tensor."""
    for t in plan(root, gradient):
        ctx = t._ctx
        try:
            # anet's own ops run as they are; a user Function's backward runs guarded
            raw = ctx.arg.backward(ctx, t.grad) if ctx.arg.trusted else call_backward(t)
        except GradientError:
            raise  # its message names the op already
        except Exception as e:
            e.add_note(f"in the backward of {label(t)}{where(t)}")
            raise
        except KeyboardInterrupt as e:
            e.add_note(
                f"interrupted in the backward of {label(t)}{where(t)}: leaf grads hold part of "
                "this walk; zero them (zero_grad) before the next backward"
            )
            raise
        served = deliver(t, raw)
        if served < len(ctx.parents):
            grads, problems = check_grads(t, raw)
            for problem in problems:
                if problem.kind not in WARNING_KINDS:
                    raise GradientError(t, problem)
            accumulate(t, grads, served)
